"""Score the shipped instruments exactly as their sweep scored its trials (same eval clips, same formula).

    .venv/bin/python benchmarks/shipped_vs_sweep.py [bansuri shehnai sarangi]

Needs work/datasets/NAME and work/sweeps/NAME (scripts/build_instruments.sh and `sounds-kit sweep`).
Prints each shipped model's quality next to the sweep's best and largest trials.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(names: list[str]) -> None:
    from sounds_kit.data.dataset import load_dataset
    from sounds_kit.evaluate.metrics import dataset_clips, evaluate_model
    from sounds_kit.instrument import load_instrument
    from sounds_kit.instrument.files import download_bytes
    from sounds_kit.sweep.search import quality

    for name in names:
        sweep_dir = REPO / "work" / "sweeps" / name
        setup = json.loads((sweep_dir / "sweep.json").read_text())
        results = [json.loads(line) for line in (sweep_dir / "results.jsonl").read_text().splitlines() if line]
        results = [r for r in results if r.get("status") == "ok"]
        clips = dataset_clips(load_dataset(REPO / "work" / "datasets" / name, "eval"), setup.get("eval_clips"))
        shipped = REPO / "models" / name
        q = quality(evaluate_model(load_instrument(shipped), clips))
        best = min(results, key=lambda r: r["quality"])
        largest = max(results, key=lambda r: r["download_bytes"])
        print(
            f"{name}: shipped {q:.3f} at {download_bytes(shipped) / 1024:.1f} KB | sweep best {best['id']} "
            f"{best['quality']:.3f} | largest {largest['id']} {largest['quality']:.3f} at "
            f"{largest['download_bytes'] / 1024:.1f} KB | shipped/best = {q / best['quality']:.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or ["bansuri", "shehnai", "sarangi"])
