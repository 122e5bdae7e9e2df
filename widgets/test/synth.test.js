import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mulberry32, noiseTable, synthesize, SynthStream } from "../src/dsp/synth.js";
import { harmonicAmplitudes, fillUnvoiced } from "../src/dsp/controls.js";
import { snrDb } from "./snr.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/synth.json", import.meta.url)));
const conventions = JSON.parse(readFileSync(new URL("../src/conventions.json", import.meta.url)));


test("mulberry32 reproduces Python's draws bit for bit", () => {
  assert.deepEqual(Array.from(mulberry32(vectors.noise_seed, 16)), vectors.mulberry32_first);
});

test("noise table matches Python's", () => {
  const table = noiseTable(4);
  vectors.noise_table_4_bands_first_64.forEach((row, b) => {
    row.forEach((v, n) => assert.ok(Math.abs(table[n * 4 + b] - v) < 1e-9, `band ${b} sample ${n}`));
  });
});

test("noise table bands sum to unit-variance white noise", () => {
  const B = 8;
  const table = noiseTable(B);
  const L = vectors.noise_table_size;
  let sum2 = 0;
  for (let n = 0; n < L; n++) {
    let s = 0;
    for (let b = 0; b < B; b++) s += table[n * B + b];
    sum2 += s * s;
  }
  assert.ok(Math.abs(sum2 / L - 1) < 1e-9);
});

for (const c of vectors.cases) {
  test(`synth matches Python: ${c.name}`, () => {
    const audio = synthesize(
      {
        f0Hz: Float64Array.from(c.f0_hz),
        amplitude: Float64Array.from(c.amplitude),
        harmonicDistribution: Float64Array.from(c.harmonic_distribution),
        noiseMagnitudes: c.noise_magnitudes ? Float64Array.from(c.noise_magnitudes) : null,
        nHarmonics: c.n_harmonics,
        nBands: c.n_bands,
      },
      { offset: c.offset },
    );
    assert.equal(audio.length, c.audio.length);
    assert.ok(snrDb(c.audio, audio) > 100, `SNR ${snrDb(c.audio, audio).toFixed(1)} dB`);
  });
}

test("streaming in blocks equals offline rendering", () => {
  const c = vectors.cases[1];
  const T = c.f0_hz.length;
  const K = c.n_harmonics;
  const B = c.n_bands;
  const amps = harmonicAmplitudes(c.f0_hz, c.amplitude, c.harmonic_distribution, K);
  const stream = new SynthStream({ nHarmonics: K, nBands: B });
  const out = new Float64Array((T - 1) * 64);
  let at = 0;
  for (let t = 0; t < T; t++) {
    at += stream.pushFrame(c.f0_hz[t], amps.subarray(t * K, (t + 1) * K), c.noise_magnitudes.slice(t * B, (t + 1) * B), out, at);
  }
  assert.ok(snrDb(c.audio, out) > 100);
});

test("fillUnvoiced takes the nearest voiced frame", () => {
  const f0 = [0, 100, 0, 0, 0, 200, 0];
  const conf = [0, 1, 0, 0, 0, 1, 0];
  assert.deepEqual(Array.from(fillUnvoiced(f0, conf)), [100, 100, 100, 100, 200, 200, 200]);
  const none = conventions.default_f0_hz; // no voiced frame at all: the emitted default f0
  assert.deepEqual(Array.from(fillUnvoiced([1, 2], [0, 0])), [none, none]);
});
