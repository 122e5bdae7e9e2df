"""Speed of the Python feature extractor (x real time) on 60 s of audio, one core.

    .venv/bin/python benchmarks/features_speed.py [--seconds 60] [--repeats 3]

Pins BLAS/FFT threads to one before numpy loads, so the figure is per core.
"""

from __future__ import annotations

import argparse
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

from sounds_kit.conventions import SAMPLE_RATE  # noqa: E402
from sounds_kit.dsp.features import compute_f0, compute_features, compute_loudness  # noqa: E402


def _test_signal(seconds: float) -> np.ndarray:
    """A gliding harmonic tone with noise and pauses: every code path, like a voice."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 220.0 * 2.0 ** (np.sin(2 * np.pi * 0.2 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 10))
    gate = (np.sin(2 * np.pi * 0.5 * t) > -0.3).astype(np.float64)
    return (0.2 * tone * gate + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def _best_time(fn, audio: np.ndarray, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(audio)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    audio = _test_signal(args.seconds)
    compute_features(audio[:SAMPLE_RATE])  # warm-up (FFT plans, imports)
    for name, fn in (("compute_features", compute_features), ("compute_f0", compute_f0),
                     ("compute_loudness", compute_loudness)):  # fmt: skip
        took = _best_time(fn, audio, args.repeats)
        print(f"{name:17s} {args.seconds:.0f} s of audio in {took:.3f} s = {args.seconds / took:6.1f}x real time")


if __name__ == "__main__":
    main()
