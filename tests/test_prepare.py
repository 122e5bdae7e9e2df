"""`sounds-kit prepare` on a real Beam DirectRunner: good, corrupt, empty, silent, short and stereo 44.1 kHz inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("apache_beam")
pytest.importorskip("tensorflow")

from sounds_kit.conventions import HOP_SIZE, SAMPLE_RATE, n_frames  # noqa: E402
from sounds_kit.errors import UserFacingError  # noqa: E402

EXAMPLE_S, HOP_S, SEGMENT_S = 1.0, 0.5, 3  # small numbers keep the run short


def _tone(seconds: float, f0: float, sr: int, seed: int) -> np.ndarray:
    """A harmonic tone with vibrato, a swell and a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    freq = f0 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.0 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    x = sum(0.3 / k * np.sin(k * phase) for k in range(1, 8))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 0.3 * t) ** 2
    return (x * env + 0.002 * np.random.default_rng(seed).standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    import soundfile as sf

    folder = tmp_path_factory.mktemp("inputs")
    sf.write(folder / "a_tone.wav", _tone(9.0, 220.0, SAMPLE_RATE, 1), SAMPLE_RATE, subtype="PCM_16")
    stereo = np.stack([_tone(7.0, 330.0, 44100, 2), _tone(7.0, 330.0, 44100, 3)], axis=1)
    sf.write(folder / "b_stereo.flac", stereo, 44100)
    (folder / "c_corrupt.wav").write_bytes(b"RIFF" + np.random.default_rng(0).bytes(3000))
    (folder / "d_empty.wav").write_bytes(b"")
    sf.write(folder / "e_silent.wav", np.zeros(5 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    sf.write(folder / "f_short.ogg", _tone(0.5, 440.0, SAMPLE_RATE, 4), SAMPLE_RATE)
    (folder / "readme.txt").write_text("not audio; ignored")
    sub = folder / "more"
    sub.mkdir()
    sf.write(sub / "g_later.wav", _tone(4.0, 262.0, 22050, 5), 22050)
    return folder


def _prepare(inputs, out, **kw):
    from sounds_kit.data.prepare import prepare

    args = dict(example_seconds=EXAMPLE_S, hop_seconds=HOP_S, eval_fraction=0.3, segment_seconds=SEGMENT_S)
    return prepare(inputs, out, progress=False, quiet=True, **{**args, **kw})


@pytest.fixture(scope="module")
def dataset(inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "set"
    # a folder, an explicit file given twice (deduplicated) and a pattern that matches nothing
    _prepare([str(inputs), str(inputs / "a_tone.wav"), str(inputs / "nothing*.wav")], out)
    return out


def _expected_examples(seconds: float) -> int:
    count, start = 0, 0
    while start < seconds - 1e-9:
        end = min(start + SEGMENT_S, seconds)
        if seconds - (start + SEGMENT_S) < EXAMPLE_S:  # a short last piece joins this segment
            end = seconds
        count += int((end - start - EXAMPLE_S) / HOP_S + 1e-9) + 1
        start = end
    return count


def test_manifest_counts_and_bad_files(dataset, inputs):
    from sounds_kit.data.dataset import read_manifest

    m = read_manifest(dataset)
    names = {Path(e["path"]).name: e for e in m["inputs"]}
    assert set(names) == {"a_tone.wav", "b_stereo.flac", "g_later.wav"}
    bad = {Path(e["path"]).name: e["reason"] for e in m["bad_files"]}
    assert set(bad) == {"c_corrupt.wav", "d_empty.wav", "e_silent.wav", "f_short.ogg", "nothing*.wav"}
    assert "empty" in bad["d_empty.wav"] and "silent" in bad["e_silent.wav"]
    assert "not a readable audio file" in bad["c_corrupt.wav"] and "shorter than one example" in bad["f_short.ogg"]
    for name, seconds in {"a_tone.wav": 9.0, "b_stereo.flac": 7.0, "g_later.wav": 4.0}.items():
        e = names[name]
        assert sum(e["examples"].values()) == _expected_examples(seconds), name
        assert len(e["sha256"]) == 64 and abs(e["seconds"] - seconds) < 1e-3
    assert names["b_stereo.flac"]["channels"] == 2 and names["b_stereo.flac"]["sample_rate"] == 44100
    assert m["examples"]["train"] > 0 and m["examples"]["eval"] > 0
    assert sum(m["examples"].values()) == _expected_examples(9) + _expected_examples(7) + _expected_examples(4)
    s = m["settings"]
    assert s["example_samples"] == SAMPLE_RATE and s["hop_samples"] == SAMPLE_RATE // 2
    assert s["segment_seconds"] == SEGMENT_S and m["kit_version"]
    # only listed shards exist, nothing half-written or staged is left behind
    listed = {n for sp in ("train", "eval") for n in m["shards"][sp]}
    assert {p.name for p in dataset.iterdir()} == listed | {"manifest.json", "stats.json"}
    assert not [p for p in dataset.parent.iterdir() if p.name.startswith(".")]


def test_examples_shapes_ranges_and_disjoint_splits(dataset):
    from sounds_kit.data.dataset import load_dataset, read_manifest

    frames = n_frames(SAMPLE_RATE)
    spans: dict[str, dict[str, list[int]]] = {"train": {}, "eval": {}}
    for split in ("train", "eval"):
        count = 0
        for ex in load_dataset(dataset, split, with_metadata=True).as_numpy_iterator():
            assert ex["audio"].shape == (SAMPLE_RATE,) and ex["audio"].dtype == np.float32
            for k in ("f0_hz", "f0_confidence", "loudness_db"):
                assert ex[k].shape == (frames,) and ex[k].dtype == np.float32
            assert 0 <= ex["f0_confidence"].min() and ex["f0_confidence"].max() <= 1
            assert -80.0 <= ex["loudness_db"].min() and ex["loudness_db"].max() < 0
            voiced = ex["f0_confidence"] > 0.5
            assert voiced.mean() > 0.9
            midi = 69 + 12 * np.log2(ex["f0_hz"][voiced] / 440)
            assert np.all((midi > 55) & (midi < 66))  # 220, 262 and 330 Hz with a 0.3 semitone vibrato
            spans[split].setdefault(ex["source"].decode(), []).append(int(ex["start_sample"]))
            count += 1
        assert count == read_manifest(dataset)["examples"][split]
    for source, starts in spans["eval"].items():
        for s in starts:
            for t in spans["train"].get(source, []):
                assert s + SAMPLE_RATE <= t or t + SAMPLE_RATE <= s, f"{source}: eval {s} overlaps train {t}"


def test_features_match_the_whole_file(dataset, inputs):
    import soundfile as sf

    from sounds_kit.data.dataset import load_dataset
    from sounds_kit.dsp.features import compute_features

    audio, _ = sf.read(inputs / "a_tone.wav", dtype="float32")
    whole = compute_features(audio)
    source = str((inputs / "a_tone.wav").resolve())
    checked = 0
    for split in ("train", "eval"):
        for ex in load_dataset(dataset, split, with_metadata=True).as_numpy_iterator():
            if ex["source"].decode() != source:
                continue
            start = int(ex["start_sample"])
            np.testing.assert_allclose(ex["audio"], audio[start : start + SAMPLE_RATE], atol=1e-7)
            f = start // HOP_SIZE
            for k in ("loudness_db", "f0_hz"):
                np.testing.assert_allclose(ex[k], whole[k][f : f + n_frames(SAMPLE_RATE)], atol=1e-3)
            checked += 1
    assert checked == _expected_examples(9.0)


def test_stats(dataset):
    from sounds_kit.data.dataset import read_stats

    s = read_stats(dataset)
    assert {"frames", "voiced_frames", "voiced_fraction", "pitch", "loudness", "fit", "histograms", "examples"} <= set(
        s
    )
    assert 0.8 < s["voiced_fraction"] <= 1
    assert 57 < s["pitch"]["mean_midi"] < 64 and 0 < s["pitch"]["std_midi"] < 5
    q = s["loudness"]["quantiles_db"]
    assert q == sorted(q) and -60 < q[0] and q[-1] < 0
    assert s["fit"]["meanMidi"] == s["pitch"]["mean_midi"] and len(s["fit"]["loudness"]["db"]) == 5
    assert sum(s["histograms"]["midi"]["counts"]) == s["voiced_frames"]


def test_plot_dataset_stats(dataset):
    import matplotlib

    matplotlib.use("Agg")
    from sounds_kit.data.plots import plot_dataset_stats

    fig = plot_dataset_stats(dataset)
    assert len(fig.axes) == 2 and "pitch" in fig.axes[0].get_title().lower()


def test_cli_refuses_then_resumes_then_overwrites(inputs, tmp_path, capsys):
    from sounds_kit.cli import main
    from sounds_kit.data.dataset import load_dataset, read_manifest

    out = tmp_path / "cli"
    common = ["--example-seconds", "1", "--hop-seconds", "0.5", "--quiet"]
    assert main(["prepare", str(inputs / "a_tone.wav"), "-o", str(out), *common, "--direct_num_workers=1"]) == 0
    first = read_manifest(out)
    assert first["runs"][0]["beam_args"] == ["--direct_num_workers=1"]
    assert main(["prepare", str(inputs), "-o", str(out), *common]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["prepare", str(inputs / "more"), "-o", str(out), "--resume", "--hop-seconds", "0.25"]) == 2
    assert "hop-seconds" in capsys.readouterr().err

    assert (
        main(["prepare", str(inputs / "more"), str(inputs / "a_tone.wav"), "-o", str(out), "--resume", "--quiet"]) == 0
    )
    second = read_manifest(out)
    assert [Path(e["path"]).name for e in second["inputs"]] == ["a_tone.wav", "g_later.wav"]
    assert [e["run"] for e in second["inputs"]] == [1, 2]  # a_tone.wav was not processed again
    assert second["runs"][1]["inputs_ok"] == 1
    total = sum(second["examples"].values())
    assert total == sum(first["examples"].values()) + 7  # 4 s in one 60 s segment: (4 - 1) / 0.5 + 1
    assert sum(sum(1 for _ in load_dataset(out, sp)) for sp in ("train", "eval") if second["shards"][sp]) == total
    assert json.loads((out / "stats.json").read_text())["examples"] == second["examples"]

    assert main(["prepare", str(inputs / "more"), "-o", str(out), "--overwrite", *common]) == 0
    third = read_manifest(out)
    assert [Path(e["path"]).name for e in third["inputs"]] == ["g_later.wav"] and len(third["runs"]) == 1


def test_nothing_usable_and_bad_settings(inputs, tmp_path):
    from sounds_kit.data.prepare import Settings

    with pytest.raises(UserFacingError, match="no audio files"):
        _prepare([], tmp_path / "x")
    with pytest.raises(UserFacingError, match="none of the inputs") as err:
        _prepare([str(inputs / "d_empty.wav"), str(inputs / "f_short.ogg")], tmp_path / "x")
    assert "d_empty.wav" in str(err.value) and "f_short.ogg" in str(err.value)
    assert not (tmp_path / "x").exists()
    with pytest.raises(UserFacingError, match="multiple of 4 ms"):
        Settings(example_seconds=1.001).check()
    with pytest.raises(UserFacingError, match="eval-fraction"):
        Settings(eval_fraction=1.5).check()
    shutil.rmtree(tmp_path / "x", ignore_errors=True)
