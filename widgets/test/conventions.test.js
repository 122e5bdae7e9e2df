// The JS side reads the constants Python emits (widgets/src/conventions.json, written from
// sounds_kit/conventions.py): nothing re-typed, and every user of them sees the emitted values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as C from "../src/dsp/conventions.js";
import { fillUnvoiced } from "../src/dsp/controls.js";
import { voiceProfile, fitFeatures } from "../src/dsp/tone_fit.js";
import { guideLines, nearestSwara, ragaChoices, saChoices } from "../src/sing/swaras.js";
import { asFrames } from "../src/sing/features_client.js";

// Read from disk, not imported: the module must agree with the file, not with itself.
const emitted = JSON.parse(readFileSync(new URL("../src/conventions.json", import.meta.url)));

test("conventions.js exports exactly the emitted values", () => {
  assert.deepEqual(C.conventions, emitted);
  const named = {
    SAMPLE_RATE: "sample_rate",
    HOP_SIZE: "hop_size",
    FRAME_RATE: "frame_rate",
    LOUDNESS_FLOOR_DB: "loudness_floor_db",
    VOICED_CONFIDENCE: "voiced_confidence",
    DEFAULT_F0_HZ: "default_f0_hz",
    A4_HZ: "a4_hz",
    A4_MIDI: "a4_midi",
    FIT_PROBS: "fit_probs",
    RAGAS: "ragas",
    DEFAULT_RAGA: "default_raga",
  };
  for (const [name, key] of Object.entries(named)) {
    assert.ok(key in emitted, `conventions.json has no ${key}`);
    assert.deepEqual(C[name], emitted[key], `${name} != conventions.json ${key}`);
  }
});

test("the table cannot be changed at run time", () => {
  assert.throws(() => {
    C.FIT_PROBS.push(1);
  }, TypeError);
  assert.throws(() => {
    C.RAGAS[emitted.default_raga].scale[0] = 1;
  }, TypeError);
});

test("voiced means confidence at or above the emitted cut (as Python's is_voiced)", () => {
  const cut = emitted.voiced_confidence;
  assert.equal(C.isVoiced(cut), true);
  assert.equal(C.isVoiced(cut - 1e-9), false);
  assert.equal(C.isVoiced(1), true);
  // The decoder's f0 fill uses the same cut: a frame exactly at it counts as voiced.
  assert.deepEqual(Array.from(fillUnvoiced([0, 300, 0], [0, cut, 0])), [300, 300, 300]);
  assert.deepEqual(Array.from(fillUnvoiced([300, 400], [cut - 0.01, 0])), [emitted.default_f0_hz, emitted.default_f0_hz]);
  // ...and tone fitting's voice profile: the frame below the cut is left out of the mean.
  const p = voiceProfile([220, 880], [cut, cut - 0.01], [-20, -10]);
  assert.equal(p.meanMidi, C.hzToMidi(220));
});

test("MIDI <-> Hz follow the emitted tuning and invert each other", () => {
  assert.equal(C.midiToHz(emitted.a4_midi), emitted.a4_hz);
  assert.equal(C.hzToMidi(emitted.a4_hz), emitted.a4_midi);
  assert.ok(Math.abs(C.midiToHz(emitted.a4_midi + 12) - 2 * emitted.a4_hz) < 1e-9);
  for (const m of [21, 45.5, 60, 69, 100.25]) assert.ok(Math.abs(C.hzToMidi(C.midiToHz(m)) - m) < 1e-9);
  // Zero stays finite (hz_to_midi clips at 1e-3 Hz), as the decoder's input needs.
  assert.ok(Number.isFinite(C.hzToMidi(0)));
  // The Sa picker's labels use the same conversion.
  for (const c of saChoices()) assert.equal(c.hz, C.midiToHz(c.midi));
});

test("tone fitting uses the emitted quantiles and floor", () => {
  const p = voiceProfile([220, 220, 220], [1, 1, 1], [-30, -20, -10]);
  assert.deepEqual(p.loudness.probs, emitted.fit_probs);
  const floor = emitted.loudness_floor_db;
  const stats = { fit: { meanMidi: C.hzToMidi(220), loudness: { probs: emitted.fit_probs, db: emitted.fit_probs.map(() => floor + 1) } } };
  const fitted = fitFeatures({ f0Hz: [220, 220, 220], f0Confidence: [1, 1, 1], loudnessDb: [floor, -20, -10] }, stats);
  assert.equal(fitted.loudnessDb[0], floor); // silence stays at the floor
  for (const l of fitted.loudnessDb) assert.ok(l >= floor);
});

test("the raga picker and the trace's guide lines come from the emitted raga table", () => {
  assert.ok(emitted.default_raga in emitted.ragas);
  assert.deepEqual(
    ragaChoices(),
    Object.entries(emitted.ragas).map(([key, r]) => ({ key, label: r.label })),
  );
  for (const [key, raga] of Object.entries(emitted.ragas)) {
    // One octave of guide lines from Sa up to (not including) the upper Sa is the raga's scale.
    const semis = guideLines(key, 0, 1199).map((l) => l.cents / 100);
    assert.deepEqual(semis, raga.scale, key);
    for (const semi of raga.scale) assert.equal(nearestSwara(key, semi * 100).offsetCents, 0, `${key} ${semi}`);
  }
  // Unknown ragas fall back to all twelve swaras.
  assert.deepEqual(guideLines("no-such-raga", 0, 1199).map((l) => l.cents / 100), emitted.ragas.chromatic.scale);
});

test("frames without a loudness take the emitted floor", () => {
  assert.equal(asFrames([{ f0Hz: 100, confidence: 1 }])[0].loudnessDb, emitted.loudness_floor_db);
  assert.equal(asFrames({ f0Hz: [100], f0Confidence: [1] })[0].loudnessDb, emitted.loudness_floor_db);
});
