import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256Hex } from "../src/engine/sha256.js";

test("sha256 matches node's crypto on sizes around block boundaries", () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100003]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
    assert.equal(sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"), `n=${n}`);
  }
});
