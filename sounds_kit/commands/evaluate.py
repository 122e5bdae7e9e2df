"""``sounds-kit evaluate MODEL AUDIO... [--dataset DIR] [--voice] [--json]``: how good a model sounds.

MODEL is a training run dir, an exported MODEL_DIR or a shipped instrument's name. Without
``--voice`` the clips are held-out instrument audio that the model resynthesises from its own
features; with ``--voice`` they are voice recordings turned into the instrument (auto-fit on).
For a run dir the metrics are also merged into RUN_DIR/eval.json, which ``sounds-kit export``
puts in the model card.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="run dir (from train), exported MODEL_DIR, or a shipped instrument name")
    parser.add_argument("audio", nargs="*", help="held-out audio files (instrument, or voice with --voice)")
    parser.add_argument("--dataset", metavar="DATASET_DIR", help="also evaluate a prepared dataset's eval split")
    parser.add_argument("--max-clips", type=int, help="use at most this many dataset examples")
    parser.add_argument("--voice", action="store_true", help="tone-transfer metrics: the audio is a voice")
    parser.add_argument("--reference", choices=("pyin", "kit"), default=None,
                        help="pitch reference for --voice: pyin (independent of the kit's tracker; the default when "
                             "librosa is installed) or kit (the kit's own tracker: self-graded)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _clips(args: argparse.Namespace) -> tuple[list[dict], list[str]]:
    from sounds_kit.data.audio_io import load_audio
    from sounds_kit.errors import UserFacingError
    from sounds_kit.evaluate.metrics import dataset_clips

    clips = [{"audio": load_audio(path)} for path in args.audio]
    names = list(args.audio)
    if args.dataset:
        try:
            from sounds_kit.data.dataset import load_dataset
        except ImportError as err:
            raise UserFacingError(f"this install cannot read datasets ({err})") from err
        examples = dataset_clips(load_dataset(args.dataset, "eval"), args.max_clips)
        clips += examples
        names += [f"{args.dataset} eval #{i}" for i in range(len(examples))]
    if not clips:
        raise UserFacingError("nothing to evaluate: give AUDIO files or --dataset DATASET_DIR")
    return clips, names


def _table(rows: list[tuple[str, dict]], keys: tuple[str, ...]) -> str:
    short = [k.removeprefix("transfer_") for k in keys]
    width = max(len(n) for n, _ in rows)
    lines = ["  ".join([" " * width, *(f"{s:>20}" for s in short)])]
    for name, metrics in rows:
        lines.append("  ".join([f"{name:<{width}}", *(f"{metrics[k]:>20.4g}" for k in keys)]))
    return "\n".join(lines)


def _json_ready(metrics: dict) -> dict:
    """NaN (e.g. no voiced frame) -> null: strict JSON readers reject NaN."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in metrics.items()}


def _write_eval_json(run_dir, metrics: dict) -> None:
    import json
    import os

    # Resynthesis and transfer keys differ, so evaluating both ways keeps both in the model card.
    path = run_dir / "eval.json"
    merged = {**(json.loads(path.read_text()) if path.exists() else {}), **_json_ready(metrics)}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(merged, indent=1) + "\n")
    os.replace(tmp, path)


def _default_reference() -> str:
    """pyin when librosa is installed (an independent reference); else the kit's own tracker."""
    import importlib.util

    return "pyin" if importlib.util.find_spec("librosa") is not None else "kit"


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from sounds_kit.evaluate import metrics as M
    from sounds_kit.instrument import load_instrument

    model = load_instrument(args.model)  # ModelFileError (a UserFacingError) for missing files
    clips, names = _clips(args)
    reference = args.reference or _default_reference()
    per_clip = []
    from tqdm.auto import tqdm

    for clip in tqdm(clips, desc="evaluate", disable=args.quiet or args.json):
        per_clip.append(M.evaluate_clip(model, clip, transfer=args.voice, reference=reference))
    summary = M.summarize_transfer(per_clip) if args.voice else M.summarize_resynthesis(per_clip)
    if model.kind == "run":
        _write_eval_json(Path(model.model_dir), summary)
    if args.json:
        print(json.dumps(_json_ready(summary), indent=1))
        return 0
    keys = M.TRANSFER_KEYS if args.voice else M.RESYNTHESIS_KEYS
    summarize = M.summarize_transfer if args.voice else M.summarize_resynthesis
    rows = [(Path(n).name, summarize([c])) for n, c in zip(names, per_clip, strict=True)]
    rows.append((f"all ({summary.get('seconds', summary.get('transfer_seconds')):.1f} s)", summary))
    what = f"tone transfer, pitch against {reference}" if args.voice else "resynthesis"
    print(f"{model.kind} {model.model_dir}: {what}")
    print(_table(rows, keys))
    if model.kind == "run":
        print(f"written to {Path(model.model_dir) / 'eval.json'}")
    return 0
