"""Training: stage 1 regresses the decoder onto analysis targets, stage 2 fine-tunes end to end.

Stage 1 has no synth in the loop (targets come from ``analysis.py``, computed once and cached in the
run dir), so a step costs one decoder pass. Stage 2 renders random crops with ``tf_synth`` and
minimises the multi-scale spectral loss.

A run dir holds ``config.json``, ``ckpt/`` (tf.train.CheckpointManager: the ``checkpoint`` index is
rewritten atomically after the new files are complete, so ``kill -9`` at any moment leaves the
previous checkpoint usable), ``history.json``, ``loss.png``, ``examples/*.wav`` and
``analysis_cache.npz``. Running :func:`train` again on the same dir resumes; a larger ``steps`` or
``minutes`` extends a finished run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sounds_kit.atomic import write_json_atomic
from sounds_kit.conventions import HOP_SIZE, SAMPLE_RATE
from sounds_kit.dsp import analysis
from sounds_kit.dsp import controls as C
from sounds_kit.errors import UserFacingError
from sounds_kit.model.config import TrainConfig
from sounds_kit.model.decoders import receptive_field
from sounds_kit.model.threads import one_op_per_core, shards_for, stage2_shards

FEATURE_KEYS = ("audio", "f0_hz", "f0_confidence", "loudness_db")


# ------------------------------------------------------------------------------------------ data


def collect_examples(source: Iterable, max_examples: int | None = None) -> dict[str, np.ndarray]:
    """Stack examples (dicts with FEATURE_KEYS, single or batched; tf.data or any iterable) into arrays."""
    if hasattr(source, "as_numpy_iterator"):
        source = source.as_numpy_iterator()
    rows: dict[str, list] = {k: [] for k in FEATURE_KEYS}
    count = 0
    for item in source:
        batch = {k: np.asarray(item[k], np.float32) for k in FEATURE_KEYS}
        if batch["audio"].ndim == 1:
            batch = {k: v[None] for k, v in batch.items()}
        for k in FEATURE_KEYS:
            rows[k].extend(batch[k])
        count += batch["audio"].shape[0]
        if max_examples is not None and count >= max_examples:
            break
    if count == 0:
        raise UserFacingError("the training set has no examples")
    data = {k: np.stack(v[:max_examples] if max_examples else v) for k, v in rows.items()}
    n_frames = data["f0_hz"].shape[1]
    if data["audio"].shape[1] < (n_frames - 1) * HOP_SIZE:
        raise UserFacingError(f"examples have {data['audio'].shape[1]} samples, too few for {n_frames} frames")
    data["audio"] = data["audio"][:, : (n_frames - 1) * HOP_SIZE]
    return data


def _fingerprint(data: dict[str, np.ndarray], config: TrainConfig) -> str:
    h = hashlib.sha1()
    for k in FEATURE_KEYS:
        h.update(np.ascontiguousarray(data[k]).tobytes())
    d = config.decoder
    h.update(f"{d.n_harmonics}/{d.n_noise_bands}/{config.confidence_threshold}/{config.log_eps}".encode())
    return h.hexdigest()


def analysis_targets(data: dict[str, np.ndarray], config: TrainConfig, cache: Path | None = None) -> dict:
    """Stage-1 inputs and log-domain targets for every example (cached in ``cache`` when given).

    Returns ``f0_hz`` [E, T] (filled), ``inputs`` [E, T, 2] (f0_scaled, loudness_scaled) and
    ``log_targets`` [E, T, K + Bn] (log of harmonic amplitudes and noise magnitudes + log_eps).
    """
    key = _fingerprint(data, config)
    if cache is not None and cache.exists():
        with np.load(cache) as z:
            if str(z["key"]) == key:
                return {k: z[k] for k in ("f0_hz", "inputs", "log_targets")}
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    d = config.decoder

    def one(i: int) -> tuple[np.ndarray, np.ndarray]:
        a = analysis.analyze(
            data["audio"][i],
            data["f0_hz"][i],
            data["f0_confidence"][i],
            d.n_harmonics,
            d.n_noise_bands,
            config.confidence_threshold,
        )
        both = np.concatenate([a["harmonic_amplitudes"], a["noise_magnitudes"]], axis=1)
        return a["f0_hz"], np.log(both + config.log_eps).astype(np.float16)  # halves memory, 1e-3 precision

    # numpy releases the GIL in the heavy array operations, so threads use every core.
    count = data["audio"].shape[0]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(tqdm(pool.map(one, range(count)), total=count, desc="analysis targets", leave=False))
    f0 = np.stack([r[0] for r in results])
    targets = [r[1] for r in results]
    inputs = np.stack([C.scale_f0(f0), C.scale_loudness(data["loudness_db"])], axis=-1).astype(np.float32)
    out = {"f0_hz": f0, "inputs": inputs, "log_targets": np.stack(targets)}
    if cache is not None:
        # A per-process temp name: sweep workers may share one cache file (same harmonics and bands).
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, key=key, **out)
        os.replace(tmp, cache)
    return out


# ------------------------------------------------------------------------------------- model/steps


def _adam(variables, tf):
    """A minimal Adam as a tf.Module (checkpointable, XLA-friendly, no Keras)."""

    class Adam(tf.Module):
        def __init__(self):
            super().__init__(name="adam")
            self.lr = tf.Variable(1e-3, trainable=False, name="lr")
            self.t = tf.Variable(0.0, trainable=False, name="t")
            self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
            self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]

        def apply(self, grads, variables, b1=0.9, b2=0.999, eps=1e-7):
            t = self.t.assign_add(1.0)
            b1_power, b2_power = tf.pow(b1, t), tf.pow(b2, t)
            for g, var, m, v in zip(grads, variables, self.m, self.v, strict=True):
                if g is None:
                    continue
                # One fused kernel per variable instead of ~10 small ops: the step is op-bound.
                tf.raw_ops.ResourceApplyAdam(
                    var=var.handle,
                    m=m.handle,
                    v=v.handle,
                    beta1_power=b1_power,
                    beta2_power=b2_power,
                    lr=self.lr,
                    beta1=tf.constant(b1),
                    beta2=tf.constant(b2),
                    epsilon=tf.constant(eps),
                    grad=g,
                )

    return Adam()


class _Model:
    """Decoder (+ optional reverb), optimizer, and the two compiled train steps."""

    def __init__(self, config: TrainConfig, cores: int | None = 1):
        """``cores``: the ops TF runs at once, which sets the shards of each batch (None: this process's;
        threads.shards_for, threads.stage2_shards)."""
        import tensorflow as tf

        from sounds_kit.model import tf_synth
        from sounds_kit.model.decoders import build_decoder
        from sounds_kit.model.loss import spectral_loss

        self.tf = tf
        tf.random.set_seed(config.seed)
        self.config = config
        self.decoder = build_decoder(config.decoder, seed=config.seed)
        self.reverb = (
            tf_synth.Reverb(config.decoder.reverb_seconds, seed=config.seed) if config.decoder.reverb else None
        )
        self.variables = list(self.decoder.trainable_variables)
        if self.reverb is not None:
            self.variables += list(self.reverb.trainable_variables)
        self.opt = _adam(self.variables, tf)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.elapsed = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="elapsed_seconds")
        self.stage = tf.Variable(1, dtype=tf.int64, trainable=False, name="stage")
        parts = {"decoder": self.decoder, "opt": self.opt, "step": self.step}
        parts.update(elapsed=self.elapsed, stage=self.stage)
        if self.reverb is not None:
            parts["reverb"] = self.reverb
        self.checkpoint = tf.train.Checkpoint(**parts)
        n_harm = config.decoder.n_harmonics
        log_eps = config.log_eps
        fft_sizes = list(config.fft_sizes)
        loss_overlap = float(config.loss_overlap)

        def stage1_loss(inputs, log_targets):
            out = self.decoder(inputs[..., :1], inputs[..., 1:])
            f0_hz = 440.0 * tf.pow(2.0, (inputs[..., 0] * C.F0_MIDI_SCALE - 69.0) / 12.0)
            harm = tf_synth.harmonic_amplitudes(f0_hz, out["amplitude"], out["harmonic_distribution"])
            pred = tf.math.log(tf.concat([harm, out["noise_magnitudes"]], -1) + log_eps)
            err = tf.abs(pred - tf.cast(log_targets, tf.float32))
            return tf.reduce_mean(err[..., :n_harm]) + tf.reduce_mean(err[..., n_harm:])

        def stage2_loss(inputs, f0_hz, audio, start):
            # The decoder sees the crop plus its causal context; only the crop is rendered, and the
            # frame-by-frame part of the decoder runs only there (251 of the window's 377 frames here).
            n_crop = audio.shape[1] // HOP_SIZE + 1
            features = self.decoder.features(inputs[..., :1], inputs[..., 1:])
            crop = self.decoder.controls(_crop_frames(tf, features, start, n_crop))
            ir = None if self.reverb is None else self.reverb.impulse_response()
            pred = tf_synth.synthesize(
                _crop_frames(tf, f0_hz[..., None], start, n_crop),
                crop["amplitude"],
                crop["harmonic_distribution"],
                crop["noise_magnitudes"],
                ir,
                grouped=not config.jit,  # XLA needs shapes that do not depend on the data
            )
            # XLA cannot compile the kit's own ops: TF's forms of the same maths under --jit.
            return spectral_loss(audio, pred, fft_sizes, overlap=loss_overlap, compiled=False if config.jit else None)

        def step_fn(loss_fn, shards: int):
            # Both losses are means over equal-sized examples, so the mean of the shards' losses is the
            # batch's loss; the shards are independent chains of ops, one per core (threads.py).
            def step(*batch):
                with tf.GradientTape() as tape:
                    if shards == 1:
                        loss = loss_fn(*batch)
                    else:
                        pieces = zip(*(tf.split(x, shards) for x in batch), strict=True)
                        loss = tf.add_n([loss_fn(*piece) for piece in pieces]) / shards
                # Reverb variables get no gradient in stage 1 (None) and are skipped.
                self.opt.apply(tape.gradient(loss, self.variables), self.variables)
                return loss

            return tf.function(step, jit_compile=config.jit)

        rf = receptive_field(config.decoder)
        self.context_frames = None if rf is None else rf - 1  # None: a GRU needs the whole example
        self.shards = (shards_for(config.batch_size, cores), stage2_shards(config.stage2_batch_size, cores))
        self.stage1 = step_fn(stage1_loss, self.shards[0])
        self.stage2 = step_fn(stage2_loss, self.shards[1])


def _crop_frames(tf, x, start, n):
    """x[b, start[b] : start[b] + n] for a batch of starts."""
    idx = start[:, None] + tf.range(n)[None, :]
    return tf.gather(x, idx, batch_dims=1)


# ------------------------------------------------------------------------------------------ run dir


def _write_json(path: Path, data) -> None:
    write_json_atomic(path, data)


def _resolve_config(run_dir: Path, config: TrainConfig) -> TrainConfig:
    """Resume with the stored settings; the budget (steps / minutes / pretrain_fraction) may change."""
    stored_path = run_dir / "config.json"
    if stored_path.exists():
        stored = TrainConfig.from_dict(json.loads(stored_path.read_text()))
        if stored.decoder.to_dict() != config.decoder.to_dict():
            raise UserFacingError(
                f"{run_dir} holds a run with a different model ({stored.decoder.to_dict()}); "
                "use a new run dir or the same model options"
            )
        # The budget may change between sessions (extend a run); everything else is the run's.
        stored.steps, stored.minutes = config.steps, config.minutes
        stored.pretrain_fraction = config.pretrain_fraction
        config = stored
    _write_json(stored_path, config.to_dict())
    return config


def save_loss_plot(history: list[dict], path: Path) -> None:
    from sounds_kit.model.loss_plot import loss_figure

    tmp = path.with_name(f".{path.name}.tmp.png")
    loss_figure(history).savefig(tmp, dpi=80)
    os.replace(tmp, path)


def _save_audio_examples(model: _Model, data: dict, targets: dict, run_dir: Path, count: int) -> None:
    from sounds_kit.data.audio_io import save_audio
    from sounds_kit.dsp.synth import render

    out_dir = run_dir / "examples"
    ir = None if model.reverb is None else model.reverb.impulse_response().numpy()
    for i in range(min(count, data["audio"].shape[0])):
        inputs = targets["inputs"][i : i + 1]
        out = model.decoder(inputs[..., :1], inputs[..., 1:])
        audio = render({k: v.numpy()[0] for k, v in out.items()}, targets["f0_hz"][i], reverb_ir=ir)
        save_audio(out_dir / f"{i}_target.wav", data["audio"][i])
        save_audio(out_dir / f"{i}_resynthesis.wav", audio)


# -------------------------------------------------------------------------------------------- batches


def stage1_batch(targets: dict, config: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inputs [B, T, 2], log_targets [B, T, K + Bn]) of random whole examples."""
    idx = rng.integers(0, targets["inputs"].shape[0], config.batch_size)
    return targets["inputs"][idx], targets["log_targets"][idx]


def stage2_batch(
    data: dict, targets: dict, config: TrainConfig, context_frames: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(inputs [B, W, 2], f0_hz [B, W], audio [B, crop samples], crop start within the window [B]).

    Only the crop and the decoder's receptive field before it are decoded: for a causal CNN the
    crop's controls then equal those of decoding the whole example (a window at frame 0 has the same
    padding). ``context_frames`` None (GRU) decodes whole examples.
    """
    n_examples, n_frames = targets["inputs"].shape[:2]
    crop_frames = min(int(round(config.crop_seconds * SAMPLE_RATE / HOP_SIZE)) + 1, n_frames)
    idx = rng.integers(0, n_examples, config.stage2_batch_size)
    start = rng.integers(0, n_frames - crop_frames + 1, idx.size)
    n_samples = (crop_frames - 1) * HOP_SIZE
    context = n_frames if context_frames is None else context_frames
    window = min(n_frames, context + crop_frames)
    first = np.clip(start - context, 0, n_frames - window)
    # Contiguous slices, row by row: a copy of the crop only (fancy indexing gathers element-wise).
    rows = list(zip(idx, start, first, strict=True))
    audio = np.stack([data["audio"][i, s * HOP_SIZE : s * HOP_SIZE + n_samples] for i, s, _ in rows])
    inputs = np.stack([targets["inputs"][i, f : f + window] for i, _, f in rows])
    f0 = np.stack([targets["f0_hz"][i, f : f + window] for i, _, f in rows])
    return inputs, f0, audio, (start - first).astype(np.int32)


# ---------------------------------------------------------------------------------------------- loop


def _stage_for(config: TrainConfig, step: int, elapsed: float, current: int) -> int:
    if current == 2:
        return 2  # never go back: an extended run keeps fine-tuning
    if config.steps is not None and step >= config.pretrain_fraction * config.steps:
        return 2
    if config.minutes is not None and elapsed >= config.pretrain_fraction * config.minutes * 60.0:
        return 2
    return 1


def _finished(config: TrainConfig, step: int, elapsed: float) -> bool:
    if config.steps is not None and step >= config.steps:
        return True
    return config.minutes is not None and elapsed >= config.minutes * 60.0


def train(
    examples: Iterable | dict,
    run_dir: str | Path,
    config: TrainConfig,
    progress: bool = True,
    until_step: int | None = None,
    analysis_cache: str | Path | None = None,
) -> dict:
    """Train (or resume / extend) the run in ``run_dir``; returns a summary dict.

    ``examples``: an iterable / tf.data.Dataset of dicts with ``audio`` [N] (or [B, N]) and
    ``f0_hz``, ``f0_confidence``, ``loudness_db`` [T] (or [B, T]), or such a dict of stacked arrays.
    ``until_step``: pause (checkpointed) at this step; the stage schedule still follows the whole
    budget, so a run paused and resumed trains exactly as one that was not (a sweep's rungs).
    ``analysis_cache``: where the stage-1 targets are cached (default ``run_dir/analysis_cache.npz``);
    runs on the same data with the same harmonics and bands can share one file.

    Each stage-1 batch is split into one shard per op TF runs at once, each stage-2 batch into one per
    two (``threads.shards_for``, ``threads.stage2_shards``: one in a capped sweep worker). Steps are
    faster with ``threads.use_training_threads()`` called before TF starts (the CLI and the notebooks
    do; it sets TF's pools for the whole process, so ``train`` leaves that choice to its caller).
    """
    from tqdm.auto import tqdm

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config = _resolve_config(run_dir, config)
    data = collect_examples([examples] if isinstance(examples, dict) else examples, config.max_examples)
    t0 = time.perf_counter()
    targets = analysis_targets(data, config, Path(analysis_cache or run_dir / "analysis_cache.npz"))
    analysis_seconds = time.perf_counter() - t0

    model = _Model(config, cores=None)
    tf = model.tf
    manager = tf.train.CheckpointManager(model.checkpoint, str(run_dir / "ckpt"), max_to_keep=2)
    if manager.latest_checkpoint:
        model.checkpoint.restore(manager.latest_checkpoint)
    history_path = run_dir / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    start_step = int(model.step.numpy())
    history = [h for h in history if h["step"] <= start_step]  # drop what the last checkpoint lost

    elapsed0 = float(model.elapsed.numpy())
    session_start = time.perf_counter()
    last_save = session_start
    steps_this_session = 0
    total = config.steps if config.steps is not None else int(config.minutes * 60)
    bar = tqdm(total=total, initial=min(start_step, total), disable=not progress, desc="train", unit="step")
    if config.steps is None:
        bar.unit, bar.n = "s", int(elapsed0)

    def save(step: int, elapsed: float) -> None:
        # History first: if killed in between, the resume drops the entries past the checkpoint.
        _write_json(history_path, history)
        model.step.assign(step)
        model.elapsed.assign(elapsed)
        manager.save(checkpoint_number=step)

    # The loop keeps step and stage in Python and writes them to their variables when they change or
    # are saved: at ~20 ms a step, reading a variable back every step was a noticeable share.
    step, elapsed, stage = start_step, elapsed0, None
    while not _finished(config, step, elapsed) and (until_step is None or step < until_step):
        current = int(model.stage.numpy()) if stage is None else stage
        stage = _stage_for(config, step, elapsed, current)
        if stage != current or step == start_step:
            model.stage.assign(stage)
            model.opt.lr.assign(config.learning_rate if stage == 1 else config.stage2_learning_rate)
        rng = np.random.default_rng([config.seed, step])  # per-step stream: a resumed run draws the same
        if stage == 1:
            loss = model.stage1(*stage1_batch(targets, config, rng))
        else:
            loss = model.stage2(*stage2_batch(data, targets, config, model.context_frames, rng))
        step += 1
        steps_this_session += 1
        now = time.perf_counter()
        elapsed = elapsed0 + (now - session_start)
        loss = float(loss)
        if not np.isfinite(loss):
            raise RuntimeError(f"loss became {loss} at step {step}; try a lower learning rate")
        history.append({"step": step, "stage": stage, "loss": loss, "elapsed": round(elapsed, 3)})
        bar.set_postfix(stage=stage, loss=f"{loss:.4f}", refresh=False)  # drawn by update, at most ~10/s
        bar.update(1 if config.steps is not None else int(elapsed) - bar.n)
        due = config.checkpoint_steps > 0 and step % config.checkpoint_steps == 0
        if due or now - last_save >= config.checkpoint_seconds:
            save(step, elapsed)
            last_save = now
    bar.close()
    save(step, elapsed)
    save_loss_plot(history, run_dir / "loss.png")
    _save_audio_examples(model, data, targets, run_dir, config.n_audio_examples)
    return {
        "run_dir": str(run_dir),
        "step": step,
        "resumed_from": start_step,
        "steps_this_session": steps_this_session,
        "elapsed_seconds": elapsed,
        "analysis_seconds": analysis_seconds,
        "final_loss": history[-1]["loss"] if history else None,
        "stage": int(model.stage.numpy()),
        "shards": list(model.shards),  # stage 1, stage 2: pieces each batch was split into
        "one_op_per_core": one_op_per_core(),  # TF's thread pools (threads.py); False: not those
    }
