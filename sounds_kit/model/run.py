"""A training run dir -> its decoder restored from the latest checkpoint (TensorFlow).

Export reads it; to *play* a run use ``sounds_kit.load_instrument(run_dir)``, which wraps the
restored decoder in the same ``Instrument`` as an exported model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sounds_kit.errors import ModelFileError


@dataclass
class Run:
    """A trained model loaded from a run dir."""

    run_dir: Path
    config: object  # trainer.TrainConfig
    decoder: object  # tf.Module: decoder(f0_scaled, loudness_scaled) -> controls
    reverb_ir: np.ndarray | None
    step: int


def load_run(run_dir: str | Path) -> Run:
    """Restore the latest checkpoint of a run dir written by ``trainer.train``."""
    import tensorflow as tf

    from sounds_kit.model import tf_synth
    from sounds_kit.model.config import TrainConfig
    from sounds_kit.model.decoders import build_decoder

    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.exists():
        raise ModelFileError(f"{run_dir}: no config.json (not a training run dir)")
    config = TrainConfig.from_dict(json.loads(config_path.read_text()))
    decoder = build_decoder(config.decoder, seed=config.seed)
    reverb = tf_synth.Reverb(config.decoder.reverb_seconds) if config.decoder.reverb else None
    step = tf.Variable(0, dtype=tf.int64)
    parts = {"decoder": decoder, "step": step}
    if reverb is not None:
        parts["reverb"] = reverb
    latest = tf.train.latest_checkpoint(str(run_dir / "ckpt"))
    if latest is None:
        raise ModelFileError(f"{run_dir}: no checkpoint yet (train first)")
    tf.train.Checkpoint(**parts).restore(latest).expect_partial()
    ir = None if reverb is None else reverb.impulse_response().numpy()
    return Run(run_dir, config, decoder, ir, int(step.numpy()))
