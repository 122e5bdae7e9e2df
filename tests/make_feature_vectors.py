"""Shared feature test vectors: short signals plus the Python features the browser must reproduce.

``python tests/make_feature_vectors.py`` rewrites ``widgets/test/vectors/features.json``; the JS
tests (``widgets/test/features.test.js``) read it, and ``tests/test_feature_vectors.py`` checks
the committed file still matches :mod:`sounds_kit.dsp.features`. Signals are stored exactly, as
base64 little-endian float32, so both languages analyse the same samples.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np

from sounds_kit.conventions import FRAME_RATE, HOP_SIZE, SAMPLE_RATE
from sounds_kit.dsp.features import compute_features

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "widgets" / "test" / "vectors" / "features.json"
SEED = 20_240_601
_DIGITS = 8  # significant digits kept in the JSON: far finer than the parity tolerances


def _time(seconds: float) -> np.ndarray:
    return np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def _harmonic(f0: np.ndarray, n_harmonics: int, rolloff: float = 1.0) -> np.ndarray:
    """Harmonic tone following an f0 track (Hz per sample), harmonics above Nyquist left out."""
    phase = 2.0 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    out = np.zeros_like(phase)
    for k in range(1, n_harmonics + 1):
        out += np.where(k * f0 < SAMPLE_RATE / 2, np.sin(k * phase + 0.3 * k) / k**rolloff, 0.0)
    return out


def make_signals() -> list[tuple[str, str, np.ndarray]]:
    """(name, description, float32 audio at SAMPLE_RATE) of every vector signal."""
    rng = np.random.default_rng(SEED)
    signals = []
    for f in (82.0, 440.0, 1760.0):
        t = _time(0.25)
        signals.append((f"sine_{f:g}hz", f"0.5-amplitude sine at {f:g} Hz", 0.5 * np.sin(2 * np.pi * f * t)))
    t = _time(0.5)
    vibrato = 300.0 * 2.0 ** (0.5 / 12.0 * np.sin(2.0 * np.pi * 5.5 * t))
    signals.append(("vibrato_300hz", "8 harmonics, 300 Hz +-50 cents at 5.5 Hz", 0.3 * _harmonic(vibrato, 8)))
    tone = 0.3 * _harmonic(np.full(len(t), 220.0), 10) + 0.03 * rng.standard_normal(len(t))
    signals.append(("harmonic_noise_220hz", "10 harmonics at 220 Hz plus white noise ~-20 dB", tone))
    t = _time(0.3)
    onset = 0.4 * _harmonic(np.full(len(t), 660.0), 5) * np.minimum(1.0, t / 0.01)
    signals.append(("silence_then_tone", "0.2 s of zeros, then a 660 Hz tone", np.concatenate([np.zeros(3200), onset])))
    signals.append(("quiet_noise", "white noise at -40 dBFS RMS", 0.01 * rng.standard_normal(4000)))
    # Where the pitch path decides: a choir-like tone whose dip at half the period competes (weak
    # fundamental, three detuned voices), then a leap across a breath-like noise gap.
    t = _time(0.3)
    detune = [2.0 ** (c / 1200.0) for c in (-8.0, 0.0, 9.0)]
    choir = sum(
        0.15 * _harmonic(np.full(len(t), 262.0 * d), 1) + _harmonic(np.full(len(t), 524.0 * d), 6) for d in detune
    )
    signals.append(("choir_weak_fundamental", "3 voices at 262 Hz +-9 cents, fundamental -16 dB", 0.12 * choir))
    n = len(_time(0.12))
    breath = np.convolve(rng.standard_normal(n), np.hanning(9), mode="same") * np.hanning(n)
    leap = np.concatenate([0.3 * _harmonic(np.full(n, 196.0), 8), 0.02 * breath, 0.3 * _harmonic(np.full(n, 523.0), 8)])
    signals.append(("leap_over_breath", "196 Hz, a breath-like noise gap, 523 Hz (0.12 s each)", leap))
    return [(name, desc, audio.astype(np.float32)) for name, desc, audio in signals]


def _rounded(values: np.ndarray) -> list[float]:
    return [float(f"{float(v):.{_DIGITS}g}") for v in np.asarray(values, dtype=np.float32)]


def build_vectors() -> dict:
    """The JSON-ready vectors: each signal with its Python features."""
    entries = []
    for name, desc, audio in make_signals():
        feats = compute_features(audio)
        entries.append(
            {
                "name": name,
                "description": desc,
                "n_samples": int(len(audio)),
                "audio_f32le_base64": base64.b64encode(audio.astype("<f4").tobytes()).decode("ascii"),
                "f0_hz": _rounded(feats["f0_hz"]),
                "f0_confidence": _rounded(feats["f0_confidence"]),
                "loudness_db": _rounded(feats["loudness_db"]),
            }
        )
    return {
        "generator": "python tests/make_feature_vectors.py",
        "sample_rate": SAMPLE_RATE,
        "hop_size": HOP_SIZE,
        "frame_rate": FRAME_RATE,
        "signals": entries,
    }


def decode_audio(entry: dict) -> np.ndarray:
    """The float32 samples of one stored signal."""
    return np.frombuffer(base64.b64decode(entry["audio_f32le_base64"]), dtype="<f4").astype(np.float32)


def write_vectors(path: str | Path = DEFAULT_PATH) -> Path:
    """Regenerate the vectors file (compact JSON, one signal per line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = build_vectors()
    head = {k: v for k, v in data.items() if k != "signals"}
    lines = [json.dumps(s, separators=(",", ":")) for s in data["signals"]]
    text = json.dumps(head, separators=(",", ":"))[:-1] + ',"signals":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text)
    return path


if __name__ == "__main__":  # pragma: no cover - build helper
    out = write_vectors(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")
