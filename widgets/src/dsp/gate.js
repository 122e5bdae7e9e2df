// Note on/off for tone transfer (twin of sounds_kit/dsp/gate.py): a note lasts while frames are voiced
// plus a short hold; in a rest the instrument fades out with the release time, so rests stay rests.
// Causal, so the live path runs the same rule frame by frame (GateStream).
import { conventions, FRAME_RATE, isVoiced } from "./conventions.js";

export const GATE_HOLD_FRAMES = Math.round(conventions.gate.hold_s * FRAME_RATE);
export const GATE_RELEASE = Math.exp(-1 / (conventions.gate.release_s * FRAME_RATE));

/** Frame-by-frame gate: push(confidence) -> gain in [0, 1]; `inNote` tells whether that frame is in a note. */
export class GateStream {
  constructor() {
    this.gain = 0; // a stream starts in a rest
    this.since = GATE_HOLD_FRAMES + 1;
    this.inNote = false;
  }

  push(confidence) {
    this.since = isVoiced(confidence) ? 0 : this.since + 1;
    this.inNote = this.since <= GATE_HOLD_FRAMES;
    this.gain = this.inNote ? 1 : this.gain * GATE_RELEASE;
    return this.gain;
  }
}

/** Whole clip: {gain: Float64Array, inNote: Uint8Array} per frame (as note_gate in Python). */
export function noteGate(confidence) {
  const g = new GateStream();
  const gain = new Float64Array(confidence.length);
  const inNote = new Uint8Array(confidence.length);
  for (let t = 0; t < confidence.length; t++) {
    gain[t] = g.push(confidence[t]);
    inNote[t] = g.inNote ? 1 : 0;
  }
  return { gain, inNote };
}
