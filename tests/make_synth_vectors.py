"""Shared test vectors for the JS synth: controls and what sounds_kit.dsp.synth renders from them.

``python tests/make_synth_vectors.py`` rewrites ``widgets/test/vectors/synth.json``; a pytest checks
the committed file is current, and ``node --test`` checks the JS synth against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from sounds_kit.conventions import NOISE_SEED, NOISE_TABLE_SIZE
from sounds_kit.dsp import synth
from sounds_kit.dsp.gate import note_gate
from sounds_kit.dsp.room import room_ir

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "widgets" / "test" / "vectors" / "synth.json"


def _case(name: str, rng: np.random.Generator, n_frames: int, k: int, b: int, offset: int, f0: np.ndarray) -> dict:
    amplitude = rng.uniform(0.05, 0.5, n_frames)
    dist = rng.uniform(0.0, 1.0, (n_frames, k)) ** 3
    mags = rng.uniform(0.0, 0.02, (n_frames, b)) if b else None
    controls = {"f0_hz": f0, "amplitude": amplitude, "harmonic_distribution": dist}
    if mags is not None:
        controls["noise_magnitudes"] = mags
    audio = synth.synthesize(controls, offset=offset, reverb=False)
    r = lambda x: np.round(np.asarray(x, np.float64), 9).ravel().tolist()  # noqa: E731 - compact JSON
    return {
        "name": name, "n_harmonics": k, "n_bands": b, "offset": offset,
        "f0_hz": r(f0), "amplitude": r(amplitude), "harmonic_distribution": r(dist),
        "noise_magnitudes": None if mags is None else r(mags), "audio": r(audio),
    }  # fmt: skip


def build() -> dict:
    rng = np.random.default_rng(7)
    t = 40
    glide = np.linspace(180.0, 950.0, t)  # crosses Nyquist cut-offs for high harmonics
    steady = np.full(t, 440.0)
    high = np.linspace(1500.0, 2000.0, t)
    first_bins = synth.noise_table(4)[:, :64]
    gate_conf = np.clip(np.sin(np.arange(120) / 7.0) + rng.uniform(-0.3, 0.3, 120), 0.0, 1.0)
    return {
        "noise_seed": NOISE_SEED,
        "noise_table_size": NOISE_TABLE_SIZE,
        "mulberry32_first": synth.mulberry32(NOISE_SEED, 16).astype(np.int64).tolist(),
        "noise_table_4_bands_first_64": np.round(first_bins, 12).tolist(),
        "room_ir_every_8th": np.round(room_ir()[::8], 12).tolist(),
        "room_ir_length": len(room_ir()),
        "gate_confidence": np.round(gate_conf, 6).tolist(),
        "gate_gain": np.round(note_gate(gate_conf)[0], 12).tolist(),
        "cases": [
            _case("glide_harmonics_only", rng, t, 24, 0, 0, glide),
            _case("steady_with_noise", rng, t, 16, 8, 0, steady),
            _case("high_with_noise_offset", rng, t, 12, 16, 32_000, high),
        ],
    }


def write(path: str | Path = DEFAULT_PATH) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build(), separators=(",", ":")) + "\n")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write(*sys.argv[1:]))
