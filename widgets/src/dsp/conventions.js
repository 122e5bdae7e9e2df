// The kit's conventions for the browser. Every number comes from conventions.json, which Python writes
// from sounds_kit/conventions.py (the one definition); this module names them and adds the conversions
// built on them, so no other JS file re-types a threshold, a floor or the tuning.
import json from "../conventions.json" with { type: "json" };

function deepFreeze(value) {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The whole table, as Python emitted it (model_loader checks an instrument's copy against it). */
export const conventions = deepFreeze(json);

export const SAMPLE_RATE = conventions.sample_rate;
export const HOP_SIZE = conventions.hop_size;
export const FRAME_RATE = conventions.frame_rate;
export const LOUDNESS_FLOOR_DB = conventions.loudness_floor_db;
export const VOICED_CONFIDENCE = conventions.voiced_confidence;
export const DEFAULT_F0_HZ = conventions.default_f0_hz;
export const A4_HZ = conventions.a4_hz;
export const A4_MIDI = conventions.a4_midi;
export const FIT_PROBS = conventions.fit_probs;
/** key -> {label, aroha, avaroha, vadi, samvadi, scale}; `scale` is the semitones above Sa the trace draws. */
export const RAGAS = conventions.ragas;
export const DEFAULT_RAGA = conventions.default_raga;

/** The voicing decision on f0 confidence, as sounds_kit.conventions.is_voiced (at least the cut). */
export function isVoiced(confidence) {
  return confidence >= VOICED_CONFIDENCE;
}

/** MIDI note number of a frequency; clipped at 1e-3 Hz so a zero stays finite (as hz_to_midi). */
export function hzToMidi(hz) {
  return A4_MIDI + 12 * Math.log2(Math.max(hz, 1e-3) / A4_HZ);
}

/** Frequency of a (fractional) MIDI note number (as midi_to_hz). */
export function midiToHz(midi) {
  return A4_HZ * 2 ** ((midi - A4_MIDI) / 12);
}
