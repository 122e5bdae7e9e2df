// Controls: the decoder's inputs and outputs, per frame (JS twin of sounds_kit/dsp/controls.py).
import { conventions, SAMPLE_RATE as SR, VOICED_CONFIDENCE, DEFAULT_F0_HZ, hzToMidi } from "./conventions.js";

/** Decoder input for one frame's f0 in Hz (fill unvoiced frames first). */
export function f0Scaled(hz) {
  return hzToMidi(hz) / conventions.f0_midi_scale;
}

/** Decoder input for one frame's loudness: floor -80 dB -> 0, 0 dB -> 1. */
export function loudnessScaled(db) {
  return db / conventions.loudness_scale_db + 1;
}

/** Decoder input for f0 (fill unvoiced frames first). */
export function scaleF0(f0Hz) {
  return Float32Array.from(f0Hz, f0Scaled);
}

/** Decoder input for loudness: the floor (-loudness_scale_db) -> 0, 0 dB -> 1. */
export function scaleLoudness(loudnessDb) {
  return Float32Array.from(loudnessDb, loudnessScaled);
}

/** Unvoiced frames take the nearest voiced frame's f0 (ties: the earlier); none voiced -> the default f0. */
export function fillUnvoiced(f0Hz, confidence, threshold = VOICED_CONFIDENCE, defaultHz = DEFAULT_F0_HZ) {
  const n = f0Hz.length;
  const out = new Float64Array(n);
  const left = new Int32Array(n).fill(-1);
  const right = new Int32Array(n).fill(-1);
  let last = -1;
  for (let t = 0; t < n; t++) {
    if (confidence[t] >= threshold && f0Hz[t] > 0) last = t;
    left[t] = last;
  }
  last = -1;
  for (let t = n - 1; t >= 0; t--) {
    if (confidence[t] >= threshold && f0Hz[t] > 0) last = t;
    right[t] = last;
  }
  for (let t = 0; t < n; t++) {
    const l = left[t];
    const r = right[t];
    if (l < 0 && r < 0) out[t] = defaultHz;
    else if (r < 0 || (l >= 0 && t - l <= r - t)) out[t] = f0Hz[l];
    else out[t] = f0Hz[r];
  }
  return out;
}

/**
 * Per-harmonic amplitudes [T*K]: amplitude * distribution with harmonics at or above Nyquist removed
 * and the rest renormalised to sum 1 (an all-zero frame stays zero).
 */
export function harmonicAmplitudes(f0Hz, amplitude, distribution, nHarmonics, out = null) {
  const T = f0Hz.length;
  const K = nHarmonics;
  out = out || new Float64Array(T * K); // the live path passes its own buffer: no allocation per frame
  for (let t = 0; t < T; t++) {
    let total = 0;
    const base = t * K;
    for (let k = 0; k < K; k++) {
      const d = (k + 1) * f0Hz[t] < SR / 2 ? distribution[base + k] : 0;
      out[base + k] = d;
      total += d;
    }
    const scale = total > 0 ? amplitude[t] / total : 0;
    for (let k = 0; k < K; k++) out[base + k] *= scale;
  }
  return out;
}
