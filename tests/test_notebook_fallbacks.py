"""Each notebook on its own: with an empty workshop folder (a fresh Colab runtime), notebook 04's first step
makes a small dataset and trains a small run instead of stopping, and says so."""

from __future__ import annotations

import json
import shutil

import pytest

from sounds_kit.notebook.fallbacks import ensure_dataset, ensure_run
from sounds_kit.notebook.workshop import workshop

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth not installed")
def test_an_empty_workshop_gets_a_small_dataset_and_run(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    ws = workshop(tmp_path / "workshop")
    run = ensure_run(ws, steps=3)  # the default stand-in dataset (1 min: both splits get examples)
    said = capsys.readouterr().out
    assert "No trained model from notebook 02 or 03" in said and "No dataset from notebook 01" in said
    assert run == ws.run and (run / "config.json").is_file() and (run / "ckpt").is_dir()
    assert json.loads((run / "dataset_stats.json").read_text())["fit"]["meanMidi"] > 40  # auto-fit travels along
    manifest = json.loads((ws.dataset / "manifest.json").read_text())
    assert manifest["examples"]["train"] > 0 and manifest["examples"]["eval"] > 0
    assert ws.recall("instrument") == "bansuri" and "stand-in for notebook 01" in ws.recall("source")

    # What exists is used as it is, and a sweep's choice wins over a plain run.
    assert ensure_dataset(ws) == ws.dataset and ensure_run(ws) == ws.run
    shutil.copytree(ws.run, ws.chosen_run)
    assert ensure_run(ws) == ws.chosen_run
    assert "No " not in capsys.readouterr().out
