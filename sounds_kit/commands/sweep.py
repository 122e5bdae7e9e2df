"""``sounds-kit sweep DATASET_DIR -o SWEEP_DIR``: find the smallest model that still sounds right.

Trains trials over decoder type, width, depth, harmonics and noise bands for the same budget,
scores each exported (float16) model on the eval split and measures its browser download, then
writes results.csv, pareto.png and chosen.json. Rerun the same command to resume. docs/sweep.md.
"""

from __future__ import annotations

import argparse

DEFAULT_MINUTES = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset_dir", help="a folder written by `sounds-kit prepare` (train + eval splits)")
    parser.add_argument("-o", "--output", required=True, help="SWEEP_DIR (rerun the same command to resume)")
    parser.add_argument("--trials", type=int, default=8, help="how many models to try (default 8)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes-per-trial", type=float,
                        help=f"training minutes per trial (default {DEFAULT_MINUTES:g})")  # fmt: skip
    budget.add_argument("--steps-per-trial", type=int, help="training steps per trial (fairer on busy cores)")
    parser.add_argument("--space", default="small",
                        help="search space: small, default, or a JSON file {type: {field: [values]}}")  # fmt: skip
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="chosen = smallest trial within this relative distance of the best quality")  # fmt: skip
    parser.add_argument("--workers", type=int, default=0, help="trials at once (default: one per core)")
    parser.add_argument("--engine", choices=("local", "beam"), default="local",
                        help="local processes (default) or an Apache Beam pipeline")  # fmt: skip
    parser.add_argument("--runner", help="Beam runner (implies --engine beam), e.g. DirectRunner, FlinkRunner")
    parser.add_argument("--seed", type=int, default=0, help="trial order and training seed")
    parser.add_argument("--eval-clips", type=int, default=32, help="eval-split examples scored per trial")
    parser.add_argument("--batch-size", type=int, help="stage-1 batch (default: train's)")
    parser.add_argument("--pretrain-fraction", type=float, help="share of the budget in stage 1 (default 0.8)")
    parser.add_argument("--max-examples", type=int, help="train on at most this many examples")
    parser.add_argument("--no-jit", action="store_true", help="turn XLA compilation off")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.epilog = (
        "Any other --name=value options are Apache Beam pipeline options for --engine beam "
        "(e.g. --direct_num_workers=2, --flink_master=host:8081)."
    )
    from sounds_kit.cli import keep_beam_options

    keep_beam_options(parser)


def _beam_args(args: argparse.Namespace) -> list[str]:
    from sounds_kit.errors import UserFacingError

    given = list(getattr(args, "beam_args", None) or [])
    # A bare word is only allowed as the value of the option before it ("--flink_master host:8081").
    stray = [a for i, a in enumerate(given) if not a.startswith("-") and (i == 0 or not given[i - 1].startswith("--")
                                                                          or "=" in given[i - 1])]  # fmt: skip
    if stray:
        raise UserFacingError(f"unexpected argument(s) {' '.join(stray)}: give Beam options as --name=value")
    if given and not (args.engine == "beam" or args.runner):
        raise UserFacingError(f"{' '.join(given)}: Beam options need --engine beam (or --runner)")
    return ([f"--runner={args.runner}"] if args.runner else []) + given


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
    if args.no_jit:
        train["jit"] = False
    beam_args = _beam_args(args)
    minutes = args.minutes_per_trial
    if minutes is None and args.steps_per_trial is None:
        minutes = DEFAULT_MINUTES
    return SweepConfig(
        trials=args.trials,
        steps_per_trial=args.steps_per_trial,
        minutes_per_trial=minutes,
        space=args.space,
        tolerance=args.tolerance,
        workers=args.workers,
        engine="beam" if args.runner or args.engine == "beam" else "local",
        beam_args=beam_args,
        seed=args.seed,
        eval_clips=args.eval_clips,
        train=train,
    )


def run(args: argparse.Namespace) -> int:
    from sounds_kit.sweep.search import sweep, table

    out = sweep(args.dataset_dir, args.output, sweep_config(args), progress=not args.quiet)
    print(table(out["results"]))
    chosen = out["chosen"]
    print(f"\nchosen: {chosen['id']} ({chosen['download_bytes'] / 1024:.1f} KB, quality {chosen['quality']:.4f})")
    print(f"rule: {out['rule']}")
    print(f"written: {args.output}/results.csv, pareto.png, chosen.json")
    return 0
