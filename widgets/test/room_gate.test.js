import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { roomIr, applyRoom } from "../src/dsp/room.js";
import { noteGate, GateStream } from "../src/dsp/gate.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/synth.json", import.meta.url)));

test("room impulse response matches Python's", () => {
  const ir = roomIr();
  assert.equal(ir.length, vectors.room_ir_length);
  vectors.room_ir_every_8th.forEach((v, i) => assert.ok(Math.abs(ir[i * 8] - v) < 1e-10, `sample ${i * 8}`));
});

test("room adds the wet path and keeps the dry one", () => {
  const x = new Float32Array(12000);
  x[10] = 1;
  const y = applyRoom(x);
  const ir = roomIr();
  assert.ok(Math.abs(y[10] - 1 - ir[0]) < 1e-6);
  for (const lag of [200, 1000, 5000]) assert.ok(Math.abs(y[10 + lag] - ir[lag]) < 1e-6, `lag ${lag}`);
});

test("note gate matches Python's, offline and streaming", () => {
  const { gain } = noteGate(vectors.gate_confidence);
  vectors.gate_gain.forEach((g, t) => assert.ok(Math.abs(gain[t] - g) < 1e-12, `frame ${t}`));
  const stream = new GateStream();
  vectors.gate_confidence.forEach((c, t) => assert.equal(stream.push(c), gain[t]));
  assert.ok(vectors.gate_gain.some((g) => g === 1) && vectors.gate_gain.some((g) => g > 0 && g < 1));
});
