// JS features vs the Python test vectors (python tests/make_feature_vectors.py), the streaming
// path vs the offline one, and the FFT vs a direct DFT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { FFT, fft, ifft, irfft, rfft } from "../src/dsp/fft.js";
import {
  FeatureStream,
  STREAM_LATENCY,
  aWeightingDb,
  computeF0,
  computeFeatures,
  computeLoudness,
  nFrames,
} from "../src/dsp/features.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/features.json", import.meta.url)));

function decode(entry) {
  const bytes = Buffer.from(entry.audio_f32le_base64, "base64");
  const copy = new Uint8Array(bytes); // own, aligned buffer
  return new Float32Array(copy.buffer, 0, entry.n_samples);
}

function maxAbs(a) {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

for (const entry of vectors.signals) {
  test(`features match Python: ${entry.name}`, () => {
    const audio = decode(entry);
    const out = computeFeatures(audio);
    const n = nFrames(audio.length);
    assert.equal(out.f0Hz.length, n);
    assert.equal(entry.f0_hz.length, n);
    let voiced = 0;
    for (let i = 0; i < n; i++) {
      const where = `${entry.name} frame ${i}`;
      assert.ok(Math.abs(out.loudnessDb[i] - entry.loudness_db[i]) <= 0.1, `${where}: loudness`);
      assert.ok(Math.abs(out.f0Confidence[i] - entry.f0_confidence[i]) <= 0.01, `${where}: confidence`);
      // The pitch path must decide every frame as Python did (voicing and which dip).
      assert.equal(out.f0Confidence[i] >= 0.5, entry.f0_confidence[i] >= 0.5, `${where}: voicing decision`);
      assert.equal(out.f0Hz[i] > 0, entry.f0_hz[i] > 0, `${where}: f0 reported only where voiced`);
      if (entry.f0_confidence[i] > 0.5) {
        voiced++;
        const cents = 1200 * Math.log2(out.f0Hz[i] / entry.f0_hz[i]);
        assert.ok(Math.abs(cents) <= 1, `${where}: f0 ${out.f0Hz[i]} vs ${entry.f0_hz[i]}`);
      }
    }
    if (!entry.name.includes("noise") || entry.name.includes("harmonic")) assert.ok(voiced > 0);
  });
}

test("computeF0 and computeLoudness agree with computeFeatures", () => {
  const audio = decode(vectors.signals.find((s) => s.name === "vibrato_300hz"));
  const all = computeFeatures(audio);
  const { f0Hz, f0Confidence } = computeF0(audio);
  assert.deepEqual(f0Hz, all.f0Hz);
  assert.deepEqual(f0Confidence, all.f0Confidence);
  assert.deepEqual(computeLoudness(audio), all.loudnessDb);
});

test("streaming equals offline for any block sizes", () => {
  const parts = vectors.signals.slice(3).map(decode);
  const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    audio.set(p, at);
    at += p.length;
  }
  const offline = computeFeatures(audio);
  for (const sizes of [[128], [1, 63, 500, 17], [4096], [audio.length]]) {
    const stream = new FeatureStream();
    const got = { f0Hz: [], f0Confidence: [], loudnessDb: [] };
    let pos = 0;
    let expectStart = 0;
    const take = (frames) => {
      assert.equal(frames.start, expectStart);
      expectStart += frames.f0Hz.length;
      for (const key of Object.keys(got)) got[key].push(...frames[key]);
    };
    for (let b = 0; pos < audio.length; b++) {
      const size = sizes[b % sizes.length];
      const block = audio.subarray(pos, pos + size);
      pos += block.length;
      const frames = stream.push(block);
      // Only frames whose look-ahead and pitch-path decision have arrived come out.
      assert.equal(expectStart + frames.f0Hz.length, Math.max(0, Math.floor((pos - STREAM_LATENCY) / 64) + 1));
      take(frames);
    }
    take(stream.flush());
    for (const key of Object.keys(got)) {
      assert.deepEqual(Float32Array.from(got[key]), offline[key], `${key} with blocks ${sizes}`);
    }
  }
});

test("stream latency is stated and at most 30 ms", () => {
  const stream = new FeatureStream();
  assert.equal(stream.latencySamples, STREAM_LATENCY);
  assert.ok(stream.latencySamples > 0 && stream.latencySeconds <= 0.03);
  assert.equal(stream.push(new Float32Array(STREAM_LATENCY - 1)).f0Hz.length, 0);
  assert.equal(stream.push(new Float32Array(1)).f0Hz.length, 1);
});

test("bad input is refused", () => {
  assert.throws(() => computeFeatures(Float32Array.from([0, NaN, 0])), /NaN/);
  assert.throws(() => computeFeatures("nope"), TypeError);
  assert.equal(computeFeatures(new Float32Array(0)).f0Hz.length, 1);
});

test("A-weighting at known frequencies (IEC 61672)", () => {
  const table = [
    [100, -19.1],
    [1000, 0],
    [2000, 1.2],
    [4000, 1.0],
    [8000, -1.1],
  ];
  for (const [f, db] of table) assert.ok(Math.abs(aWeightingDb(f) - db) < 0.1, `${f} Hz`);
});

function naiveDft(re, im, sign) {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const a = (sign * 2 * Math.PI * k * t) / n;
      outRe[k] += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      outIm[k] += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
  }
  return { re: outRe, im: outIm };
}

test("FFT matches a direct DFT and inverts", () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (const n of [1, 2, 4, 8, 64, 256]) {
    const re = Float64Array.from({ length: n }, rand);
    const im = Float64Array.from({ length: n }, rand);
    const got = fft(re, im);
    const want = naiveDft(re, im, -1);
    for (let k = 0; k < n; k++) {
      assert.ok(Math.abs(got.re[k] - want.re[k]) < 1e-9 && Math.abs(got.im[k] - want.im[k]) < 1e-9);
    }
    const back = ifft(got.re, got.im);
    assert.ok(maxAbs(back.re.map((v, i) => v - re[i])) < 1e-12);
    // Real transforms, including zero padding.
    const x = Float64Array.from({ length: Math.max(1, n >> 1) + (n > 2 ? 1 : 0) }, rand).subarray(0, Math.min(n, Math.max(1, (n >> 1) + 1)));
    const spec = rfft(x, n);
    const padded = new Float64Array(n);
    padded.set(x);
    const full = naiveDft(padded, new Float64Array(n), -1);
    for (let k = 0; k <= n >> 1; k++) {
      assert.ok(Math.abs(spec.re[k] - full.re[k]) < 1e-9 && Math.abs(spec.im[k] - full.im[k]) < 1e-9, `rfft n=${n} k=${k}`);
    }
    if (n >= 2) {
      const y = irfft(spec.re, spec.im, n);
      assert.ok(maxAbs(y.map((v, i) => v - padded[i])) < 1e-12, `irfft n=${n}`);
    }
  }
  assert.throws(() => new FFT(12), /power of two/);
});
