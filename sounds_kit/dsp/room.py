"""The room: a short, fixed impulse response every instrument plays in by default (``dry`` turns it off).

The shipped instruments were trained on dry renders, so without a room they sound like a close mic in a
dead studio. The impulse response is generated from ``conventions.ROOM`` (twin: widgets/src/dsp/room.js)
rather than shipped as audio: a few numbers instead of kilobytes, identical in both languages.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sounds_kit.conventions import ROOM, SAMPLE_RATE
from sounds_kit.dsp.synth import mulberry32_uniform

_LN_1000 = float(np.log(1000.0))  # RT60: the time to fall by 60 dB (a factor of 1000 in amplitude)


@lru_cache(maxsize=1)
def _room_ir() -> np.ndarray:
    n = int(round(ROOM["seconds"] * SAMPLE_RATE))
    white = 2.0 * mulberry32_uniform(ROOM["seed"], n) - 1.0
    warm = np.empty(n)
    state, a = 0.0, float(ROOM["lowpass"])
    for i in range(n):  # one-pole low-pass, written as the JS loop is, so both round alike
        state = state + a * (white[i] - state)
        warm[i] = state
    bright = white - warm
    t = np.arange(n) / SAMPLE_RATE
    ir = warm * np.exp(-_LN_1000 * t / ROOM["rt60_s"]) + bright * np.exp(-_LN_1000 * t / ROOM["bright_rt60_s"])
    ir[: int(round(ROOM["predelay_s"] * SAMPLE_RATE))] = 0.0
    ir *= 10.0 ** (ROOM["wet_db"] / 20.0) / np.sqrt(np.sum(ir**2))
    ir.setflags(write=False)
    return ir


def room_ir() -> np.ndarray:
    """The room's impulse response (float64, read-only): the wet path only; the dry signal passes as is."""
    return _room_ir()


def apply_room(audio: np.ndarray) -> np.ndarray:
    """``audio + (audio * room_ir)[:len(audio)]`` as float32 (the same rule as the synth's reverb)."""
    from sounds_kit.dsp.synth import apply_reverb

    return apply_reverb(np.asarray(audio, np.float64), room_ir()).astype(np.float32)
