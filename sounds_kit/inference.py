"""Trained run -> audio: the decoder (TensorFlow) drives the numpy reference synth.

Used by evaluate / transfer / export: ``run = load_run(run_dir)``, then
``resynthesize(run, features)`` with features as ``features.compute_features`` returns them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import controls as C
from . import synth
from .errors import ModelFileError


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

    from . import tf_synth
    from .decoders import build_decoder
    from .trainer import TrainConfig

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


def predict_controls(run: Run, f0_hz: np.ndarray, loudness_db: np.ndarray) -> dict[str, np.ndarray]:
    """Decoder outputs [T, .] for filled f0 [T] and loudness [T]."""
    f0_in = C.scale_f0(f0_hz)[None, :, None].astype(np.float32)
    loud_in = C.scale_loudness(loudness_db)[None, :, None].astype(np.float32)
    out = run.decoder(f0_in, loud_in)
    return {k: v.numpy()[0] for k, v in out.items()}


def render_controls(controls: dict, f0_hz: np.ndarray, reverb_ir: np.ndarray | None = None, **kwargs) -> np.ndarray:
    """numpy synth of decoder outputs [T, .] at f0 [T]; returns float32 audio."""
    full = dict(controls, f0_hz=np.asarray(f0_hz, np.float64))
    if reverb_ir is not None:
        full["reverb_ir"] = reverb_ir
    return synth.synthesize(full, **kwargs).astype(np.float32)


def resynthesize(run: Run, features: dict, n_samples: int | None = None) -> np.ndarray:
    """Audio from features (``f0_hz``, ``f0_confidence``, ``loudness_db`` [T]) through the run's model."""
    f0 = C.fill_unvoiced(features["f0_hz"], features["f0_confidence"], run.config.confidence_threshold)
    controls = predict_controls(run, f0, features["loudness_db"])
    return render_controls(controls, f0, run.reverb_ir, n_samples=n_samples)
