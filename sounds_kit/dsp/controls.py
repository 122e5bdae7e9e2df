"""Controls: the decoder's inputs and outputs, as numpy (design.md, "Controls").

Everything here is per frame ([T] or [T, C]); turning controls into samples is
``synth.py``'s job. The TensorFlow twins of these functions live in ``tf_synth.py``.
"""

from __future__ import annotations

import numpy as np

from sounds_kit.conventions import DEFAULT_F0_HZ, F0_MIDI_SCALE, LOUDNESS_SCALE_DB, SAMPLE_RATE, VOICED_CONFIDENCE
from sounds_kit.conventions import hz_to_midi as hz_to_midi

EXP_SIGMOID_EXPONENT = float(np.log(10.0))
EXP_SIGMOID_MAX = 2.0
EXP_SIGMOID_FLOOR = 1e-7

CONFIDENCE_THRESHOLD = VOICED_CONFIDENCE
"""Frames with f0_confidence below this are treated as unvoiced by :func:`fill_unvoiced`."""

UNVOICED_F0_HZ = DEFAULT_F0_HZ
"""f0 used for a clip with no voiced frame at all (any value works: it is silent or noise)."""


def exp_sigmoid(x: np.ndarray) -> np.ndarray:
    """``2 * sigmoid(x) ** ln(10) + 1e-7``: positive, log-like slope, saturates at 2."""
    x = np.asarray(x, dtype=np.float64)
    # -logaddexp(0, -x) is log(sigmoid(x)) without overflow for large |x|.
    return EXP_SIGMOID_MAX * np.exp(EXP_SIGMOID_EXPONENT * -np.logaddexp(0.0, -x)) + EXP_SIGMOID_FLOOR


def scale_f0(f0_hz: np.ndarray) -> np.ndarray:
    """Decoder input ``midi(f0) / F0_MIDI_SCALE`` (fill unvoiced frames first)."""
    return hz_to_midi(f0_hz) / F0_MIDI_SCALE


def scale_loudness(loudness_db: np.ndarray) -> np.ndarray:
    """Decoder input ``loudness_db / LOUDNESS_SCALE_DB + 1`` (floor -80 dB -> 0, 0 dB -> 1)."""
    return np.asarray(loudness_db, dtype=np.float64) / LOUDNESS_SCALE_DB + 1.0


def fill_unvoiced(
    f0_hz: np.ndarray,
    confidence: np.ndarray,
    threshold: float = CONFIDENCE_THRESHOLD,
    default_hz: float = UNVOICED_F0_HZ,
) -> np.ndarray:
    """Replace unvoiced frames' f0 by the nearest voiced frame's (ties go to the earlier frame).

    A clip with no voiced frame gets ``default_hz`` everywhere. Works on [T] or [..., T].
    """
    f0 = np.asarray(f0_hz, dtype=np.float64)
    voiced = (np.asarray(confidence) >= threshold) & (f0 > 0)
    if f0.ndim > 1:
        flat_f0, flat_v = f0.reshape(-1, f0.shape[-1]), voiced.reshape(-1, f0.shape[-1])
        rows = [
            fill_unvoiced(a, v.astype(float), 0.5, default_hz) for a, v in zip(flat_f0, flat_v, strict=False)
        ]
        return np.stack(rows).reshape(f0.shape)
    if not voiced.any():
        return np.full_like(f0, default_hz)
    idx = np.flatnonzero(voiced)
    t = np.arange(f0.shape[0])
    # For each frame, the voiced frame to its right (or the last) and to its left (or the first).
    right = idx[np.minimum(np.searchsorted(idx, t), idx.size - 1)]
    left = idx[np.maximum(np.searchsorted(idx, t, side="right") - 1, 0)]
    nearest = np.where(np.abs(t - left) <= np.abs(right - t), left, right)
    return f0[nearest]


def remove_above_nyquist(f0_hz: np.ndarray, distribution: np.ndarray) -> np.ndarray:
    """Zero harmonic k (1-based) of frame t where ``k * f0[t] >= SAMPLE_RATE / 2``.

    ``f0_hz`` is [..., T] (or [..., T, 1]); ``distribution`` is [..., T, K].
    """
    dist = np.asarray(distribution, dtype=np.float64)
    f0 = np.asarray(f0_hz, dtype=np.float64)
    if f0.ndim == dist.ndim:
        f0 = f0[..., 0]
    k = np.arange(1, dist.shape[-1] + 1, dtype=np.float64)
    return np.where(f0[..., None] * k < SAMPLE_RATE / 2.0, dist, 0.0)


def renormalise(distribution: np.ndarray) -> np.ndarray:
    """Scale each frame's distribution to sum 1 (an all-zero frame stays zero)."""
    dist = np.asarray(distribution, dtype=np.float64)
    total = dist.sum(axis=-1, keepdims=True)
    return np.where(total > 0, dist / np.where(total > 0, total, 1.0), 0.0)


def harmonic_amplitudes(f0_hz: np.ndarray, amplitude: np.ndarray, distribution: np.ndarray) -> np.ndarray:
    """Per-harmonic amplitudes [..., T, K] = amplitude * renormalise(remove_above_nyquist(distribution))."""
    amp = np.asarray(amplitude, dtype=np.float64)
    dist = np.asarray(distribution, dtype=np.float64)
    if amp.ndim == dist.ndim - 1:
        amp = amp[..., None]
    return amp * renormalise(remove_above_nyquist(f0_hz, dist))
