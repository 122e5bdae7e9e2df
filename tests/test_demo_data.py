"""Demo data: the music generator, the instrument recipes, and short renders checked against notes.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sounds_kit.conventions import FRAME_RATE, SAMPLE_RATE
from sounds_kit.data.demo_instruments import INSTRUMENTS, RECIPES, get_recipe
from sounds_kit.data.demo_music import (
    JANA_GANA_MANA,
    RAGAS,
    compose,
    parse_sargam,
    raga_passage,
    sounding_midi,
)
from sounds_kit.data.midi import Note
from sounds_kit.errors import UserFacingError

needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth not installed")
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "singers"


def test_recipes_cover_instruments_and_singers():
    assert set(INSTRUMENTS) == {"bansuri", "shehnai", "sarangi", "voice_male", "voice_female"}
    for r in RECIPES.values():
        assert r.low < r.sa < r.high and 0 <= r.program <= 127
    assert get_recipe("shehnai").program == 111
    assert get_recipe("voice-male").name == "voice_male"
    with pytest.raises(UserFacingError, match="unknown instrument"):
        get_recipe("sitar")


@pytest.mark.parametrize("raga", sorted(RAGAS))
def test_raga_passage_uses_only_raga_swaras_within_range(raga):
    r = RAGAS[raga]
    p = raga_passage(np.random.default_rng(3), r, sa=62, low=57, high=81, seconds=40)
    allowed = {s % 12 for s in r.aroha + r.avaroha}
    pitches = [n.pitch for n in p.notes]
    assert len(pitches) > 10
    assert {(x - 62) % 12 for x in pitches} <= allowed
    assert 57 <= min(pitches) and max(pitches) <= 81
    starts = [n.start_s for n in p.notes]
    assert starts == sorted(starts)
    # monophonic: no note starts before the previous one ends
    assert all(a.start_s + a.dur_s <= b.start_s + 1e-6 for a, b in zip(p.notes, p.notes[1:], strict=False))
    assert p.end_s <= 40.5
    # ornaments: bends beyond a semitone (meend/gamak), and rests between phrases
    assert max(abs(v) for _, v in p.bends) > 1.5
    gaps = [b.start_s - (a.start_s + a.dur_s) for a, b in zip(p.notes, p.notes[1:], strict=False)]
    assert max(gaps) > 0.3
    assert len({v for _, v in p.expression}) > 10 and len({n.velocity for n in p.notes}) > 5


def test_compose_is_deterministic_and_includes_the_anthem():
    a = compose("shehnai", 62, 57, 81, 120, seed=5)
    b = compose("shehnai", 62, 57, 81, 120, seed=5)
    c = compose("shehnai", 62, 57, 81, 120, seed=6)
    assert [p.notes for p in a] == [p.notes for p in b] and [p.bends for p in a] == [p.bends for p in b]
    assert [p.notes for p in a] != [p.notes for p in c]
    assert [p.source for p in a][1] == "jana_gana_mana"
    assert all(p.source.startswith("raga:") for p in compose("x", 62, 57, 81, 120, seed=5, source="ragas"))
    # the first passages do not depend on the total length
    assert compose("shehnai", 62, 57, 81, 300, seed=5)[0].notes == a[0].notes


def test_anthem_notation():
    tokens = parse_sargam(JANA_GANA_MANA)
    swaras = [s for s, _ in tokens if s is not None]
    assert swaras[:4] == [0, 2, 4, 4]  # Ja-na ga-na: S R G G
    assert swaras[-1] == 5 and min(swaras) == -1 and max(swaras) == 12
    p = compose("bansuri", 64, 59, 86, 40, seed=0, source="anthem")[0]
    assert p.source == "jana_gana_mana" and 48 < p.end_s < 58


def test_sounding_midi_follows_notes_and_held_bends():
    notes = [Note(0.0, 1.0, 60), {"start_s": 1.5, "dur_s": 0.5, "pitch": 67}]
    bends = [[0.0, 0.0], [0.5, 2.0], [1.5, 0.0]]
    got = sounding_midi(notes, bends, np.array([0.25, 0.75, 1.2, 1.6, 2.5]))
    assert got[0] == 60 and got[1] == 62 and np.isnan(got[2]) and got[3] == 67 and np.isnan(got[4])


def _check_render(out: Path, instrument: str) -> None:
    import soundfile as sf

    from sounds_kit.conventions import hz_to_midi
    from sounds_kit.dsp.features import compute_features

    meta = json.loads((out / "notes.json").read_text())
    assert meta["instrument"] == instrument and meta["sample_rate"] == SAMPLE_RATE
    assert meta["program"] == get_recipe(instrument).program
    assert len(meta["files"]) == 1
    entry = meta["files"][0]
    info = sf.info(str(out / entry["file"]))
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
    assert abs(info.duration - entry["duration_s"]) < 1e-3
    audio, _ = sf.read(str(out / entry["file"]), dtype="float32")
    assert 0.05 < np.max(np.abs(audio)) <= 0.96
    f = compute_features(audio)
    truth = sounding_midi(entry["notes"], entry["bends"], np.arange(len(f["f0_hz"])) / FRAME_RATE)
    held = ~np.isnan(truth)
    voiced = held & (f["f0_confidence"] > 0.5)
    assert held.mean() > 0.5 and voiced.sum() > 0.8 * held.sum()
    cents = 1200 / 12 * (hz_to_midi(f["f0_hz"][voiced]) - truth[voiced])
    assert np.median(np.abs(cents)) < 20, f"{instrument}: median pitch error {np.median(np.abs(cents)):.1f} cents"


@needs_fluidsynth
@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_short_render_matches_notes_json(tmp_path, instrument):
    pytest.importorskip("sounds_kit.dsp.features")
    from sounds_kit.data.demo_instruments import render_demo_data

    out = tmp_path / instrument
    render_demo_data(instrument, out, minutes=0.15, seed=2, file_seconds=9, progress=False)
    assert {p.name for p in out.iterdir()} == {"notes.json", f"{instrument}_000.wav"}
    _check_render(out, instrument)


@needs_fluidsynth
def test_cli_render_is_deterministic_and_refuses_non_empty_folder(tmp_path, capsys):
    from sounds_kit.cli import main

    args = ["render-demo-data", "--instrument", "shehnai", "--minutes", "0.3", "--file-seconds", "9", "--quiet"]
    assert main([*args, "--seed", "4", "-o", str(tmp_path / "a")]) == 0
    assert main([*args, "--seed", "4", "-o", str(tmp_path / "b")]) == 0
    assert "2 files" in capsys.readouterr().out
    wavs = sorted(p.name for p in (tmp_path / "a").glob("*.wav"))
    assert wavs == ["shehnai_000.wav", "shehnai_001.wav"]
    for name in [*wavs, "notes.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main([*args, "--seed", "4", "-o", str(tmp_path / "a")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main([*args, "--seed", "5", "-o", str(tmp_path / "a"), "--overwrite"]) == 0
    assert (tmp_path / "a" / "shehnai_000.wav").read_bytes() != (tmp_path / "b" / "shehnai_000.wav").read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_singer_assets():
    import soundfile as sf

    for name in ("voice_male.wav", "voice_female.wav"):
        path = ASSETS / name
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
        assert info.duration <= 8.0 and path.stat().st_size < 300_000
