"""Multi-scale spectral loss (design.md, "Training")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_FFT_SIZES = (2048, 1024, 512, 256, 128, 64)
LOG_EPS = 1e-7


def magnitudes(audio, fft_size: int, overlap: float = 0.75):
    """|STFT| [B, frames, bins] with a periodic Hann window and hop ``fft_size * (1 - overlap)``."""
    import tensorflow as tf

    hop = max(1, int(fft_size * (1.0 - overlap)))
    return tf.abs(tf.signal.stft(audio, fft_size, hop, fft_length=fft_size, pad_end=True))


def spectral_loss(
    target,
    prediction,
    fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
    mag_weight: float = 1.0,
    logmag_weight: float = 1.0,
    overlap: float = 0.75,
):
    """Sum over scales of mean |S_t - S_p| * mag_weight + mean |log S_t - log S_p| * logmag_weight.

    ``target`` and ``prediction`` are [B, N] (or [N]) float32 tensors or arrays; returns a scalar tensor.
    """
    import tensorflow as tf

    target = tf.convert_to_tensor(target, tf.float32)
    prediction = tf.convert_to_tensor(prediction, tf.float32)
    if target.shape.rank == 1:
        target, prediction = target[None], prediction[None]
    total = tf.constant(0.0)
    for size in fft_sizes:
        s_t = magnitudes(target, size, overlap)
        s_p = magnitudes(prediction, size, overlap)
        if mag_weight:
            total += mag_weight * tf.reduce_mean(tf.abs(s_t - s_p))
        if logmag_weight:
            total += logmag_weight * tf.reduce_mean(
                tf.abs(tf.math.log(s_t + LOG_EPS) - tf.math.log(s_p + LOG_EPS))
            )
    return total


def spectral_loss_np(target: np.ndarray, prediction: np.ndarray, **kwargs) -> float:
    """:func:`spectral_loss` for numpy arrays of equal length, as a float."""
    n = min(np.shape(target)[-1], np.shape(prediction)[-1])
    t = np.asarray(target, np.float32)[..., :n]
    p = np.asarray(prediction, np.float32)[..., :n]
    return float(spectral_loss(t, p, **kwargs))
