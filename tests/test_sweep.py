"""Sweep: Pareto/choice rules on known numbers, then a tiny sweep end to end (local, Beam, resume)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sounds_kit.errors import UserFacingError
from sounds_kit.sweep import search as S


def rec(tid, size, quality, kind="cnn"):
    return {"id": tid, "type": kind, "download_bytes": size, "quality": quality}


def test_pareto_front_and_the_choice_rule():
    rows = [rec("a", 100, 5.0), rec("b", 200, 4.0), rec("c", 300, 4.1), rec("d", 400, 3.9), rec("e", 150, 6.0)]
    assert S.pareto_front(rows) == [True, True, False, True, False]
    got = S.choose(rows, tolerance=0.05)  # best 3.9 -> threshold 4.095: b (200) beats d (400)
    assert got["chosen"]["id"] == "b" and got["best"]["id"] == "d" and got["candidates"] == ["b", "d"]
    assert got["threshold"] == pytest.approx(4.095) and "smallest download_bytes" in got["rule"]
    assert S.choose(rows, tolerance=0.0)["chosen"]["id"] == "d"
    assert S.choose(rows, tolerance=1.0)["chosen"]["id"] == "a"
    with pytest.raises(UserFacingError):
        S.choose([], 0.05)


def test_trial_order_is_stable_alternates_types_and_extends():
    first = S.choose_trials(S.resolve_space("small"), 5, seed=0)
    assert first[0]["decoder"]["width"] == 32 and first[0]["id"] == "cnn-w32-d6-h48-n32"  # the kit's default
    assert [t["decoder"]["type"] for t in first[1:]] == ["cnn", "gru", "cnn", "gru"]
    assert S.choose_trials(S.resolve_space("small"), 9, seed=0)[:5] == first  # more trials extend the list
    assert len({t["id"] for t in S.choose_trials(S.resolve_space("small"), 1000)}) == len(S.grid(SPACE_SMALL))
    with pytest.raises(UserFacingError):
        S.resolve_space({"cnn": {"width": [0]}})


SPACE_SMALL = S.SPACES["small"]


def test_results_survive_a_torn_line_and_keep_the_latest(tmp_path):
    S.append_result(tmp_path / S.RESULTS, {"id": "a", "status": "failed", "error": "x"})
    S.append_result(tmp_path / S.RESULTS, {"id": "a", "status": "ok", "quality": 1.0})
    S.append_result(tmp_path / S.RESULTS, {"id": "b", "status": "ok", "quality": 2.0})
    with open(tmp_path / S.RESULTS, "a") as f:
        f.write('{"id": "c", "sta')  # killed mid-write
    assert sorted(r["id"] for r in S.read_results(tmp_path)) == ["a", "b"]


def test_cli_arguments_map_to_the_sweep_config():
    import argparse

    from sounds_kit.commands.sweep import add_arguments, sweep_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["data", "-o", "out", "--steps-per-trial", "50", "--workers", "2", "--no-jit",
                              "--engine", "beam", "--flink_master=host:8081", "--parallelism", "4"])  # fmt: skip
    config = sweep_config(args)
    assert config.engine == "beam" and config.steps_per_trial == 50 and config.minutes_per_trial is None
    assert config.beam_args == ["--flink_master=host:8081", "--parallelism", "4"] and config.train == {"jit": False}
    config = sweep_config(parser.parse_args(["data", "-o", "out", "--runner", "FlinkRunner"]))
    assert config.engine == "beam" and config.beam_args == ["--runner=FlinkRunner"] and config.minutes_per_trial == 10
    assert sweep_config(parser.parse_args(["data", "-o", "out"])).engine == "local"
    for wrong in (["data", "-o", "out", "--parallelism=4"], ["data", "more", "-o", "out", "--engine", "beam"]):
        with pytest.raises(UserFacingError):
            sweep_config(parser.parse_args(wrong))


def test_beam_defaults_to_the_direct_runner_on_local_processes():
    pytest.importorskip("apache_beam")
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    from sounds_kit.sweep.beam import pipeline_options

    options = pipeline_options([], workers=2)
    assert options.view_as(StandardOptions).runner == "DirectRunner"
    direct = options.view_as(DirectOptions)
    assert direct.direct_num_workers == 2 and direct.direct_running_mode == "multi_processing"
    options = pipeline_options(["--runner=FlinkRunner", "--flink_master=host:8081"], workers=2)
    assert options.view_as(StandardOptions).runner == "FlinkRunner"


# ------------------------------------------------------------------------------------- end to end


def load_toy_split(dataset_dir, split="train"):
    """The sweep's dataset loader for these tests (dataset.load_dataset's signature, npz files)."""
    with np.load(Path(dataset_dir) / f"{split}.npz") as z:
        return [{k: z[k][i] for k in z.files} for i in range(z["audio"].shape[0])]


TINY_SPACE = {
    "cnn": {"width": [8, 12], "depth": [2], "n_harmonics": [16], "n_noise_bands": [8]},
    "gru": {"width": [8], "depth": [1], "n_harmonics": [16], "n_noise_bands": [8]},
}
TINY_TRAIN = {"batch_size": 4, "stage2_batch_size": 2, "crop_seconds": 0.25, "pretrain_fraction": 1.0,
              "jit": False, "n_audio_examples": 0, "checkpoint_seconds": 1e9}  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from synthetic_instrument import toy_instrument

    from sounds_kit.dsp.features import compute_features

    root = tmp_path_factory.mktemp("toy_dataset")
    for split, seeds in (("train", range(6)), ("eval", range(100, 102))):
        clips = [toy_instrument(1.0, seed=s)["audio"] for s in seeds]
        feats = [compute_features(a) for a in clips]
        arrays = {k: np.stack([f[k] for f in feats]) for k in ("f0_hz", "f0_confidence", "loudness_db")}
        np.savez(root / f"{split}.npz", audio=np.stack(clips), **arrays)
    return root


def config(trials, engine="local", **kw):
    return S.SweepConfig(
        trials=trials, steps_per_trial=4, space=TINY_SPACE, tolerance=0.05, workers=2, engine=engine,
        eval_clips=2, train=TINY_TRAIN, loader=f"{__name__}:load_toy_split", **kw,
    )  # fmt: skip


def check_outputs(sweep_dir: Path, n: int) -> list[dict]:
    import csv

    with open(sweep_dir / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n
    sizes = [int(r["download_bytes"]) for r in rows]
    assert sizes == sorted(sizes) and all(s > 1000 for s in sizes)
    assert (sweep_dir / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    chosen = json.loads((sweep_dir / "chosen.json").read_text())
    ok = {r["id"]: r for r in S.read_results(sweep_dir)}
    best = min(r["quality"] for r in ok.values())
    within = [r for r in ok.values() if r["quality"] <= best * 1.05]
    assert chosen["chosen"]["id"] == min(within, key=lambda r: r["download_bytes"])["id"]
    assert "smallest download_bytes" in chosen["rule"] and chosen["chosen"]["id"] in chosen["candidates"]
    assert [r["chosen"] for r in rows].count("True") == 1
    return rows


def test_a_tiny_sweep_locally_then_on_beam_then_resumed(dataset, tmp_path, capsys):
    from sounds_kit.instrument.files import download_bytes

    sweep_dir = tmp_path / "sweep"
    out = S.sweep(dataset, sweep_dir, config(2), progress=False)  # two worker processes
    rows = check_outputs(sweep_dir, 2)
    assert {r["type"] for r in rows} == {"cnn", "gru"}
    for r in out["results"]:
        trial = sweep_dir / "trials" / r["id"]
        assert r["steps"] == 4 and r["download_bytes"] == download_bytes(trial / "model")
        assert np.isfinite(r["quality"]) and r["quality"] >= r["spectral_distance"] > 0
        assert json.loads((trial / "result.json").read_text()) == {k: v for k, v in r.items()
                                                                   if k not in ("pareto", "chosen")}  # fmt: skip

    # Beam (DirectRunner, in this process): the two finished trials are skipped, the third runs.
    beam = pytest.importorskip("apache_beam")
    assert beam
    lines = (sweep_dir / S.RESULTS).read_text().splitlines()
    S.sweep(dataset, sweep_dir, config(3, "beam", beam_args=["--direct_running_mode=in_memory",
                                                             "--direct_num_workers=1"]), progress=False)  # fmt: skip
    after = (sweep_dir / S.RESULTS).read_text().splitlines()
    assert after[:2] == lines and len(after) == 3 and json.loads(after[2])["status"] == "ok"
    check_outputs(sweep_dir, 3)
    assert "2 of 3 trials already finished" in capsys.readouterr().out

    # A rerun finds everything finished: nothing is trained, the outputs are rewritten the same.
    chosen = (sweep_dir / "chosen.json").read_text()
    S.sweep(dataset, sweep_dir, config(3), progress=False)
    assert (sweep_dir / S.RESULTS).read_text().splitlines() == after
    assert (sweep_dir / "chosen.json").read_text() == chosen
    assert "3 of 3 trials already finished" in capsys.readouterr().out

    with pytest.raises(UserFacingError, match="other settings"):  # a new budget is not comparable
        S.sweep(dataset, sweep_dir, S.SweepConfig(**{**config(3).__dict__, "steps_per_trial": 8}), progress=False)
