"""The one definition of the kit's audio conventions.

Python reads these constants directly; the browser reads the same numbers from
``conventions.json``, which :func:`write_json` generates at build time
(``python -m sounds_kit.conventions widgets/src/conventions.json``). A test
checks that the committed JSON matches this module, so the two cannot drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SAMPLE_RATE = 16_000
"""Every model and feature works at this rate (Hz), mono."""

HOP_SIZE = 64
"""Samples between feature frames."""

FRAME_RATE = SAMPLE_RATE // HOP_SIZE  # 250 frames per second
"""Feature/control frames per second."""

F0_MIN_HZ = 65.0
"""Lowest pitch the tracker reports (C2); below the lowest sung male note."""

F0_MAX_HZ = 2000.0
"""Highest pitch the tracker reports; above a bansuri's top note."""

YIN_WINDOW = 512
"""YIN integration window (samples); the lag range on top of it reaches 1 / F0_MIN_HZ."""

YIN_THRESHOLD = 0.15
"""YIN absolute threshold on the cumulative mean normalised difference."""

LOUDNESS_N_FFT = 512
"""Window (periodic Hann) for the A-weighted loudness, centred on each frame."""

LOUDNESS_FLOOR_DB = -80.0
"""Loudness floor (dB re full-scale mean square)."""

VOICED_LOUDNESS_DB = -60.0
"""Frames quieter than this are never called voiced, whatever the tracker says."""

F0_MIDI_SCALE = 127.0
"""Decoder input: f0 in MIDI note numbers divided by this."""

LOUDNESS_SCALE_DB = 80.0
"""Decoder input: loudness_db / this + 1 (so the floor maps to 0 and 0 dB to 1)."""

NOISE_TABLE_SIZE = 32_768
"""Samples in the synth's fixed band-noise table (about 2 s; it loops)."""

NOISE_SEED = 1234
"""Seed of the mulberry32 generator that builds the noise table (same in Python and JS)."""

DEFAULT_EXAMPLE_SECONDS = 4.0
"""Length of one training example."""

DEFAULT_EXAMPLE_HOP_SECONDS = 1.0
"""Hop between consecutive training examples cut from one source."""

DEFAULTS = {
    "sample_rate": SAMPLE_RATE,
    "hop_size": HOP_SIZE,
    "frame_rate": FRAME_RATE,
    "f0_min_hz": F0_MIN_HZ,
    "f0_max_hz": F0_MAX_HZ,
    "yin_window": YIN_WINDOW,
    "yin_threshold": YIN_THRESHOLD,
    "loudness_n_fft": LOUDNESS_N_FFT,
    "loudness_floor_db": LOUDNESS_FLOOR_DB,
    "voiced_loudness_db": VOICED_LOUDNESS_DB,
    "f0_midi_scale": F0_MIDI_SCALE,
    "loudness_scale_db": LOUDNESS_SCALE_DB,
    "noise_table_size": NOISE_TABLE_SIZE,
    "noise_seed": NOISE_SEED,
}


def n_frames(n_samples: int) -> int:
    """Frames for a clip of ``n_samples``: frame i is centred on sample i * HOP_SIZE."""
    return int(n_samples) // HOP_SIZE + 1


def as_dict() -> dict:
    """The conventions as a JSON-ready dict (what the browser reads)."""
    return dict(DEFAULTS)


def write_json(path: str | Path) -> Path:
    """Write the conventions for the JS side."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_dict(), indent=2) + "\n")
    return path


if __name__ == "__main__":  # pragma: no cover - build helper
    write_json(sys.argv[1] if len(sys.argv) > 1 else "widgets/src/conventions.json")
