// The offline engine with a recurrent decoder: TF.js cannot run a GRU's loop, so loadInstrument
// runs it on the live interpreter over the whole clip, with TensorFlow's outputs
// (widgets/test/vectors/gru_decoder) and a fresh state for every clip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadInstrument } from "../src/engine/index.js";

const GRU = new URL("./vectors/gru_decoder/", import.meta.url);

function files(dirUrl) {
  const meta = JSON.parse(readFileSync(new URL("metadata.json", dirUrl)));
  const out = { "metadata.json": new Uint8Array(readFileSync(new URL("metadata.json", dirUrl))) };
  for (const name of Object.keys(meta.files)) out[name] = new Uint8Array(readFileSync(new URL(name, dirUrl)));
  return out;
}

test("a GRU instrument decodes whole clips offline, as TensorFlow does, clip after clip", async () => {
  const inst = await loadInstrument(files(GRU));
  assert.equal(inst.runtime, "frame interpreter");
  const expected = JSON.parse(readFileSync(new URL("expected.json", GRU)));
  const f0 = Float32Array.from(expected.f0_scaled);
  const loud = Float32Array.from(expected.loudness_scaled);
  for (let clip = 0; clip < 2; clip++) {
    const got = inst.decoder.decode(f0, loud);
    ["amplitude", "harmonic_distribution", "noise_magnitudes"].forEach((key, i) => {
      assert.equal(got[i].length, expected[key].length, key);
      got[i].forEach((v, j) => {
        const ref = expected[key][j];
        assert.ok(Math.abs(v - ref) <= 1e-5 + 1e-3 * Math.abs(ref), `clip ${clip} ${key}[${j}]: ${v} vs ${ref}`);
      });
    });
  }
  inst.dispose();
});
