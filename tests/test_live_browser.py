"""The live path in Debian chromium: the worklet's decoder against TF.js on every backend, and the
AudioWorklet itself against the same JS on the main thread and against the TF.js engine.

Live play runs the exported decoder as plain JS in the audio thread (widgets/src/live); offline
renders keep TF.js (but for a recurrent decoder, which TF.js cannot run). Both read the same
model.json and weight shard, so they must agree on the shipped instruments, on webgl, wasm and cpu
alike (same tolerance as the engine's parity: 40 dB).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from jupyter_browser import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHIPPED = ("bansuri", "shehnai", "sarangi")
GRU_VECTOR = REPO / "widgets" / "test" / "vectors" / "gru_decoder"

# Decodes one phrase with TF.js (whole sequence, the offline path) and with the live decoder (frame by
# frame, the worklet's code), for each instrument given.
DECODE_BOTH_JS = """
async ({backend, instruments, f0Scaled, loudScaled}) => {
  const engine = await sk.createEngine({ backend });
  const out = { backend: engine.backend, notes: engine.notes, results: {} };
  const T = f0Scaled.length;
  const hz = Float64Array.from(f0Scaled, (s) => 440 * 2 ** ((s * 127 - 69) / 12));
  const db = Float64Array.from(loudScaled, (l) => (l - 1) * 80);
  for (const [name, files] of Object.entries(instruments)) {
    const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
    const inst = await engine.loadInstrument(bytes);
    const ref = inst.decode(hz, db);
    const live = skLive.compileDecoder(inst.meta, skLive.readGraphModel(bytes));
    const got = { amplitude: [], harmonicDistribution: [], noiseMagnitudes: [] };
    for (let t = 0; t < T; t++) {
      const [a, d, n] = live.step(f0Scaled[t], loudScaled[t]);
      got.amplitude.push(...a); got.harmonicDistribution.push(...d); got.noiseMagnitudes.push(...n);
    }
    out.results[name] = { tfjs: { amplitude: Array.from(ref.amplitude),
      harmonicDistribution: Array.from(ref.harmonicDistribution), noiseMagnitudes: Array.from(ref.noiseMagnitudes) },
      live: got, K: inst.K, B: inst.B };
    inst.dispose();
  }
  return out;
}
"""

# The GRU vector (TF.js itself cannot run an exported GRU graph; TensorFlow's outputs are the reference).
GRU_JS = """
async ({files, f0Scaled, loudScaled}) => {
  const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
  const meta = JSON.parse(new TextDecoder().decode(bytes["metadata.json"]));
  const live = skLive.compileDecoder(meta, skLive.readGraphModel(bytes));
  const got = { amplitude: [], harmonic_distribution: [], noise_magnitudes: [] };
  for (let t = 0; t < f0Scaled.length; t++) {
    const [a, d, n] = live.step(f0Scaled[t], loudScaled[t]);
    got.amplitude.push(...a); got.harmonic_distribution.push(...d); got.noise_magnitudes.push(...n);
  }
  return got;
}
"""


def payload(model_dir: Path) -> dict[str, str]:
    from sounds_kit.browser.engine_page import instrument_payload
    from sounds_kit.instrument.files import browser_files

    return instrument_payload(browser_files(model_dir))


def phrase(n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Decoder inputs of a sung phrase: glide, vibrato, rests, loudness swells."""
    t = np.arange(n)
    midi = 62 + 7 * np.clip((t - 60) / 100, 0, 1) + 0.4 * np.sin(2 * np.pi * t / 45)
    db = np.where((t // 90) % 4 == 3, -80.0, -28.0 + 9 * np.sin(2 * np.pi * t / 80))
    return (midi / 127).astype(np.float32), (db / 80 + 1).astype(np.float32)


def snr_db(ref: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - got) ** 2), 1e-30)))


def render(f0_scaled: np.ndarray, controls: dict, k: int, b: int) -> np.ndarray:
    from sounds_kit.dsp.synth import synthesize

    f0 = 440 * 2 ** ((f0_scaled.astype(np.float64) * 127 - 69) / 12)
    return synthesize({
        "f0_hz": f0,
        "amplitude": np.asarray(controls["amplitude"]).reshape(-1, 1),
        "harmonic_distribution": np.asarray(controls["harmonicDistribution"]).reshape(-1, k),
        "noise_magnitudes": np.asarray(controls["noiseMagnitudes"]).reshape(-1, b),
    }, reverb=False)  # fmt: skip


@pytest.mark.parametrize("backend", ["webgl", "wasm", "cpu"])
def test_live_decoder_matches_tfjs_on_the_shipped_instruments(page, backend):
    f0, loud = phrase()
    instruments = {name: payload(REPO / "models" / name) for name in SHIPPED}
    got = page.evaluate(DECODE_BOTH_JS, {"backend": backend, "instruments": instruments,
                                         "f0Scaled": f0.tolist(), "loudScaled": loud.tolist()})  # fmt: skip
    assert got["backend"] == backend, got["notes"]
    for name, r in got["results"].items():
        for key in ("amplitude", "harmonicDistribution", "noiseMagnitudes"):
            ref, live = np.asarray(r["tfjs"][key]), np.asarray(r["live"][key])
            assert ref.shape == live.shape and np.all(np.isfinite(live))
            err = np.abs(live - ref) - (1e-5 + 1e-3 * np.abs(ref))
            assert err.max() <= 0, f"{name} {key} on {backend}: off by {np.abs(live - ref).max():.2e}"
        audio_ref = render(f0, r["tfjs"], r["K"], r["B"])
        audio_live = render(f0, r["live"], r["K"], r["B"])
        assert np.max(np.abs(audio_ref)) > 1e-3
        assert snr_db(audio_ref, audio_live) >= 40.0, f"{name} on {backend}: {snr_db(audio_ref, audio_live):.1f} dB"


def test_live_decoder_runs_a_gru_as_tensorflow_does(page):
    expected = json.loads((GRU_VECTOR / "expected.json").read_text())
    meta = json.loads((GRU_VECTOR / "metadata.json").read_text())
    files = {n: base64.b64encode((GRU_VECTOR / n).read_bytes()).decode() for n in ["metadata.json", *meta["files"]]}
    got = page.evaluate(GRU_JS, {"files": files, "f0Scaled": expected["f0_scaled"],
                                 "loudScaled": expected["loudness_scaled"]})  # fmt: skip
    for key in ("amplitude", "harmonic_distribution", "noise_magnitudes"):
        ref, live = np.asarray(expected[key]), np.asarray(got[key])
        # TensorFlow used float32 constants the float16 export rounds (see make_decoder_vectors.py).
        assert np.all(np.abs(live - ref) <= 1e-5 + 1e-3 * np.abs(ref)), key


GRU_DECODE_JS = """
async ({files, f0Scaled, loudScaled}) => {
  const engine = await sk.createEngine({ backend: "wasm" });
  const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
  const inst = await engine.loadInstrument(bytes);
  const [a, d, n] = inst.decoder.decode(Float32Array.from(f0Scaled), Float32Array.from(loudScaled));
  const out = { runtime: inst.runtime, amplitude: Array.from(a), harmonic_distribution: Array.from(d),
                noise_magnitudes: Array.from(n) };
  inst.dispose();
  return out;
}
"""


def test_a_gru_instrument_renders_offline_in_the_browser(page):
    """TF.js cannot run a recurrent decoder's loop, so the engine runs it on the live interpreter over
    the whole clip: the same outputs as TensorFlow, and a whole take renders as Python renders it."""
    from sounds_kit.browser.engine_page import RENDER_JS

    expected = json.loads((GRU_VECTOR / "expected.json").read_text())
    files = payload(GRU_VECTOR)
    got = page.evaluate(GRU_DECODE_JS, {"files": files, "f0Scaled": expected["f0_scaled"],
                                        "loudScaled": expected["loudness_scaled"]})  # fmt: skip
    assert got["runtime"] == "frame interpreter"
    for key in ("amplitude", "harmonic_distribution", "noise_magnitudes"):
        ref, out = np.asarray(expected[key]), np.asarray(got[key])
        assert ref.shape == out.shape and np.all(np.abs(out - ref) <= 1e-5 + 1e-3 * np.abs(ref)), key

    # A whole take offline, against Python's render through the same export (numpy GRU, held to TF).
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.instrument.load import load_instrument

    audio = sung_like()
    feats = compute_features(audio)
    expected_audio = load_instrument(GRU_VECTOR).transfer(audio, features=feats)
    b64 = base64.b64encode(audio.tobytes()).decode()
    out = page.evaluate(RENDER_JS, {"backend": "wasm", "files": files, "audio": b64, "opts": {}})
    assert out["runtime"] == "frame interpreter"
    rendered = np.asarray(out["audio"], np.float32)
    assert rendered.shape == expected_audio.shape and np.max(np.abs(expected_audio)) > 1e-3
    assert snr_db(expected_audio, rendered) >= 40.0, f"SNR {snr_db(expected_audio, rendered):.1f} dB"


def sung_like(seconds: float = 4.0, sr: int = 16000) -> np.ndarray:
    """A voice-like test signal in the bansuri's range: glide, vibrato, a rest."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 440.0 * 2 ** (np.clip(t - 0.5, 0, 0.5) / 0.5 * 5 / 12) * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tone = sum(0.25 / k * np.sin(k * phase) for k in range(1, 8))
    env = np.clip(np.minimum(t / 0.05, (seconds - t) / 0.05), 0, 1)
    env[(t > 2.4) & (t < 2.8)] = 0.0
    return (tone * env).astype(np.float32)


def test_the_worklet_plays_the_live_instrument_exactly(page):
    """An OfflineAudioContext renders through the worklet (no clock, no microphone): its output is the
    main thread's LiveInstrument sample for sample, and the TF.js engine's render delayed by the stream's
    latency (feature look-ahead + one frame of the pitch path + one hop = 32.25 ms)."""
    from sounds_kit.browser.engine_page import RENDER_JS
    from sounds_kit.browser.live_page import OFFLINE_WORKLET_JS

    audio = sung_like()
    files = payload(REPO / "models" / "bansuri")
    b64 = base64.b64encode(audio.tobytes()).decode()
    got = page.evaluate(OFFLINE_WORKLET_JS, {"files": files, "audio": b64, "options": {"autoFit": False}})
    worklet, main_thread = np.asarray(got["worklet"], np.float32), np.asarray(got["mainThread"], np.float32)
    assert np.max(np.abs(worklet)) > 0.01, "the worklet played silence"
    assert np.array_equal(worklet, main_thread)  # the audio thread plays exactly what this JS computes
    assert got["latencyMs"] == pytest.approx(32.25)
    # The worklet's own delay meter reads the contour delay: the sample delay plus the attack.
    assert got["measured"] is not None and 32.0 <= got["measured"]["delayMs"] <= 44.0, got["measured"]

    opts = {"autoFit": False, "room": False}  # the stream plays dry
    offline = page.evaluate(RENDER_JS, {"backend": "wasm", "files": files, "audio": b64, "opts": opts})
    lag = int(round(got["latencyMs"] * 16))
    ref, live = np.asarray(offline["audio"])[: len(audio) - lag], worklet[lag:]
    # Sample-exact where both see the same controls (the stream cannot fill a rest from the future).
    voiced = slice(8000, 36000)
    assert snr_db(ref[voiced], live[voiced]) > 30.0, snr_db(ref[voiced], live[voiced])


def test_the_worklet_resamples_a_context_that_is_not_at_16k(page):
    """Where the context runs at 48 kHz (Firefox will not connect a microphone to a 16 kHz one), the
    worklet resamples in and out: the same instrument, the same pitch, later by what it reports."""
    import live_audio as la
    from scipy.signal import resample_poly

    from sounds_kit.browser.live_page import OFFLINE_WORKLET_JS
    from sounds_kit.dsp.features import compute_features

    audio = sung_like()
    files = payload(REPO / "models" / "bansuri")
    opts = {"autoFit": False}
    at16 = page.evaluate(OFFLINE_WORKLET_JS, {"files": files, "audio": base64.b64encode(audio.tobytes()).decode(),
                                              "options": opts, "rate": 16000})  # fmt: skip
    up = resample_poly(audio, 3, 1).astype(np.float32)
    at48 = page.evaluate(OFFLINE_WORKLET_JS, {"files": files, "audio": base64.b64encode(up.tobytes()).decode(),
                                              "options": opts, "rate": 48000})  # fmt: skip
    a = np.asarray(at16["worklet"], np.float32)
    b = resample_poly(np.asarray(at48["worklet"], np.float64), 1, 3).astype(np.float32)[: len(a)]
    assert np.all(np.isfinite(b)) and np.max(np.abs(b)) > 0.01
    extra = at48["latencyMs"] - at16["latencyMs"]
    assert 0 < extra < 6, extra  # the resampling filters and a 128-sample cushion at 48 kHz
    lag, corr = la.contour_delay_ms(a, b, max_ms=60)
    assert corr > 0.95 and abs(lag - extra) < 2.0, (lag, corr, extra)
    fa, fb = compute_features(a), compute_features(b)
    shift = int(round(extra / 4))  # 4 ms frames
    f0a, f0b = fa["f0_hz"][: len(fa["f0_hz"]) - shift], fb["f0_hz"][shift:]
    voiced = (fa["f0_confidence"][: len(f0a)] > 0.8) & (fb["f0_confidence"][shift:] > 0.8)
    assert voiced.sum() > 300
    cents = 1200 * np.abs(np.log2(f0b[voiced] / f0a[voiced]))
    assert np.median(cents) < 5, np.median(cents)
