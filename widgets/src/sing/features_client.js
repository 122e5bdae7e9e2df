// Pitch and loudness for the trace, from the kit's one JS implementation of the features
// (widgets/src/dsp/features.js, the same definition as sounds_kit/dsp/features.py).
import { computeFeatures, FeatureStream } from "../dsp/features.js";
import { LOUDNESS_FLOOR_DB } from "../dsp/conventions.js";
import { errText } from "./status.js";

const toArray = (v) => (v == null ? [] : Array.from(v));

/** Frames from either {f0Hz: [...], f0Confidence: [...], loudnessDb: [...]} or [{...}, ...]. */
export function asFrames(result) {
  if (!result) return [];
  if (Array.isArray(result)) {
    return result.map((fr) => ({
      f0Hz: fr.f0Hz ?? fr.f0_hz ?? 0,
      confidence: fr.f0Confidence ?? fr.confidence ?? fr.f0_confidence ?? 0,
      loudnessDb: fr.loudnessDb ?? fr.loudness_db ?? LOUDNESS_FLOOR_DB,
    }));
  }
  const f0 = toArray(result.f0Hz ?? result.f0_hz);
  const conf = toArray(result.f0Confidence ?? result.confidence ?? result.f0_confidence);
  const loud = toArray(result.loudnessDb ?? result.loudness_db);
  return f0.map((v, i) => ({ f0Hz: v, confidence: conf[i] ?? 0, loudnessDb: loud[i] ?? LOUDNESS_FLOOR_DB }));
}

/** Whole-clip features as arrays {f0Hz, f0Confidence, loudnessDb}. */
export function clipFeatures(samples16k) {
  const r = computeFeatures(samples16k);
  const frames = asFrames(r);
  return {
    f0Hz: Float32Array.from(frames, (f) => f.f0Hz),
    f0Confidence: Float32Array.from(frames, (f) => f.confidence),
    loudnessDb: Float32Array.from(frames, (f) => f.loudnessDb),
  };
}

/** A live tracker: push(block16k) -> frames [{f0Hz, confidence, loudnessDb}]. */
export function liveFeatures() {
  const stream = new FeatureStream();
  return { push: (block) => asFrames(stream.push(block)) };
}

/**
 * The tracker that feeds the pitch trace from microphone blocks when no live stream does.
 * A tracker that fails stops itself and says so through onProblem(text); recording goes on.
 */
export class TraceFeed {
  constructor(trace, onProblem) {
    this.trace = trace;
    this.onProblem = onProblem;
    this.tracker = null;
  }

  get running() {
    return this.tracker !== null;
  }

  start() {
    try {
      this.tracker = liveFeatures();
    } catch (err) {
      this.tracker = null;
      this.onProblem(`The pitch trace is unavailable (${errText(err)}); recording still works.`);
    }
  }

  stop() {
    this.tracker = null;
  }

  push(samples) {
    if (!this.tracker) return;
    try {
      this.trace.push(this.tracker.push(samples));
    } catch (err) {
      this.tracker = null;
      this.onProblem(`The pitch trace stopped (${errText(err)}).`);
    }
  }
}
