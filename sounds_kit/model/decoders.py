"""Decoders: (f0_scaled, loudness_scaled) [B, T, 1] -> synth controls [B, T, .].

Two architectures behind one interface, both plain ``tf.Module``s with explicit variables (no Keras),
so a ``tf.function`` SavedModel converts directly with the tensorflowjs converter:

* ``cnn`` (default): a causal dilated 1-D CNN. No look-ahead, so the browser can stream it; its
  receptive field is :func:`receptive_field` frames of the past (current frame included).
* ``gru``: input MLP -> GRU -> output MLP (magenta/ddsp's RnnFcDecoder shape, smaller).

Outputs all pass through ``exp_sigmoid``: ``amplitude`` [B, T, 1], ``harmonic_distribution``
[B, T, K], ``noise_magnitudes`` [B, T, Bn].
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

DECODER_TYPES = ("cnn", "gru")
OUTPUT_NAMES = ("amplitude", "harmonic_distribution", "noise_magnitudes")
INPUT_NAMES = ("f0_scaled", "loudness_scaled")


@dataclass
class DecoderConfig:
    """Everything needed to rebuild a decoder (and its synth), stored as the run's ``decoder`` JSON."""

    type: str = "cnn"
    width: int = 32  # 6 blocks: ~22k parameters; width 64 (80k) was 2% better per step, 1.9x slower
    depth: int = 6
    kernel: int = 3
    dilations: list[int] = field(default_factory=list)  # cnn; empty -> 1, 2, 4, ... (depth of them)
    n_harmonics: int = 48
    n_noise_bands: int = 32
    reverb: bool = False
    reverb_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.type not in DECODER_TYPES:
            raise ValueError(f"decoder type must be one of {DECODER_TYPES}, got {self.type!r}")
        for name in ("width", "depth", "kernel", "n_harmonics", "n_noise_bands"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"decoder {name} must be at least 1, got {getattr(self, name)}")
        if self.type == "cnn" and not self.dilations:
            self.dilations = [2**i for i in range(self.depth)]
        self.dilations = [int(d) for d in self.dilations]
        if self.type == "cnn" and len(self.dilations) != self.depth:
            raise ValueError(f"{len(self.dilations)} dilations given for depth {self.depth}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DecoderConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown decoder config keys: {sorted(unknown)}")
        return cls(**data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> DecoderConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


def receptive_field(config: DecoderConfig) -> int | None:
    """Frames of input (current included) that one CNN output depends on; None (unbounded) for a GRU."""
    if config.type != "cnn":
        return None
    return 1 + sum((config.kernel - 1) * d for d in config.dilations)


def _glorot(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def parameter_count(module) -> int:
    """Trainable scalars of a decoder (or any tf.Module)."""
    return int(sum(np.prod(v.shape) for v in module.trainable_variables))


def build_decoder(config: DecoderConfig, seed: int = 0):
    """A decoder (a tf.Module) for ``config`` with deterministic initial weights.

    Call it as ``decoder(f0_scaled, loudness_scaled)`` -> dict of controls.
    """
    cnn, gru = _classes()
    return (cnn if config.type == "cnn" else gru)(config, seed)


@lru_cache(maxsize=1)
def _classes():
    # Defined on first use so that importing this module (e.g. for DecoderConfig) never imports TF.
    import tensorflow as tf

    class Base(tf.Module):
        """``decoder(f0, loudness) = controls(features(f0, loudness))``: ``features`` is the part that
        mixes frames, ``controls`` works frame by frame (so training can crop between the two and
        run the heads only on the frames it renders)."""

        def _init_heads(self, rng: np.random.Generator, width: int) -> None:
            cfg = self.config
            n_out = 1 + cfg.n_harmonics + cfg.n_noise_bands
            self.head_w = tf.Variable(_glorot(rng, (width, n_out), width, n_out), name="head_w")
            # Start quiet: amplitude ~0.015, noise ~2e-5, so the first renders do not blast noise.
            bias = np.zeros(n_out, np.float32)
            bias[0] = -2.0
            bias[1 + cfg.n_harmonics :] = -5.0
            self.head_b = tf.Variable(bias, name="head_b")

        def __call__(self, f0_scaled, loudness_scaled):
            return self.controls(self.features(f0_scaled, loudness_scaled))

        def _heads(self, h):
            from sounds_kit.model.tf_synth import exp_sigmoid

            cfg = self.config
            out = exp_sigmoid(dense(h, self.head_w) + self.head_b)
            # A split, not slices: the gradient of a strided slice is slow on CPU (stage-2 steps).
            amplitude, harmonics, noise = tf.split(out, [1, cfg.n_harmonics, cfg.n_noise_bands], axis=-1)
            return {"amplitude": amplitude, "harmonic_distribution": harmonics, "noise_magnitudes": noise}

        def serving_function(self):
            """A tf.function for SavedModel / TF.js: inputs [1, T, 1] each, outputs as documented."""
            spec = [tf.TensorSpec([None, None, 1], tf.float32, name=n) for n in INPUT_NAMES]
            fn = tf.function(lambda f0_scaled, loudness_scaled: self(f0_scaled, loudness_scaled))
            return fn.get_concrete_function(*spec)

    def dense(x, w):
        # [B, T, C] x [C, O] as a reshape + MatMul: every TF.js backend has MatMul (wasm has no Einsum).
        shape = tf.shape(x)
        y = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), w)
        return tf.reshape(y, tf.concat([shape[:-1], [w.shape[-1]]], axis=0))

    def layer_norm(h, gain, bias):
        # The centred activations once, for the variance and the output (tf.nn.moments computes them
        # twice): a fifth fewer passes in training, where the norms are a tenth of a stage-2 step.
        centred = h - tf.reduce_mean(h, axis=-1, keepdims=True)
        var = tf.reduce_mean(centred * centred, axis=-1, keepdims=True)
        return centred * tf.math.rsqrt(var + 1e-5) * gain + bias

    class CnnDecoder(Base):
        """Causal dilated CNN: 1x1 input projection, ``depth`` residual blocks
        (layer norm -> leaky ReLU -> causal dilated conv), layer norm + leaky ReLU, dense heads."""

        def __init__(self, config: DecoderConfig, seed: int = 0):
            super().__init__(name="cnn_decoder")
            self.config = config
            rng = np.random.default_rng(seed)
            w, k = config.width, config.kernel
            self.in_w = tf.Variable(_glorot(rng, (2, w), 2, w), name="in_w")
            self.in_b = tf.Variable(np.zeros(w, np.float32), name="in_b")
            self.conv_w = [
                tf.Variable(_glorot(rng, (k, w, w), k * w, w) * 0.5, name=f"conv{i}_w")
                for i in range(config.depth)
            ]
            self.conv_b = [
                tf.Variable(np.zeros(w, np.float32), name=f"conv{i}_b") for i in range(config.depth)
            ]
            self.norm_g = [
                tf.Variable(np.ones(w, np.float32), name=f"norm{i}_g") for i in range(config.depth + 1)
            ]
            self.norm_b = [
                tf.Variable(np.zeros(w, np.float32), name=f"norm{i}_b") for i in range(config.depth + 1)
            ]
            self._init_heads(rng, w)

        def features(self, f0_scaled, loudness_scaled):
            """Everything that mixes frames: [B, T, 1] x 2 -> [B, T, width]."""
            x = tf.concat([f0_scaled, loudness_scaled], axis=-1)
            h = dense(x, self.in_w) + self.in_b
            k = self.config.kernel
            for i, d in enumerate(self.config.dilations):
                y = tf.nn.leaky_relu(layer_norm(h, self.norm_g[i], self.norm_b[i]))
                # Left padding only: output t sees inputs t - (k-1)*d .. t, never the future.
                y = tf.pad(y, [[0, 0], [(k - 1) * d, 0], [0, 0]])
                y = tf.nn.conv1d(y, self.conv_w[i], stride=1, padding="VALID", dilations=d)
                h = h + y + self.conv_b[i]
            return h

        def controls(self, h):
            """Frame by frame: features [B, T, width] -> the controls."""
            return self._heads(tf.nn.leaky_relu(layer_norm(h, self.norm_g[-1], self.norm_b[-1])))

    class GruDecoder(Base):
        """Dense + leaky ReLU input layer -> GRU(width) -> ``depth - 1`` dense layers -> heads."""

        def __init__(self, config: DecoderConfig, seed: int = 0):
            super().__init__(name="gru_decoder")
            self.config = config
            rng = np.random.default_rng(seed)
            w = config.width
            self.in_w = tf.Variable(_glorot(rng, (2, w), 2, w), name="in_w")
            self.in_b = tf.Variable(np.zeros(w, np.float32), name="in_b")
            # Gates stacked [z | r | candidate] as in the usual GRU formulation.
            self.gru_x = tf.Variable(_glorot(rng, (w, 3 * w), w, 3 * w), name="gru_x")
            self.gru_h = tf.Variable(_glorot(rng, (w, 3 * w), w, 3 * w), name="gru_h")
            self.gru_b = tf.Variable(np.zeros(3 * w, np.float32), name="gru_b")
            n_mlp = max(config.depth - 1, 0)
            self.mlp_w = [tf.Variable(_glorot(rng, (w, w), w, w), name=f"mlp{i}_w") for i in range(n_mlp)]
            self.mlp_b = [tf.Variable(np.zeros(w, np.float32), name=f"mlp{i}_b") for i in range(n_mlp)]
            self._init_heads(rng, w)

        def features(self, f0_scaled, loudness_scaled):
            """Everything that mixes frames: [B, T, 1] x 2 -> [B, T, width]."""
            w = self.config.width
            x = tf.concat([f0_scaled, loudness_scaled], axis=-1)
            x = tf.nn.leaky_relu(dense(x, self.in_w) + self.in_b)
            gx = dense(x, self.gru_x) + self.gru_b  # input part of all gates at once

            def step(h, g):
                gh = tf.matmul(h, self.gru_h)
                z = tf.sigmoid(g[:, :w] + gh[:, :w])
                r = tf.sigmoid(g[:, w : 2 * w] + gh[:, w : 2 * w])
                c = tf.tanh(g[:, 2 * w :] + r * gh[:, 2 * w :])
                return z * h + (1.0 - z) * c

            h0 = tf.zeros([tf.shape(x)[0], w])
            hs = tf.scan(step, tf.transpose(gx, [1, 0, 2]), initializer=h0)
            return tf.transpose(hs, [1, 0, 2])

        def controls(self, h):
            """Frame by frame: features [B, T, width] -> the controls."""
            for mw, mb in zip(self.mlp_w, self.mlp_b, strict=False):
                h = tf.nn.leaky_relu(dense(h, mw) + mb)
            return self._heads(h)

    return CnnDecoder, GruDecoder
