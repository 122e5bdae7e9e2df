// The live instrument (features -> causal fit -> frame decoder -> synth, no TF.js) streams the
// same audio as the offline chain over the whole clip, delayed by exactly its stated latency,
// whatever the block size.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { computeFeatures, STREAM_LATENCY } from "../src/dsp/features.js";
import { f0Scaled, harmonicAmplitudes, loudnessScaled } from "../src/dsp/controls.js";
import { synthesize } from "../src/dsp/synth.js";
import { readGraphModel } from "../src/live/graph_file.js";
import { LiveInstrument, compileDecoder } from "../src/live/live_instrument.js";
import { StreamControls } from "../src/live/stream_controls.js";
import { snrDb } from "./snr.js";

const SR = 16000;
const BANSURI = new URL("../../models/bansuri/", import.meta.url);

function bansuri() {
  const meta = JSON.parse(readFileSync(new URL("metadata.json", BANSURI)));
  const files = {};
  for (const name of Object.keys(meta.files)) files[name] = new Uint8Array(readFileSync(new URL(name, BANSURI)));
  return { meta, graph: readGraphModel(files) };
}

// Voice-like: a glide with vibrato, a rest in the middle, harmonics with a falling spectrum.
function sungLike(seconds = 2.5) {
  const n = Math.round(seconds * SR);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SR;
    const f0 = 196 * 2 ** ((Math.min(Math.max(t - 0.3, 0), 0.4) / 0.4) * (5 / 12)) * 2 ** ((0.3 / 12) * Math.sin(2 * Math.PI * 5.5 * t));
    phase += (2 * Math.PI * f0) / SR;
    let s = 0;
    for (let k = 1; k < 12; k++) s += (0.25 / k) * Math.sin(k * phase);
    const env = Math.min(1, t / 0.05, (seconds - t) / 0.05) * (t > 1.3 && t < 1.55 ? 0 : 1);
    out[i] = s * Math.max(env, 0);
  }
  return out;
}

// The offline chain with the stream's own causal fit: what the live instrument must reproduce.
function offline(meta, graph, audio) {
  const feats = computeFeatures(audio);
  const T = feats.f0Hz.length;
  const controls = new StreamControls(meta.stats, { autoFit: false });
  const decoder = compileDecoder(meta, graph);
  const K = meta.synth.n_harmonics;
  const B = meta.synth.n_noise_bands;
  const f0Hz = new Float64Array(T);
  const amplitude = new Float64Array(T);
  const harmonicDistribution = new Float64Array(T * K);
  const noiseMagnitudes = new Float64Array(T * B);
  const fit = new Float64Array(3);
  for (let t = 0; t < T; t++) {
    const [f0, loud, gate] = controls.frame(feats.f0Hz[t], feats.f0Confidence[t], feats.loudnessDb[t], fit);
    const [amp, dist, noise] = decoder.step(f0Scaled(f0), loudnessScaled(loud));
    f0Hz[t] = f0;
    amplitude[t] = amp[0] * gate;
    harmonicDistribution.set(dist, t * K);
    noiseMagnitudes.set(Float64Array.from(noise, (m) => m * gate), t * B);
  }
  assert.ok(harmonicAmplitudes(f0Hz, amplitude, harmonicDistribution, K).some((v) => v > 0));
  return synthesize({ f0Hz, amplitude, harmonicDistribution, noiseMagnitudes, nHarmonics: K, nBands: B }, { nSamples: audio.length });
}

function stream(meta, graph, audio, block, opts = { autoFit: false }) {
  const live = new LiveInstrument(meta, graph, opts);
  const out = new Float32Array(audio.length);
  for (let i = 0; i < audio.length; i += block) {
    const n = Math.min(block, audio.length - i);
    live.process(audio.subarray(i, i + n), out.subarray(i, i + n));
  }
  return { out, live };
}


test("live output is the offline chain delayed by exactly latencySamples (feature look-ahead + 1 hop)", () => {
  const { meta, graph } = bansuri();
  const audio = sungLike();
  const ref = offline(meta, graph, audio);
  const { out, live } = stream(meta, graph, audio, 128);
  assert.equal(live.latencySamples, STREAM_LATENCY + 64); // 388 + one frame of pitch path + one hop = 516
  const L = live.latencySamples;
  const got = out.subarray(L);
  const want = Float32Array.from(ref.subarray(0, audio.length - L));
  assert.ok(Math.max(...want.map(Math.abs)) > 0.01, "the reference is not silence");
  const snr = snrDb(want, got);
  assert.ok(snr > 60, `SNR ${snr.toFixed(1)} dB against the offline chain`);
  assert.ok(out.subarray(0, L).every((v) => v === 0), "nothing comes out before the first sample is due");
  assert.equal(live.starved, 0);
});

test("the block size changes nothing (128-sample render quanta, odd sizes, large blocks)", () => {
  const { meta, graph } = bansuri();
  const audio = sungLike(1.2);
  const a = stream(meta, graph, audio, 128, {}).out;
  for (const block of [1, 77, 1000, 4096]) {
    const b = stream(meta, graph, audio, block, {}).out;
    assert.ok(b.every((v, i) => v === a[i]), `block ${block}`);
  }
});

test("silence in, silence out; gain scales; reset starts over", () => {
  const { meta, graph } = bansuri();
  const silent = stream(meta, graph, new Float32Array(SR), 128).out;
  assert.ok(Math.max(...silent.map(Math.abs)) < 1e-4, "an idle instrument is (nearly) silent");
  const audio = sungLike(1.0);
  const plain = stream(meta, graph, audio, 128).out;
  const loud = stream(meta, graph, audio, 128, { autoFit: false, gainDb: 6 }).out;
  const g = 10 ** (6 / 20);
  assert.ok(plain.every((v, i) => Math.abs(loud[i] - g * v) < 1e-6));
  const { live } = stream(meta, graph, audio, 128);
  live.reset();
  const again = new Float32Array(audio.length);
  for (let i = 0; i < audio.length; i += 128) live.process(audio.subarray(i, i + 128), again.subarray(i, i + 128));
  assert.ok(again.every((v, i) => v === plain[i]));
});
