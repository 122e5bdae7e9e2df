"""Fit a voice to an instrument (tone transfer's "auto-adjust"), twin of widgets/src/dsp/tone_fit.js.

* pitch: shift f0 by whole octaves toward the instrument's mean pitch (plus a manual shift);
* loudness: map the voice's loudness quantiles onto the instrument's, piecewise-linearly.

Both profiles are over voiced frames. The voice's is computed here (:func:`profile`); the instrument's
is the ``fit`` entry of its dataset's stats.json (``data.dataset.summarize_stats``, from histograms that
Beam workers merge), which export copies into the instrument's metadata.
"""

from __future__ import annotations

import numpy as np

from sounds_kit.conventions import FIT_PROBS, LOUDNESS_FLOOR_DB, hz_to_midi, is_voiced
from sounds_kit.dsp.gate import note_gate


def profile(f0_hz: np.ndarray, confidence: np.ndarray, loudness_db: np.ndarray) -> dict | None:
    """``{"meanMidi", "loudness": {"probs", "db"}}`` over voiced frames; None if nothing is voiced."""
    f0 = np.asarray(f0_hz, np.float64)
    voiced = is_voiced(confidence) & (f0 > 0)
    if not voiced.any():
        return None
    loud = np.sort(np.asarray(loudness_db, np.float64)[voiced])
    return {
        "meanMidi": float(np.mean(hz_to_midi(f0[voiced]))),
        # Linear interpolation between order statistics, as the JS quantile() does.
        "loudness": {"probs": list(FIT_PROBS), "db": [float(np.quantile(loud, p)) for p in FIT_PROBS]},
    }


def octave_shift(voice: dict | None, instrument: dict | None, manual: int = 0) -> int:
    if voice is None or instrument is None:
        return int(manual)
    return int(np.round((instrument["meanMidi"] - voice["meanMidi"]) / 12.0)) + int(manual)


def map_loudness(db: np.ndarray, voice_q: list[float], inst_q: list[float]) -> np.ndarray:
    """Piecewise-linear quantile map; beyond the outer quantiles, shift by the edge offset."""
    db = np.asarray(db, np.float64)
    vq, iq = np.asarray(voice_q, np.float64), np.asarray(inst_q, np.float64)
    inside = np.interp(db, vq, iq)
    below = db + (iq[0] - vq[0])
    above = db + (iq[-1] - vq[-1])
    return np.where(db <= vq[0], below, np.where(db >= vq[-1], above, inside))


def fit_features(features: dict, stats: dict | None, auto_fit: bool = True, manual_octaves: int = 0) -> dict:
    """Features moved into the instrument's range: ``{"f0_hz", "loudness_db", "octaves", "gate"}``.

    Loudness in notes maps through the quantiles; in rests (:func:`sounds_kit.dsp.gate.note_gate`) it
    only shifts by the loud-end offset, so a rest is never lifted above the voice's own level relative
    to its loud notes. ``gate`` is the gain the synth's amplitudes are multiplied by.
    """
    inst = (stats or {}).get("fit")
    voice = profile(features["f0_hz"], features["f0_confidence"], features["loudness_db"]) if auto_fit else None
    octaves = octave_shift(voice, inst, manual_octaves) if auto_fit else int(manual_octaves)
    f0 = np.asarray(features["f0_hz"], np.float64) * 2.0**octaves
    loud = np.asarray(features["loudness_db"], np.float64)
    gain, in_note = note_gate(features["f0_confidence"])
    if auto_fit and voice is not None and inst is not None:
        vq, iq = voice["loudness"]["db"], inst["loudness"]["db"]
        mapped = np.where(in_note, map_loudness(loud, vq, iq), loud + (iq[-1] - vq[-1]))
        loud = np.where(loud <= LOUDNESS_FLOOR_DB, loud, np.maximum(LOUDNESS_FLOOR_DB, mapped))
    return {"f0_hz": f0, "loudness_db": loud, "octaves": octaves, "gate": gain}


def fit_profile_from_dataset_stats(stats: dict) -> dict | None:
    """The instrument's fit profile from a dataset's stats.json (None when it has no voiced frames)."""
    if not stats:
        return None
    if "fit" in stats:
        return stats["fit"]
    return None
