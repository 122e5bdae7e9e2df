// Spectrograms of a take (voice and instrument), drawn on a canvas, with the kit's float64 FFT
// (dsp/fft.js; TF.js has no FFT on wasm).
import { getFFT } from "../dsp/fft.js";
import { SAMPLE_RATE } from "../dsp/conventions.js";

const N_FFT = 512;
const HOP = 128;
const MAX_HZ = 5000; // voice and instruments' useful harmonics; keeps each harmonic visible
const RANGE_DB = 75;

/** Magnitudes in dB: {frames, bins, data: Float32Array(frames * bins), maxDb}. */
export function spectrogram(samples, sampleRate = SAMPLE_RATE) {
  const bins = Math.min(N_FFT / 2 + 1, Math.floor((MAX_HZ / sampleRate) * N_FFT) + 1);
  const frames = Math.max(1, Math.floor((samples.length - N_FFT) / HOP) + 1);
  const win = new Float64Array(N_FFT).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT));
  const data = new Float32Array(frames * bins);
  const plan = getFFT(N_FFT);
  const frame = new Float64Array(N_FFT);
  const re = new Float64Array(N_FFT / 2 + 1), im = new Float64Array(N_FFT / 2 + 1);
  let maxDb = -Infinity;
  for (let f = 0; f < frames; f++) {
    const off = f * HOP;
    for (let i = 0; i < N_FFT; i++) frame[i] = (samples[off + i] || 0) * win[i];
    plan.rfft(frame, re, im);
    for (let b = 0; b < bins; b++) {
      const db = 10 * Math.log10(re[b] * re[b] + im[b] * im[b] + 1e-12);
      data[f * bins + b] = db;
      if (db > maxDb) maxDb = db;
    }
  }
  return { frames, bins, data, maxDb, hop: HOP, nFft: N_FFT, sampleRate };
}

// Dark blue -> violet -> saffron -> pale yellow: readable on a projector and in greyscale.
const STOPS = [
  [0.0, [14, 17, 33]],
  [0.3, [60, 28, 110]],
  [0.55, [170, 50, 100]],
  [0.78, [240, 120, 40]],
  [1.0, [252, 240, 170]],
];
const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    let k = 1;
    while (k < STOPS.length - 1 && STOPS[k][0] < x) k++;
    const [x0, c0] = STOPS[k - 1], [x1, c1] = STOPS[k];
    const t = (x - x0) / (x1 - x0);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = c0[c] + (c1[c] - c0[c]) * t;
  }
  return lut;
})();

/** Draw a spectrogram into a canvas sized by CSS; frequency axis in kHz, time in seconds. */
export function drawSpectrogram(canvas, spec, { emptyText = "" } = {}) {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = Math.max(50, canvas.clientWidth || 400), h = Math.max(50, canvas.clientHeight || 150);
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = "#0e1121";
  g.fillRect(0, 0, w, h);
  const left = 34, bottom = 18, pw = w - left - 6, ph = h - bottom - 6;
  if (!spec) {
    g.fillStyle = "#8a90a8";
    g.font = "13px system-ui, sans-serif";
    g.textAlign = "center";
    g.fillText(emptyText, w / 2, h / 2);
    return;
  }
  const img = new ImageData(spec.frames, spec.bins);
  const floor = spec.maxDb - RANGE_DB;
  for (let f = 0; f < spec.frames; f++) {
    for (let b = 0; b < spec.bins; b++) {
      const v = (spec.data[f * spec.bins + b] - floor) / RANGE_DB;
      const idx = Math.max(0, Math.min(255, Math.round(v * 255)));
      const p = ((spec.bins - 1 - b) * spec.frames + f) * 4; // low frequencies at the bottom
      img.data[p] = LUT[idx * 3];
      img.data[p + 1] = LUT[idx * 3 + 1];
      img.data[p + 2] = LUT[idx * 3 + 2];
      img.data[p + 3] = 255;
    }
  }
  const tmp = document.createElement("canvas");
  tmp.width = spec.frames;
  tmp.height = spec.bins;
  tmp.getContext("2d").putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(tmp, left, 6, pw, ph);
  // Axes: kHz on the left, seconds along the bottom.
  g.fillStyle = "#aab0c6";
  g.font = "11px system-ui, sans-serif";
  g.textAlign = "right";
  g.textBaseline = "middle";
  const topHz = ((spec.bins - 1) * spec.sampleRate) / spec.nFft;
  for (let k = 0; k * 1000 <= topHz; k++) {
    const y = 6 + ph - (k * 1000 * ph) / topHz;
    g.fillText(`${k}k`, left - 5, Math.min(y, 6 + ph - 4));
  }
  const seconds = (spec.frames * spec.hop + spec.nFft) / spec.sampleRate;
  const step = seconds > 20 ? 5 : seconds > 8 ? 2 : 1;
  g.textAlign = "center";
  g.textBaseline = "alphabetic";
  for (let s = 0; s <= seconds; s += step) {
    const x = left + (s / seconds) * pw;
    g.fillText(`${s}s`, Math.min(Math.max(x, left + 8), w - 14), h - 4);
  }
}
