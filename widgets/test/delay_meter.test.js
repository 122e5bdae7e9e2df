// The delay meter finds the lag between the worklet's input and output envelopes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DelayMeter } from "../src/live/delay_meter.js";

// 1 ms mean-square frames: notes of 300-700 ms with rests, a little noise.
function bursts(n, seed = 1) {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const out = new Float32Array(n);
  let t = 0;
  while (t < n) {
    const on = 300 + Math.floor(400 * rand());
    const off = 150 + Math.floor(300 * rand());
    const level = 0.01 + 0.05 * rand();
    for (let i = t; i < Math.min(n, t + on); i++) out[i] = level * (0.9 + 0.2 * rand());
    for (let i = t + on; i < Math.min(n, t + on + off); i++) out[i] = 1e-7 * rand();
    t += on + off;
  }
  return out;
}

function delayed(x, lag, attack = 10) {
  const y = new Float32Array(x.length);
  let state = 0;
  for (let i = 0; i < x.length; i++) {
    const v = i >= lag ? x[i - lag] : 0;
    state += (v - state) / attack; // an instrument's attack smooths the contour
    y[i] = 0.5 * state;
  }
  return y;
}

test("finds the delay between the voice's and the instrument's loudness contours", () => {
  for (const lag of [5, 28, 90]) {
    const meter = new DelayMeter();
    const x = bursts(7000, lag);
    const y = delayed(x, lag, 2);
    for (let i = 0; i < x.length; i += 100) meter.push(x.subarray(i, i + 100), y.subarray(i, i + 100));
    const r = meter.measure();
    assert.ok(r && Math.abs(r.delayMs - lag) < 2, `lag ${lag}: measured ${JSON.stringify(r)}`);
    assert.ok(r.correlation > 0.9);
  }
});

test("no measurement from a flat input or before there is enough to align", () => {
  const meter = new DelayMeter();
  meter.push(new Float32Array(300).fill(0.01), new Float32Array(300).fill(0.01));
  assert.equal(meter.measure(), null);
  meter.push(new Float32Array(5000).fill(0.01), new Float32Array(5000).fill(0.02));
  assert.equal(meter.measure(), null);
  assert.equal(meter.delayMs, null);
  assert.throws(() => meter.push(new Float32Array(1), new Float32Array(1), 2.9), /1 ms/);
});
