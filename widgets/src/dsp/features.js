// Frame features in the browser: f0 (YIN dips + a pitch path), voicing confidence, A-weighted
// loudness. The same definition as sounds_kit/dsp/features.py (docs/design.md, "Features"), in float64
// plain JS; widgets/test/vectors/features.json holds Python's output that this must reproduce.
// Frame i is centred on sample i * hop_size of the zero-padded signal.

import { conventions } from "./conventions.js";
import { getFFT } from "./fft.js";
import { PATH_LAG, PitchPath, findCandidates, noCandidates } from "./pitch_path.js";

const SR = conventions.sample_rate;
const HOP = conventions.hop_size;
const W = conventions.yin_window;
const VOICED_CONF = conventions.voiced_confidence;
const CONF_MARGIN = conventions.pitch_tracker.confidence_margin;
const F0_MIN = conventions.f0_min_hz;
const F0_MAX = conventions.f0_max_hz;
const N_LOUD = conventions.loudness_n_fft;
const FLOOR_DB = conventions.loudness_floor_db;
const VOICED_DB = conventions.voiced_loudness_db;

// Derived sizes, as in features.py.
export const TAU_MIN = Math.floor(SR / F0_MAX);
export const TAU_MAX = Math.ceil(SR / F0_MIN);
export const YIN_GUARD = 16; // lags past TAU_MAX + 1 that keep d's interpolant exact there
export const YIN_LENGTH = W + TAU_MAX + 1 + YIN_GUARD;
export const YIN_N_FFT = 2 ** Math.ceil(Math.log2(YIN_LENGTH));
export const YIN_LEFT = Math.floor(YIN_LENGTH / 2);
export const LOUDNESS_LEFT = Math.floor(N_LOUD / 2);
export const CONTEXT_LEFT = Math.max(YIN_LEFT, LOUDNESS_LEFT);
export const CONTEXT_RIGHT = Math.max(YIN_LENGTH - YIN_LEFT, N_LOUD - LOUDNESS_LEFT);
// A stream emits a frame once the pitch path has decided it: PATH_LAG frames after its own look-ahead.
export const STREAM_LATENCY = CONTEXT_RIGHT + PATH_LAG * HOP;
export const NEWTON_STEPS = 2;
export const ZERO_DIFF = 1e-12; // d(tau) below this x frame energy is FFT rounding noise

/** Frames for a clip of n samples (frame i centred on sample i * hop). */
export function nFrames(nSamples) {
  return Math.floor(nSamples / HOP) + 1;
}

/** IEC 61672 A-weighting as a linear amplitude gain, exactly 1 at 1 kHz. */
export function aWeightingGain(f) {
  const rA = (x) => {
    const f2 = x * x;
    return (
      (12194 ** 2 * f2 * f2) /
      ((f2 + 20.6 ** 2) * Math.sqrt((f2 + 107.7 ** 2) * (f2 + 737.9 ** 2)) * (f2 + 12194 ** 2))
    );
  };
  return rA(Math.abs(f)) / rA(1000);
}

/** A-weighting in dB (0 dB at 1 kHz, -Infinity at 0 Hz). */
export function aWeightingDb(f) {
  return 20 * Math.log10(aWeightingGain(f));
}

// Tables shared by every analyser.
const HANN = new Float64Array(N_LOUD);
let hannPower = 0;
for (let n = 0; n < N_LOUD; n++) {
  HANN[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_LOUD); // periodic Hann
  hannPower += HANN[n] * HANN[n];
}
const LOUD_BINS = N_LOUD / 2 + 1;
const LOUD_WEIGHTS = new Float64Array(LOUD_BINS);
for (let k = 0; k < LOUD_BINS; k++) {
  const g = aWeightingGain((k * SR) / N_LOUD);
  LOUD_WEIGHTS[k] = (2 * g * g) / (N_LOUD * hannPower);
}
const POWER_FLOOR = 10 ** (FLOOR_DB / 10);
const LAG_BINS = YIN_N_FFT / 2 + 1;
const LAGS = TAU_MAX + 2;
const BOX_RE = new Float64Array(LAG_BINS);
const BOX_IM = new Float64Array(LAG_BINS);
getFFT(YIN_N_FFT).rfft(new Float64Array(W).fill(1), BOX_RE, BOX_IM);
const OMEGA1 = (2 * Math.PI) / YIN_N_FFT;
// One-sided weights of the trigonometric interpolant times omega_k and omega_k^2 (Newton steps).
const SLOPE_W = new Float64Array(LAG_BINS);
const CURV_W = new Float64Array(LAG_BINS);
for (let k = 0; k < LAG_BINS; k++) {
  const w = k === 0 || k === LAG_BINS - 1 ? 1 / YIN_N_FFT : 2 / YIN_N_FFT;
  SLOPE_W[k] = w * OMEGA1 * k;
  CURV_W[k] = w * (OMEGA1 * k) ** 2;
}

/** Lag-domain rows of one analysed frame, kept until the pitch path decides the frame. */
function makeSlot() {
  return {
    dRe: new Float64Array(LAG_BINS), // lag spectrum D_k of d(tau) - E0
    dIm: new Float64Array(LAG_BINS),
    diff: new Float64Array(LAGS),
    cmnd: new Float64Array(LAGS),
    loud: 0,
    cands: noCandidates(),
  };
}

/** Per-frame analysis with its own scratch buffers; reads a virtual zero-padded signal. */
class FrameAnalyser {
  constructor() {
    this.yinFFT = getFFT(YIN_N_FFT);
    this.loudFFT = getFFT(N_LOUD);
    this.seg = new Float64Array(YIN_LENGTH);
    this.sq = new Float64Array(YIN_LENGTH);
    this.loud = new Float64Array(N_LOUD);
    this.hRe = new Float64Array(LAG_BINS);
    this.hIm = new Float64Array(LAG_BINS);
    this.wRe = new Float64Array(LAG_BINS);
    this.wIm = new Float64Array(LAG_BINS);
    this.pRe = new Float64Array(LAG_BINS);
    this.pIm = new Float64Array(LAG_BINS);
    this.lagBuf = new Float64Array(YIN_N_FFT);
    this.lRe = new Float64Array(LOUD_BINS);
    this.lIm = new Float64Array(LOUD_BINS);
  }

  // Copy samples [start, start + dst.length) of the virtual signal into dst: src holds the
  // samples from absolute index srcStart up to (exclusive) srcEnd; everything else is zero.
  static fill(dst, src, srcStart, srcEnd, start) {
    for (let j = 0; j < dst.length; j++) {
      const a = start + j;
      dst[j] = a >= srcStart && a < srcEnd ? src[a - srcStart] : 0;
    }
  }

  loudnessDb(src, srcStart, srcEnd, centre) {
    const x = this.loud;
    FrameAnalyser.fill(x, src, srcStart, srcEnd, centre - LOUDNESS_LEFT);
    for (let n = 0; n < N_LOUD; n++) x[n] *= HANN[n];
    this.loudFFT.rfft(x, this.lRe, this.lIm);
    let power = 0;
    for (let k = 0; k < LOUD_BINS; k++) {
      power += (this.lRe[k] * this.lRe[k] + this.lIm[k] * this.lIm[k]) * LOUD_WEIGHTS[k];
    }
    return 10 * Math.log10(Math.max(power, POWER_FLOOR));
  }

  /** Difference function, cmnd and lag spectrum of the frame at `centre`, written into `slot`. */
  yin(src, srcStart, srcEnd, centre, slot) {
    const seg = this.seg;
    FrameAnalyser.fill(seg, src, srcStart, srcEnd, centre - YIN_LEFT);
    const sq = this.sq;
    let e0 = 0;
    let energy = 0;
    for (let j = 0; j < YIN_LENGTH; j++) sq[j] = seg[j] * seg[j];
    for (let j = 0; j < W; j++) e0 += sq[j];
    for (let j = 0; j < YIN_LENGTH; j++) energy += sq[j];
    const zero = ZERO_DIFF * energy;
    // Lag spectrum D = conj(BOX) * FFT(b^2) - 2 conj(FFT(a)) * FFT(b), a = b[0:W] (features.py).
    this.yinFFT.rfft(seg.subarray(0, W), this.hRe, this.hIm);
    this.yinFFT.rfft(seg, this.wRe, this.wIm);
    this.yinFFT.rfft(sq, this.pRe, this.pIm);
    const dRe = slot.dRe;
    const dIm = slot.dIm;
    for (let k = 0; k < LAG_BINS; k++) {
      const pr = BOX_RE[k] * this.pRe[k] + BOX_IM[k] * this.pIm[k];
      const pi = BOX_RE[k] * this.pIm[k] - BOX_IM[k] * this.pRe[k];
      const cr = this.hRe[k] * this.wRe[k] + this.hIm[k] * this.wIm[k];
      const ci = this.hRe[k] * this.wIm[k] - this.hIm[k] * this.wRe[k];
      dRe[k] = pr - 2 * cr;
      dIm[k] = pi - 2 * ci;
    }
    this.yinFFT.irfft(dRe, dIm, this.lagBuf);
    const diff = slot.diff;
    const cmnd = slot.cmnd;
    diff[0] = 0;
    cmnd[0] = 1;
    let running = 0;
    for (let tau = 1; tau < LAGS; tau++) {
      // Rounding noise of the FFT becomes exact zeros (0/0 lags read cmnd 1), as in Python.
      const raw = this.lagBuf[tau] + e0;
      const d = raw > zero ? raw : 0;
      diff[tau] = d;
      running += d;
      cmnd[tau] = running > 0 ? (d * tau) / running : 1;
    }
  }
}

// Parabola through the raw d, then Newton steps on d's trigonometric interpolant
// p(tau) = sum_k w_k Re(D_k exp(i omega_k tau)) / N (see _refine_lags in features.py).
function refine(slot, pick) {
  const diff = slot.diff;
  const left = diff[pick - 1];
  const mid = diff[pick];
  const right = diff[pick + 1];
  const curve = left - 2 * mid + right;
  let shift = curve > 0 ? (0.5 * (left - right)) / curve : 0;
  shift = Math.min(Math.max(shift, -0.5), 0.5);
  let tau = pick + shift;
  const lo = pick - 1;
  const hi = pick + 1;
  const dRe = slot.dRe;
  const dIm = slot.dIm;
  for (let step = 0; step < NEWTON_STEPS; step++) {
    // exp(i omega_k tau) by a rotating phasor; rounding stays ~1e-13, far below a cent.
    const cr = Math.cos(OMEGA1 * tau);
    const ci = Math.sin(OMEGA1 * tau);
    let zr = 1;
    let zi = 0;
    let slope = 0;
    let curv = 0;
    for (let k = 0; k < LAG_BINS; k++) {
      const tr = dRe[k] * zr - dIm[k] * zi;
      const ti = dRe[k] * zi + dIm[k] * zr;
      slope -= ti * SLOPE_W[k];
      curv -= tr * CURV_W[k];
      const nz = zr * cr - zi * ci;
      zi = zr * ci + zi * cr;
      zr = nz;
    }
    const delta = curv > 0 ? slope / curv : 0;
    tau = Math.min(Math.max(tau - delta, lo), hi);
  }
  return tau;
}

/**
 * Frames in order through loudness, YIN candidates and the pitch path. frame() analyses one frame
 * and hands every frame the path has now decided to emit(index, f0Hz, f0Confidence, loudnessDb);
 * finish() decides the rest. Offline analysis and FeatureStream both run this, so they agree.
 */
class FrameTracker {
  constructor() {
    this.analyser = new FrameAnalyser();
    this.path = new PitchPath();
    this.slots = Array.from({ length: PATH_LAG + 1 }, makeSlot); // frames not yet decided
  }

  frame(src, srcStart, srcEnd, index, emit) {
    const centre = index * HOP;
    const slot = this.slots[index % this.slots.length];
    slot.loud = this.analyser.loudnessDb(src, srcStart, srcEnd, centre);
    if (slot.loud < VOICED_DB) {
      slot.cands = noCandidates(); // too quiet to voice: no YIN needed
    } else {
      this.analyser.yin(src, srcStart, srcEnd, centre, slot);
      slot.cands = findCandidates(slot.cmnd, slot.diff, TAU_MIN, TAU_MAX);
    }
    const decided = this.path.step(slot.cands, slot.loud);
    if (decided !== null) this.settle(decided, emit);
  }

  finish(emit) {
    for (const decided of this.path.finish()) this.settle(decided, emit);
  }

  settle([index, state], emit) {
    const slot = this.slots[index % this.slots.length];
    if (slot.loud < VOICED_DB) {
      emit(index, 0, 0, slot.loud); // nothing to track in near-silence
    } else if (state === 0) {
      const periodicity = Math.min(Math.max(1 - slot.cands.minCmnd, 0), 1);
      emit(index, 0, Math.min(periodicity, VOICED_CONF - CONF_MARGIN), slot.loud);
    } else {
      const periodicity = Math.min(Math.max(1 - slot.cands.cmnd[state - 1], 0), 1);
      const tau = refine(slot, slot.cands.lags[state - 1]);
      const f0 = Math.min(Math.max(SR / tau, F0_MIN), F0_MAX);
      emit(index, f0, Math.max(periodicity, VOICED_CONF + CONF_MARGIN), slot.loud);
    }
  }
}

function emptyFeatures(n, withF0 = true) {
  const out = { loudnessDb: new Float32Array(n) };
  if (withF0) {
    out.f0Hz = new Float32Array(n);
    out.f0Confidence = new Float32Array(n);
  }
  return out;
}

function checkAudio(audio) {
  if (!(audio instanceof Float32Array || audio instanceof Float64Array || Array.isArray(audio))) {
    throw new TypeError("audio must be a Float32Array of mono samples at the kit's rate");
  }
  const x = audio instanceof Float32Array ? audio : Float32Array.from(audio);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`audio sample ${i} is NaN or infinite`);
  }
  return x;
}

function analyse(audio) {
  const x = checkAudio(audio);
  const total = nFrames(x.length);
  const out = emptyFeatures(total);
  const tracker = new FrameTracker();
  const emit = (i, f0, conf, loud) => {
    out.f0Hz[i] = f0;
    out.f0Confidence[i] = conf;
    out.loudnessDb[i] = loud;
  };
  for (let i = 0; i < total; i++) tracker.frame(x, 0, x.length, i, emit);
  tracker.finish(emit);
  return out;
}

/** {f0Hz, f0Confidence, loudnessDb} (Float32Array, nFrames(audio.length) each) of 16 kHz mono audio. */
export function computeFeatures(audio) {
  return analyse(audio);
}

/** {f0Hz, f0Confidence}: f0 (0 where unvoiced) and voicing confidence in [0, 1]. */
export function computeF0(audio) {
  const { f0Hz, f0Confidence } = analyse(audio);
  return { f0Hz, f0Confidence };
}

/** A-weighted loudness (dB re full scale, floored) per frame, Float32Array. */
export function computeLoudness(audio) {
  const x = checkAudio(audio);
  const total = nFrames(x.length);
  const out = new Float32Array(total);
  const analyser = new FrameAnalyser();
  for (let i = 0; i < total; i++) out[i] = analyser.loudnessDb(x, 0, x.length, i * HOP);
  return out;
}

/**
 * Features of a live stream. push(block) returns the frames completed by that block as
 * {start, f0Hz, f0Confidence, loudnessDb} (start = index of the first frame returned); flush()
 * returns the rest as if the stream had ended (zero padding, like the offline function). The
 * frames are identical to computeFeatures over the concatenated blocks.
 *
 * latencySamples: the frame centred on sample c is returned once c + latencySamples samples
 * have been pushed (its own look-ahead, then the pitch path's one-frame decision lag).
 */
export class FeatureStream {
  constructor() {
    this.latencySamples = STREAM_LATENCY;
    this.latencySeconds = STREAM_LATENCY / SR;
    this.reset();
  }

  reset() {
    this.tracker = new FrameTracker();
    this.buf = new Float32Array(4096);
    this.bufStart = 0; // absolute index of buf[0]
    this.bufLen = 0;
    this.total = 0; // samples pushed so far
    this.nextFrame = 0; // next frame to analyse
    this.nextOut = 0; // next frame to return
    this.ended = false;
  }

  _append(block) {
    const need = this.bufLen + block.length;
    if (need > this.buf.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(block, this.bufLen);
    this.bufLen = need;
    this.total += block.length;
  }

  // Analyse frames up to lastFrame; returns the frames the path decided meanwhile.
  _run(lastFrame, finish) {
    const decided = [];
    const emit = (i, f0, conf, loud) => decided.push([i, f0, conf, loud]);
    const end = this.bufStart + this.bufLen;
    for (; this.nextFrame <= lastFrame; this.nextFrame++) {
      this.tracker.frame(this.buf, this.bufStart, end, this.nextFrame, emit);
    }
    if (finish) this.tracker.finish(emit);
    const out = emptyFeatures(decided.length);
    out.start = this.nextOut;
    this.nextOut += decided.length;
    decided.forEach(([, f0, conf, loud], p) => {
      out.f0Hz[p] = f0;
      out.f0Confidence[p] = conf;
      out.loudnessDb[p] = loud;
    });
    // Keep only what frames not yet analysed can still read.
    const keepFrom = Math.max(0, this.nextFrame * HOP - CONTEXT_LEFT);
    const drop = Math.min(this.bufLen, Math.max(0, keepFrom - this.bufStart));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    return out;
  }

  /** Add a block of samples; returns the frames it completes. */
  push(block) {
    if (this.ended) throw new Error("FeatureStream: push() after flush(); call reset() first");
    this._append(checkAudio(block));
    // Frame i can be analysed once samples up to i * HOP + CONTEXT_RIGHT - 1 have arrived.
    return this._run(Math.floor((this.total - CONTEXT_RIGHT) / HOP), false);
  }

  /** End of stream: the remaining frames, zero-padded like the offline function. */
  flush() {
    this.ended = true;
    return this._run(nFrames(this.total) - 1, true);
  }
}
