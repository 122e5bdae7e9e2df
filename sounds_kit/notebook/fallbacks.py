"""Each notebook on its own: what a notebook makes when the one before it has not run.

In Colab every notebook gets a fresh runtime, so the workshop folder of notebook 01 is not there when
notebook 02 opens (unless the folder is on Google Drive). Rather than stop, a notebook makes a small
stand-in for what it needs, says so, and carries on: a short demo dataset (rendered with fluidsynth,
then prepared) or a briefly trained run. Real results still come from running the notebooks in order.
"""

from __future__ import annotations

import json
from pathlib import Path

from sounds_kit.notebook.cli import cli
from sounds_kit.notebook.workshop import Workshop

FALLBACK_INSTRUMENT = "bansuri"
FALLBACK_DATA_MINUTES = 1.0  # enough examples for a train and an eval split
FALLBACK_TRAIN_MINUTES = 1.0  # a run that already follows pitch and loudness, roughly


def ensure_dataset(ws: Workshop, minutes: float = FALLBACK_DATA_MINUTES) -> Path:
    """The workshop's dataset (notebook 01), or a small demo one made now when it is missing."""
    if (ws.dataset / "manifest.json").is_file():
        return ws.dataset
    from sounds_kit.data.demo_instruments import render_demo_data

    print(
        f"No dataset from notebook 01 in {ws.root}: making a small one now ({minutes:g} min of the demo "
        f"{FALLBACK_INSTRUMENT}, rendered with fluidsynth and prepared). Run notebook 01 for a real one."
    )
    notes = render_demo_data(FALLBACK_INSTRUMENT, ws.data, minutes=minutes, overwrite=True, progress=False)
    # Beam runs as its own process, as in notebook 01 (its interactive support breaks inside a kernel).
    cli("prepare", ws.data, "-o", ws.dataset, "--overwrite", "--quiet", separate_process=True)
    ws.remember(
        instrument=FALLBACK_INSTRUMENT,
        source=f"demo data rendered from MIDI with fluidsynth ({notes['soundfont']}, GM program "
        f"{notes['program']}), {minutes:g} min made as a stand-in for notebook 01",
    )
    return ws.dataset


def ensure_run(
    ws: Workshop,
    minutes: float = FALLBACK_TRAIN_MINUTES,
    steps: int | None = None,
    data_minutes: float = FALLBACK_DATA_MINUTES,
) -> Path:
    """The run to export: the sweep's choice (notebook 03), else the run of notebook 02, else a small run
    trained now for ``minutes`` (or ``steps``) on the workshop's dataset, or on a small demo one."""
    if (ws.chosen_run / "config.json").is_file():
        print(f"the model chosen by the sweep (notebook 03): {ws.recall('chosen')}")
        return ws.chosen_run
    if (ws.run / "config.json").is_file():
        print("no sweep result (notebook 03): the run of notebook 02")
        return ws.run
    budget = f"{steps} steps" if steps else f"{minutes:g} min"
    print(f"No trained model from notebook 02 or 03 in {ws.root}: training a small one now ({budget}).")
    from sounds_kit.data.dataset import load_dataset, read_stats
    from sounds_kit.model.train import TrainConfig, collect_examples, train

    dataset = ensure_dataset(ws, data_minutes)
    ws.run.mkdir(parents=True, exist_ok=True)
    # The auto-fit profile travels with the run, as in notebook 02.
    (ws.run / "dataset_stats.json").write_text(json.dumps(read_stats(dataset), indent=1) + "\n")
    config = TrainConfig(steps=steps) if steps else TrainConfig(minutes=minutes)
    summary = train(collect_examples(load_dataset(dataset, "train")), ws.run, config, progress=False)
    print(f"trained {summary['step']} steps in {summary['elapsed_seconds'] / 60:.1f} min")
    return ws.run
