"""Scores of a pitch track against a known truth (the MIDI of a stand-in singer).

One definition, used by ``benchmarks/pitch_tracking.py`` and the tests:

- truth-voiced frames V: a note sounds at the frame centre (truth f0 > 0); truth-silent frames S: none.
  Frames within 20 ms of a note start or end (``near_boundary``) are left out of both, for every
  tracker alike: there the analysis window holds two notes, or a note and silence.
- ``gross_error``: (frames of V voiced by the tracker more than 600 cents from the truth + frames of S
  voiced by the tracker) / |V|. The first part is the octave (and worse) errors, never folded away;
  the second the phantom notes in rests. Frames of V the tracker calls unvoiced are not in it: they
  are voicing misses, reported by ``voicing_recall``.
- ``median_cents``: median |cents| over frames of V the tracker voices (includes gross errors).
- ``voicing_recall`` = voiced frames of V / |V|; ``false_alarm`` = voiced frames of S / |S|.
"""

from __future__ import annotations

import numpy as np

GROSS_CENTS = 600.0


def score(
    f0_hz: np.ndarray, voiced: np.ndarray, truth_f0_hz: np.ndarray, near_boundary: np.ndarray | None = None
) -> dict[str, float]:
    """The scores above for one clip (all arrays per frame, the same length)."""
    f0 = np.asarray(f0_hz, np.float64)
    voiced = np.asarray(voiced, bool) & (f0 > 0)
    truth = np.asarray(truth_f0_hz, np.float64)
    if not (len(f0) == len(voiced) == len(truth)):
        raise ValueError(f"frame counts differ: estimate {len(f0)}, voicing {len(voiced)}, truth {len(truth)}")
    keep = np.ones(len(truth), bool) if near_boundary is None else ~np.asarray(near_boundary, bool)
    v = keep & (truth > 0)
    s = keep & (truth <= 0)
    hit = v & voiced
    cents = np.zeros(len(f0))
    cents[hit] = 1200.0 * np.log2(f0[hit] / truth[hit])
    far = hit & (np.abs(cents) > GROSS_CENTS)
    n_v, n_s = int(v.sum()), int(s.sum())
    return {
        "gross_error": float((far.sum() + (s & voiced).sum()) / max(n_v, 1)),
        "octave_or_worse": float(far.sum() / max(n_v, 1)),
        "phantom": float((s & voiced).sum() / max(n_v, 1)),
        "median_cents": float(np.median(np.abs(cents[hit]))) if hit.any() else float("nan"),
        "voicing_recall": float(hit.sum() / max(n_v, 1)),
        "false_alarm": float((s & voiced).sum() / max(n_s, 1)),
        "n_voiced": n_v,
        "n_silent": n_s,
    }


def pooled(scores: list[dict[str, float]]) -> dict[str, float]:
    """Frame-weighted pool of several clips' scores (medians pooled as a voiced-frame-weighted mean)."""
    n_v = sum(s["n_voiced"] for s in scores)
    n_s = sum(s["n_silent"] for s in scores)
    out = {"n_voiced": n_v, "n_silent": n_s}
    for key in ("gross_error", "octave_or_worse", "phantom", "voicing_recall", "median_cents"):
        out[key] = float(sum(s[key] * s["n_voiced"] for s in scores) / max(n_v, 1))
    out["false_alarm"] = float(sum(s["false_alarm"] * s["n_silent"] for s in scores) / max(n_s, 1))
    return out
