// The browser engine: audio -> features -> (fit to instrument) -> controls (decoder) -> synth -> audio,
// offline (a whole clip). Used by the widget and by the parity tests. The decoder runs on TF.js,
// except a recurrent one (TF.js cannot run its loop), which runs on the live interpreter
// (frame_decoder.js). Live play never uses TF.js: it runs the same exported decoder frame by frame
// in the audio thread (widgets/src/live).
import { tf, chooseBackend } from "./backends.js";
import { verifyInstrumentFiles, loadDecoder, ModelFileError } from "./model_loader.js";
import { frameDecoder, graphHasLoop } from "./frame_decoder.js";
import { computeFeatures } from "../dsp/features.js";
import { fillUnvoiced, scaleF0, scaleLoudness } from "../dsp/controls.js";
import { synthesize, applyReverb } from "../dsp/synth.js";
import { applyRoom } from "../dsp/room.js";
import { fitFeatures } from "../dsp/tone_fit.js";

export { ModelFileError, computeFeatures, tf };
export { loadBackendModule } from "./backends.js";

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
  const decoder = graphHasLoop(files) ? frameDecoder(meta, files) : tfjsDecoder(meta, await loadDecoder(files));
  let reverbIr = null;
  if (meta.synth.reverb) {
    const bytes = files[meta.synth.reverb];
    reverbIr = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return new Instrument(meta, decoder, reverbIr);
}

/** The TF.js graph model behind the same interface as frameDecoder. */
function tfjsDecoder(meta, model) {
  const strip = (n) => n.replace(/:0$/, "");
  const inputNames = [strip(meta.inputs.f0_scaled), strip(meta.inputs.loudness_scaled)];
  const outputNames = [meta.outputs.amplitude, meta.outputs.harmonic_distribution, meta.outputs.noise_magnitudes];
  return {
    runtime: "tfjs",
    decode(f0s, lds) {
      const T = f0s.length;
      // tidy disposes every intermediate; dataSync copies out before the outputs are freed.
      return tf.tidy(() => {
        const inputs = { [inputNames[0]]: tf.tensor3d(f0s, [1, T, 1]), [inputNames[1]]: tf.tensor3d(lds, [1, T, 1]) };
        return model.execute(inputs, outputNames).map((out) => Float64Array.from(out.dataSync()));
      });
    },
    dispose: () => model.dispose(),
  };
}

function gainOf(db) {
  return 10 ** (db / 20);
}

export class Instrument {
  constructor(meta, decoder, reverbIr) {
    this.meta = meta;
    this.name = meta.name;
    this.decoder = decoder;
    this.runtime = decoder.runtime; // "tfjs" or "frame interpreter"
    this.reverbIr = reverbIr;
    this.K = meta.synth.n_harmonics;
    this.B = meta.synth.n_noise_bands;
  }

  /** Decoder on per-frame inputs (f0 already filled/fitted, loudness fitted): {amplitude, harmonicDistribution, noiseMagnitudes}. */
  decode(f0Hz, loudnessDb) {
    const [amplitude, harmonicDistribution, noiseMagnitudes] = this.decoder.decode(scaleF0(f0Hz), scaleLoudness(loudnessDb));
    return { amplitude, harmonicDistribution, noiseMagnitudes };
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

  dispose() {
    this.decoder.dispose();
  }
}
