// The synth: controls -> audio in float64 JS (twin of sounds_kit/dsp/synth.py; docs/design.md "Synth").
// Runs outside TF.js on purpose: float64 phase never drifts, whatever the decoder's backend
// (including float16 WebGL textures), and a plain loop is faster than real time many times over.
import { conventions } from "./conventions.js";
import { harmonicAmplitudes } from "./controls.js";
import { irfft } from "./fft.js";

const SR = conventions.sample_rate;
const HOP = conventions.hop_size;
const TWO_PI = 2 * Math.PI;

/** First `count` outputs of mulberry32(seed) as uint32 (exactly sounds_kit.dsp.synth.mulberry32). */
export function mulberry32(seed, count) {
  const out = new Uint32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    out[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return out;
}

const tableCache = new Map();
const FADE = conventions.noise_crossfade;
const segmentStarts = new Map();

/** Where noise segment k starts in the table (as sounds_kit.dsp.synth.segment_start): one generator per segment. */
export function segmentStart(k, size = conventions.noise_table_size) {
  let s = segmentStarts.get(k);
  if (s === undefined) {
    s = Math.floor((mulberry32((conventions.noise_seed + 1 + k) >>> 0, 1)[0] * size) / 4294967296);
    if (segmentStarts.size > 64) segmentStarts.clear(); // a stream only ever needs the current two
    segmentStarts.set(k, s);
  }
  return s;
}

/**
 * The fixed band-noise table, [L * B] interleaved (sample-major: index n*B + b), float64.
 * Bin j (1 <= j < L/2) has unit magnitude and phase 2*pi*u[j-1]; band b keeps bins with
 * floor(2*B*j/L) == b; each band is inverse-FFT'd and scaled by L / sqrt(L - 2).
 */
export function noiseTable(nBands, size = conventions.noise_table_size, seed = conventions.noise_seed) {
  const key = `${nBands}:${size}:${seed}`;
  if (tableCache.has(key)) return tableCache.get(key);
  const half = size / 2;
  const draws = mulberry32(seed, half - 1);
  const re = new Float64Array(half + 1);
  const im = new Float64Array(half + 1);
  const table = new Float64Array(size * nBands);
  const scale = size / Math.sqrt(size - 2);
  for (let b = 0; b < nBands; b++) {
    re.fill(0);
    im.fill(0);
    for (let j = 1; j < half; j++) {
      if (Math.min(Math.floor((2 * nBands * j) / size), nBands - 1) !== b) continue;
      const phase = TWO_PI * (draws[j - 1] / 4294967296);
      re[j] = Math.cos(phase);
      im[j] = Math.sin(phase);
    }
    const band = irfft(re, im, size); // numpy irfft normalisation (1/size)
    for (let n = 0; n < size; n++) table[n * nBands + b] = band[n] * scale;
  }
  tableCache.set(key, table);
  return table;
}

/**
 * Streaming synth state: feed frames in order, get the samples between frame positions.
 * Frame i sits at sample i*HOP; samples between frames i and i+1 need frame i+1, so output lags
 * input by one frame. `flush()` renders the tail after the last frame (hold), as the offline synth does.
 */
export class SynthStream {
  constructor({ nHarmonics, nBands, offset = 0, initialPhase = 0 }) {
    this.K = nHarmonics;
    this.B = nBands;
    this.table = nBands > 0 ? noiseTable(nBands) : null;
    this.L = conventions.noise_table_size;
    this.sample = 0; // index of the next output sample
    this.offset = offset;
    this.cycles = initialPhase;
    this.prev = null; // last frame: {f0, amps: Float64Array(K), mags: Float64Array(B)}
  }

  /** Push one frame (f0 Hz, harmonic amplitudes [K] after Nyquist removal, noise magnitudes [B]). */
  pushFrame(f0, amps, mags, out, outOffset = 0) {
    const cur = { f0, amps, mags };
    if (this.prev === null) {
      this.prev = cur;
      return 0;
    }
    const n = this._render(this.prev, cur, HOP, out, outOffset);
    this.prev = cur;
    return n;
  }

  /** Hold the last frame for `n` more samples (the offline synth's tail). */
  flush(n, out, outOffset = 0) {
    if (this.prev === null || n <= 0) return 0;
    return this._render(this.prev, this.prev, n, out, outOffset);
  }

  _render(a, b, n, out, outOffset) {
    const { K, B, table, L } = this;
    let cycles = this.cycles;
    for (let i = 0; i < n; i++) {
      const w = n === HOP ? i / HOP : 0; // flush holds (w=0 with a === b anyway)
      const f0 = a.f0 + (b.f0 - a.f0) * w;
      // sin(k*phi) by the Chebyshev recurrence: one sin/cos per sample instead of K.
      const phi = TWO_PI * cycles;
      const s1 = Math.sin(phi);
      const c2 = 2 * Math.cos(phi);
      let sPrev = 0;
      let s = s1;
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const amp = a.amps[k] + (b.amps[k] - a.amps[k]) * w;
        acc += amp * s;
        const next = c2 * s - sPrev;
        sPrev = s;
        s = next;
      }
      if (B > 0) {
        // The noise read of sounds_kit/dsp/synth.py noise_read: segment k from its own start, and in its
        // last FADE samples segment k+1 fading in (equal power).
        const p = this.sample + this.offset;
        const k = Math.floor(p / L);
        const q = p - k * L;
        const rowA = ((q + segmentStart(k)) % L) * B;
        if (q < L - FADE) {
          for (let j = 0; j < B; j++) acc += (a.mags[j] + (b.mags[j] - a.mags[j]) * w) * table[rowA + j];
        } else {
          const t = (q - (L - FADE) + 1) / (FADE + 1);
          const wa = Math.cos(0.5 * Math.PI * t);
          const wb = Math.sin(0.5 * Math.PI * t);
          const rowB = ((((q - L + segmentStart(k + 1)) % L) + L) % L) * B;
          for (let j = 0; j < B; j++) {
            acc += (a.mags[j] + (b.mags[j] - a.mags[j]) * w) * (table[rowA + j] * wa + table[rowB + j] * wb);
          }
        }
      }
      out[outOffset + i] = acc;
      cycles += f0 / SR;
      cycles -= Math.floor(cycles);
      this.sample++;
    }
    this.cycles = cycles;
    return n;
  }
}

/**
 * Offline render of whole-clip controls, exactly like sounds_kit.dsp.synth.synthesize(reverb=False).
 * controls: {f0Hz [T], amplitude [T], harmonicDistribution [T*K], noiseMagnitudes [T*B] | null,
 * nHarmonics, nBands}. Returns Float64Array of (T - 1) * HOP samples (or nSamples).
 */
export function synthesize(controls, { offset = 0, nSamples = null, initialPhase = 0 } = {}) {
  const { f0Hz, amplitude, harmonicDistribution, noiseMagnitudes, nHarmonics: K, nBands = 0 } = controls;
  const T = f0Hz.length;
  const total = nSamples === null ? (T - 1) * HOP : nSamples;
  const out = new Float64Array(Math.max(total, 0));
  const amps = harmonicAmplitudes(f0Hz, amplitude, harmonicDistribution, K);
  const B = noiseMagnitudes ? nBands : 0;
  const stream = new SynthStream({ nHarmonics: K, nBands: B, offset, initialPhase });
  const scratch = new Float64Array(HOP);
  let written = 0;
  for (let t = 0; t < T && written < total; t++) {
    const mags = B ? noiseMagnitudes.subarray(t * B, (t + 1) * B) : null;
    const n = stream.pushFrame(f0Hz[t], amps.subarray(t * K, (t + 1) * K), mags, scratch, 0);
    const take = Math.min(n, total - written);
    out.set(scratch.subarray(0, take), written);
    written += take;
  }
  if (written < total) {
    const tail = new Float64Array(total - written);
    stream.flush(total - written, tail, 0);
    out.set(tail, written);
  }
  return out;
}

/**
 * dry + (dry * ir)[:N], direct form. Only offline renders call it (once per take, and silent
 * samples are skipped); the live stream plays dry, without reverb.
 */
export function applyReverb(dry, ir) {
  const out = Float64Array.from(dry);
  for (let n = 0; n < dry.length; n++) {
    const x = dry[n];
    if (x === 0) continue;
    const m = Math.min(ir.length, dry.length - n);
    for (let j = 0; j < m; j++) out[n + j] += x * ir[j];
  }
  return out;
}
