// The published page's host parts that need no browser: the stand-in model, the WAV writer and the
// page's wording of the widget's notebook-specific messages.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PageModel } from "../src/page/model.js";
import { wavBytes } from "../src/page/wav.js";
import { pagePhrase } from "../src/page/phrases.js";

test("the page model fires change events, routes sends to the host and delivers messages", () => {
  const m = new PageModel({ instrument: "bansuri", live: false });
  const seen = [];
  const onChange = (v) => seen.push(["instrument", v]);
  m.on("change:instrument", onChange);
  m.set("instrument", "shehnai");
  m.set("instrument", "shehnai"); // unchanged: no event
  m.off("change:instrument", onChange);
  m.set("instrument", "sarangi"); // after off: no event
  assert.deepEqual(seen, [["instrument", "shehnai"]]);
  assert.equal(m.get("instrument"), "sarangi");

  const sent = [];
  m.outbox = (content, buffers) => sent.push([content.type, buffers.length]);
  m.send({ type: "take" }, undefined, [new ArrayBuffer(8)]);
  m.send({ type: "ready" });
  assert.deepEqual(sent, [["take", 1], ["ready", 0]]);

  const got = [];
  m.on("msg:custom", (content, buffers) => got.push([content.type, buffers.length]));
  m.deliver({ type: "model" }, [new Uint8Array(3)]);
  assert.deepEqual(got, [["model", 1]]);
});

test("wavBytes writes 16-bit mono PCM at the given rate, clipped", () => {
  const bytes = wavBytes(new Float32Array([0, 0.5, -1, 2]), 16000);
  const v = new DataView(bytes.buffer);
  const text = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
  assert.equal(text(0), "RIFF");
  assert.equal(text(8), "WAVE");
  assert.equal(v.getUint32(24, true), 16000);
  assert.equal(v.getUint16(22, true), 1);
  assert.equal(v.getUint16(34, true), 16);
  assert.equal(v.getUint32(40, true), 8);
  assert.deepEqual([0, 1, 2, 3].map((i) => v.getInt16(44 + 2 * i, true)), [0, 16384, -32767, 32767]);
});

test("messages that tell a notebook user what to do in Python are worded for the page", () => {
  globalThis.isSecureContext = true;
  const cases = [
    ["hint", "Press Record and sing: your take reaches Python as widget.last_take."],
    ["hint", "Got 3.2 s: it is in widget.last_take."],
    ["hint", "Done: press Bansuri to listen again. In Python: widget.last_output, widget.save('my-take')."],
    ["hint", "Bansuri is ready. No microphone here: call widget.transform('clip.wav') in Python to play a clip on it."],
    ["engine", "The instrument engine cannot start in this browser (no backend). Recording still works; takes reach Python."],
    ["mic", "Microphone access was blocked: allow the microphone for this site, then press Record again. (widget.transform() still works without it.)"],
    ["audio", "Sound is paused by the browser until you click: click anywhere in this widget."],
  ];
  for (const [topic, text] of cases) {
    const out = pagePhrase(topic, text);
    assert.ok(out.length > 5, `${text} -> empty`);
    assert.doesNotMatch(out, /Python|widget\.[a-z]|Jupyter|this widget/, `${text} -> ${out}`);
  }
  assert.match(pagePhrase("hint", "Done: press Bansuri to listen again. In Python: widget.last_output."), /^Done: press Bansuri to listen again\. Download it below\.$/);
  // Messages without notebook talk pass unchanged.
  assert.equal(pagePhrase("model", "Loading the Bansuri…"), "Loading the Bansuri…");
});
