"""Sweep speed on this machine.

Throughput (default): the same trials with 1 worker (all cores) vs N workers (a core each), on
synthetic harmonic clips (kit features), so it needs no prepared dataset:

    .venv/bin/python benchmarks/sweep_speed.py [--trials 2] [--steps 20] [--workers 1 2] [--engine local|dask]

Pruned search (``--search DATASET_DIR``): first the reference (today's shipped model, cnn w32-d4, trained
on the whole budget with the default recipe, one trial, no pruning), then an Optuna search with
successive halving over the default space on the same data and budget; prints the wall time, trials
completed / pruned, and the chosen model's download and quality beside the reference's:

    .venv/bin/python benchmarks/sweep_speed.py --search work/datasets/bansuri --trials 100 --steps 1000 \
        --workers 2 [--engine dask] [--out work/sweep-bench]

Other jobs on the machine change the numbers: compare runs taken back to back, and look at `uptime`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

SPACE = {
    "cnn": {"width": [32], "depth": [4], "n_harmonics": [48], "n_noise_bands": [32]},
    "gru": {"width": [32], "depth": [1], "n_harmonics": [48], "n_noise_bands": [32]},
}


def synthetic_clip(seed: int, seconds: float = 4.0) -> dict:
    """A gliding, swelling harmonic tone with breath noise, with the kit's own features."""
    from sounds_kit.conventions import FRAME_RATE, HOP_SIZE
    from sounds_kit.dsp import synth
    from sounds_kit.dsp.features import compute_features

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FRAME_RATE) + 1) / FRAME_RATE
    f0 = 250.0 * 2 ** (rng.uniform(-0.5, 0.5) + 0.3 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t))
    level = 0.15 * (1.2 + np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t)) / 2.2
    k = np.arange(1, 41)
    ctl = {
        "f0_hz": f0,
        "amplitude": level,
        "harmonic_distribution": np.tile(k**-1.5, (t.size, 1)),
        "noise_magnitudes": 0.01 * level[:, None] * np.ones((t.size, 16)),
    }
    audio = synth.synthesize(ctl, n_samples=(t.size - 1) * HOP_SIZE).astype(np.float32)
    return {"audio": audio, **compute_features(audio)}


def load_split(dataset_dir, split="train"):
    """Loader for the sweep (dataset.load_dataset's signature) over the npz files written below."""
    with np.load(Path(dataset_dir) / f"{split}.npz") as z:
        return [{k: z[k][i] for k in z.files} for i in range(z["audio"].shape[0])]


def write_dataset(root: Path, n_train: int, n_eval: int) -> None:
    for split, seeds in (("train", range(n_train)), ("eval", range(1000, 1000 + n_eval))):
        clips = [synthetic_clip(s) for s in seeds]
        np.savez(root / f"{split}.npz", **{k: np.stack([c[k] for c in clips]) for k in clips[0]})


REFERENCE = {"cnn": {"width": [32], "depth": [4], "kernel": [3], "n_harmonics": [48], "n_noise_bands": [32]}}


def search(args: argparse.Namespace) -> None:
    """The reference trial, then the pruned search, on one prepared dataset; one JSON summary at the end."""
    import json

    from sounds_kit.sweep.search import SweepConfig, sweep

    out_dir = Path(args.out or tempfile.mkdtemp(prefix="sweep_bench_"))
    common = dict(steps_per_trial=args.steps, workers=args.workers[0], engine=args.engine, eval_clips=32,
                  seed=args.seed)  # fmt: skip
    t0 = time.perf_counter()
    ref = sweep(args.search, out_dir / "reference",
                SweepConfig(trials=1, space=REFERENCE, prune=False, seeds=1, **common), progress=False)  # fmt: skip
    ref_wall = time.perf_counter() - t0
    budget = None
    if args.max_download_kb == "ref":  # the reference's own download: "no larger" is then a constraint
        budget = ref["chosen"]["download_bytes"] / 1024
    elif args.max_download_kb:
        budget = float(args.max_download_kb)
    t0 = time.perf_counter()
    out = sweep(args.search, out_dir / "search",
                SweepConfig(trials=args.trials, space="default", max_download_kb=budget, **common))  # fmt: skip
    wall = time.perf_counter() - t0
    r, c = ref["chosen"], out["chosen"]
    summary = {
        "load_average_after": os.getloadavg(),
        "reference": {"id": r["id"], "download_kb": r["download_bytes"] / 1024, "quality": r["quality"],
                      "wall_s": ref_wall},  # fmt: skip
        "search": {**out["search"], "wall_s": wall, "wall_min": wall / 60, "max_download_kb": budget},
        "chosen": {"id": c["id"], "download_kb": c["download_bytes"] / 1024, "quality": c["quality"],
                   "seeds": c.get("seeds", 1), "quality_seeds": c.get("quality_seeds"), "recipe": c.get("recipe")},
        "best": out["best"],
        "no_larger": c["download_bytes"] <= r["download_bytes"],
        "no_worse": c["quality"] <= r["quality"],
        "sweep_dir": str(out_dir / "search"),
    }  # fmt: skip
    print(json.dumps(summary, indent=1))


def main() -> None:
    from sounds_kit.sweep.search import SweepConfig, sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engine", choices=("local", "dask"), default="local")
    parser.add_argument("--train-clips", type=int, default=16, help="4 s synthetic clips")
    parser.add_argument("--search", metavar="DATASET_DIR", help="run the pruned search on this prepared dataset")
    parser.add_argument("--out", help="with --search: keep the sweep folders here (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-download-kb", metavar="KB|ref",
                        help="with --search: the search's download budget (ref: the reference's download)")  # fmt: skip
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average: {os.getloadavg()}")
    if args.search:
        search(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_dataset(root, args.train_clips, 4)
        for workers in args.workers:
            config = SweepConfig(
                trials=args.trials, steps_per_trial=args.steps, space=SPACE, workers=workers, engine=args.engine,
                eval_clips=4, loader="sweep_speed:load_split", train={"batch_size": 8, "n_audio_examples": 0},
                prune=False, seeds=1,
            )  # fmt: skip
            t0 = time.perf_counter()
            out = sweep(root, root / f"sweep-{workers}", config, progress=False)
            wall = time.perf_counter() - t0
            print(f"\n{workers} worker(s): {len(out['results'])} trials in {wall:.1f} s "
                  f"({wall / len(out['results']):.1f} s per trial)")  # fmt: skip
            for r in out["results"]:
                print(f"  {r['id']:<24} trial {r['trial_seconds']:6.1f} s = train {r['train_seconds']:6.1f} "
                      f"+ export {r['export_seconds']:5.1f} + eval {r['eval_seconds']:5.1f} (+ data, load)"
                      f"  {r['download_bytes'] / 1024:.1f} KB")  # fmt: skip


if __name__ == "__main__":  # the sweep's worker processes import this module: keep the guard
    main()
