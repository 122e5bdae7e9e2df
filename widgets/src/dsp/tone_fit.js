// Fit a voice to an instrument (JS twin of sounds_kit/dsp/tone_fit.py): shift f0 by whole octaves
// toward the instrument's mean pitch, and map the voice's loudness distribution onto the
// instrument's by quantiles (both over voiced frames).
import { FIT_PROBS, LOUDNESS_FLOOR_DB, hzToMidi, isVoiced } from "./conventions.js";
import { noteGate } from "./gate.js";

/** {meanMidi, loudness: {probs, db}}: the `fit` entry of an instrument's stats (see sounds_kit.dsp.tone_fit). */
export function instrumentProfile(stats) {
  return stats && stats.fit ? stats.fit : null;
}

function quantile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Voice statistics over voiced frames: mean MIDI pitch and loudness quantiles at FIT_PROBS. */
export function voiceProfile(f0Hz, confidence, loudnessDb) {
  const midi = [];
  const loud = [];
  for (let t = 0; t < f0Hz.length; t++) {
    if (isVoiced(confidence[t]) && f0Hz[t] > 0) {
      midi.push(hzToMidi(f0Hz[t]));
      loud.push(loudnessDb[t]);
    }
  }
  if (midi.length === 0) return null;
  loud.sort((a, b) => a - b);
  return {
    meanMidi: midi.reduce((a, b) => a + b, 0) / midi.length,
    loudness: { probs: FIT_PROBS, db: FIT_PROBS.map((p) => quantile(loud, p)) },
  };
}

/** Whole octaves to move the voice toward the instrument (+ a manual shift). */
export function octaveShift(voice, instrument, manual = 0) {
  if (!voice || !instrument) return manual;
  return Math.round((instrument.meanMidi - voice.meanMidi) / 12) + manual;
}

/** Piecewise-linear map of loudness through matching quantiles; outside the range, shift by the edge offset. */
export function mapLoudness(db, voiceQ, instQ) {
  const n = voiceQ.length;
  if (db <= voiceQ[0]) return db + (instQ[0] - voiceQ[0]);
  if (db >= voiceQ[n - 1]) return db + (instQ[n - 1] - voiceQ[n - 1]);
  for (let i = 1; i < n; i++) {
    if (db <= voiceQ[i]) {
      const span = voiceQ[i] - voiceQ[i - 1];
      const w = span > 1e-9 ? (db - voiceQ[i - 1]) / span : 0;
      return instQ[i - 1] + w * (instQ[i] - instQ[i - 1]);
    }
  }
  return db;
}

/**
 * Fitted features for the decoder: {f0Hz, loudnessDb, octaves, gate}.
 * autoFit=false applies only the manual octave shift. In rests (the note gate) loudness only shifts by
 * the loud-end offset, so a rest is never lifted; `gate` is the gain the synth's amplitudes get.
 */
export function fitFeatures(features, stats, { autoFit = true, octaveShift: manual = 0 } = {}) {
  const inst = instrumentProfile(stats);
  const voice = autoFit ? voiceProfile(features.f0Hz, features.f0Confidence, features.loudnessDb) : null;
  const octaves = autoFit ? octaveShift(voice, inst, manual) : manual;
  const ratio = 2 ** octaves;
  const f0Hz = Float64Array.from(features.f0Hz, (f) => f * ratio);
  let loudnessDb = Float64Array.from(features.loudnessDb);
  const { gain, inNote } = noteGate(features.f0Confidence);
  if (autoFit && voice && inst) {
    // Quantiles rise with their probabilities (the voice's from its sorted frames, the instrument's
    // from its stats), so the map is monotonic as it stands. Frames at the floor are silence: they
    // stay there rather than being lifted.
    const floor = LOUDNESS_FLOOR_DB;
    const vq = voice.loudness.db;
    const iq = inst.loudness.db;
    const restShift = iq[iq.length - 1] - vq[vq.length - 1];
    loudnessDb = Float64Array.from(features.loudnessDb, (l, t) => {
      if (l <= floor) return l;
      return Math.max(floor, inNote[t] ? mapLoudness(l, vq, iq) : l + restShift);
    });
  }
  return { f0Hz, loudnessDb, octaves, gate: gain };
}
