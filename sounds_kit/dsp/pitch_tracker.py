"""The pitch path: which YIN dip (or none) each frame's pitch is, decided with a one-frame lag.

YIN's own rule (the first dip under a threshold) jumps an octave whenever a rich voice's dip at half
(or twice) the period crosses the threshold first. Here every frame offers several candidates - the
dips of its cumulative mean normalised difference (cmnd) - plus "unvoiced", and a Viterbi path over
frames picks one per frame:

- local cost of a dip: its cmnd, plus ``octave_prior`` per octave of lag above the frame's deepest dip
  (of two near-equal dips the shorter lag wins), plus ``subharmonic_penalty`` when a dip at an integer
  fraction of its lag is at most ``subharmonic_margin`` shallower (it is that dip's multiple);
- local cost of "unvoiced": between ``unvoiced_cost_quiet`` and ``unvoiced_cost_loud``, by the frame's
  loudness relative to a running peak that falls ``peak_decay_db`` per frame: a breath 25 dB under the
  singing must be very periodic to be voiced, a sung note need only be fairly periodic;
- transitions: ``jump_cost`` per octave between dips of consecutive frames, ``voicing_cost`` to switch
  between voiced and unvoiced (hysteresis: a lone periodic frame in a rest does not pay for it).

Frames too quiet to voice (loudness < VOICED_LOUDNESS_DB) offer no dip. Frame t is decided when frame
t + ``path_lag_frames`` has been seen: the state the best path through that later frame passes through
(fixed-lag Viterbi; the last frames of a clip are decided by :meth:`PitchPath.finish`). Offline and
streaming analysis feed frames in the same order, so they decide identically.

The JS twin is ``widgets/src/dsp/pitch_path.js``; both do the same float64 operations in the same order.
Everything here is per frame and small (a few candidates), so it is plain Python, not numpy.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sounds_kit.conventions import LOUDNESS_FLOOR_DB, PITCH_TRACKER, VOICED_LOUDNESS_DB

P = PITCH_TRACKER
MAX_CANDIDATES = int(P["max_candidates"])
PATH_LAG = int(P["path_lag_frames"])


@dataclass
class Candidates:
    """One frame's candidates: integer lags (ascending), dip depths (interpolated cmnd), interpolated lags
    and their log2, local costs; and the deepest cmnd of the frame (for an unvoiced frame's confidence)."""

    lags: list[int] = field(default_factory=list)
    cmnd: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    log_lag: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    min_cmnd: float = 1.0  # deepest cmnd in the lag range (whether or not a dip): the unvoiced confidence


def find_dips(cmnd: np.ndarray, diff: np.ndarray, tau_min: int, tau_max: int) -> list[tuple[list, list, list, float]]:
    """Each frame's dips: (integer lags, depths, interpolated lags, deepest cmnd in the lag range).

    ``cmnd`` and ``diff`` are [frames, lags 0..tau_max + 1] (or one frame's row). A dip is a lag in
    tau_min..tau_max strictly below its left neighbour and not above its right one. Its depth is the
    vertex value of a parabola through cmnd at lag - 1, lag, lag + 1 (at least 0; integer lags alone
    misjudge short periods: a 1175 Hz tone's dip at lag 13.6 reads ~0.1 at lag 14 but ~0 at lag 41),
    kept if under candidate_max_cmnd. Its interpolated lag is the vertex of a parabola through diff
    (shift clipped to +-0.5). Vectorised over frames; the JS loops over lags with the same operations.
    """
    cm = np.atleast_2d(np.asarray(cmnd, np.float64))[:, tau_min - 1 : tau_max + 2]
    d = np.atleast_2d(np.asarray(diff, np.float64))[:, tau_min - 1 : tau_max + 2]
    left, y, right = cm[:, :-2], cm[:, 1:-1], cm[:, 2:]
    bend = left - 2.0 * y + right
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(bend > 0.0, np.maximum(y - (left - right) ** 2 / (8.0 * bend), 0.0), y)
        curve = d[:, :-2] - 2.0 * d[:, 1:-1] + d[:, 2:]
        shift = np.where(curve > 0.0, 0.5 * (d[:, :-2] - d[:, 2:]) / curve, 0.0)
    dip = (y < left) & (y <= right) & (depth < P["candidate_max_cmnd"])
    frac = np.arange(tau_min, tau_max + 1) + np.clip(shift, -0.5, 0.5)
    deepest = y.min(axis=1)
    out = []
    for row in range(len(y)):
        cols = np.flatnonzero(dip[row])
        lags = (cols + tau_min).tolist()
        out.append((lags, depth[row, cols].tolist(), frac[row, cols].tolist(), float(deepest[row])))
    return out


def score_dips(lags: list[int], depths: list[float], fracs: list[float], min_cmnd: float) -> Candidates:
    """The candidates among a frame's dips with their local costs (see the module docstring)."""
    out = Candidates(min_cmnd=min_cmnd)
    if not lags:
        return out
    logs = [math.log2(f) for f in fracs]
    best = 0
    for i in range(1, len(depths)):
        if depths[i] < depths[best]:
            best = i
    prior = P["octave_prior"]
    pre = [depths[i] + prior * (logs[i] - logs[best]) for i in range(len(depths))]
    # keep the MAX_CANDIDATES cheapest (shorter lag first on ties), then back in lag order
    keep = sorted(sorted(range(len(pre)), key=lambda i: pre[i])[:MAX_CANDIDATES])
    out.lags = [lags[i] for i in keep]
    out.cmnd = [depths[i] for i in keep]
    out.lag = [fracs[i] for i in keep]
    out.log_lag = [logs[i] for i in keep]
    out.cost = [pre[i] for i in keep]
    penalty, margin, tol = P["subharmonic_penalty"], P["subharmonic_margin"], P["subharmonic_tolerance"]
    for a in range(len(keep)):
        for b in range(a):  # shorter lags only (the list is in lag order)
            k = math.floor(out.lag[a] / out.lag[b] + 0.5)
            if k >= 2 and abs(k * out.lag[b] - out.lag[a]) <= tol * out.lag[a] and out.cmnd[b] <= out.cmnd[a] + margin:
                out.cost[a] += penalty
                break
    return out


class PitchPath:
    """Fixed-lag Viterbi over frames of candidates. :meth:`step` takes frame t and returns the decision
    for frame t - PATH_LAG (or None while fewer frames have come); :meth:`finish` decides the rest.

    A decision is (frame index, state): state 0 is unvoiced, state s > 0 the (s-1)-th candidate.
    """

    def __init__(self) -> None:
        self.costs: list[float] | None = None  # path cost per state of the latest frame, min 0
        self.log_lags: list[float] = []
        self.back: deque[list[int]] = deque()  # backpointers of the last PATH_LAG frames
        self.frame = -1
        self.peak = LOUDNESS_FLOOR_DB

    def _unvoiced_cost(self, loudness_db: float) -> float:
        self.peak = max(loudness_db, self.peak - P["peak_decay_db"])
        lo, hi = P["quiet_below_db"], P["loud_above_db"]
        w = min(max((loudness_db - self.peak - lo) / (hi - lo), 0.0), 1.0)
        return P["unvoiced_cost_quiet"] + w * (P["unvoiced_cost_loud"] - P["unvoiced_cost_quiet"])

    def step(self, cands: Candidates, loudness_db: float) -> tuple[int, int] | None:
        self.frame += 1
        local = [self._unvoiced_cost(loudness_db)]
        if loudness_db >= VOICED_LOUDNESS_DB:
            local += cands.cost
        logs = cands.log_lag[: len(local) - 1]
        if self.costs is None:
            costs, back = list(local), [0] * len(local)
        else:
            jump, switch = P["jump_cost"], P["voicing_cost"]
            prev, prev_logs = self.costs, self.log_lags
            costs, back = [], []
            for j, cost_j in enumerate(local):
                best_i, best = 0, prev[0] + (switch if j > 0 else 0.0)
                for i in range(1, len(prev)):
                    c = prev[i] + (jump * abs(logs[j - 1] - prev_logs[i - 1]) if j > 0 else switch)
                    if c < best:
                        best_i, best = i, c
                costs.append(best + cost_j)
                back.append(best_i)
        low = min(costs)
        self.costs = [c - low for c in costs]
        self.log_lags = logs
        self.back.append(back)
        if len(self.back) <= PATH_LAG:
            return None
        state = self._trace(PATH_LAG)
        self.back.popleft()
        return self.frame - PATH_LAG, state

    def _trace(self, steps: int) -> int:
        """The state ``steps`` frames before the latest on the best path through the latest frame."""
        state = min(range(len(self.costs)), key=lambda s: self.costs[s])
        for k in range(steps):
            state = self.back[-1 - k][state]
        return state

    def finish(self) -> list[tuple[int, int]]:
        """Decisions for the frames still waiting (the last PATH_LAG), oldest first."""
        out = [(self.frame - k, self._trace(k)) for k in range(len(self.back) - 1, -1, -1)]
        self.back.clear()
        return out
