// Streaming resampler for when the AudioContext cannot run at 16 kHz (e.g. Firefox refuses to
// connect a 48 kHz microphone to a 16 kHz context). Windowed-sinc interpolation at arbitrary
// ratios; the low-pass sits below the lower Nyquist so downsampling does not alias.

export class StreamResampler {
  constructor(fromRate, toRate, halfTaps = 12) {
    this.from = fromRate;
    this.to = toRate;
    this.step = fromRate / toRate; // input samples per output sample
    this.cutoff = Math.min(1, toRate / fromRate) * 0.92; // fraction of the input Nyquist
    this.width = Math.ceil(halfTaps / this.cutoff); // kernel half-width in input samples
    this.hist = new Float32Array(this.width); // zeros before the stream starts
    this.pos = this.width; // next output time, in input samples from hist[0]
  }

  get passthrough() {
    return this.from === this.to;
  }

  /** Look-ahead the filter needs before it can emit a sample, in output samples. */
  get latency() {
    return this.passthrough ? 0 : Math.round(this.width / this.step);
  }

  push(block) {
    if (this.passthrough) return block;
    const hist = new Float32Array(this.hist.length + block.length);
    hist.set(this.hist);
    hist.set(block, this.hist.length);
    const out = [];
    const w = this.width, c = this.cutoff;
    while (this.pos + w < hist.length) {
      const centre = Math.floor(this.pos);
      const frac = this.pos - centre;
      let acc = 0;
      for (let k = -w + 1; k <= w; k++) {
        const x = k - frac;
        const arg = Math.PI * c * x;
        const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
        const win = 0.5 + 0.5 * Math.cos((Math.PI * x) / (w + 1)); // Hann
        acc += hist[centre + k] * sinc * win;
      }
      out.push(acc * c);
      this.pos += this.step;
    }
    const keep = Math.max(0, Math.floor(this.pos) - w);
    this.hist = hist.slice(keep);
    this.pos -= keep;
    return Float32Array.from(out);
  }
}

/** One-shot resampling of a whole clip (flushes the filter's tail). */
export function resampleClip(samples, fromRate, toRate) {
  if (fromRate === toRate) return samples;
  const r = new StreamResampler(fromRate, toRate);
  const body = r.push(samples);
  const tail = r.push(new Float32Array(r.width * 2));
  const n = Math.round((samples.length * toRate) / fromRate);
  const all = new Float32Array(body.length + tail.length);
  all.set(body);
  all.set(tail, body.length);
  // Output j sits at input time j * step: no offset to remove, only the length to trim.
  return all.subarray(0, n);
}
