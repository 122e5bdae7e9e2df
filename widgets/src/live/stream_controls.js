// Causal tone fit for a stream: from each new feature frame, the decoder's f0 (Hz) and loudness (dB).
// The offline fit (dsp/tone_fit.js) sees the whole take; a stream only sees the past, so:
//  - the voice profile runs over the last ~8 s of voiced frames, refreshed every REFRESH_FRAMES (0.2 s);
//  - the octave shift only changes between notes (on unvoiced frames): a held note never jumps;
//  - loudness follows the instrument by matching medians (offline maps all quantiles); in rests
//    (the note gate) only by the loud-end offset, as offline, so a rest is never lifted;
//  - unvoiced frames hold the last voiced f0 (offline may look ahead to the next note);
//  - the note gate (dsp/gate.js, causal) gives the gain for the synth's amplitudes: rests stay rests.
import { DEFAULT_F0_HZ, FRAME_RATE, LOUDNESS_FLOOR_DB, isVoiced } from "../dsp/conventions.js";
import { instrumentProfile, octaveShift, voiceProfile } from "../dsp/tone_fit.js";
import { GateStream } from "../dsp/gate.js";

const PROFILE_SECONDS = 8;
const REFRESH_FRAMES = 50; // 0.2 s: an 8 s profile moves slowly, and a refresh sorts up to 2000 values
const MIN_VOICED_FOR_LOUDNESS = 50;
const FLOOR_DB = LOUDNESS_FLOOR_DB;

export class StreamControls {
  constructor(stats, { autoFit = true, octaveShift: manual = 0 } = {}) {
    this.profile = instrumentProfile(stats);
    this.capacity = FRAME_RATE * PROFILE_SECONDS;
    // Ring of voiced frames (f0, confidence, loudness) for the running voice profile.
    this.ring = [new Float64Array(this.capacity), new Float64Array(this.capacity), new Float64Array(this.capacity)];
    this.setOptions({ autoFit, octaveShift: manual });
    this.reset();
  }

  reset() {
    this.count = 0;
    this.head = 0;
    this.sinceRefresh = 0;
    this.voice = null;
    this.shift = 0;
    this.restShift = 0;
    this.gate = new GateStream();
    this.lastVoicedF0 = 0;
    this.octaves = this.manual;
  }

  setOptions({ autoFit, octaveShift: manual } = {}) {
    if (autoFit !== undefined) this.autoFit = !!autoFit;
    if (manual !== undefined) this.manual = manual;
    if (this.count === undefined) return;
    if (!this.autoFit) this.octaves = this.manual;
  }

  _refresh() {
    const n = this.count;
    const [f, c, l] = this.ring.map((r) => (n < this.capacity ? r.subarray(0, n) : r));
    this.voice = n ? voiceProfile(f, c, l) : null;
    const fitting = this.autoFit && this.profile && this.voice && n > MIN_VOICED_FOR_LOUDNESS;
    const [inst, voice] = fitting ? [this.profile.loudness.db, this.voice.loudness.db] : [[0], [0]];
    this.shift = fitting ? inst[2] - voice[2] : 0; // medians
    this.restShift = fitting ? inst[inst.length - 1] - voice[voice.length - 1] : 0; // loud ends
  }

  /** One feature frame in; writes [f0Hz, loudnessDb, gate gain] into `out` (length 3). */
  frame(f0Hz, confidence, loudnessDb, out) {
    const voiced = isVoiced(confidence) && f0Hz > 0;
    if (voiced && this.autoFit) {
      this.ring[0][this.head] = f0Hz;
      this.ring[1][this.head] = confidence;
      this.ring[2][this.head] = loudnessDb;
      this.head = (this.head + 1) % this.capacity;
      this.count = Math.min(this.count + 1, this.capacity);
    }
    if (this.autoFit && ++this.sinceRefresh >= REFRESH_FRAMES) {
      this.sinceRefresh = 0;
      this._refresh();
    }
    // The octave only changes between notes, so a held note never jumps.
    if (!voiced) this.octaves = this.autoFit ? octaveShift(this.voice, this.profile, this.manual) : this.manual;
    if (voiced) this.lastVoicedF0 = f0Hz;
    const f0 = voiced ? f0Hz : this.lastVoicedF0 || DEFAULT_F0_HZ;
    out[0] = f0 * 2 ** this.octaves;
    out[2] = this.gate.push(confidence);
    const shift = !this.autoFit ? 0 : this.gate.inNote ? this.shift : this.restShift;
    // Frames at the floor are silence and stay there.
    out[1] = loudnessDb > FLOOR_DB ? Math.max(FLOOR_DB, loudnessDb + shift) : loudnessDb;
    return out;
  }
}
