"""The exported decoders in numpy, so singing and transfer need no TensorFlow.

``model/decoders.py`` defines the decoders in TensorFlow (it trains them and exports them to TF.js);
this module runs the same arithmetic on the weights an export keeps in ``decoder.npz``. It computes in
float64: the TF decoder (float32) and the browser (float32) then differ from it only by their own
rounding, which ``tests/test_numpy_decoder.py`` bounds on the shipped instruments and on both types.

Both types share the input and output layers:

* inputs ``f0_scaled``, ``loudness_scaled`` [B, T, 1] -> concatenated [B, T, 2] -> dense ``in_w``, ``in_b``;
* ``cnn``: ``depth`` residual blocks (layer norm -> leaky ReLU -> causal dilated conv), layer norm + leaky ReLU;
* ``gru``: leaky ReLU -> GRU (gates stacked z | r | candidate) -> ``depth - 1`` dense + leaky ReLU layers;
* heads: dense ``head_w``, ``head_b`` -> ``exp_sigmoid`` -> amplitude | harmonic distribution | noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import expit

from sounds_kit.dsp.controls import exp_sigmoid
from sounds_kit.errors import ModelFileError
from sounds_kit.model.decoders import DecoderConfig

LEAKY_SLOPE = 0.2  # tf.nn.leaky_relu's default alpha, which model/decoders.py uses
LAYER_NORM_EPS = 1e-5  # model/decoders.py layer_norm


def weight_shapes(config: DecoderConfig) -> dict[str, tuple[int, ...]]:
    """The variables a decoder of ``config`` has, by their ``decoder.npz`` names, with their shapes."""
    w, n_out = config.width, 1 + config.n_harmonics + config.n_noise_bands
    shapes: dict[str, tuple[int, ...]] = {"in_w": (2, w), "in_b": (w,)}
    if config.type == "cnn":
        for i in range(config.depth):
            shapes[f"conv{i}_w"] = (config.kernel, w, w)
            shapes[f"conv{i}_b"] = (w,)
        for i in range(config.depth + 1):
            shapes[f"norm{i}_g"] = (w,)
            shapes[f"norm{i}_b"] = (w,)
    else:
        shapes.update(gru_x=(w, 3 * w), gru_h=(w, 3 * w), gru_b=(3 * w,))
        for i in range(max(config.depth - 1, 0)):
            shapes[f"mlp{i}_w"] = (w, w)
            shapes[f"mlp{i}_b"] = (w,)
    shapes.update(head_w=(w, n_out), head_b=(n_out,))
    # decoder.npz names are TF variable names ("in_w:0") with ":" made file-safe.
    return {f"{name}_0": shape for name, shape in shapes.items()}


def _dense(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[..., C] x [C, O]. einsum's own loop, not BLAS: for these small matrices a multi-threaded BLAS
    spends more on its threads than on the sums (measured 10x slower on a busy 2-core machine)."""
    return np.einsum("...c,co->...o", x, w)


def _leaky(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0.0, x, LEAKY_SLOPE * x)


def _layer_norm(h: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = h.mean(axis=-1, keepdims=True)
    var = ((h - mean) ** 2).mean(axis=-1, keepdims=True)  # population variance, as model/decoders.py layer_norm
    return (h - mean) / np.sqrt(var + LAYER_NORM_EPS) * gain + bias


class NumpyDecoder:
    """``decoder(f0_scaled, loudness_scaled)`` -> dict of controls [B, T, .] (float64), like the TF decoder."""

    def __init__(self, config: DecoderConfig, weights: dict[str, np.ndarray]):
        self.config = config
        self.w = {name.removesuffix("_0"): np.asarray(v, np.float64) for name, v in weights.items()}

    def __call__(self, f0_scaled: np.ndarray, loudness_scaled: np.ndarray) -> dict[str, np.ndarray]:
        f0 = np.asarray(f0_scaled, np.float64)
        loud = np.asarray(loudness_scaled, np.float64)
        if f0.ndim != 3 or f0.shape[-1] != 1 or f0.shape != loud.shape:
            raise ValueError(f"decoder inputs must both be [batch, frames, 1], got {f0.shape} and {loud.shape}")
        x = np.concatenate([f0, loud], axis=-1)
        h = _dense(x, self.w["in_w"]) + self.w["in_b"]
        h = self._cnn(h) if self.config.type == "cnn" else self._gru(h)
        return self._heads(h)

    def _cnn(self, h: np.ndarray) -> np.ndarray:
        w, k = self.w, self.config.kernel
        frames = h.shape[1]
        for i, d in enumerate(self.config.dilations):
            y = _leaky(_layer_norm(h, w[f"norm{i}_g"], w[f"norm{i}_b"]))
            # Causal: left padding only, so output t sees inputs t - (k-1)*d .. t (tap j sees t - (k-1-j)*d).
            y = np.pad(y, [(0, 0), ((k - 1) * d, 0), (0, 0)])
            conv = sum(_dense(y[:, j * d : j * d + frames], w[f"conv{i}_w"][j]) for j in range(k))
            h = h + conv + w[f"conv{i}_b"]
        return _leaky(_layer_norm(h, w[f"norm{self.config.depth}_g"], w[f"norm{self.config.depth}_b"]))

    def _gru(self, h: np.ndarray) -> np.ndarray:
        w, width = self.w, self.config.width
        gx = _dense(_leaky(h), w["gru_x"]) + w["gru_b"]  # input part of every gate, all frames at once
        state = np.zeros((h.shape[0], width))
        states = np.empty((h.shape[0], h.shape[1], width))
        for t in range(h.shape[1]):
            g, gh = gx[:, t], _dense(state, w["gru_h"])
            z = expit(g[:, :width] + gh[:, :width])
            r = expit(g[:, width : 2 * width] + gh[:, width : 2 * width])
            c = np.tanh(g[:, 2 * width :] + r * gh[:, 2 * width :])
            state = z * state + (1.0 - z) * c
            states[:, t] = state
        out = states
        for i in range(max(self.config.depth - 1, 0)):
            out = _leaky(_dense(out, w[f"mlp{i}_w"]) + w[f"mlp{i}_b"])
        return out

    def _heads(self, h: np.ndarray) -> dict[str, np.ndarray]:
        out = exp_sigmoid(_dense(h, self.w["head_w"]) + self.w["head_b"])
        n_harm = self.config.n_harmonics
        return {
            "amplitude": out[..., :1],
            "harmonic_distribution": out[..., 1 : 1 + n_harm],
            "noise_magnitudes": out[..., 1 + n_harm :],
        }


def load_numpy_decoder(config: DecoderConfig, path: Path, quantization: str = "none") -> NumpyDecoder:
    """The decoder of an export from its ``decoder.npz``; weights pass through float16 when the browser's
    model was quantised that way, so Python plays the numbers the browser plays."""
    try:
        with np.load(path) as data:
            saved = {name: data[name] for name in data.files}
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a readable decoder.npz ({err})") from err
    expected = weight_shapes(config)
    if sorted(saved) != sorted(expected):
        raise ModelFileError(f"{path}: weights do not match the decoder config in metadata.json")
    for name, shape in expected.items():
        if saved[name].shape != shape:
            raise ModelFileError(f"{path}: {name} has shape {saved[name].shape}, the decoder expects {shape}")
        if quantization == "float16":
            saved[name] = saved[name].astype(np.float16)  # what TF.js dequantises (exactly) to float32
    return NumpyDecoder(config, saved)
