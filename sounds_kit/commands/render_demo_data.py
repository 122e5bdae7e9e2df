"""``sounds-kit render-demo-data``: demo instrument or singer audio rendered from MIDI with fluidsynth."""

from __future__ import annotations

import argparse

INSTRUMENTS = ("bansuri", "shehnai", "sarangi", "voice_male", "voice_female")  # demo_instruments.RECIPES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instrument", required=True, choices=INSTRUMENTS, help="what to render")
    parser.add_argument("-o", "--output", required=True, help="folder for the wav files and notes.json")
    parser.add_argument("--minutes", type=float, default=15.0, help="total audio (default 15)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed renders the same music (default 0)")
    parser.add_argument(
        "--file-seconds",
        type=float,
        default=45.0,
        help="length of each wav file (default 45; the anthem, ~54 s, is never cut)",
    )
    parser.add_argument(
        "--source",
        choices=("all", "ragas", "anthem"),
        default="all",
        help="raga improvisations, Jana Gana Mana, or both (default)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import time

    from sounds_kit.data.demo_instruments import render_demo_data

    t0 = time.perf_counter()
    meta = render_demo_data(
        args.instrument,
        args.output,
        minutes=args.minutes,
        seed=args.seed,
        file_seconds=args.file_seconds,
        source=args.source,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    seconds = sum(f["duration_s"] for f in meta["files"])
    elapsed = time.perf_counter() - t0
    print(
        f"{len(meta['files'])} files, {seconds / 60:.1f} min of {args.instrument} "
        f"({meta['soundfont']}, program {meta['program']}) in {args.output} "
        f"[{elapsed:.1f} s, {seconds / max(elapsed, 1e-9):.0f}x real time]"
    )
    return 0
