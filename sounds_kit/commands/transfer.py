"""``sounds-kit transfer VOICE.wav --instrument bansuri -o OUT.wav``: a voice becomes an instrument."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("voice", help="a recording of singing (any format, rate and channel count)")
    parser.add_argument("--instrument", default="bansuri",
                        help="shipped name (bansuri, shehnai, sarangi) or an exported MODEL_DIR")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, help="output wav (16 kHz mono)")
    parser.add_argument("--no-auto-fit", action="store_true",
                        help="keep the voice's octave and loudness (default: fit them to the instrument)")  # fmt: skip
    parser.add_argument("--octaves", type=int, default=0, help="extra octave shift, e.g. -1 or +1")
    parser.add_argument("--gain-db", type=float, default=0.0, help="output gain in dB")
    parser.add_argument("--dry", action="store_true",
                        help="no room: the instrument as recorded (default: in a small room)")  # fmt: skip
    parser.add_argument("--max-minutes", type=float, default=30.0, help="refuse longer inputs (default 30)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from sounds_kit.data.audio_io import load_audio, save_audio
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.instrument.load import load_instrument

    inst = load_instrument(args.instrument)
    voice = load_audio(args.voice, max_seconds=args.max_minutes * 60)
    feats = compute_features(voice)
    controls = inst.controls(feats, auto_fit=not args.no_auto_fit, octaves=args.octaves)
    out = inst.render_controls(controls, len(voice), gain_db=args.gain_db, room=not args.dry)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 1.0:
        print(f"note: output peaks at {20 * np.log10(peak):+.1f} dBFS and was clipped; lower --gain-db")
    save_audio(Path(args.output), out)
    print(
        f"{args.voice} -> {inst.name}: {len(voice) / 16000:.1f} s, octave shift {controls['octaves']:+d}, "
        f"written to {args.output}"
    )
    return 0
