"""``sounds-kit prepare``: recordings -> a training set (TFRecords, stats.json, manifest.json) with Apache Beam.

Options this command does not know are handed to Beam unchanged, so the same command runs on
the embedded DirectRunner (default) or elsewhere, e.g.
``--direct_running_mode=multi_processing --direct_num_workers=2`` or ``--runner=FlinkRunner ...``.
Give Beam options as ``--name=value``. ``--engine dask`` runs the pipeline on Beam's Dask runner:
on ``--workers`` local processes started for the run, or on a running scheduler (``--dask-address``).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files, folders or globs (wav/flac/ogg/mp3)")
    parser.add_argument("-o", "--output", required=True, metavar="DATASET_DIR", help="the dataset folder")
    parser.add_argument(
        "--example-seconds", type=float, default=None, help="length of one training example (default 4)"
    )
    parser.add_argument(
        "--hop-seconds", type=float, default=None, help="hop between examples cut from one recording (default 1)"
    )
    parser.add_argument(
        "--eval-fraction", type=float, default=None, help="share of ~60 s source segments held out (default 0.1)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="add only the inputs not yet in DATASET_DIR")
    mode.add_argument("--overwrite", action="store_true", help="rebuild DATASET_DIR from scratch")
    parser.add_argument(
        "--engine", choices=("direct", "dask"), default="direct",
        help="Beam's DirectRunner (default) or its Dask runner on a dask.distributed cluster",
    )  # fmt: skip
    parser.add_argument("--dask-address", metavar="tcp://HOST:PORT",
                        help="with --engine dask: a running scheduler (dask-jobqueue, dask-kubernetes, "
                        "dask scheduler); default: a local cluster started for the run")  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=0,
        help="with --engine dask and no --dask-address: worker processes (default: one per core)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-file messages")
    parser.epilog = "Any other --name=value options are Apache Beam pipeline options (e.g. --runner=...)."
    from sounds_kit.cli import keep_beam_options

    keep_beam_options(parser)


def run(args: argparse.Namespace) -> int:
    from sounds_kit.data.prepare import prepare
    from sounds_kit.errors import UserFacingError

    beam_args = list(getattr(args, "beam_args", []) or [])
    # a bare word is fine only as the value of the Beam option before it ("--runner FlinkRunner")
    stray = [
        a
        for i, a in enumerate(beam_args)
        if not a.startswith("-") and (i == 0 or not beam_args[i - 1].startswith("--") or "=" in beam_args[i - 1])
    ]
    if stray:
        raise UserFacingError(
            f"unexpected argument(s) {' '.join(stray)}: put the inputs first and give Beam options as --name=value"
        )
    manifest = prepare(
        args.inputs,
        args.output,
        example_seconds=args.example_seconds,
        hop_seconds=args.hop_seconds,
        eval_fraction=args.eval_fraction,
        resume=args.resume,
        overwrite=args.overwrite,
        beam_args=beam_args,
        progress=not args.quiet,
        quiet=args.quiet,
        engine=args.engine,
        dask_address=args.dask_address,
        workers=args.workers,
    )
    print(
        f"{args.output}: {manifest['examples']['train']} train and {manifest['examples']['eval']} eval examples "
        f"from {len(manifest['inputs'])} inputs; {len(manifest['bad_files'])} bad input(s)"
    )
    return 0
