"""Speed of demo-data rendering (fluidsynth) and of `sounds-kit prepare` (Beam DirectRunner).

    .venv/bin/python benchmarks/render_speed.py [--minutes 3] [--instruments bansuri,sarangi]
        [--prepare-minutes 3] [--multi-process]

Prints x real time (audio seconds per wall second) and CPU seconds; on a shared machine wall
time depends on the load, so the CPU figures are the steadier ones.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _cpu() -> float:
    """CPU seconds of this process and its finished children (fluidsynth, Beam workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn):
    wall, cpu = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - wall, _cpu() - cpu


def bench_render(instrument: str, minutes: float, out_dir: Path) -> Path:
    from sounds_kit.data.demo_instruments import get_recipe, render_demo_data, render_passages
    from sounds_kit.data.demo_music import compose

    recipe = get_recipe(instrument)
    passages = compose(recipe.name, recipe.sa, recipe.low, recipe.high, minutes * 60, seed=0, style=recipe.style)
    audio, wall, cpu = _timed(lambda: render_passages(recipe, passages, progress=False))
    seconds = sum(len(a) for a in audio) / 16000
    print(
        f"render {instrument:12s} ({recipe.soundfont:9s}): {seconds:6.0f} s audio, fluidsynth + resample "
        f"{wall:5.1f} s wall = {seconds / wall:5.0f}x real time ({cpu:5.1f} CPU s)"
    )
    target = out_dir / instrument
    meta, wall, cpu = _timed(
        lambda: render_demo_data(instrument, target, minutes=minutes, seed=0, progress=False, overwrite=True)
    )
    print(f"  render-demo-data with wav + notes.json: {wall:5.1f} s wall = {seconds / wall:5.0f}x real time")
    return target


def bench_prepare(audio_dir: Path, out_dir: Path, beam_args: list[str], label: str) -> None:
    from sounds_kit.data.prepare import prepare

    manifest, wall, cpu = _timed(
        lambda: prepare([str(audio_dir)], out_dir, beam_args=beam_args, overwrite=True, progress=False, quiet=True)
    )
    seconds = sum(e["seconds"] for e in manifest["inputs"])
    examples = sum(manifest["examples"].values())
    print(
        f"prepare {label:34s}: {seconds:6.0f} s audio -> {examples} examples in {wall:5.1f} s wall "
        f"= {seconds / wall:5.1f}x real time ({cpu:5.1f} CPU s, {seconds / max(cpu, 1e-9):5.1f} audio s per CPU s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="audio rendered per instrument")
    parser.add_argument("--instruments", default="bansuri,sarangi")
    parser.add_argument("--prepare-minutes", type=float, default=3.0, help="audio given to prepare (0: skip)")
    parser.add_argument("--multi-process", action="store_true", help="also time 2 DirectRunner worker processes")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="sounds-kit-bench-") as tmp:
        tmp = Path(tmp)
        dirs = [bench_render(name, args.minutes, tmp / "render") for name in args.instruments.split(",")]
        if args.prepare_minutes > 0:
            from sounds_kit.data.demo_instruments import render_demo_data

            audio = tmp / "prepare-input"
            render_demo_data(dirs[0].name, audio, minutes=args.prepare_minutes, seed=1, progress=False)
            # the first run pays for importing TensorFlow (the TFRecord writer) in this process
            bench_prepare(audio, tmp / "ds1", [], "DirectRunner in_memory (first run)")
            bench_prepare(audio, tmp / "ds2", [], "DirectRunner in_memory")
            if args.multi_process:
                beam = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
                bench_prepare(audio, tmp / "ds3", beam, "DirectRunner multi_processing x2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
