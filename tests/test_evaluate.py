"""Evaluation: metric definitions on known signals, then `sounds-kit evaluate` on a tiny trained model."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")  # spectral distance is the TF spectral loss

from sounds_kit.conventions import HOP_SIZE, SAMPLE_RATE  # noqa: E402
from sounds_kit.dsp import synth  # noqa: E402
from sounds_kit.dsp.features import compute_features  # noqa: E402
from sounds_kit.evaluate import metrics as M  # noqa: E402
from sounds_kit.instrument import load_instrument  # noqa: E402

RESYNTHESIS = {"clips", "seconds", "spectral_distance", "loudness_l1_db", "f0_median_cents", "f0_mean_cents",
               "f0_outlier_ratio", "voiced_frames"}  # fmt: skip
TRANSFER = {"transfer_clips", "transfer_seconds", *M.TRANSFER_KEYS}


def tone(f0_hz: np.ndarray, level: float = 0.2) -> np.ndarray:
    """A harmonic tone (1/k spectrum) at frame-rate f0, one HOP per frame."""
    k = np.arange(1, 21)
    dist = np.tile(1.0 / k, (f0_hz.size, 1))
    ctl = {"f0_hz": f0_hz, "amplitude": np.full(f0_hz.size, level), "harmonic_distribution": dist}
    return synth.synthesize(ctl, n_samples=(f0_hz.size - 1) * HOP_SIZE).astype(np.float32)


def glide(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE / HOP_SIZE) + 1) / (SAMPLE_RATE / HOP_SIZE)
    return 220.0 * 2 ** (0.5 * np.sin(2 * np.pi * 0.7 * t))


def test_resynthesis_metrics_measure_what_they_say():
    f0 = glide()
    ref = tone(f0)
    feats = compute_features(ref)
    same = M.resynthesis_metrics(ref, ref, feats)
    assert same["spectral_distance"] == 0.0 and same["loudness_l1_db"] == 0.0
    assert same["f0_median_cents"] < 1.0 and same["f0_outlier_ratio"] == 0.0 and same["voiced_frames"] > 300

    quieter = M.resynthesis_metrics(ref, ref * 0.5, feats)  # -6.02 dB everywhere
    assert quieter["loudness_l1_db"] == pytest.approx(6.02, abs=0.05)
    assert quieter["spectral_distance"] > 1.0 and quieter["f0_median_cents"] < 1.0

    sharp = M.resynthesis_metrics(ref, tone(f0 * 2 ** (100 / 1200)), feats)  # a semitone sharp
    assert sharp["f0_median_cents"] == pytest.approx(100.0, abs=3.0)
    assert sharp["f0_outlier_ratio"] > 0.95 and sharp["loudness_l1_db"] < 1.0

    silent = M.resynthesis_metrics(ref, np.zeros_like(ref), feats)  # every voiced frame scores the cap
    assert silent["f0_median_cents"] == silent["f0_mean_cents"] == M.CENTS_CAP
    assert silent["f0_outlier_ratio"] == 1.0 and silent["spectral_distance"] > 10 * quieter["spectral_distance"]


def test_transfer_metrics_never_fold_octaves_away():
    f0 = glide()
    voice = tone(f0)
    up = tone(f0 * 2.0 * 2 ** (20 / 1200))  # an octave and 20 cents up
    asked = M.transfer_metrics(voice, up, octave_shift=1)
    assert asked["transfer_pitch_median_cents"] == pytest.approx(20.0, abs=3.0)
    assert asked["transfer_octave_jump_ratio"] == 0.0 and asked["transfer_voiced_ratio"] > 0.95
    jumped = M.transfer_metrics(voice, up, octave_shift=0)  # the fit did not ask for that octave
    assert jumped["transfer_octave_jump_ratio"] == 1.0
    assert jumped["transfer_pitch_median_cents"] == pytest.approx(1220.0, abs=3.0)  # counted in full
    by_pyin = M.transfer_metrics(voice, up, octave_shift=1, reference="pyin")  # an independent reference
    assert by_pyin["transfer_octave_jump_ratio"] == 0.0 and by_pyin["transfer_voiced_ratio"] > 0.9
    assert by_pyin["transfer_pitch_median_cents"] < 30.0
    silent = M.transfer_metrics(voice, np.zeros_like(voice))
    assert silent["transfer_voiced_ratio"] == 0.0 and np.isnan(silent["transfer_pitch_median_cents"])


# ------------------------------------------------------------------------------------ with a model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from synthetic_instrument import toy_instrument

    from sounds_kit.data.audio_io import save_audio
    from sounds_kit.model.decoders import DecoderConfig
    from sounds_kit.model.train import TrainConfig, train

    def clip(seed):  # kit features, as a prepared dataset has them
        audio = toy_instrument(2.0, seed=seed)["audio"]
        return {"audio": audio, **compute_features(audio)}

    root = tmp_path_factory.mktemp("evaluate")
    # 240 steps: at 120 the loudness error over seeds 0-3 was 6.0-10.6 dB, so float rounding in the
    # training step could carry it across the check below; at 240 it is 3.3-4.5 dB.
    config = TrainConfig(
        decoder=DecoderConfig(width=16, depth=3, n_harmonics=30, n_noise_bands=16),
        steps=240, pretrain_fraction=1.0, batch_size=8, learning_rate=1e-2,
        checkpoint_seconds=1e9, jit=False, n_audio_examples=0,
    )  # fmt: skip
    train([clip(i) for i in range(12)], root / "run", config, progress=False)
    held = [clip(500 + i) for i in range(3)]
    wavs = [str(save_audio(root / f"held{i}.wav", c["audio"])) for i, c in enumerate(held)]
    return {"run": root / "run", "held": held, "wavs": wavs, "root": root}


def cli(capsys, *argv) -> tuple[int, str, str]:
    from sounds_kit.cli import main

    code = main(["evaluate", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_on_a_run_dir_prints_json_and_writes_eval_json(trained, capsys):
    from sounds_kit.data import dataset as ds

    code, out, _ = cli(capsys, trained["run"], *trained["wavs"], "--json")
    assert code == 0
    got = json.loads(out)
    assert set(got) == RESYNTHESIS and got["clips"] == 3 and got["seconds"] == pytest.approx(6.0, abs=0.01)
    silence = np.mean([M.spectral_distance(c["audio"], np.zeros_like(c["audio"])) for c in trained["held"]])
    assert 0 < got["spectral_distance"] < 0.5 * silence  # it sounds like something, and like the target
    assert got["loudness_l1_db"] < 10.0
    assert got["f0_median_cents"] < 20.0 and got["f0_outlier_ratio"] < 0.2
    assert json.loads((trained["run"] / "eval.json").read_text()) == got

    # Tone transfer: the run's dataset stats place the instrument an octave above these "voices".
    acc = ds.empty_stats()
    for clip in trained["held"]:  # the instrument's profile exactly as prepare computes it
        acc = ds.accumulate_stats(acc, clip["f0_hz"], clip["f0_confidence"], clip["loudness_db"])
    fit = ds.summarize_stats(acc)["fit"]
    fit["meanMidi"] += 12.0
    stats = {"fit": fit}
    (trained["run"] / "dataset_stats.json").write_text(json.dumps(stats))
    code, out, _ = cli(capsys, trained["run"], *trained["wavs"], "--voice", "--json")
    assert code == 0
    got = json.loads(out)
    assert set(got) == TRANSFER and got["transfer_octave_shift"] == 1
    assert got["transfer_pitch_median_cents"] < 20.0 and got["transfer_voiced_ratio"] > 0.5
    assert got["transfer_octave_jump_ratio"] < 0.2
    both = json.loads((trained["run"] / "eval.json").read_text())
    assert RESYNTHESIS | TRANSFER == set(both)  # merged: the model card gets both

    code, out, _ = cli(capsys, trained["run"], trained["wavs"][0])  # human-readable table
    assert code == 0 and "spectral_distance" in out and "held0.wav" in out


def test_exported_model_scores_like_its_run_and_missing_files_are_errors(trained, capsys):
    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.model.run import load_run

    run = load_run(trained["run"])
    model_dir = export_decoder(run.decoder, run.config.decoder, trained["root"] / "model", name="toy")
    from_run = M.evaluate_model(load_instrument(trained["run"]), trained["held"])
    exported = load_instrument(model_dir)
    assert exported.kind == "instrument"
    from_export = M.evaluate_model(exported, trained["held"])  # float16 weights: nearly the same sound
    assert from_export["spectral_distance"] == pytest.approx(from_run["spectral_distance"], rel=0.05)
    code, out, _ = cli(capsys, model_dir, trained["wavs"][0], "--json")
    assert code == 0 and set(json.loads(out)) == RESYNTHESIS
    assert not (model_dir / "eval.json").exists()  # an export's files are hashed: left alone

    next(model_dir.glob("group1-shard*.bin")).unlink()
    code, _, err = cli(capsys, model_dir, trained["wavs"][0])
    assert code == 2 and "missing" in err

    empty = trained["root"] / "empty"
    empty.mkdir()
    code, _, err = cli(capsys, empty, trained["wavs"][0])
    assert code == 2 and "neither a training run dir" in err
    unfinished = trained["root"] / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.json").write_text((trained["run"] / "config.json").read_text())
    code, _, err = cli(capsys, unfinished, trained["wavs"][0])
    assert code == 2 and "no checkpoint" in err
    code, _, err = cli(capsys, trained["root"] / "no-such-model", trained["wavs"][0])
    assert code == 2 and "no instrument" in err
    code, _, err = cli(capsys, trained["run"])
    assert code == 2 and "nothing to evaluate" in err
