"""A download budget for the search (``--max-download-kb``): configurations whose export would be
larger are never trained.

What the browser fetches is the graph (model.json: its size depends on the decoder's structure - type,
depth, kernel, reverb - and hardly on widths), the float16 weights (2 bytes per parameter, counted
from the shapes without building anything) and metadata.json (the dataset's stats). The fixed part is
measured once per structure by exporting a decoder with random weights exactly as a trial's final rung does,
and kept in ``SWEEP_DIR/cache/graph_bytes.json``: a few seconds per structure instead of a trained
trial. The estimate is within 1% of the real export (tests/test_sweep.py); the choice still checks the
real download of every trained trial against the budget.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from sounds_kit.atomic import write_json_atomic
from sounds_kit.conventions import SAMPLE_RATE
from sounds_kit.instrument.numpy_decoder import weight_shapes
from sounds_kit.model.decoders import DecoderConfig

CACHE = "graph_bytes.json"


def weight_bytes(decoder: dict) -> int:
    """Bytes of a decoder's float16 weights in its export (2 per parameter). A GRU's export holds one
    [width, 3 x width] kernel twice (the converted graph keeps a copy inside the scan's loop body)."""
    config = DecoderConfig.from_dict(decoder)
    count = sum(int(np.prod(s)) for s in weight_shapes(config).values())
    if config.type == "gru":
        count += 3 * config.width * config.width
    return 2 * count


def structure_key(decoder: dict) -> str:
    d = DecoderConfig.from_dict(decoder)
    return f"{d.type}-d{d.depth}-k{d.kernel}" + (f"-reverb{d.reverb_seconds:g}" if d.reverb else "")


def measure_download(decoder: dict, stats: dict) -> int:
    """The download of a float16 export of ``decoder`` with random weights (what a trained trial's export weighs)."""
    import tensorflow as tf

    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.instrument.files import download_bytes
    from sounds_kit.model.decoders import build_decoder

    config = DecoderConfig.from_dict(decoder)
    model = build_decoder(config, seed=0)
    model(tf.zeros([1, 4, 1]), tf.zeros([1, 4, 1]))
    # Trained weights, not the initial ones: the converter stores identical tensors once, and a fresh
    # decoder's zero biases and unit gains are identical (measured 1.6 KB smaller than a trained export).
    rng = np.random.default_rng(0)
    for v in model.variables:
        v.assign(rng.normal(0.0, 0.1, v.shape).astype(np.float32))
    reverb_ir = np.zeros(int(config.reverb_seconds * SAMPLE_RATE), np.float32) if config.reverb else None
    with tempfile.TemporaryDirectory() as tmp:
        out = export_decoder(model, config, Path(tmp) / "model", name="budget", quantize="float16",
                             stats=stats, reverb_ir=reverb_ir, extra_metadata={"training_step": 0})  # fmt: skip
        return download_bytes(out)


class DownloadEstimator:
    """``estimator(decoder dict) -> bytes``: weights counted, the structure's fixed part measured once."""

    def __init__(self, cache_dir: str | Path, stats: dict | None = None) -> None:
        self.path = Path(cache_dir) / CACHE
        self.stats = stats or {}
        self.fixed: dict[str, int] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def __call__(self, decoder: dict) -> int:
        key = structure_key(decoder)
        if key not in self.fixed:
            self.fixed[key] = measure_download(decoder, self.stats) - weight_bytes(decoder)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path, self.fixed)
        return self.fixed[key] + weight_bytes(decoder)


def smallest_configs(space: dict) -> list[dict]:
    """Per decoder type of a search space, its smallest configuration (every axis at its least value:
    the download grows with each of them), to tell at once when nothing fits a budget."""
    from sounds_kit.sweep.space import RECIPE

    return [DecoderConfig.from_dict({"type": kind, **{k: min(v) for k, v in axes.items()}}).to_dict()
            for kind, axes in space.items() if kind != RECIPE]  # fmt: skip
