"""``sounds-kit export RUN_DIR -o MODEL_DIR``: a trained run -> a TF.js instrument for the browser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sounds_kit.errors import UserFacingError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run dir written by `sounds-kit train`")
    parser.add_argument("-o", "--output", required=True, help="MODEL_DIR to write (replaced atomically)")
    parser.add_argument("--quantize", choices=("float16", "uint8", "none"), default="float16",
                        help="weight quantisation (default float16: half the size, same sound)")  # fmt: skip
    parser.add_argument("--name", help="instrument name (default: the output folder's name)")
    parser.add_argument("--data-origin", help="one line on where the training data came from (for the card)")


def run(args: argparse.Namespace) -> int:
    from sounds_kit.dsp.tone_fit import fit_profile_from_dataset_stats
    from sounds_kit.errors import ModelFileError
    from sounds_kit.instrument.card import render_card
    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.instrument.files import download_bytes
    from sounds_kit.model.decoders import parameter_count
    from sounds_kit.model.run import load_run

    run_dir, out = Path(args.run_dir), Path(args.output)
    try:
        run_ = load_run(run_dir)
    except ModelFileError as err:
        raise UserFacingError(str(err)) from err
    stats_path = run_dir / "dataset_stats.json"
    dataset_stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    stats = {**dataset_stats, "fit": fit_profile_from_dataset_stats(dataset_stats)}
    if stats["fit"] is None:
        print("note: no dataset pitch/loudness stats: auto-fit will only be manual for this instrument")
    eval_path = run_dir / "eval.json"
    metrics = json.loads(eval_path.read_text()) if eval_path.exists() else None
    name = args.name or out.name
    export_decoder(
        run_.decoder, run_.config.decoder, out, name=name, quantize=args.quantize, stats=stats,
        reverb_ir=run_.reverb_ir, extra_metadata={"training_step": run_.step},
    )  # fmt: skip
    size = download_bytes(out)
    data = {"origin": args.data_origin or dataset_stats.get("origin", "see the dataset's manifest.json")}
    card = render_card(
        name=name, decoder=run_.config.decoder.to_dict(), parameters=parameter_count(run_.decoder),
        download_bytes=size, quantization=args.quantize, data=data, metrics=metrics,
        training={"steps": run_.step},
    )  # fmt: skip
    (out / "model_card.md").write_text(card)
    print(f"exported {name} to {out}: {size / 1024:.1f} KB download ({args.quantize})")
    return 0
