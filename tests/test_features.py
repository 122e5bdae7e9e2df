"""Features: analytic checks on synthetic signals, file/CLI behaviour, and pitch accuracy on real
sampled instruments and stand-in voices rendered by fluidsynth (FluidR3 GM).

Accuracy on rendered audio is judged against an independent reference, not only the MIDI notes:
FluidR3's samples are themselves off their nominal pitch (Choir Aahs 20-45 cents flat, Fiddle
-11..+12 cents) and carry vibrato, so frame-wise "truth" is the heterodyne estimate below: each
harmonic of the known note is mixed down to 0 Hz, low-passed, and its phase slope read; the
reference is the energy-weighted mean over harmonics of (harmonic frequency / h).
"""

from __future__ import annotations

import json
import shutil
import wave

import numpy as np
import pytest
import soundfile as sf

from sounds_kit import conventions
from sounds_kit.cli import main as cli_main
from sounds_kit.conventions import FRAME_RATE, HOP_SIZE, LOUDNESS_FLOOR_DB, SAMPLE_RATE, n_frames
from sounds_kit.dsp import features as F
from sounds_kit.errors import AudioError

SR = SAMPLE_RATE


def _tone(f0: float, seconds: float = 0.5, amp: float = 0.5, harmonics: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    out = sum(np.sin(2 * np.pi * k * f0 * t + 0.4 * k) / k for k in range(1, harmonics + 1) if k * f0 < SR / 2)
    return (amp * out).astype(np.float32)


def _cents(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    return 1200.0 * np.log2(np.asarray(a, np.float64) / b)


# ---------------------------------------------------------------------------------------------
# Analytic checks


@pytest.mark.parametrize("f0", [66.0, 98.0, 147.0, 261.6, 440.0, 740.0, 1175.0, 1600.0, 1975.0])
@pytest.mark.parametrize("harmonics", [1, 8])
def test_pure_and_harmonic_tones_are_tracked_to_a_fraction_of_a_cent(f0, harmonics):
    f0_hz, conf = F.compute_f0(_tone(f0, harmonics=harmonics))
    inner = slice(10, -10)  # away from the zero-padded edges
    assert np.max(np.abs(_cents(f0_hz[inner], f0))) < 3.0  # ~1-2 near 2 kHz with harmonics at Nyquist
    assert np.median(np.abs(_cents(f0_hz[inner], f0))) < 0.5
    assert np.min(conf[inner]) > 0.9


def test_full_scale_1khz_sine_reads_minus_3_01_db_and_scales_with_level():
    loud = F.compute_loudness(_tone(1000.0, amp=1.0))[10:-10]
    np.testing.assert_allclose(loud, 10 * np.log10(0.5), atol=0.01)
    quieter = F.compute_loudness(_tone(1000.0, amp=0.1))[10:-10]
    np.testing.assert_allclose(quieter, 10 * np.log10(0.5) - 20.0, atol=0.01)
    # A low tone is attenuated by the A-weighting (-19.1 dB at 100 Hz). The Hann window spreads it
    # over bins 31 Hz apart on a steep slope of the curve, which costs ~0.3 dB here.
    low = F.compute_loudness(_tone(100.0, amp=1.0))[10:-10]
    assert abs(np.median(low) - (10 * np.log10(0.5) - 19.1)) < 0.5


@pytest.mark.parametrize(
    "band, db",
    [(15, -39.4), (18, -26.2), (20, -19.1), (24, -8.6), (27, -3.2), (30, 0.0), (33, 1.2), (36, 1.0),
     (39, -1.1), (40, -2.5)],
)  # fmt: skip
def test_a_weighting_matches_the_iec_61672_table(band, db):
    freq = 10 ** (band / 10)  # the standard's exact band frequency (nominal 31.5 Hz is 31.62 Hz)
    assert abs(float(F.a_weighting_db(freq)) - db) < 0.1
    assert F.a_weighting_db(np.array([freq, freq])).shape == (2,)


def test_a_weighting_is_exactly_zero_db_at_1khz_and_minus_inf_at_dc():
    assert float(F.a_weighting_db(1000.0)) == pytest.approx(0.0, abs=1e-12)
    assert F.a_weighting_db(0.0) == -np.inf


def test_silence_reads_the_floor_and_unvoiced():
    feats = F.compute_features(np.zeros(SR // 2, np.float32))
    assert np.all(feats["loudness_db"] == LOUDNESS_FLOOR_DB)
    assert np.all(feats["f0_confidence"] == 0) and np.all(feats["f0_hz"] == 0)


def test_quiet_frames_are_never_voiced():
    feats = F.compute_features(_tone(440.0, amp=3e-4))  # about -73 dB: below VOICED_LOUDNESS_DB
    assert np.all(feats["loudness_db"] < -60)
    assert np.all(feats["f0_confidence"] == 0)


def test_noise_is_unvoiced():
    noise = (0.1 * np.random.default_rng(0).standard_normal(SR // 2)).astype(np.float32)
    feats = F.compute_features(noise)
    assert np.mean(feats["f0_confidence"] > 0.5) < 0.05


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 1000, 16000])
def test_lengths_types_and_frame_centres(n):
    feats = F.compute_features(np.zeros(n, np.float32))
    assert set(feats) == {"f0_hz", "f0_confidence", "loudness_db"}
    for v in feats.values():
        assert v.dtype == np.float32 and v.shape == (n_frames(n),)


def test_frame_i_is_centred_on_sample_i_times_hop():
    x = np.zeros(SR, np.float32)
    x[100 * HOP_SIZE] = 1.0  # a click: loudest in the frame centred on it
    assert int(np.argmax(F.compute_loudness(x))) == 100


def test_chunked_processing_matches_one_chunk(monkeypatch):
    rng = np.random.default_rng(1)
    x = (_tone(210.0, seconds=1.0, harmonics=5) + 0.05 * rng.standard_normal(SR)).astype(np.float32)
    whole = F.compute_features(x)
    monkeypatch.setattr(F, "_CHUNK_FRAMES", 7)
    chunked = F.compute_features(x)
    for key in whole:
        np.testing.assert_allclose(chunked[key], whole[key], rtol=1e-6, atol=1e-5)


def test_midi_conversions():
    assert float(conventions.hz_to_midi(440.0)) == pytest.approx(69.0)
    assert float(conventions.midi_to_hz(60.0)) == pytest.approx(261.6256, abs=1e-4)
    midis = np.arange(20, 100)
    np.testing.assert_allclose(conventions.hz_to_midi(conventions.midi_to_hz(midis)), midis)
    assert np.isfinite(conventions.hz_to_midi(0.0))  # zeros stay finite (clipped), never -inf


def test_features_to_json_is_plain_json():
    feats = F.compute_features(_tone(300.0, seconds=0.1))
    data = json.loads(json.dumps(F.features_to_json(feats)))
    assert data["frame_rate"] == FRAME_RATE
    assert len(data["f0_hz"]) == len(data["loudness_db"]) == n_frames(int(0.1 * SR))
    assert data["f0_confidence"][5] == pytest.approx(float(feats["f0_confidence"][5]))


def test_nan_and_bad_shapes_are_refused():
    x = _tone(300.0)
    x[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        F.compute_features(x)
    with pytest.raises(AudioError):
        F.compute_features(np.zeros((2, 3, 4), np.float32))


# ---------------------------------------------------------------------------------------------
# Files and the command line


def test_any_rate_and_channel_count_through_features_from_file(tmp_path):
    sr = 44_100
    t = np.arange(int(0.6 * sr)) / sr
    left = 0.4 * np.sin(2 * np.pi * 330.0 * t)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, 0.5 * left, left], axis=1), sr)  # three channels at 44.1 kHz
    feats = F.features_from_file(path)
    assert len(feats["f0_hz"]) == n_frames(int(0.6 * SR))
    voiced = feats["f0_confidence"] > 0.5
    assert voiced.mean() > 0.9
    assert np.median(np.abs(_cents(feats["f0_hz"][voiced], 330.0))) < 1.0


def test_cli_writes_json_and_plot(tmp_path, capsys):
    src = tmp_path / "tone.wav"
    sf.write(src, _tone(220.0, seconds=0.4, harmonics=4), SR, subtype="PCM_16")
    out, png = tmp_path / "out" / "features.json", tmp_path / "plot.png"
    assert cli_main(["features", str(src), "-o", str(out), "--plot", str(png)]) == 0
    data = json.loads(out.read_text())
    assert {"frame_rate", "f0_hz", "f0_confidence", "loudness_db"} <= set(data)
    assert len(data["f0_hz"]) == n_frames(int(0.4 * SR))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "voiced" in capsys.readouterr().out


def _write_wav_nan(path) -> None:
    sf.write(path, np.array([0.1, np.nan, 0.2] * 100, np.float32), SR, subtype="FLOAT")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"RIFF\x00\x00garbage" * 10), "not a readable audio file"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: sf.write(p, np.zeros(0, np.float32), SR), "no samples"),
        (lambda p: sf.write(p, np.zeros(SR, np.float32), SR), "silent"),
        (_write_wav_nan, "NaN"),
    ],
    ids=["corrupt", "zero-bytes", "no-samples", "silent", "nan"],
)
def test_cli_reports_bad_audio_clearly(tmp_path, capsys, make, message):
    bad = tmp_path / "bad.wav"
    make(bad)
    out = tmp_path / "out.json"
    assert cli_main(["features", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_plot_features_returns_a_figure_and_draws_on_a_given_axis():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sounds_kit.dsp.plots import plot_features

    x = _tone(250.0, seconds=0.3, harmonics=3)
    feats = F.compute_features(x)
    fig = plot_features(feats, audio=x)
    assert len(fig.axes) >= 2
    fig2, ax = plt.subplots()
    assert plot_features(F.features_to_json(feats), ax=ax) is fig2
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# Real sampled instruments and voices (fluidsynth)

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None,
    reason="fluidsynth is not installed (apt-get install fluidsynth fluid-soundfont-gm)",
)

NOTE_S, GAP_S, LEAD_S = 0.5, 0.6, 0.3
ONSET_SKIP_S, OFFSET_SKIP_S = 0.08, 0.03  # "well inside a note": attack and release left out
REST_AFTER_S, REST_BEFORE_S = 0.3, 0.05  # "well inside a rest": past the release tail

# name -> (GM program, MIDI notes, release shortening in timecents or None)
PHRASES = {
    "flute": (73, [72, 74, 76, 79, 81, 84, 86, 88, 83, 77], None),
    "shanai": (111, [64, 66, 67, 69, 71, 72, 74, 76, 79, 81], None),
    "fiddle": (110, [55, 57, 60, 62, 64, 67, 69, 72, 76, 79], None),
    # Choir Aahs' release rings for seconds: shorten it so the rests are rests.
    "voice_oohs_male": (53, [45, 48, 50, 52, 53, 55, 57, 59, 60, 62], -2400),
    "voice_oohs_female": (53, [60, 62, 64, 65, 67, 69, 71, 72, 74, 76], -2400),
    "choir_aahs_male": (52, [45, 48, 50, 52, 53, 55, 57, 59, 60, 62], -2400),
    "choir_aahs_female": (52, [60, 62, 64, 65, 67, 69, 71, 72, 74, 76], -2400),
}
INSTRUMENTS = ("flute", "shanai", "fiddle")
VOICES = ("voice_oohs_male", "voice_oohs_female", "choir_aahs_male", "choir_aahs_female")


def _reference_f0(audio: np.ndarray, start_s: float, dur_s: float, nominal_hz: float, times: np.ndarray):
    """Heterodyne reference pitch (Hz) of one note at `times` (see the module docstring)."""
    a, b = int(start_s * SR), int((start_s + dur_s) * SR)
    seg = audio[a:b].astype(np.float64)
    t = np.arange(a, b) / SR
    width = int(max(4.0 / nominal_hz, 0.03) * SR) | 1  # passes +-f0/2 around each harmonic at most
    lowpass = np.hanning(width) / np.hanning(width).sum()
    num = den = 0.0
    for h in range(1, 9):
        if h * nominal_hz > 7000:
            break
        base = np.convolve(seg * np.exp(-2j * np.pi * h * nominal_hz * t), lowpass, mode="same")
        inst = np.gradient(np.unwrap(np.angle(base))) * SR / (2 * np.pi)
        power = np.abs(base) ** 2
        num, den = num + power * (nominal_hz + inst / h), den + power
    ref = num / den
    return ref[np.clip(np.round(times * SR).astype(int) - a, 0, len(ref) - 1)]


def _render_and_score(name: str) -> dict:
    from sounds_kit.data.fluid import render_notes
    from sounds_kit.data.midi import Note

    program, pitches, release = PHRASES[name]
    notes = [Note(LEAD_S + i * (NOTE_S + GAP_S), NOTE_S, p, 96) for i, p in enumerate(pitches)]
    audio = render_notes(notes, program, release_timecents=release)  # 44.1 kHz -> 16 kHz inside
    feats = F.compute_features(audio)
    times = np.arange(len(feats["f0_hz"])) / FRAME_RATE
    voiced = feats["f0_confidence"] > 0.5
    inside = np.zeros(len(times), bool)
    rest = np.ones(len(times), bool)
    ref = np.full(len(times), np.nan)
    nominal = np.full(len(times), np.nan)
    for n in notes:
        in_note = (times >= n.start_s + ONSET_SKIP_S) & (times <= n.start_s + n.dur_s - OFFSET_SKIP_S)
        inside |= in_note
        rest &= (times < n.start_s - REST_BEFORE_S) | (times > n.start_s + n.dur_s + REST_AFTER_S)
        hz = float(conventions.midi_to_hz(n.pitch))
        nominal[in_note] = hz
        ref[in_note] = _reference_f0(audio, n.start_s, n.dur_s, hz, times[in_note])
    rest &= times < notes[-1].start_s + notes[-1].dur_s + 1.0
    judged = inside & voiced
    err_ref = np.abs(_cents(feats["f0_hz"][judged], ref[judged]))
    return {
        "median_cents_vs_reference": float(np.median(err_ref)),
        "gross_errors": float(np.mean(err_ref > 100)),
        "median_cents_vs_notes": float(np.median(np.abs(_cents(feats["f0_hz"][judged], nominal[judged])))),
        "reference_vs_notes_cents": np.abs(_cents(ref[inside], nominal[inside])),
        "voicing_right": float((voiced[inside].sum() + (~voiced[rest]).sum()) / (inside.sum() + rest.sum())),
        "n_note_frames": int(inside.sum()),
        "n_rest_frames": int(rest.sum()),
    }


@pytest.fixture(scope="module")
def rendered_scores() -> dict:
    return {}


def _score(cache: dict, name: str) -> dict:
    if name not in cache:
        cache[name] = _render_and_score(name)
        s = cache[name]
        print(
            f"\n{name}: median {s['median_cents_vs_reference']:.2f} cents vs reference, "
            f"{s['median_cents_vs_notes']:.2f} vs MIDI notes, gross {s['gross_errors'] * 100:.1f}%, "
            f"voicing right {s['voicing_right'] * 100:.1f}% "
            f"({s['n_note_frames']} note + {s['n_rest_frames']} rest frames)"
        )
    return cache[name]


@needs_fluidsynth
@pytest.mark.parametrize("name", INSTRUMENTS)
def test_rendered_instruments_are_tracked_within_5_cents_and_voiced_right(name, rendered_scores):
    s = _score(rendered_scores, name)
    assert s["n_note_frames"] > 800 and s["n_rest_frames"] > 400
    # The reference follows the real notes (samples are at most a few tens of cents off).
    assert np.median(s["reference_vs_notes_cents"]) < 30
    assert s["median_cents_vs_reference"] <= 5.0
    assert s["voicing_right"] >= 0.95


@needs_fluidsynth
@pytest.mark.parametrize("name", VOICES)
def test_rendered_stand_in_voices_are_tracked_within_15_cents(name, rendered_scores):
    s = _score(rendered_scores, name)
    assert np.median(s["reference_vs_notes_cents"]) < 50
    assert s["median_cents_vs_reference"] <= 15.0
    assert s["voicing_right"] >= 0.9


def test_wav_header_sanity_of_rendered_helper_inputs(tmp_path):
    # load_audio accepts 16-bit PCM written by the stdlib too (what simple recorders produce).
    path = tmp_path / "pcm.wav"
    data = (_tone(440.0, seconds=0.2) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22_050)
        w.writeframes(data.tobytes())
    feats = F.features_from_file(path)  # 22.05 kHz header: resampled to 16 kHz (pitch scales)
    voiced = feats["f0_confidence"] > 0.5
    assert np.median(np.abs(_cents(feats["f0_hz"][voiced], 440.0 * 22_050 / SR))) < 1.0
