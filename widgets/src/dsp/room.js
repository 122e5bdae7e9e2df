// The room every instrument plays in by default (twin of sounds_kit/dsp/room.py). Its impulse response is
// generated from conventions.room, exactly as Python generates it, so no audio file is downloaded.
import { conventions, SAMPLE_RATE } from "./conventions.js";
import { getFFT } from "./fft.js";
import { mulberry32 } from "./synth.js";

const ROOM = conventions.room;
const LN_1000 = Math.log(1000); // RT60: the time to fall by 60 dB
let cached = null;

/** The room's impulse response (Float64Array): the wet path only; the dry signal passes as is. */
export function roomIr() {
  if (cached) return cached;
  const n = Math.round(ROOM.seconds * SAMPLE_RATE);
  const draws = mulberry32(ROOM.seed, n);
  const ir = new Float64Array(n);
  const a = ROOM.lowpass;
  let state = 0;
  let energy = 0;
  const predelay = Math.round(ROOM.predelay_s * SAMPLE_RATE);
  for (let i = 0; i < n; i++) {
    const white = 2 * (draws[i] / 4294967296) - 1;
    state = state + a * (white - state); // one-pole low-pass, as room.py's loop
    const t = i / SAMPLE_RATE;
    const v = i < predelay ? 0 : state * Math.exp((-LN_1000 * t) / ROOM.rt60_s) + (white - state) * Math.exp((-LN_1000 * t) / ROOM.bright_rt60_s);
    ir[i] = v;
    energy += v * v;
  }
  const scale = 10 ** (ROOM.wet_db / 20) / Math.sqrt(energy);
  for (let i = 0; i < n; i++) ir[i] *= scale;
  cached = ir;
  return ir;
}

/** `audio + (audio * roomIr)[:N]` in float64 (overlap-add FFT convolution), as Float32Array. */
export function applyRoom(audio) {
  const ir = roomIr();
  const n = audio.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = audio[i];
  if (n === 0) return new Float32Array(0);
  const block = 4096;
  let size = 1;
  while (size < block + ir.length - 1) size *= 2;
  const plan = getFFT(size);
  const irRe = new Float64Array(size);
  const irIm = new Float64Array(size);
  irRe.set(ir);
  plan.transform(irRe, irIm);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let start = 0; start < n; start += block) {
    const len = Math.min(block, n - start);
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < len; i++) re[i] = audio[start + i];
    plan.transform(re, im);
    for (let k = 0; k < size; k++) {
      const r = re[k] * irRe[k] - im[k] * irIm[k];
      im[k] = re[k] * irIm[k] + im[k] * irRe[k];
      re[k] = r;
    }
    plan.transform(re, im, true);
    const stop = Math.min(size, n - start);
    for (let i = 0; i < stop; i++) out[start + i] += re[i];
  }
  return Float32Array.from(out);
}
