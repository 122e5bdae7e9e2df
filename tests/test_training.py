"""Training: the loss falls in both stages, a killed run resumes, a finished run extends, inference loads it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from synthetic_instrument import toy_examples  # noqa: E402

from sounds_kit.model.decoders import DecoderConfig  # noqa: E402
from sounds_kit.model.train import TrainConfig, train  # noqa: E402

TINY = DecoderConfig(type="cnn", width=16, depth=3, n_harmonics=30, n_noise_bands=16)
HERE = Path(__file__).parent


def mean_loss(history, stage, which):
    rows = [h["loss"] for h in history if h["stage"] == stage]
    return float(np.mean(rows[:5] if which == "first" else rows[-5:]))


def test_loss_falls_in_both_stages_and_the_run_dir_is_complete(tmp_path):
    examples = toy_examples(16, seconds=4.0)  # ~1 minute of audio
    config = TrainConfig(
        decoder=TINY,
        steps=90,
        pretrain_fraction=0.6,
        batch_size=8,
        learning_rate=3e-3,
        stage2_batch_size=4,
        stage2_learning_rate=1e-3,
        crop_seconds=0.5,
        checkpoint_seconds=1e9,
    )
    summary = train(examples, tmp_path, config, progress=False)
    assert summary["step"] == 90 and summary["stage"] == 2 and summary["resumed_from"] == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["step"] for h in history] == list(range(1, 91))
    assert mean_loss(history, 1, "last") < 0.6 * mean_loss(history, 1, "first")
    assert mean_loss(history, 2, "last") < mean_loss(history, 2, "first")
    for name in (
        "config.json",
        "loss.png",
        "analysis_cache.npz",
        "examples/0_target.wav",
        "examples/0_resynthesis.wav",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "config.json").read_text())["decoder"] == TINY.to_dict()

    from sounds_kit.instrument import load_instrument

    run = load_instrument(tmp_path)
    assert run.kind == "run" and run.metadata["training_step"] == 90
    audio = run.resynthesize({k: examples[0][k] for k in ("f0_hz", "f0_confidence", "loudness_db")})
    assert audio.shape == (examples[0]["audio"].size,) and np.all(np.isfinite(audio))
    # A trained level, not the untrained one: the first step's model renders at 0.015-0.019 of the
    # target's level, these 90 steps at 0.06-0.14 (seeds 0 and 1, one or two stage-2 shards: the
    # level after so few steps moves with float rounding).
    assert 0.04 < np.std(audio) / np.std(examples[0]["audio"]) < 10.0


def test_both_stages_train_under_xla(tmp_path):
    """``--jit``: stage 2 renders every harmonic (XLA cannot compile hop groups sized by the data)."""
    config = TrainConfig(decoder=TINY, steps=4, pretrain_fraction=0.5, batch_size=4, stage2_batch_size=2,
                         crop_seconds=0.25, checkpoint_seconds=1e9, jit=True, n_audio_examples=0)  # fmt: skip
    summary = train(toy_examples(4, seconds=2.0), tmp_path, config, progress=False)
    history = json.loads((tmp_path / "history.json").read_text())
    assert summary["step"] == 4 and [h["stage"] for h in history] == [1, 1, 2, 2]
    assert all(np.isfinite(h["loss"]) for h in history)


KILL_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
from synthetic_instrument import toy_examples
from sounds_kit.model.decoders import DecoderConfig
from sounds_kit.model.train import TrainConfig, train
config = TrainConfig(decoder=DecoderConfig(**{decoder!r}), steps=1_000_000, pretrain_fraction=1.0,
                     batch_size=4, checkpoint_steps=3, checkpoint_seconds=1e9, jit=False)
train(toy_examples(4, seconds=1.0), {run_dir!r}, config, progress=False)
"""


def latest_checkpoint_step(run_dir: Path) -> int:
    index = run_dir / "ckpt" / "checkpoint"
    if not index.exists():
        return 0
    first = index.read_text().splitlines()[0]  # model_checkpoint_path: "ckpt-N"
    return int(first.split("-")[-1].strip('"'))


def test_kill_9_then_rerun_resumes_and_a_finished_run_extends(tmp_path):
    script = KILL_SCRIPT.format(here=str(HERE), decoder=TINY.to_dict(), run_dir=str(tmp_path))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while latest_checkpoint_step(tmp_path) < 9:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the training subprocess never checkpointed"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-run, possibly mid-checkpoint
        proc.wait()
    saved = latest_checkpoint_step(tmp_path)
    assert saved >= 9

    config = TrainConfig(
        decoder=TINY, steps=saved + 4, pretrain_fraction=1.0, batch_size=4, checkpoint_seconds=1e9, jit=False
    )
    summary = train(toy_examples(4, seconds=1.0), tmp_path, config, progress=False)
    assert summary["resumed_from"] == saved and summary["step"] == saved + 4 and summary["steps_this_session"] == 4
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["step"] for h in history] == list(range(1, saved + 5))  # no gap, no duplicate

    config.steps = saved + 6  # a finished run is extended by asking for more
    summary = train(toy_examples(4, seconds=1.0), tmp_path, config, progress=False)
    assert summary["resumed_from"] == saved + 4 and summary["step"] == saved + 6


def test_resuming_with_another_model_is_refused(tmp_path):
    from sounds_kit.errors import UserFacingError
    from sounds_kit.model.train import _resolve_config

    _resolve_config(tmp_path, TrainConfig(decoder=TINY, steps=1))
    with pytest.raises(UserFacingError):
        _resolve_config(tmp_path, TrainConfig(decoder=DecoderConfig(width=99), steps=1))


def test_cli_keeps_the_stored_model_and_applies_given_flags(tmp_path):
    from sounds_kit.commands.train import add_arguments, decoder_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(tmp_path), "-o", str(tmp_path / "run"), "--steps", "5"])
    assert decoder_config(args, tmp_path / "run") == DecoderConfig()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({"decoder": TINY.to_dict()}))
    assert decoder_config(args, tmp_path / "run") == TINY
    args = parser.parse_args([str(tmp_path), "-o", str(tmp_path / "run"), "--decoder", "gru", "--depth", "2"])
    config = decoder_config(args, tmp_path / "run")
    assert config.type == "gru" and config.depth == 2 and config.width == TINY.width


def test_stage2_trains_on_the_cheaper_loss_and_older_runs_keep_the_full_one(tmp_path):
    from sounds_kit.model.loss import DEFAULT_FFT_SIZES, TRAINING_FFT_SIZES
    from sounds_kit.model.train import _resolve_config

    fresh = TrainConfig(steps=1)
    assert fresh.loss_overlap == 0.5 and fresh.fft_sizes == list(TRAINING_FFT_SIZES) != list(DEFAULT_FFT_SIZES)
    assert TrainConfig.from_dict(fresh.to_dict()).loss_overlap == 0.5
    # A run saved before the setting existed stored its fft_sizes (the six) but no overlap: it trained,
    # and resumes, with 75%.
    saved = {k: v for k, v in fresh.to_dict().items() if k != "loss_overlap"}
    saved["fft_sizes"] = list(DEFAULT_FFT_SIZES)
    (tmp_path / "config.json").write_text(json.dumps(saved))
    resumed = _resolve_config(tmp_path, TrainConfig(steps=2))
    assert resumed.loss_overlap == 0.75 and resumed.fft_sizes == list(DEFAULT_FFT_SIZES)
    assert json.loads((tmp_path / "config.json").read_text())["loss_overlap"] == 0.75  # now written down


def test_stage2_trains_on_the_configured_loss_form(monkeypatch):
    import tensorflow as tf

    import sounds_kit.model.loss as loss_module
    from sounds_kit.model.train import _Model

    seen, real = [], loss_module.spectral_loss

    def recording(target, prediction, fft_sizes, **kwargs):
        seen.append((list(fft_sizes), kwargs.get("overlap")))
        return real(target, prediction, fft_sizes, **kwargs)

    monkeypatch.setattr(loss_module, "spectral_loss", recording)  # _Model binds it when built
    named = TrainConfig(decoder=TINY, steps=1, fft_sizes=[256, 64], loss_overlap=0.75)
    for config, form in ((TrainConfig(decoder=TINY, steps=1), ([2048, 1024, 512, 256, 128], 0.5)),
                         (named, ([256, 64], 0.75))):  # fmt: skip
        seen.clear()
        model = _Model(config)
        w = model.context_frames + 63  # a crop of 62 hops (3,968 samples) spans 63 frames
        model.stage2.get_concrete_function(
            tf.TensorSpec([2, w, 2]), tf.TensorSpec([2, w]), tf.TensorSpec([2, 62 * 64]), tf.TensorSpec([2], tf.int32)
        )
        assert seen == [form]


@pytest.mark.parametrize("decoder", [TINY, DecoderConfig(**{**TINY.to_dict(), "reverb": True, "reverb_seconds": 0.1}),
                                     DecoderConfig(type="gru", width=16, depth=2, n_harmonics=30, n_noise_bands=16)],
                         ids=["cnn", "cnn+reverb", "gru"])  # fmt: skip
def test_a_batch_split_into_shards_trains_as_the_whole_batch(decoder):
    """Each step splits its batch into shards (threads.py: stage 1 one per core, stage 2 one per two);
    the mean of the shards' losses is the batch's loss, so the losses and the weights after each step
    must be the batch's."""
    from sounds_kit.model.train import (
        _Model,
        analysis_targets,
        collect_examples,
        stage1_batch,
        stage2_batch,
    )

    config = TrainConfig(decoder=decoder, steps=1, batch_size=4, stage2_batch_size=4, crop_seconds=0.5)
    data = collect_examples(toy_examples(6, seconds=2.0))
    targets = analysis_targets(data, config)
    whole, split = _Model(config, cores=1), _Model(config, cores=4)  # stage 2: a shard per 2 cores
    assert whole.shards == (1, 1) and split.shards == (2, 2)
    rng = np.random.default_rng(0)
    steps = [("stage1", stage1_batch(targets, config, rng)) for _ in range(2)]
    steps += [("stage2", stage2_batch(data, targets, config, whole.context_frames, rng)) for _ in range(2)]
    for stage, batch in steps:
        a, b = float(getattr(whole, stage)(*batch)), float(getattr(split, stage)(*batch))
        assert abs(a - b) <= 1e-5 * abs(a), (stage, a, b)
        # Adam divides by the gradient's own size, so float rounding in near-zero gradients (the
        # reverb's tail) can move a weight by a fraction of a step (lr 3e-4..1e-3); the losses above,
        # taken from the weights of the steps before, are the tight check.
        for v, w in zip(whole.variables, split.variables, strict=True):
            np.testing.assert_allclose(w.numpy(), v.numpy(), rtol=1e-4, atol=1e-4)


def test_shards_are_equal_and_not_too_small():
    from sounds_kit.model.threads import shards_for, stage2_shards

    assert [shards_for(16, 2), shards_for(8, 2), shards_for(8, 1)] == [2, 2, 1]
    assert [shards_for(6, 4), shards_for(9, 4), shards_for(3, 4), shards_for(16, 64)] == [3, 3, 1, 8]
    assert [stage2_shards(8, 1), stage2_shards(8, 2), stage2_shards(8, 4), stage2_shards(8, 16)] == [1, 1, 2, 4]


def test_crops_are_the_examples_samples_and_frames():
    """``stage2_batch`` cuts each crop, its window of frames and its offset from the stored examples."""
    from sounds_kit.conventions import HOP_SIZE as HOP
    from sounds_kit.conventions import SAMPLE_RATE
    from sounds_kit.model.train import stage2_batch

    rng = np.random.default_rng(1)
    n_frames = 126
    data = {"audio": rng.standard_normal((5, (n_frames - 1) * HOP)).astype(np.float32)}
    targets = {"inputs": rng.standard_normal((5, n_frames, 2)).astype(np.float32),
               "f0_hz": rng.standard_normal((5, n_frames)).astype(np.float32)}  # fmt: skip
    for context in (30, None, 0, 500):
        config = TrainConfig(steps=1, stage2_batch_size=6, crop_seconds=0.5)
        inputs, f0, audio, start = stage2_batch(data, targets, config, context, np.random.default_rng(2))
        draw = np.random.default_rng(2)  # the same draws, rebuilt by plain indexing
        crop = int(0.5 * SAMPLE_RATE) // HOP + 1
        idx = draw.integers(0, 5, 6)
        at = draw.integers(0, n_frames - crop + 1, 6)
        window = min(n_frames, (n_frames if context is None else context) + crop)
        for b in range(6):
            first = at[b] - start[b]
            assert 0 <= first <= n_frames - window and inputs.shape[1] == window
            np.testing.assert_array_equal(audio[b], data["audio"][idx[b], at[b] * HOP : (at[b] + crop - 1) * HOP])
            np.testing.assert_array_equal(inputs[b], targets["inputs"][idx[b], first : first + window])
            np.testing.assert_array_equal(f0[b], targets["f0_hz"][idx[b], first : first + window])


THREADS_SCRIPT = """
import json, os, sys
sys.path.insert(0, {here!r})
from synthetic_instrument import toy_examples
from sounds_kit.model.threads import available_cores, use_training_threads
from sounds_kit.model.train import TrainConfig, train
from sounds_kit.model.decoders import DecoderConfig
import tensorflow as tf
mode = sys.argv[1]
if mode == "started":
    tf.constant(1.0) + 1.0  # something ran TF before
chose = use_training_threads() if mode != "library" else None  # what the CLI and notebooks do first
config = TrainConfig(decoder=DecoderConfig(**{decoder!r}), steps=2, pretrain_fraction=0.5, batch_size=4,
                     stage2_batch_size=4, crop_seconds=0.25, checkpoint_seconds=1e9, n_audio_examples=0)
summary = train(toy_examples(2, seconds=1.0), sys.argv[2], config, progress=False)
print(json.dumps(dict(summary=summary, cores=available_cores(), chose=chose,
                      intra=tf.config.threading.get_intra_op_parallelism_threads(),
                      inter=tf.config.threading.get_inter_op_parallelism_threads())))
"""


@pytest.mark.parametrize("mode", ["fresh", "library", "started", "capped"])
def test_one_thread_per_op_only_where_the_process_has_not_chosen(tmp_path, mode):
    """An entry point (CLI, notebook) that calls use_training_threads before TF starts trains with one
    thread per op and one op per core; ``train()`` alone leaves the pools as they are; a process where
    TF already runs, or whose pools were capped (a sweep worker: TF_NUM_*_THREADS), keeps its own."""
    script = THREADS_SCRIPT.format(here=str(HERE), decoder=TINY.to_dict())
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    if mode == "capped":
        env.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script, mode, str(tmp_path / "run")], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["summary"]["step"] == 2
    if mode == "fresh":
        assert got["chose"] is True and got["summary"]["one_op_per_core"] is True
        assert (got["intra"], got["inter"]) == (1, got["cores"])
    else:
        assert got["chose"] in (False, None) and got["summary"]["one_op_per_core"] is False
    if mode in ("library", "started"):
        assert (got["intra"], got["inter"]) == (0, 0)  # TF's own pools stay (0: TF chooses)
    # One shard per op TF runs at once in stage 1, one per two in stage 2 (batches of 4, two examples a
    # shard at least): a worker capped at one inter-op thread is not split.
    split = [2 if got["cores"] >= 2 else 1, 2 if got["cores"] >= 4 else 1]
    assert got["summary"]["shards"] == ([1, 1] if mode == "capped" else split)
