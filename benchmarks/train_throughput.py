"""Training throughput and quality: the kit's default recipe vs a straightforward DDSP baseline.

    .venv/bin/python benchmarks/train_throughput.py [--minutes 3] [--seconds-of-audio 180] [--xla]
        [--skip-quality] [--rounds 8] [--loss-seeds 3 [--loss-steps 2000]] [--tf-threads kit|default]
        [--threads-peer]

Data: demo bansuri audio rendered with fluidsynth (sounds_kit.data.demo_instruments), features from
sounds_kit.dsp.features, cut into 4 s examples with a 1 s hop; the last examples are held out.

* kit: ``trainer.train`` with the default model (causal CNN, 48 harmonics, 32 noise bands), stage 1
  (analysis-target regression, batch 16 x 4 s) then stage 2 (spectral loss, batch 8 x 1 s crops).
  Its throughput counts the analysis of the whole dataset (done once, cached) in the time.
* baseline, "written the obvious way": GRU decoder (tf_keras), amplitudes upsampled to audio rate,
  per-sample float32 cumsum phase, 60 harmonics, 65-band filtered noise (per-frame FIR from the
  magnitudes, FFT-convolved with white noise), 6-scale spectral loss, batch 16 x 4 s, end to end.

* ablation, "stage 2 only": the kit's model and synth trained end to end from the first step
  (pretrain_fraction 0): what the kit's own synth and loss give without the stage-1 regression.

Throughput = audio-seconds of training examples per second. Stage 1 sees no synthesis and no spectral
loss, so its rate is not comparable with an end-to-end one: the like-for-like figure is stage 2 (the
kit's synth and spectral loss, end to end) vs the baseline. ``--xla`` also times both stages with XLA
(``jit_compile``), alternating with the plain steps. All three systems train for the same wall time;
quality = the 6-scale spectral loss of each model's resynthesis of the held-out examples (lower is
better).

Thread pools: by default the process starts TF as ``sounds-kit train`` does (``--tf-threads kit``: one thread
per op, one op per core, batches split into one shard per core), so kit and baseline share them;
``--tf-threads default`` keeps TF's own pools, and ``--threads-peer`` times the steps again in a child
process with the other setting (TF fixes its pools once per process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MAGENTA_AUDIO_S_PER_S = {"solo_instrument": 1.7, "tiny_instrument": 3.1}  # facts.md, this CPU
EXAMPLE_SECONDS, HOP_SECONDS = 4.0, 1.0
BLOCK_SECONDS = 2.0  # interleaved timing: seconds of one model's steps before the next model's


# ------------------------------------------------------------------------------------------- data


def demo_examples(seconds: float, cache: Path) -> dict[str, np.ndarray]:
    """4 s examples (1 s hop) of rendered bansuri with features; cached as npz."""
    if cache.exists():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    from sounds_kit.conventions import SAMPLE_RATE, n_frames
    from sounds_kit.data.demo_instruments import get_recipe, render_passages
    from sounds_kit.data.demo_music import compose
    from sounds_kit.dsp.features import compute_features

    recipe = get_recipe("bansuri")
    passages = compose("bansuri", recipe.sa, recipe.low, recipe.high, seconds, seed=0, style=recipe.style)
    rows: dict[str, list] = {"audio": [], "f0_hz": [], "f0_confidence": [], "loudness_db": []}
    n = int(EXAMPLE_SECONDS * SAMPLE_RATE)
    for audio in render_passages(recipe, passages, progress=False):
        audio = audio * recipe.gain
        feats = compute_features(audio)
        hop = int(HOP_SECONDS * SAMPLE_RATE)
        for start in range(0, audio.size - n + 1, hop):
            f0 = start // 64
            rows["audio"].append(audio[start : start + n])
            for k in ("f0_hz", "f0_confidence", "loudness_db"):
                rows[k].append(feats[k][f0 : f0 + n_frames(n)])
    data = {k: np.stack(v).astype(np.float32) for k, v in rows.items()}
    np.savez(cache, **data)
    return data


def split(data: dict, n_eval: int) -> tuple[dict, dict]:
    # Hold out the last examples; drop the 3 before them, which overlap the held-out audio.
    train = {k: v[: -(n_eval + 3)] for k, v in data.items()}
    held = {k: v[-n_eval:] for k, v in data.items()}
    return train, held


# --------------------------------------------------------------------------------------- baseline


def baseline_model(seed: int = 0, n_harmonics: int = 60, n_bands: int = 65, units: int = 128):
    import tensorflow as tf
    import tf_keras as keras

    from sounds_kit.conventions import HOP_SIZE, SAMPLE_RATE
    from sounds_kit.model.loss import spectral_loss_autodiff as spectral_loss  # the loss written the obvious way
    from sounds_kit.model.tf_synth import exp_sigmoid

    tf.random.set_seed(seed)
    inp = keras.Input([None, 2])
    h = keras.layers.Dense(units, activation=tf.nn.leaky_relu)(inp)
    h = keras.layers.GRU(units, return_sequences=True)(h)
    h = keras.layers.Dense(units, activation=tf.nn.leaky_relu)(h)
    out = keras.layers.Dense(1 + n_harmonics + n_bands)(h)
    net = keras.Model(inp, out)
    opt = keras.optimizers.Adam(1e-3)

    def upsample(x, n):  # [B, T, C] -> [B, n, C], linear between frames
        pos = tf.range(n, dtype=tf.float32) / HOP_SIZE
        i0 = tf.cast(tf.floor(pos), tf.int32)
        i1 = tf.minimum(i0 + 1, tf.shape(x)[1] - 1)
        w = (pos - tf.cast(i0, tf.float32))[None, :, None]
        return tf.gather(x, i0, axis=1) * (1 - w) + tf.gather(x, i1, axis=1) * w

    def synth(f0_hz, raw, n):
        amp = exp_sigmoid(raw[..., :1])
        dist = exp_sigmoid(raw[..., 1 : 1 + n_harmonics])
        mags = exp_sigmoid(raw[..., 1 + n_harmonics :])
        k = tf.range(1, n_harmonics + 1, dtype=tf.float32)
        dist = tf.where(f0_hz[..., None] * k < SAMPLE_RATE / 2, dist, 0.0)
        dist = dist / (tf.reduce_sum(dist, -1, keepdims=True) + 1e-7)
        f0_up = upsample(f0_hz[..., None], n)
        amps_up = upsample(amp * dist, n)
        phase = tf.cumsum(2 * np.pi * f0_up / SAMPLE_RATE, axis=1)  # float32, unwrapped, per sample
        harmonic = tf.reduce_sum(amps_up * tf.sin(phase * k), -1)
        # Filtered noise: per-frame linear-phase FIR from the band magnitudes, applied block-wise.
        ir = tf.signal.irfft(tf.complex(mags, tf.zeros_like(mags)))  # [B, T, 2 * (n_bands - 1)]
        ir = tf.roll(ir, ir.shape[-1] // 2, axis=-1) * tf.signal.hann_window(ir.shape[-1])
        frames = n // HOP_SIZE
        white = tf.random.uniform([tf.shape(mags)[0], frames, HOP_SIZE], -1.0, 1.0)
        n_fft = 256
        spec = tf.signal.rfft(white, [n_fft]) * tf.signal.rfft(ir[:, :frames], [n_fft])
        blocks = tf.signal.irfft(spec, [n_fft])  # [B, frames, n_fft]
        noise = tf.signal.overlap_and_add(blocks, HOP_SIZE)[:, :n]
        return harmonic + noise

    def forward(f0_hz, loudness_db, n):
        from sounds_kit.model.tf_synth import scale_f0, scale_loudness

        x = tf.stack([scale_f0(f0_hz), scale_loudness(loudness_db)], -1)
        return synth(f0_hz, net(x), n)

    @tf.function
    def step(audio, f0_hz, loudness_db):
        with tf.GradientTape() as tape:
            loss = spectral_loss(audio, forward(f0_hz, loudness_db, audio.shape[1]))
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return loss

    render = tf.function(lambda f0, loud, n: forward(f0, loud, n), reduce_retracing=True)
    return step, render, net.count_params()


def run_baseline(train: dict, held: dict, minutes: float, batch: int = 16, seed: int = 0) -> dict:
    from sounds_kit.dsp import controls as C
    from sounds_kit.model.loss import spectral_loss_np

    step, render, n_params = baseline_model(seed)
    f0 = C.fill_unvoiced(train["f0_hz"], train["f0_confidence"]).astype(np.float32)
    rng = np.random.default_rng(seed)
    n_audio = train["audio"].shape[1]  # (T - 1) * HOP_SIZE samples
    idx = rng.integers(0, f0.shape[0], batch)
    t0 = time.perf_counter()
    step(train["audio"][idx, :n_audio], f0[idx], train["loudness_db"][idx])  # trace + first step
    compile_s = time.perf_counter() - t0
    steps, losses, times = 0, [], []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < minutes * 60:
        idx = rng.integers(0, f0.shape[0], batch)
        s = time.perf_counter()
        losses.append(float(step(train["audio"][idx, :n_audio], f0[idx], train["loudness_db"][idx])))
        times.append(time.perf_counter() - s)
        steps += 1
    wall = time.perf_counter() - t0
    held_f0 = C.fill_unvoiced(held["f0_hz"], held["f0_confidence"]).astype(np.float32)
    pred = render(held_f0, held["loudness_db"], n_audio).numpy()
    quality = spectral_loss_np(held["audio"][:, :n_audio], pred)
    return {
        "params": int(n_params),
        "steps": steps,
        "compile_seconds": round(compile_s, 1),
        "median_step_seconds": float(np.median(times)),
        "audio_s_per_s": steps * batch * EXAMPLE_SECONDS / wall,
        "step_audio_s_per_s": batch * EXAMPLE_SECONDS / float(np.median(times)),
        "first_loss": losses[0] if losses else None,
        "last_loss": float(np.mean(losses[-3:])) if losses else None,
        "held_out_spectral_loss": quality,
    }


# -------------------------------------------------------------------------------------------- kit


def run_kit(train: dict, held: dict, minutes: float | None, run_dir: Path, seed: int = 0,
            pretrain_fraction: float = 0.8, **overrides) -> dict:
    from sounds_kit.instrument import load_instrument
    from sounds_kit.model.decoders import DecoderConfig, build_decoder, parameter_count
    from sounds_kit.model.loss import spectral_loss_np
    from sounds_kit.model.train import TrainConfig
    from sounds_kit.model.train import train as train_run

    config = TrainConfig(minutes=minutes, seed=seed, checkpoint_seconds=1e9, n_audio_examples=0,
                         pretrain_fraction=pretrain_fraction, **overrides)  # fmt: skip
    summary = train_run(train, run_dir, config, progress=False)
    history = json.loads((run_dir / "history.json").read_text())
    s1 = [h for h in history if h["stage"] == 1]
    s2 = [h for h in history if h["stage"] == 2]

    def median_step(rows):
        t = np.diff([h["elapsed"] for h in rows])
        return float(np.median(t[3:])) if t.size > 4 else float("nan")

    audio_s = len(s1) * config.batch_size * EXAMPLE_SECONDS + len(s2) * config.stage2_batch_size * config.crop_seconds
    run = load_instrument(run_dir)
    n_audio = held["audio"].shape[1]
    preds = [
        run.resynthesize({k: held[k][i] for k in ("f0_hz", "f0_confidence", "loudness_db")})
        for i in range(len(held["audio"]))
    ]
    quality = spectral_loss_np(held["audio"][:, :n_audio], np.stack(preds)[:, :n_audio])
    train_seconds = summary["elapsed_seconds"]
    return {
        "params": parameter_count(build_decoder(DecoderConfig())),
        "stage1_steps": len(s1),
        "stage2_steps": len(s2),
        "analysis_seconds": round(summary["analysis_seconds"], 1),
        "analysis_audio_s_per_s": train["audio"].shape[0] * EXAMPLE_SECONDS / summary["analysis_seconds"],
        "stage1_step_audio_s_per_s": config.batch_size * EXAMPLE_SECONDS / median_step(s1) if s1 else None,
        "stage2_step_audio_s_per_s": config.stage2_batch_size * config.crop_seconds / median_step(s2),
        # Honest total: all audio-seconds trained over training time plus the one-off analysis.
        "audio_s_per_s": audio_s / (train_seconds + summary["analysis_seconds"]),
        "stage1_last_loss": float(np.mean([h["loss"] for h in s1[-5:]])) if s1 else None,
        "stage2_last_loss": float(np.mean([h["loss"] for h in s2[-5:]])) if s2 else None,
        "held_out_spectral_loss": quality,
    }


def compare_loss_forms(train: dict, held: dict, minutes: float, seeds: int, steps: int | None = None) -> dict:
    """Stage 2 only, the same wall time each (or the same ``steps``), trained on the full loss (six
    scales, 75% overlap) and on the default cheaper form, ``seeds`` seeds each (which form goes first
    alternates); both judged by the full loss."""
    from sounds_kit.model.loss import full_loss_form

    forms = {"full": full_loss_form(), "default": {}}
    budget = {"steps": steps} if steps else {}
    minutes = None if steps else minutes
    out: dict = {name: [] for name in forms}
    for seed in range(seeds):
        order = list(forms) if seed % 2 == 0 else list(forms)[::-1]  # alternate which goes first
        for name in order:
            overrides = forms[name]
            run_dir = Path(tempfile.mkdtemp(prefix="sk_bench_run_"))
            try:
                r = run_kit(train, held, minutes, run_dir, seed=seed, pretrain_fraction=0.0, **overrides, **budget)
            finally:
                shutil.rmtree(run_dir, ignore_errors=True)
            out[name].append({"seed": seed, "steps": r["stage2_steps"], "held_out": r["held_out_spectral_loss"]})
            print(f"stage 2 only, {name} loss, seed {seed}: {r['stage2_steps']} steps, "
                  f"held-out {r['held_out_spectral_loss']:.4f}", flush=True)  # fmt: skip
    for name in forms:
        print(f"{name} loss: mean held-out {np.mean([r['held_out'] for r in out[name]]):.4f}, "
              f"mean steps {np.mean([r['steps'] for r in out[name]]):.0f}")  # fmt: skip
    return out


# ------------------------------------------------------------------------------------ interleaved


def _stage2_with_autodiff_loss(config):
    import sounds_kit.model.loss as loss_module
    from sounds_kit.model.train import _Model

    def autodiff(*args, compiled=None, **kwargs):  # TF's own gradient: no written-out one, no compiled op
        return loss_module.spectral_loss_autodiff(*args, **kwargs)

    kept = loss_module.spectral_loss
    loss_module.spectral_loss = autodiff  # _Model binds it when built
    try:
        return _Model(config, cores=None)
    finally:
        loss_module.spectral_loss = kept


def interleaved_step_throughput(train: dict, rounds: int, seed: int = 0, xla: bool = False) -> dict:
    """Step throughputs of kit stage 1, kit stage 2 and the baseline (and with ``xla`` both stages
    compiled with XLA), timed in alternation so that the load of other jobs on the shared CPU falls on
    all of them alike."""
    from sounds_kit.dsp import controls as C
    from sounds_kit.model.loss import full_loss_form
    from sounds_kit.model.train import (
        TrainConfig,
        _Model,
        analysis_targets,
        collect_examples,
        stage1_batch,
        stage2_batch,
    )

    config = TrainConfig(minutes=1.0, seed=seed)
    data = collect_examples([train])
    t0 = time.perf_counter()
    targets = analysis_targets(data, config)
    analysis_s = time.perf_counter() - t0
    model = _Model(config, cores=None)  # as train() builds it
    base_step, _, _ = baseline_model(seed)
    f0 = C.fill_unvoiced(train["f0_hz"], train["f0_confidence"]).astype(np.float32)
    rng = np.random.default_rng(seed)

    def base():
        idx = rng.integers(0, f0.shape[0], 16)
        return base_step(train["audio"][idx], f0[idx], train["loudness_db"][idx])

    runs = {  # name: (one step, audio-seconds per step); steps per block are set below
        "baseline": (base, 16 * EXAMPLE_SECONDS),
        "stage1": (lambda: model.stage1(*stage1_batch(targets, config, rng)), 16 * EXAMPLE_SECONDS),
        "stage2": (
            lambda: model.stage2(*stage2_batch(data, targets, config, model.context_frames, rng)),
            config.stage2_batch_size * config.crop_seconds,
        ),
    }
    # Peer in the same run: stage 2 with the spectral loss (its default, cheaper form) differentiated by
    # TF, as before its gradient was written out (same value and gradient, tests/test_loss.py).
    autodiff_model = _stage2_with_autodiff_loss(config)
    runs["stage2_autodiff_loss"] = (
        lambda: autodiff_model.stage2(*stage2_batch(data, targets, config, autodiff_model.context_frames, rng)),
        config.stage2_batch_size * config.crop_seconds,
    )
    # Peer: stage 2 trained on the full loss (six scales, 75% overlap: the measure, and the training
    # loss before the cheaper form became the default).
    full_config = TrainConfig(minutes=1.0, seed=seed, **full_loss_form())
    full_model = _Model(full_config, cores=None)
    runs["stage2_full_loss"] = (
        lambda: full_model.stage2(*stage2_batch(data, targets, full_config, full_model.context_frames, rng)),
        config.stage2_batch_size * config.crop_seconds,
    )
    if xla:
        xla_config = TrainConfig(minutes=1.0, seed=seed, jit=True)
        xla_model = _Model(xla_config, cores=None)
        runs["stage1_xla"] = (lambda: xla_model.stage1(*stage1_batch(targets, config, rng)), 16 * EXAMPLE_SECONDS)
        runs["stage2_xla"] = (
            lambda: xla_model.stage2(*stage2_batch(data, targets, config, xla_model.context_frames, rng)),
            config.stage2_batch_size * config.crop_seconds,
        )
    # Steps per block: ~BLOCK_SECONDS of each, so that switching costs (cold caches after another
    # model's tensors) are a small part of every block. Counts fixed from steps timed after tracing:
    # fixed counts made a stage-2 block 0.4 s once its steps fell to ~20 ms.
    reps = {}
    for name, (fn, _) in runs.items():
        float(fn())  # trace / compile
        t = time.perf_counter()
        for _ in range(3):
            float(fn())
        reps[name] = max(1, round(BLOCK_SECONDS * 3 / (time.perf_counter() - t)))
    seconds = dict.fromkeys(runs, 0.0)
    audio = dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, (fn, per_step) in runs.items():
            t = time.perf_counter()
            for _ in range(reps[name]):
                float(fn())
            seconds[name] += time.perf_counter() - t
            audio[name] += reps[name] * per_step
    rate = {name: audio[name] / seconds[name] for name in runs}
    f = config.pretrain_fraction
    mixed = f * rate["stage1"] + (1 - f) * rate["stage2"]  # time-weighted, as the trainer splits it

    def with_analysis(train_minutes: float) -> float:
        return mixed * train_minutes * 60 / (train_minutes * 60 + analysis_s)

    extra = {f"{name}_audio_s_per_s": rate[name] for name in runs if name.endswith(("_xla", "_loss"))}
    return {
        **extra,
        "rounds": rounds,
        "steps_per_block": reps,
        "ratio_stage2_end_to_end": rate["stage2"] / rate["baseline"],
        "baseline_audio_s_per_s": rate["baseline"],
        "stage1_audio_s_per_s": rate["stage1"],
        "stage2_audio_s_per_s": rate["stage2"],
        "kit_mixed_audio_s_per_s": mixed,
        "analysis_seconds": analysis_s,
        "analysis_audio_s_per_s": data["audio"].shape[0] * EXAMPLE_SECONDS / analysis_s,
        "kit_with_analysis_3min": with_analysis(3.0),
        "kit_with_analysis_30min": with_analysis(30.0),
        "ratio_stage1": rate["stage1"] / rate["baseline"],
        "ratio_mixed": mixed / rate["baseline"],
        "ratio_with_analysis_30min": with_analysis(30.0) / rate["baseline"],
    }


def threads_peer(args: argparse.Namespace) -> dict:
    """The interleaved step timing again, in a child process with the other thread pools (TF fixes
    them once per process, so they cannot alternate within one)."""
    import subprocess
    import sys

    other = "default" if args.tf_threads == "kit" else "kit"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peer.json"
        cmd = [sys.executable, __file__, "--skip-quality", "--rounds", str(args.rounds), "--tf-threads", other,
               "--cache", str(args.cache), "--seconds-of-audio", str(args.seconds_of_audio),
               "--json", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        steps = json.loads(out.read_text())["interleaved"]
    print(f"peer with --tf-threads {other} (child process, after this one): stage 1 "
          f"{steps['stage1_audio_s_per_s']:.0f}, stage 2 {steps['stage2_audio_s_per_s']:.0f}, baseline "
          f"{steps['baseline_audio_s_per_s']:.1f} audio-s/s, "
          f"stage 2 / baseline {steps['ratio_stage2_end_to_end']:.2f}x")  # fmt: skip
    return {"tf_threads": other, **steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="wall time each system trains")
    parser.add_argument("--seconds-of-audio", type=float, default=180.0, help="demo audio to render")
    parser.add_argument("--held-out", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds")
    parser.add_argument("--skip-quality", action="store_true", help="only the interleaved step timing")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sounds_kit_bench_bansuri.npz")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--xla", action="store_true", help="also time both stages with XLA")
    parser.add_argument("--loss-seeds", type=int, default=0, metavar="N",
                        help="also train stage 2 alone on the full and the default loss, N seeds each, "
                             "--minutes each, judged by the full loss")  # fmt: skip
    parser.add_argument("--loss-steps", type=int, metavar="N",
                        help="with --loss-seeds: train each form for N steps instead of --minutes")  # fmt: skip
    parser.add_argument("--tf-threads", choices=("kit", "default"), default="kit",
                        help="kit: TF's pools as sounds-kit train sets them (one thread per op, one op per core); "
                             "default: TF's own (every op on all cores)")  # fmt: skip
    parser.add_argument("--threads-peer", action="store_true",
                        help="also time the steps in a child process with the other --tf-threads")  # fmt: skip
    args = parser.parse_args()
    if args.tf_threads == "kit":
        from sounds_kit.model.threads import use_training_threads

        if not use_training_threads():
            raise SystemExit("TF's thread pools were set already (TF_NUM_*_THREADS?)")

    data = demo_examples(args.seconds_of_audio, args.cache)
    train, held = split(data, args.held_out)
    print(f"data: {train['audio'].shape[0]} training examples, {held['audio'].shape[0]} held out (4 s each)")
    steps = interleaved_step_throughput(train, args.rounds, xla=args.xla)
    print("interleaved step throughput:", json.dumps(steps, indent=1))
    print(
        f"\nstep throughput (alternating, same load): kit stage 1 {steps['stage1_audio_s_per_s']:.0f}, "
        f"stage 2 {steps['stage2_audio_s_per_s']:.0f}, mixed {steps['kit_mixed_audio_s_per_s']:.0f}, "
        f"baseline {steps['baseline_audio_s_per_s']:.1f} audio-s/s -> {steps['ratio_mixed']:.0f}x "
        f"({steps['ratio_with_analysis_30min']:.0f}x counting the analysis in a 30-min run); "
        f"vs magenta/ddsp solo {steps['kit_mixed_audio_s_per_s'] / MAGENTA_AUDIO_S_PER_S['solo_instrument']:.0f}x, "
        f"tiny {steps['kit_mixed_audio_s_per_s'] / MAGENTA_AUDIO_S_PER_S['tiny_instrument']:.0f}x"
    )
    print(
        f"end to end (synth + spectral loss in every step): kit stage 2 {steps['stage2_audio_s_per_s']:.0f} vs "
        f"baseline {steps['baseline_audio_s_per_s']:.0f} audio-s/s = {steps['ratio_stage2_end_to_end']:.1f}x "
        f"(stage 2 with the loss differentiated by TF: {steps['stage2_autodiff_loss_audio_s_per_s']:.0f}; "
        f"trained on the full loss: {steps['stage2_full_loss_audio_s_per_s']:.0f})"
        + (
            f"; with XLA: stage 1 {steps['stage1_xla_audio_s_per_s']:.0f}, "
            f"stage 2 {steps['stage2_xla_audio_s_per_s']:.0f}"
            if args.xla
            else ""
        )
    )
    result = {"interleaved": steps, "minutes_each": args.minutes, "tf_threads": args.tf_threads}
    if args.threads_peer:
        result["threads_peer"] = threads_peer(args)
    if not args.skip_quality:
        run_dir = Path(tempfile.mkdtemp(prefix="sk_bench_run_"))
        try:
            kit = run_kit(train, held, args.minutes, run_dir)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        print("kit:", json.dumps(kit, indent=1))
        run_dir = Path(tempfile.mkdtemp(prefix="sk_bench_run_"))
        try:
            ablation = run_kit(train, held, args.minutes, run_dir, pretrain_fraction=0.0)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        print("kit, stage 2 only:", json.dumps(ablation, indent=1))
        base = run_baseline(train, held, args.minutes)
        print("baseline:", json.dumps(base, indent=1))
        result.update(kit=kit, kit_stage2_only=ablation, baseline=base,
                      ratio_sequential=kit["audio_s_per_s"] / base["audio_s_per_s"])  # fmt: skip
        print(
            f"\nsequential {args.minutes:g}-min runs: kit {kit['audio_s_per_s']:.1f} audio-s/s (analysis included) "
            f"vs baseline {base['audio_s_per_s']:.2f}: {result['ratio_sequential']:.0f}x\n"
            f"held-out spectral loss after {args.minutes:g} min each: kit {kit['held_out_spectral_loss']:.3f}, "
            f"kit stage 2 only {ablation['held_out_spectral_loss']:.3f} ({ablation['audio_s_per_s']:.0f} audio-s/s), "
            f"baseline {base['held_out_spectral_loss']:.3f} (lower is better)"
        )
    if args.loss_seeds:
        result["stage2_loss_forms"] = compare_loss_forms(train, held, args.minutes, args.loss_seeds, args.loss_steps)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
