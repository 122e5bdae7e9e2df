// The live decoder (plain JS, frame by frame) against the references it must reproduce:
// the shipped CNN instruments against the TF.js graph model (cpu backend, in Node), and a GRU
// against TensorFlow's own outputs (widgets/test/vectors/gru_decoder, tests/make_decoder_vectors.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfconv from "@tensorflow/tfjs-converter";
import { readGraphModel, halfToFloat, GraphFileError } from "../src/live/graph_file.js";
import { compileFrameGraph, UnsupportedGraphError } from "../src/live/frame_graph.js";
import { harmonicAmplitudes } from "../src/dsp/controls.js";
import { synthesize } from "../src/dsp/synth.js";
import { snrDb } from "./snr.js";

const MODELS = new URL("../../models/", import.meta.url);
const GRU = new URL("./vectors/gru_decoder/", import.meta.url);

function instrumentFiles(dirUrl) {
  const meta = JSON.parse(readFileSync(new URL("metadata.json", dirUrl)));
  const files = {};
  for (const name of Object.keys(meta.files)) files[name] = new Uint8Array(readFileSync(new URL(name, dirUrl)));
  return { meta, files };
}

function compile(meta, files) {
  const o = meta.outputs;
  return compileFrameGraph(readGraphModel(files), {
    inputs: [meta.inputs.f0_scaled, meta.inputs.loudness_scaled],
    outputs: [o.amplitude, o.harmonic_distribution, o.noise_magnitudes],
  });
}

function streamAll(graph, f0, loud) {
  const T = f0.length;
  const outs = graph.outputs.map((o) => new Float32Array(T * o.length));
  for (let t = 0; t < T; t++) {
    const step = graph.step(f0[t], loud[t]);
    step.forEach((o, k) => outs[k].set(o, t * o.length));
  }
  return outs;
}

// A sung phrase as decoder inputs: glide, vibrato, a rest, loudness swells (like the GRU vector).
function phrase(T) {
  const f0 = new Float32Array(T);
  const loud = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    f0[t] = (55 + 7 * Math.min(Math.max((t - 40) / 80, 0), 1) + 0.4 * Math.sin((2 * Math.PI * t) / 45)) / 127;
    loud[t] = Math.floor(t / 60) % 3 === 2 ? 0 : (-30 + 8 * Math.sin((2 * Math.PI * t) / 70)) / 80 + 1;
  }
  return { f0, loud };
}

function assertClose(got, want, what, atol = 1e-5, rtol = 1e-4) {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${got[at]}, reference ${want[at]}`);
}


function render(f0Scaled, [amp, dist, noise], K, B) {
  const f0Hz = Float64Array.from(f0Scaled, (v) => 440 * 2 ** ((v * 127 - 69) / 12));
  return synthesize({ f0Hz, amplitude: amp, harmonicDistribution: dist, noiseMagnitudes: noise, nHarmonics: K, nBands: B });
}

test("float16 weights decode like IEEE half", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0xfc00), -Infinity);
});

const shipped = readdirSync(MODELS).filter((d) => {
  try {
    readFileSync(new URL(`${d}/metadata.json`, MODELS));
    return true;
  } catch (_) {
    return false;
  }
});

test("the shipped instruments are all here", () => {
  assert.deepEqual(shipped.sort(), ["bansuri", "sarangi", "shehnai"]);
});

for (const name of shipped) {
  test(`${name}: frame by frame equals the TF.js graph model over a whole phrase`, async () => {
    await tf.setBackend("cpu");
    const { meta, files } = instrumentFiles(new URL(`${name}/`, MODELS));
    const mj = JSON.parse(new TextDecoder().decode(files["model.json"]));
    const shards = mj.weightsManifest.flatMap((g) => g.paths).map((p) => files[p]);
    const bytes = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
    shards.reduce((off, s) => (bytes.set(s, off), off + s.length), 0);
    const model = await tfconv.loadGraphModel(
      tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest.flatMap((g) => g.weights), weightData: bytes.buffer, format: mj.format, signature: mj.signature }),
    );
    const T = 400;
    const { f0, loud } = phrase(T);
    const strip = (n) => n.replace(/:0$/, "");
    const o = meta.outputs;
    const ref = model
      .execute({ [strip(meta.inputs.f0_scaled)]: tf.tensor3d(f0, [1, T, 1]), [strip(meta.inputs.loudness_scaled)]: tf.tensor3d(loud, [1, T, 1]) }, [o.amplitude, o.harmonic_distribution, o.noise_magnitudes])
      .map((t) => t.dataSync());
    const graph = compile(meta, files);
    const got = streamAll(graph, f0, loud);
    ["amplitude", "harmonic_distribution", "noise_magnitudes"].forEach((k, i) => assertClose(got[i], ref[i], `${name} ${k}`));
    const K = meta.synth.n_harmonics;
    const B = meta.synth.n_noise_bands;
    const snr = snrDb(render(f0, ref, K, B), render(f0, got, K, B));
    assert.ok(snr >= 40, `${name}: audio SNR ${snr.toFixed(1)} dB against TF.js`);
    // A reset stream starts over: the same phrase gives the same outputs again.
    graph.reset();
    assertClose(streamAll(graph, f0, loud)[0], got[0], `${name} after reset`, 0, 0);
    model.dispose();
  });
}

test("GRU: frame by frame equals TensorFlow, the hidden state carried from frame to frame", () => {
  const { meta, files } = instrumentFiles(GRU);
  const expected = JSON.parse(readFileSync(new URL("expected.json", GRU)));
  assert.equal(meta.decoder.type, "gru");
  const graph = compile(meta, files);
  assert.equal(graph.recurrent.length, 1, "one carried state (the GRU's hidden vector)");
  const got = streamAll(graph, Float32Array.from(expected.f0_scaled), Float32Array.from(expected.loudness_scaled));
  // TensorFlow used float32 constants where the float16 export rounded them (ln 10 in exp_sigmoid,
  // the layer-norm epsilon): up to ~3e-4 relative, hence a looser tolerance than against TF.js.
  ["amplitude", "harmonic_distribution", "noise_magnitudes"].forEach((k, i) => assertClose(got[i], expected[k], `gru ${k}`, 1e-5, 1e-3));
  const render2 = (c) => render(Float32Array.from(expected.f0_scaled), c, meta.synth.n_harmonics, meta.synth.n_noise_bands);
  const want = ["amplitude", "harmonic_distribution", "noise_magnitudes"].map((k) => Float32Array.from(expected[k]));
  assert.ok(snrDb(render2(want), render2(got)) >= 40);
  // Without the carried state every frame would start from zeros: the outputs would differ.
  graph.reset();
  const first = Float32Array.from(graph.step(expected.f0_scaled[150], expected.loudness_scaled[150])[1]);
  const inContext = got[1].subarray(150 * meta.synth.n_harmonics, 151 * meta.synth.n_harmonics);
  assert.ok(first.some((v, i) => Math.abs(v - inContext[i]) > 1e-3), "state makes a difference");
});

// A tiny graph built by hand: f0 -> op -> output, to check what the interpreter refuses.
function tinyGraph(op, extraNodes = [], weights = new Map()) {
  const nodes = [
    { name: "f0_scaled", op: "Placeholder", inputs: [], attr: { shape: { shape: { dim: [{ size: "-1" }, { size: "-1" }, { size: "1" }] } } } },
    ...extraNodes,
    { name: "out", op, inputs: ["f0_scaled", ...extraNodes.map((n) => n.name)], attr: {} },
  ];
  return { nodes, weights, signature: {} };
}

test("graphs the live decoder cannot stream are refused with the reason", () => {
  assert.throws(() => compileFrameGraph(tinyGraph("Cumsum"), { inputs: ["f0_scaled:0"], outputs: ["out:0"] }), (err) => err instanceof UnsupportedGraphError && /Cumsum/.test(err.message));
  // Padding the future (right side of the time axis) is not causal: no delay line can stream it.
  const pads = new Map([["pads", { dtype: "int32", shape: [3, 2], data: Int32Array.from([0, 0, 0, 2, 0, 0]) }]]);
  const padGraph = tinyGraph("Pad", [{ name: "pads", op: "Const", inputs: [], attr: {} }], pads);
  assert.throws(() => compileFrameGraph(padGraph, { inputs: ["f0_scaled:0"], outputs: ["out:0"] }), (err) => err instanceof UnsupportedGraphError && /causal/.test(err.message));
  assert.throws(() => readGraphModel({ "model.json": new TextEncoder().encode("{}") }), GraphFileError);
});
