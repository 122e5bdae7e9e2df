// The browser engine: audio -> features -> (fit to instrument) -> controls (TF.js decoder) -> synth -> audio.
// Offline (a whole clip) and streaming (small blocks). Used by the widget and by the parity tests.
import { tf, chooseBackend } from "./backends.js";
import { verifyInstrumentFiles, loadDecoder, ModelFileError } from "./model_loader.js";
import { computeFeatures, FeatureStream } from "../dsp/features.js";
import { fillUnvoiced, scaleF0, scaleLoudness, harmonicAmplitudes } from "../dsp/controls.js";
import { synthesize, SynthStream, applyReverb } from "../dsp/synth.js";
import { applyRoom } from "../dsp/room.js";
import { GateStream } from "../dsp/gate.js";
import { fitFeatures, voiceProfile, octaveShift, instrumentProfile } from "../dsp/tone_fit.js";
import { SAMPLE_RATE as SR, HOP_SIZE as HOP, FRAME_RATE, LOUDNESS_FLOOR_DB as FLOOR_DB, DEFAULT_F0_HZ, isVoiced } from "../dsp/conventions.js";

export { ModelFileError, computeFeatures, tf };
// Most frames one stream block may bring (a 2048-sample block at 16 kHz).
const MAX_NEW_FRAMES = 32;

/** Choose a backend (webgl -> wasm -> cpu unless told) and return the engine. */
export async function createEngine({ backend = "auto" } = {}) {
  const chosen = await chooseBackend(backend);
  return {
    backend: chosen.backend,
    notes: chosen.notes,
    loadInstrument: (files) => loadInstrument(files),
  };
}

export async function loadInstrument(files) {
  const meta = verifyInstrumentFiles(files);
  const decoder = await loadDecoder(files);
  let reverbIr = null;
  if (meta.synth.reverb) {
    const bytes = files[meta.synth.reverb];
    reverbIr = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return new Instrument(meta, decoder, reverbIr);
}

function gainOf(db) {
  return 10 ** (db / 20);
}

export class Instrument {
  constructor(meta, decoder, reverbIr) {
    this.meta = meta;
    this.name = meta.name;
    this.decoder = decoder;
    this.reverbIr = reverbIr;
    this.K = meta.synth.n_harmonics;
    this.B = meta.synth.n_noise_bands;
    this.receptiveField = meta.decoder.type === "cnn" ? 1 + meta.decoder.dilations.reduce((a, d) => a + (meta.decoder.kernel - 1) * d, 0) : null;
    const strip = (n) => n.replace(/:0$/, "");
    this.inputNames = [strip(meta.inputs.f0_scaled), strip(meta.inputs.loudness_scaled)];
    this.outputNames = [meta.outputs.amplitude, meta.outputs.harmonic_distribution, meta.outputs.noise_magnitudes];
  }

  /** Decoder on per-frame inputs (f0 already filled/fitted, loudness fitted): {amplitude, harmonicDistribution, noiseMagnitudes}. */
  decode(f0Hz, loudnessDb) {
    const T = f0Hz.length;
    const f0s = scaleF0(f0Hz);
    const lds = scaleLoudness(loudnessDb);
    // tidy disposes every intermediate; dataSync copies out before the outputs are freed.
    return tf.tidy(() => {
      const inputs = {
        [this.inputNames[0]]: tf.tensor3d(f0s, [1, T, 1]),
        [this.inputNames[1]]: tf.tensor3d(lds, [1, T, 1]),
      };
      const [amp, dist, noise] = this.decoder.execute(inputs, this.outputNames);
      return {
        amplitude: Float64Array.from(amp.dataSync()),
        harmonicDistribution: Float64Array.from(dist.dataSync()),
        noiseMagnitudes: Float64Array.from(noise.dataSync()),
      };
    });
  }

  /** Controls from features: fit (optional), fill unvoiced f0, decode, gate (rests silence the instrument). */
  controlsFromFeatures(features, opts = {}) {
    const fitted = fitFeatures(features, this.meta.stats, opts);
    const f0Hz = fillUnvoiced(fitted.f0Hz, features.f0Confidence);
    const decoded = this.decode(f0Hz, fitted.loudnessDb);
    if (opts.gate !== false) {
      const B = this.B;
      for (let t = 0; t < f0Hz.length; t++) {
        const g = fitted.gate[t];
        decoded.amplitude[t] *= g;
        for (let j = 0; j < B; j++) decoded.noiseMagnitudes[t * B + j] *= g;
      }
    }
    return { f0Hz, loudnessDb: fitted.loudnessDb, octaves: fitted.octaves, ...decoded, nHarmonics: this.K, nBands: this.B };
  }

  /** Render controls to audio with the float64 JS synth (+ reverb and gain). */
  synthesizeControls(controls, { gainDb = 0, reverb = true, nSamples = null } = {}) {
    let audio = synthesize(controls, { nSamples });
    if (reverb && this.reverbIr) audio = applyReverb(audio, this.reverbIr);
    const g = gainOf(gainDb);
    return Float32Array.from(audio, (x) => x * g);
  }

  /** Offline: a whole clip at 16 kHz -> {audio (same length), features, controls}; in the room unless opts.room === false. */
  async render(audio, opts = {}) {
    const features = opts.features || computeFeatures(audio);
    const controls = this.controlsFromFeatures(features, opts);
    const dry = this.synthesizeControls(controls, { ...opts, nSamples: audio.length });
    return { audio: opts.room === false ? dry : applyRoom(dry), features, controls };
  }

  /**
   * Streaming: process(block) returns a block of the same length, delayed by latencySamples.
   * Features come from a FeatureStream; the CNN decoder sees its receptive field of past frames;
   * the synth keeps its phase and noise position. Octave fitting follows a running voice profile,
   * changed only between notes so a held note never jumps.
   */
  createStream(opts = {}) {
    return new InstrumentStream(this, opts);
  }

  dispose() {
    this.decoder.dispose();
  }
}

class InstrumentStream {
  constructor(instrument, { autoFit = true, octaveShift: manual = 0, gainDb = 0 } = {}) {
    this.inst = instrument;
    this.autoFit = autoFit;
    this.manual = manual;
    this.gain = gainOf(gainDb);
    this.features = new FeatureStream();
    this.synth = new SynthStream({ nHarmonics: instrument.K, nBands: instrument.B });
    this.context = instrument.receptiveField ?? 256; // frames of history the decoder sees
    this.hist = { f0: [], loud: [], conf: [] };
    this.noteGate = new GateStream(); // rests of the voice stay rests (as the offline path)
    this.lastVoicedF0 = 0;
    this.octaves = manual;
    this.voiced = [];
    this.profile = instrumentProfile(instrument.meta.stats);
    this.pending = new Float32Array(0); // synthesized samples not yet returned
    this.emitted = 0;
    this.framesDecoded = 0;
    // Input sample -> output sample: feature look-ahead + one frame of synth interpolation.
    this.latencySamples = this.features.latencySamples + HOP;
    this.latencyMs = (1000 * this.latencySamples) / SR;
  }

  setOptions({ octaveShift, gainDb, autoFit } = {}) {
    if (octaveShift !== undefined) this.manual = octaveShift;
    if (gainDb !== undefined) this.gain = gainOf(gainDb);
    if (autoFit !== undefined) this.autoFit = autoFit;
  }

  // Running voice profile over the last ~8 s of voiced frames, refreshed once per block (not per frame).
  _refreshProfile(frames) {
    for (let i = 0; i < frames.f0Hz.length; i++) {
      if (isVoiced(frames.f0Confidence[i]) && frames.f0Hz[i] > 0) {
        this.voiced.push([frames.f0Hz[i], frames.f0Confidence[i], frames.loudnessDb[i]]);
      }
    }
    const maxVoiced = FRAME_RATE * 8;
    if (this.voiced.length > maxVoiced) this.voiced.splice(0, this.voiced.length - maxVoiced);
    const cols = [0, 1, 2].map((k) => this.voiced.map((v) => v[k]));
    this.voice = this.voiced.length ? voiceProfile(cols[0], cols[1], cols[2]) : null;
  }

  /** Push input samples; returns exactly block.length output samples (silence until primed). */
  process(block) {
    const maxBlock = (MAX_NEW_FRAMES - 1) * HOP; // so one push never completes more than MAX_NEW_FRAMES frames
    if (block.length > maxBlock) {
      const out = new Float32Array(block.length);
      for (let i = 0; i < block.length; i += maxBlock) out.set(this.process(block.subarray(i, i + maxBlock)), i);
      return out;
    }
    const frames = this.features.push(block);
    this.lastFrames = frames; // the pitch trace reads these: no second tracker
    const n = frames.f0Hz.length;
    const out = new Float32Array(block.length);
    if (n > 0) {
      const h = this.hist;
      if (this.autoFit) this._refreshProfile(frames);
      // Loudness follows the instrument by matching medians (the offline path maps all quantiles).
      const fitting = this.autoFit && this.profile && this.voice && this.voiced.length > 50;
      const shift = fitting ? this.profile.loudness.db[2] - this.voice.loudness.db[2] : 0;
      // In rests, only the loud-end offset (as the offline fit): a rest is never lifted.
      const restShift = fitting ? this.profile.loudness.db[4] - this.voice.loudness.db[4] : 0;
      const gains = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const voiced = isVoiced(frames.f0Confidence[i]) && frames.f0Hz[i] > 0;
        // The octave only changes between notes, so a held note never jumps.
        if (!voiced) this.octaves = this.autoFit ? octaveShift(this.voice, this.profile, this.manual) : this.manual;
        if (voiced) this.lastVoicedF0 = frames.f0Hz[i];
        // Causal fill: hold the last voiced f0 (the offline fill may look ahead; a stream cannot).
        const f0 = (voiced ? frames.f0Hz[i] : this.lastVoicedF0 || DEFAULT_F0_HZ) * 2 ** this.octaves;
        // As the offline fit: frames at the floor are silence and stay there.
        gains[i] = this.noteGate.push(frames.f0Confidence[i]);
        const s = this.noteGate.inNote ? shift : restShift;
        const loud = frames.loudnessDb[i] > FLOOR_DB ? Math.max(FLOOR_DB, frames.loudnessDb[i] + s) : frames.loudnessDb[i];
        h.f0.push(f0);
        h.loud.push(loud);
      }
      // Decode a window of fixed length (receptive field + MAX_NEW frames): a constant shape lets
      // WebGL reuse its compiled shaders, and the window covers every new frame's receptive field.
      const win = this.context + MAX_NEW_FRAMES;
      if (h.f0.length > win) {
        h.f0.splice(0, h.f0.length - win);
        h.loud.splice(0, h.loud.length - win);
      }
      const T = win;
      const pad = T - h.f0.length; // only while the stream is younger than the window
      const f0w = new Float64Array(T).fill(h.f0[0]);
      const loudw = new Float64Array(T).fill(FLOOR_DB);
      f0w.set(h.f0, pad);
      loudw.set(h.loud, pad);
      const dec = this.inst.decode(f0w, loudw);
      const K = this.inst.K;
      const B = this.inst.B;
      const ampNew = Float64Array.from(dec.amplitude.subarray(T - n), (a, i) => a * gains[i]);
      const amps = harmonicAmplitudes(
        f0w.subarray(T - n),
        ampNew,
        dec.harmonicDistribution.subarray((T - n) * K),
        K,
      );
      const synthOut = new Float64Array(n * HOP);
      let written = 0;
      for (let i = 0; i < n; i++) {
        const t = T - n + i;
        const mags = Float64Array.from(dec.noiseMagnitudes.subarray(t * B, (t + 1) * B), (m) => m * gains[i]);
        written += this.synth.pushFrame(f0w[t], amps.subarray(i * K, (i + 1) * K), mags, synthOut, written);
      }
      const merged = new Float32Array(this.pending.length + written);
      merged.set(this.pending);
      for (let i = 0; i < written; i++) merged[this.pending.length + i] = synthOut[i] * this.gain;
      this.pending = merged;
    }
    // Output starts once latencySamples of input have gone by, so the delay is exactly constant.
    this.emitted += block.length;
    const start = Math.max(0, block.length - Math.max(0, this.emitted - this.latencySamples));
    const avail = Math.min(block.length - start, this.pending.length);
    out.set(this.pending.subarray(0, avail), start);
    this.pending = this.pending.slice(avail);
    this.underruns = (this.underruns || 0) + (avail < block.length - start ? 1 : 0);
    return out;
  }
}
