"""Note on/off for tone transfer: rests of the voice stay rests in the instrument.

Without it, breath and room noise between phrases drive the decoder at a held pitch and the instrument
hums or hisses through every rest. The gate is causal (no look-ahead), so the browser's Live path runs
the same rule frame by frame (twin: widgets/src/dsp/gate.js).
"""

from __future__ import annotations

import numpy as np

from sounds_kit.conventions import FRAME_RATE, GATE, is_voiced


def gate_constants() -> tuple[int, float]:
    """(hold in frames, per-frame release factor) from ``conventions.GATE``."""
    hold = int(round(GATE["hold_s"] * FRAME_RATE))
    return hold, float(np.exp(-1.0 / (GATE["release_s"] * FRAME_RATE)))


def note_gate(confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: (gain in [0, 1], in_note). A frame is in a note when it is voiced or at most
    ``hold`` frames after a voiced one; there the gain is 1, elsewhere it decays by the release factor
    each frame (from 1 at the end of a note; a clip starts in a rest at gain 0)."""
    voiced = is_voiced(confidence)
    hold, release = gate_constants()
    gain = np.empty(voiced.shape[0])
    in_note = np.empty(voiced.shape[0], dtype=bool)
    g, since = 0.0, hold + 1
    for t, v in enumerate(voiced):  # a frame-rate loop, written as the JS one (and the live path) runs it
        since = 0 if v else since + 1
        in_note[t] = since <= hold
        g = 1.0 if in_note[t] else g * release
        gain[t] = g
    return gain, in_note
