// The pitch path: which YIN dip (or none) each frame's pitch is, decided with a one-frame lag.
// The JS twin of sounds_kit/dsp/pitch_tracker.py (docs/design.md, "Features"): the same float64
// operations in the same order, so the browser decides as Python does. Parameters come from
// conventions.json ("pitch_tracker").

import conventions from "../conventions.json" with { type: "json" };

const P = conventions.pitch_tracker;
const VOICED_DB = conventions.voiced_loudness_db;
const FLOOR_DB = conventions.loudness_floor_db;
export const MAX_CANDIDATES = P.max_candidates;
export const PATH_LAG = P.path_lag_frames;

/** An empty candidate list (a frame too quiet to voice). */
export function noCandidates() {
  return { lags: [], cmnd: [], lag: [], logLag: [], cost: [], minCmnd: 1 };
}

/**
 * The frame's dips (pitch_tracker.find_dips): integer lags, depths (the vertex value of a parabola
 * through cmnd, at least 0), interpolated lags (vertex of a parabola through diff), and the deepest
 * cmnd in tauMin..tauMax. cmnd and diff hold lags 0..tauMax + 1.
 */
export function findDips(cmnd, diff, tauMin, tauMax) {
  const limit = P.candidate_max_cmnd;
  const lags = [];
  const depths = [];
  const fracs = [];
  let minCmnd = cmnd[tauMin];
  for (let tau = tauMin; tau <= tauMax; tau++) {
    let y = cmnd[tau];
    if (y < minCmnd) minCmnd = y;
    if (y < cmnd[tau - 1] && y <= cmnd[tau + 1]) {
      const bend = cmnd[tau - 1] - 2 * y + cmnd[tau + 1];
      if (bend > 0) y = Math.max(y - (cmnd[tau - 1] - cmnd[tau + 1]) ** 2 / (8 * bend), 0);
      if (y >= limit) continue;
      const left = diff[tau - 1];
      const mid = diff[tau];
      const right = diff[tau + 1];
      const curve = left - 2 * mid + right;
      const shift = curve > 0 ? (0.5 * (left - right)) / curve : 0;
      lags.push(tau);
      depths.push(y);
      fracs.push(tau + Math.min(Math.max(shift, -0.5), 0.5));
    }
  }
  return { lags, depths, fracs, minCmnd };
}

/** The candidates among a frame's dips with their local costs (pitch_tracker.score_dips). */
export function scoreDips({ lags, depths, fracs, minCmnd }) {
  const out = noCandidates();
  out.minCmnd = minCmnd;
  if (lags.length === 0) return out;
  const logs = fracs.map((f) => Math.log2(f));
  let best = 0;
  for (let i = 1; i < depths.length; i++) if (depths[i] < depths[best]) best = i;
  const prior = P.octave_prior;
  const pre = depths.map((v, i) => v + prior * (logs[i] - logs[best]));
  // The MAX_CANDIDATES cheapest (shorter lag first on ties), then back in lag order.
  const order = pre.map((_, i) => i).sort((a, b) => pre[a] - pre[b] || a - b);
  const keep = order.slice(0, MAX_CANDIDATES).sort((a, b) => a - b);
  out.lags = keep.map((i) => lags[i]);
  out.cmnd = keep.map((i) => depths[i]);
  out.lag = keep.map((i) => fracs[i]);
  out.logLag = keep.map((i) => logs[i]);
  out.cost = keep.map((i) => pre[i]);
  const penalty = P.subharmonic_penalty;
  const margin = P.subharmonic_margin;
  const tol = P.subharmonic_tolerance;
  for (let a = 0; a < keep.length; a++) {
    for (let b = 0; b < a; b++) {
      const k = Math.floor(out.lag[a] / out.lag[b] + 0.5);
      if (k >= 2 && Math.abs(k * out.lag[b] - out.lag[a]) <= tol * out.lag[a] && out.cmnd[b] <= out.cmnd[a] + margin) {
        out.cost[a] += penalty;
        break;
      }
    }
  }
  return out;
}

/** The frame's candidate dips with their local costs (pitch_tracker.find_candidates). */
export function findCandidates(cmnd, diff, tauMin, tauMax) {
  return scoreDips(findDips(cmnd, diff, tauMin, tauMax));
}

/**
 * Fixed-lag Viterbi over frames of candidates (pitch_tracker.PitchPath). step() takes frame t and
 * returns [frame, state] for frame t - PATH_LAG (or null before that); finish() decides the rest.
 * State 0 is unvoiced, state s > 0 the (s-1)-th candidate.
 */
export class PitchPath {
  constructor() {
    this.costs = null;
    this.logLags = [];
    this.back = [];
    this.frame = -1;
    this.peak = FLOOR_DB;
  }

  unvoicedCost(loudnessDb) {
    this.peak = Math.max(loudnessDb, this.peak - P.peak_decay_db);
    const lo = P.quiet_below_db;
    const hi = P.loud_above_db;
    const w = Math.min(Math.max((loudnessDb - this.peak - lo) / (hi - lo), 0), 1);
    return P.unvoiced_cost_quiet + w * (P.unvoiced_cost_loud - P.unvoiced_cost_quiet);
  }

  step(cands, loudnessDb) {
    this.frame++;
    const local = [this.unvoicedCost(loudnessDb)];
    if (loudnessDb >= VOICED_DB) for (const c of cands.cost) local.push(c);
    const logs = cands.logLag.slice(0, local.length - 1);
    let costs;
    let back;
    if (this.costs === null) {
      costs = local.slice();
      back = local.map(() => 0);
    } else {
      const jump = P.jump_cost;
      const sw = P.voicing_cost;
      const prev = this.costs;
      const prevLogs = this.logLags;
      costs = [];
      back = [];
      for (let j = 0; j < local.length; j++) {
        let bestI = 0;
        let best = prev[0] + (j > 0 ? sw : 0);
        for (let i = 1; i < prev.length; i++) {
          const c = prev[i] + (j > 0 ? jump * Math.abs(logs[j - 1] - prevLogs[i - 1]) : sw);
          if (c < best) {
            bestI = i;
            best = c;
          }
        }
        costs.push(best + local[j]);
        back.push(bestI);
      }
    }
    let low = costs[0];
    for (const c of costs) if (c < low) low = c;
    this.costs = costs.map((c) => c - low);
    this.logLags = logs;
    this.back.push(back);
    if (this.back.length <= PATH_LAG) return null;
    const state = this.trace(PATH_LAG);
    this.back.shift();
    return [this.frame - PATH_LAG, state];
  }

  /** The state `steps` frames before the latest on the best path through the latest frame. */
  trace(steps) {
    let state = 0;
    for (let s = 1; s < this.costs.length; s++) if (this.costs[s] < this.costs[state]) state = s;
    for (let k = 0; k < steps; k++) state = this.back[this.back.length - 1 - k][state];
    return state;
  }

  /** Decisions for the frames still waiting, oldest first. */
  finish() {
    const out = [];
    for (let k = this.back.length - 1; k >= 0; k--) out.push([this.frame - k, this.trace(k)]);
    this.back = [];
    return out;
  }
}
