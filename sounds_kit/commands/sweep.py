"""``sounds-kit sweep DATASET_DIR -o SWEEP_DIR``: find the smallest model that still sounds right.

Searches decoder type, width, depth, kernel, harmonics, noise bands and training recipe with Optuna,
stops weak trials early (successive halving over training steps), scores each surviving exported
(float16) model on the eval split, retrains the finalists with more seeds, measures browser downloads,
then writes results.csv, search.csv, pareto.png and chosen.json. Rerun the same command to resume
(also after kill -9). docs/sweep.md.
"""

from __future__ import annotations

import argparse

DEFAULT_STEPS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset_dir", help="a folder written by `sounds-kit prepare` (train + eval splits)")
    parser.add_argument("-o", "--output", required=True, help="SWEEP_DIR (rerun the same command to resume)")
    parser.add_argument("--trials", type=int, default=100,
                        help="configurations to try, pruned ones included (default 100)")  # fmt: skip
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps-per-trial", type=int,
                        help=f"training steps of a trial that is not pruned (default {DEFAULT_STEPS})")  # fmt: skip
    budget.add_argument("--minutes-per-trial", type=float,
                        help="equal training minutes per trial instead of steps (turns pruning off)")  # fmt: skip
    parser.add_argument("--space", default="default",
                        help="search space: default, small, or a JSON file {type: {field: [values]}, "
                        "recipe: {field: [values]}}")  # fmt: skip
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="chosen = smallest configuration within this relative distance of the best")  # fmt: skip
    parser.add_argument("--max-download-kb", type=float, metavar="KB",
                        help="never train a configuration whose browser download would exceed KB (estimated "
                        "before training; fixed for the sweep)")  # fmt: skip
    parser.add_argument("--no-prune", action="store_true", help="train every trial on the whole budget")
    parser.add_argument("--min-steps", type=int, help="first rung (default: steps / reduction factor^2)")
    parser.add_argument("--reduction-factor", type=int, default=3,
                        help="successive halving: the best 1/N of a rung go on (default 3)")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=2,
                        help="seeds for the finalists (within 2 x tolerance of the best), the best and the "
                             "chosen configuration (default 2)")  # fmt: skip
    parser.add_argument("--finalists", type=int, default=3, help="at most this many finalists (default 3)")
    parser.add_argument("--sampler", choices=("tpe", "random"), default="tpe", help="Optuna sampler (default tpe)")
    parser.add_argument("--engine", choices=("local", "dask"), default="local",
                        help="local processes (default) or a dask.distributed cluster")  # fmt: skip
    parser.add_argument("--dask-address", metavar="tcp://HOST:PORT",
                        help="with --engine dask: a running scheduler (default: a local cluster)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=0,
                        help="trials at once, local or on a local Dask cluster (default: one per core)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="sampler and training seed")
    parser.add_argument("--eval-clips", type=int, default=32, help="eval-split examples scored per trial")
    parser.add_argument("--batch-size", type=int, help="stage-1 batch (default: train's)")
    parser.add_argument("--pretrain-fraction", type=float, help="share of the budget in stage 1 (default 0.8)")
    parser.add_argument("--max-examples", type=int, help="train on at most this many examples")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def sweep_config(args: argparse.Namespace):
    """The SweepConfig for parsed arguments."""
    from sounds_kit.sweep.search import SweepConfig

    train = {
        key: value
        for key, value in (
            ("batch_size", args.batch_size),
            ("pretrain_fraction", args.pretrain_fraction),
            ("max_examples", args.max_examples),
        )
        if value is not None
    }
    steps = args.steps_per_trial
    if steps is None and args.minutes_per_trial is None:
        steps = DEFAULT_STEPS
    return SweepConfig(
        trials=args.trials,
        steps_per_trial=steps,
        minutes_per_trial=args.minutes_per_trial,
        space=args.space,
        tolerance=args.tolerance,
        max_download_kb=args.max_download_kb,
        workers=args.workers,
        engine=args.engine,
        dask_address=args.dask_address,
        seed=args.seed,
        eval_clips=args.eval_clips,
        train=train,
        prune=not args.no_prune,
        min_steps=args.min_steps,
        reduction_factor=args.reduction_factor,
        seeds=args.seeds,
        finalists=args.finalists,
        sampler=args.sampler,
    )


def run(args: argparse.Namespace) -> int:
    from sounds_kit.sweep.search import sweep, table

    out = sweep(args.dataset_dir, args.output, sweep_config(args), progress=not args.quiet)
    print(table(out["results"]))
    chosen = out["chosen"]
    s = out["search"]
    print(f"\nsearch: {s['trials']} trials ({s['completed']} completed, {s['pruned']} pruned, "
          f"{s['failed']} failed, {s['repeats']} repeated suggestions)")  # fmt: skip
    print(f"chosen: {chosen['id']} ({chosen['download_bytes'] / 1024:.1f} KB, quality {chosen['quality']:.4f})")
    print(f"rule: {out['rule']}")
    print(f"written: {args.output}/results.csv, search.csv, pareto.png, chosen.json")
    return 0
