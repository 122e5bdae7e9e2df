"""``sounds-kit train DATASET_DIR -o RUN_DIR``: train (or resume / extend) a DDSP instrument."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sounds_kit.errors import UserFacingError
from sounds_kit.model.decoders import DECODER_TYPES, DecoderConfig

DEFAULT_MINUTES = 30.0
# Command-line flag -> DecoderConfig field; flags left out keep the stored (or default) value.
MODEL_FLAGS = {
    "decoder": "type",
    "width": "width",
    "depth": "depth",
    "kernel": "kernel",
    "harmonics": "n_harmonics",
    "noise_bands": "n_noise_bands",
    "reverb": "reverb",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DecoderConfig()
    parser.add_argument("dataset_dir", help="a folder written by `sounds-kit prepare`")
    parser.add_argument("-o", "--output", required=True, help="run dir (rerun the same command to resume)")
    model = parser.add_argument_group("model (fixed once a run has started)")
    model.add_argument("--decoder", choices=DECODER_TYPES, help=f"decoder architecture (default {d.type})")
    model.add_argument("--width", type=int, help=f"channels / GRU units (default {d.width})")
    model.add_argument("--depth", type=int, help=f"CNN blocks or GRU MLP depth (default {d.depth})")
    model.add_argument("--kernel", type=int, help=f"CNN kernel size (default {d.kernel})")
    model.add_argument("--harmonics", type=int, help=f"harmonics in the synth (default {d.n_harmonics})")
    model.add_argument("--noise-bands", type=int, help=f"noise bands (default {d.n_noise_bands})")
    model.add_argument("--reverb", action=argparse.BooleanOptionalAction, help="learn a reverb (default off)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help=f"total training time (default {DEFAULT_MINUTES:g})")
    budget.add_argument("--steps", type=int, help="total training steps")
    parser.add_argument("--batch-size", type=int, default=16, help="stage-1 batch (default 16)")
    parser.add_argument("--stage2-batch-size", type=int, default=8, help="stage-2 batch (default 8)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--pretrain-fraction", type=float, default=0.8, help="share of the budget in stage 1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-examples", type=int, help="use at most this many training examples")
    # Off by default, as in TrainConfig: XLA measured slower here for both stages (BENCHMARKS.md).
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=False,
                        help="compile the train steps with XLA (default off: slower on CPU here)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def decoder_config(args: argparse.Namespace, run_dir: Path) -> DecoderConfig:
    """The stored model of a started run (or the defaults), with the flags given on top."""
    stored = run_dir / "config.json"
    base = json.loads(stored.read_text())["decoder"] if stored.exists() else DecoderConfig().to_dict()
    given = {field: getattr(args, flag) for flag, field in MODEL_FLAGS.items() if getattr(args, flag) is not None}
    if "depth" in given and "dilations" not in given:
        base["dilations"] = []  # recomputed for the new depth
    return DecoderConfig.from_dict({**base, **given})


def run(args: argparse.Namespace) -> int:
    from sounds_kit.model.train import TrainConfig, train

    dataset_dir, run_dir = Path(args.dataset_dir), Path(args.output)
    if not dataset_dir.is_dir():
        raise UserFacingError(f"{dataset_dir}: no such dataset folder")
    try:
        from sounds_kit.data.dataset import load_dataset, read_stats
    except ImportError as err:
        raise UserFacingError(f"this install cannot read datasets ({err})") from err
    try:
        config = TrainConfig(
            decoder=decoder_config(args, run_dir),
            steps=args.steps,
            minutes=args.minutes if args.minutes is not None or args.steps is not None else DEFAULT_MINUTES,
            pretrain_fraction=args.pretrain_fraction,
            batch_size=args.batch_size,
            stage2_batch_size=args.stage2_batch_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            jit=args.jit,
            max_examples=args.max_examples,
        )
    except ValueError as err:
        raise UserFacingError(str(err)) from err
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        (run_dir / "dataset_stats.json").write_text(json.dumps(read_stats(dataset_dir), indent=1) + "\n")
    except Exception as err:  # stats are a convenience for tone transfer; training does not need them
        print(f"note: no dataset stats copied ({err})")
    from sounds_kit.model.threads import use_training_threads

    use_training_threads()  # before load_dataset starts TF
    summary = train(load_dataset(dataset_dir, "train"), run_dir, config, progress=not args.quiet)
    print(json.dumps(summary, indent=1))
    return 0
