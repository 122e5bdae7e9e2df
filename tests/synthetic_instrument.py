"""A toy 'instrument' rendered with the kit's own synth, with exact features (test/benchmark data).

Pitch glides and vibrato, a loudness-dependent spectral tilt (brighter when louder, like a wind
instrument), breath noise that follows loudness, and short rests. Features are analytic: f0 is
known, loudness is the windowed mean-square power in dB (floored), confidence is 0 in rests.
"""

from __future__ import annotations

import numpy as np

from sounds_kit.conventions import HOP_SIZE, LOUDNESS_FLOOR_DB, n_frames
from sounds_kit.dsp import synth


def smooth(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """Unit-scale smooth random curve of n frames (Gaussian-kernel filtered noise)."""
    k = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    x = np.convolve(rng.standard_normal(n + 6 * width), k / np.sqrt(np.sum(k**2)), "valid")
    return x[:n]


def loudness_db(audio: np.ndarray) -> np.ndarray:
    """Mean-square power in dB of a 512-sample window centred on each frame."""
    t = n_frames(audio.size)
    x = np.pad(audio.astype(np.float64), (256, 256 + HOP_SIZE))
    frames = np.lib.stride_tricks.sliding_window_view(x, 512)[::HOP_SIZE][:t]
    return np.maximum(10 * np.log10(np.mean(frames**2, axis=1) + 1e-12), LOUDNESS_FLOOR_DB).astype(np.float32)


def toy_instrument(seconds: float, seed: int = 0, n_harmonics: int = 30, n_bands: int = 16) -> dict:
    """One clip: dict(audio [N], f0_hz, f0_confidence, loudness_db [T]) with N = round(seconds * sr)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * 16000 / HOP_SIZE)) * HOP_SIZE
    t = n_frames(n)
    time = np.arange(t) / 250.0
    base = 220.0 * 2 ** (rng.integers(-5, 8) / 12)
    f0 = base * 2 ** (0.25 * smooth(rng, t, 60) / 12 * 12 / 4 + 0.015 * np.sin(2 * np.pi * 5.5 * time))
    level = np.clip(0.5 + 0.25 * smooth(rng, t, 40), 0.05, 1.0)
    rest = (np.sin(2 * np.pi * time / rng.uniform(1.5, 2.5) + rng.uniform(0, 6)) > 0.85).astype(float)
    gate = np.convolve(1 - rest, np.ones(15) / 15, "same")
    amp = 0.3 * level * gate
    k = np.arange(1, n_harmonics + 1)
    tilt = 1.5 - 1.0 * level  # louder -> brighter
    dist = np.exp(-np.outer(tilt, np.log(k)) * 2.0) * (1 + 0.3 * (k % 2 == 1))
    noise = 0.004 * (level * gate)[:, None] * np.exp(-np.arange(n_bands) / 6.0)[None, :]
    ctl = dict(f0_hz=f0, amplitude=amp[:, None], harmonic_distribution=dist, noise_magnitudes=noise)
    audio = synth.synthesize(ctl, n_samples=n).astype(np.float32)
    return {
        "audio": audio,
        "f0_hz": f0.astype(np.float32),
        "f0_confidence": (gate > 0.5).astype(np.float32),
        "loudness_db": loudness_db(audio),
    }


def toy_examples(count: int, seconds: float = 1.0, seed: int = 0) -> list[dict]:
    return [toy_instrument(seconds, seed * 1000 + i) for i in range(count)]
