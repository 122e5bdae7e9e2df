// The whole live instrument without TF.js, sample in -> sample out, for the audio thread:
// streaming features (dsp/features.js) -> causal tone fit and note gate (stream_controls.js) -> the
// exported decoder frame by frame (frame_graph.js) -> the float64 synth (dsp/synth.js), dry (the
// room's reverb is for offline renders).
// process(input, output) writes exactly as many samples as it reads, delayed by latencySamples:
// the frame centred on sample c needs CONTEXT_RIGHT samples after c (YIN's look-ahead), and the
// synth needs the next frame to interpolate towards (one hop). Nothing waits on anything else, so
// the delay is that and only that, whatever the block size.
import { HOP_SIZE as HOP, SAMPLE_RATE as SR } from "../dsp/conventions.js";
import { FeatureStream } from "../dsp/features.js";
import { f0Scaled, harmonicAmplitudes, loudnessScaled } from "../dsp/controls.js";
import { SynthStream } from "../dsp/synth.js";
import { compileFrameGraph } from "./frame_graph.js";
import { StreamControls } from "./stream_controls.js";


export function gainOf(db) {
  return 10 ** (db / 20);
}

/** Compile an instrument's decoder ({meta, graph} with graph from readGraphModel) for frame-by-frame use. */
export function compileDecoder(meta, graph) {
  const o = meta.outputs;
  return compileFrameGraph(graph, {
    inputs: [meta.inputs.f0_scaled, meta.inputs.loudness_scaled],
    outputs: [o.amplitude, o.harmonic_distribution, o.noise_magnitudes],
  });
}

export class LiveInstrument {
  /** meta: the instrument's metadata.json; graph: readGraphModel(files) (or a compiled FrameGraph). */
  constructor(meta, graph, { autoFit = true, octaveShift = 0, gainDb = 0 } = {}) {
    this.meta = meta;
    this.K = meta.synth.n_harmonics;
    this.B = meta.synth.n_noise_bands;
    this.decoder = graph.step ? graph : compileDecoder(meta, graph);
    this.controls = new StreamControls(meta.stats, { autoFit, octaveShift });
    this.gain = gainOf(gainDb);
    this.features = new FeatureStream();
    this.latencySamples = this.features.latencySamples + HOP;
    this.latencyMs = (1000 * this.latencySamples) / SR;
    this.fit = new Float64Array(3);
    this.f0One = new Float64Array(1);
    this.ampOne = new Float64Array(1);
    this.hop = new Float64Array(HOP);
    // The synth keeps the previous frame's arrays while it renders towards the next one: two sets,
    // used in turn, so no frame allocates (off-heap typed arrays would load the worklet's GC).
    this.ampBufs = [new Float64Array(this.K), new Float64Array(this.K)];
    this.magBufs = [new Float64Array(this.B), new Float64Array(this.B)];
    // Synthesized samples wait here until they are latencySamples old (at most a few hops).
    this.fifo = new Float32Array(8192);
    this.reset();
  }

  /** Forget everything heard so far: the next sample starts a new stream (silence until primed). */
  reset() {
    this.features.reset();
    this.controls.reset();
    this.decoder.reset();
    this.synth = new SynthStream({ nHarmonics: this.K, nBands: this.B });
    this.received = 0; // input samples so far
    this.synthesized = 0; // synth samples so far (sample n answers input sample n)
    this.frames = 0;
    this.starved = 0; // output samples that were due but not synthesized (never, unless a bug)
    this.onFrame = this.onFrame || null;
  }

  setOptions({ autoFit, octaveShift, gainDb } = {}) {
    this.controls.setOptions({ autoFit, octaveShift });
    if (gainDb !== undefined) this.gain = gainOf(gainDb);
  }

  _frame(f0Hz, confidence, loudnessDb) {
    const [f0, loud, gate] = this.controls.frame(f0Hz, confidence, loudnessDb, this.fit);
    const [amp, dist, noise] = this.decoder.step(f0Scaled(f0), loudnessScaled(loud));
    this.f0One[0] = f0;
    this.ampOne[0] = amp[0] * gate;
    const turn = this.frames & 1;
    const amps = harmonicAmplitudes(this.f0One, this.ampOne, dist, this.K, this.ampBufs[turn]);
    let mags = null;
    if (this.B) {
      mags = this.magBufs[turn];
      for (let j = 0; j < this.B; j++) mags[j] = noise[j] * gate;
    }
    const n = this.synth.pushFrame(f0, amps, mags, this.hop, 0);
    const size = this.fifo.length;
    for (let i = 0; i < n; i++) this.fifo[(this.synthesized + i) % size] = this.hop[i] * this.gain;
    this.synthesized += n;
    this.frames++;
    if (this.onFrame) this.onFrame(f0Hz, confidence, loudnessDb);
  }

  /** Push `input` (16 kHz mono) and write the same number of samples to `output`. */
  process(input, output) {
    const frames = this.features.push(input);
    for (let i = 0; i < frames.f0Hz.length; i++) this._frame(frames.f0Hz[i], frames.f0Confidence[i], frames.loudnessDb[i]);
    const size = this.fifo.length;
    const first = this.received - this.latencySamples; // synth sample due at output[0]
    for (let j = 0; j < input.length; j++) {
      const s = first + j;
      if (s < 0) output[j] = 0;
      else if (s < this.synthesized) output[j] = this.fifo[s % size];
      else {
        output[j] = 0;
        this.starved++;
      }
    }
    this.received += input.length;
    return output;
  }
}
