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

PITCH_TRACKER = {
    # The pitch path over YIN candidates (docs/design.md, "Features"; sounds_kit/dsp/pitch_tracker.py). Costs are
    # in units of the cumulative mean normalised difference (cmnd): 0 = perfectly periodic, 1 = noise.
    "max_candidates": 6,  # dips of cmnd kept per frame (the lowest-cost ones)
    "candidate_max_cmnd": 0.8,  # dips shallower than this are no candidates
    "octave_prior": 0.02,  # cost per octave of lag above the frame's deepest dip (favours the shorter lag)
    "subharmonic_penalty": 0.1,  # added to a dip at k x the lag of another dip at most ...
    "subharmonic_margin": 0.03,  # ... this much shallower than it (k >= 2): the longer one is its multiple
    "subharmonic_tolerance": 0.03,  # |k * shorter - longer| <= this x longer counts as a multiple
    "jump_cost": 1.5,  # cost per octave of pitch change between consecutive frames
    "voicing_cost": 0.8,  # cost of switching between voiced and unvoiced (hysteresis)
    "unvoiced_cost_quiet": 0.2,  # cost of calling a frame unvoiced when it is quiet for the take ...
    "unvoiced_cost_loud": 0.3,  # ... and when it is loud for the take (singing is loud, breath is quiet)
    "quiet_below_db": -30.0,  # loudness relative to the running peak where "quiet" starts ...
    "loud_above_db": -12.0,  # ... and "loud" ends (linear in between)
    "peak_decay_db": 0.02,  # the running loudness peak falls this much per frame (5 dB/s)
    "path_lag_frames": 1,  # frames the path decision waits for (streaming latency: one hop)
    "confidence_margin": 0.01,  # voiced frames report confidence >= VOICED_CONFIDENCE + this, unvoiced <= - this
}
"""Pitch-path parameters, chosen on takes 1 and 2 of the stand-in set (the benchmark scores take 0)."""

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

NOISE_CROSSFADE = 512
"""The noise table is read in segments of NOISE_TABLE_SIZE samples, each from its own pseudo-random
start (so the noise never repeats every 2 s); consecutive segments overlap by this many samples with an
equal-power crossfade, so the seams are as smooth as the noise itself (design.md, "Synth")."""

VOICED_CONFIDENCE = 0.5
"""A frame is voiced when its f0 confidence is at least this (``is_voiced``): decoder inputs, tone fitting,
metrics, plots and the browser all use this one cut."""

DEFAULT_F0_HZ = 220.0
"""f0 given to frames before the first voiced one (the decoder needs some pitch there)."""

A4_HZ = 440.0
"""Tuning reference: MIDI note ``A4_MIDI`` sounds at this frequency."""

A4_MIDI = 69.0
"""MIDI note number of A4."""

FIT_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Loudness quantiles that tone fitting maps between (voice -> instrument), stored in stats/metadata."""

RAGAS = {
    # Swaras as semitones above Sa (12 = upper Sa, negative = lower octave). ``scale`` is what the pitch
    # trace draws; aroha/avaroha/vadi/samvadi shape the demo melodies. One list for widget, guide and data.
    # Yaman (Kalyan thaat): tivra Ma; aroha usually starts from mandra Ni.
    "yaman": {"label": "Yaman", "aroha": [-1, 2, 4, 6, 9, 11, 12], "avaroha": [12, 11, 9, 7, 6, 4, 2, 0],
              "vadi": 4, "samvadi": 11},
    # Bhairav: komal Re and komal Dha (sung with andolan), shuddha Ga and Ni.
    "bhairav": {"label": "Bhairav", "aroha": [0, 1, 4, 5, 7, 8, 11, 12], "avaroha": [12, 11, 8, 7, 5, 4, 1, 0],
                "vadi": 8, "samvadi": 1},
    # Bhupali: pentatonic S R G P D.
    "bhupali": {"label": "Bhupali", "aroha": [0, 2, 4, 7, 9, 12], "avaroha": [12, 9, 7, 4, 2, 0],
                "vadi": 4, "samvadi": 9},
    # Kafi: komal Ga and komal Ni.
    "kafi": {"label": "Kafi", "aroha": [0, 2, 3, 5, 7, 9, 10, 12], "avaroha": [12, 10, 9, 7, 5, 3, 2, 0],
             "vadi": 7, "samvadi": 0},
    # Bhimpalasi: aroha skips Re and Dha.
    "bhimpalasi": {"label": "Bhimpalasi", "aroha": [-2, 0, 3, 5, 7, 10, 12],
                   "avaroha": [12, 10, 9, 7, 5, 3, 2, 0], "vadi": 5, "samvadi": 0},
    # Malkauns: pentatonic S g M d n.
    "malkauns": {"label": "Malkauns", "aroha": [0, 3, 5, 8, 10, 12], "avaroha": [12, 10, 8, 5, 3, 0],
                 "vadi": 5, "samvadi": 0},
}
for _raga in RAGAS.values():
    _raga["scale"] = sorted({s % 12 for s in _raga["aroha"] + _raga["avaroha"]})
RAGAS["chromatic"] = {"label": "All 12 (chromatic)", "aroha": list(range(13)), "avaroha": list(range(12, -1, -1)),
                      "vadi": 0, "samvadi": 7, "scale": list(range(12))}
DEFAULT_RAGA = "yaman"

ROOM = {
    # The default room every instrument plays in (switchable: "dry"). Its impulse response is built the same
    # way in Python and JS from these numbers (sounds_kit/dsp/room.py, widgets/src/dsp/room.js), so no audio
    # file ships: seeded white noise split by a one-pole low-pass into a warm part that decays over
    # ``rt60_s`` and a bright part that decays over ``bright_rt60_s``, silent for ``predelay_s``, scaled
    # to unit energy times ``wet_db``.
    "seconds": 0.6,
    "rt60_s": 0.45,
    "bright_rt60_s": 0.15,
    "lowpass": 0.25,
    "predelay_s": 0.008,
    "wet_db": -14.0,
    "seed": 4321,
}

GATE = {
    # Note on/off for tone transfer: a note lasts while frames are voiced plus ``hold_s`` (bridging short
    # unvoiced gaps such as consonants); in a rest the instrument's amplitude and noise fade with time
    # constant ``release_s`` (sounds_kit/dsp/gate.py, widgets/src/dsp/gate.js), so rests stay rests.
    "hold_s": 0.04,
    "release_s": 0.06,
}

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
    "pitch_tracker": PITCH_TRACKER,
    "loudness_n_fft": LOUDNESS_N_FFT,
    "loudness_floor_db": LOUDNESS_FLOOR_DB,
    "voiced_loudness_db": VOICED_LOUDNESS_DB,
    "f0_midi_scale": F0_MIDI_SCALE,
    "loudness_scale_db": LOUDNESS_SCALE_DB,
    "noise_table_size": NOISE_TABLE_SIZE,
    "noise_seed": NOISE_SEED,
    "noise_crossfade": NOISE_CROSSFADE,
    "room": ROOM,
    "gate": GATE,
    "voiced_confidence": VOICED_CONFIDENCE,
    "default_f0_hz": DEFAULT_F0_HZ,
    "a4_hz": A4_HZ,
    "a4_midi": A4_MIDI,
    "fit_probs": list(FIT_PROBS),
    "ragas": RAGAS,
    "default_raga": DEFAULT_RAGA,
}


def n_frames(n_samples: int) -> int:
    """Frames for a clip of ``n_samples``: frame i is centred on sample i * HOP_SIZE."""
    return int(n_samples) // HOP_SIZE + 1


def is_voiced(confidence):
    """Voicing decision from f0 confidence (scalar or array): ``confidence >= VOICED_CONFIDENCE``."""
    import numpy as np

    return np.asarray(confidence) >= VOICED_CONFIDENCE


def hz_to_midi(f_hz):
    """MIDI note number (``A4_MIDI`` = ``A4_HZ``); frequencies are clipped to 1e-3 Hz so zeros stay finite."""
    import numpy as np

    f = np.maximum(np.asarray(f_hz, dtype=np.float64), 1e-3)
    return A4_MIDI + 12.0 * np.log2(f / A4_HZ)


def midi_to_hz(midi):
    """Frequency (Hz) of a MIDI note number, fractional notes allowed."""
    import numpy as np

    return A4_HZ * 2.0 ** ((np.asarray(midi, dtype=np.float64) - A4_MIDI) / 12.0)


MODEL_KEYS = (
    "sample_rate", "hop_size", "frame_rate", "f0_min_hz", "f0_max_hz", "yin_window", "pitch_tracker",
    "loudness_n_fft", "loudness_floor_db", "voiced_loudness_db", "f0_midi_scale", "loudness_scale_db",
    "noise_table_size", "noise_seed",
)  # fmt: skip
"""The conventions a trained model depends on (how its inputs were measured, how its outputs are played);
an export records these, and the browser refuses a model whose values differ from the kit's."""


def model_conventions() -> dict:
    """The subset of :func:`as_dict` an exported instrument records (``MODEL_KEYS``)."""
    return {k: DEFAULTS[k] for k in MODEL_KEYS}


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
