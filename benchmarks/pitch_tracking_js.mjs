// Speed of the browser's tracker (widgets/src/dsp/features.js computeFeatures) under Node, one thread:
// node benchmarks/pitch_tracking_js.mjs CLIP.f32 ... (raw little-endian float32 at 16 kHz; written by
// benchmarks/pitch_tracking.py --js). Prints {"seconds", "ms", "x_real_time"}; one warm-up pass first.
import { readFileSync } from "node:fs";
import { computeFeatures } from "../widgets/src/dsp/features.js";

const clips = process.argv.slice(2).map((p) => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
});
computeFeatures(clips[0].subarray(0, 16000)); // warm-up: JIT
let seconds = 0;
const t0 = performance.now();
for (const audio of clips) {
  computeFeatures(audio);
  seconds += audio.length / 16000;
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ seconds, ms, x_real_time: seconds / (ms / 1000) }));
