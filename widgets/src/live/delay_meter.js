// Measures how far the instrument's sound trails the voice, from what actually went in and came
// out of the worklet (its 1 ms mean-square envelopes): the lag that best aligns the output's
// loudness contour (dB) with the input's (normalised cross-correlation). A measurement, not the
// algorithm's stated delay: if anything in the chain held sound back, it would show here. It reads
// a little more than the chain's sample delay, because the instrument's attack is part of the
// contour (measured on tone bursts: sample delay 28.25 ms, contour 33 ms). Needs notes that start
// and stop; a flat input gives no measurement.
const SMOOTH = 8; // ms of moving average: a sung period (2-15 ms) must not ripple the envelope
const FLOOR_DB = -70;

export class DelayMeter {
  constructor({ maxDelayMs = 200, windowMs = 6000, minCorrelation = 0.7 } = {}) {
    this.maxLag = maxDelayMs;
    this.size = windowMs;
    this.minCorrelation = minCorrelation;
    this.input = new Float64Array(windowMs);
    this.output = new Float64Array(windowMs);
    this.count = 0; // frames pushed in all
    this.results = [];
  }

  /** Envelope frames (mean square per hopMs) of the worklet's input and output. */
  push(input, output, hopMs = 1) {
    if (Math.abs(hopMs - 1) > 0.05) throw new Error(`DelayMeter expects 1 ms envelope frames, got ${hopMs} ms`);
    for (let i = 0; i < input.length; i++) {
      const at = this.count++ % this.size;
      this.input[at] = input[i];
      this.output[at] = output[i];
    }
  }

  // The window's smoothed dB envelope, mean removed.
  _contour(ring) {
    const n = Math.min(this.count, this.size);
    const start = this.count - n;
    const db = new Float64Array(n);
    let acc = 0;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      acc += ring[(start + i) % this.size];
      if (i >= SMOOTH) acc -= ring[(start + i - SMOOTH) % this.size];
      db[i] = Math.max(FLOOR_DB, 10 * Math.log10(Math.max(acc, 0) / Math.min(i + 1, SMOOTH) + 1e-12));
      mean += db[i];
    }
    mean /= n;
    for (let i = 0; i < n; i++) db[i] -= mean;
    return db;
  }

  /** {delayMs, correlation} over the window, or null when it holds nothing to align. */
  measure() {
    const n = Math.min(this.count, this.size);
    if (n < 4 * this.maxLag) return null;
    const x = this._contour(this.input);
    const y = this._contour(this.output);
    const span = n - this.maxLag;
    let ex = 0;
    for (let i = 0; i < span; i++) ex += x[i] * x[i];
    if (ex < span) return null; // under 1 dB of movement: nothing starts or stops
    const corr = new Float64Array(this.maxLag + 1);
    for (let lag = 0; lag <= this.maxLag; lag++) {
      let xy = 0;
      let yy = 0;
      for (let i = 0; i < span; i++) {
        const v = y[i + lag];
        xy += x[i] * v;
        yy += v * v;
      }
      corr[lag] = yy > 0 ? xy / Math.sqrt(ex * yy) : 0;
    }
    let best = 0;
    for (let lag = 1; lag <= this.maxLag; lag++) if (corr[lag] > corr[best]) best = lag;
    if (corr[best] < this.minCorrelation) return null;
    // A parabola through the peak and its neighbours: sub-millisecond resolution.
    let shift = 0;
    if (best > 0 && best < this.maxLag) {
      const a = corr[best - 1];
      const b = corr[best];
      const c = corr[best + 1];
      const curve = a - 2 * b + c;
      if (curve < 0) shift = Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / curve));
    }
    const result = { delayMs: best + shift, correlation: corr[best] };
    this.results.push(result.delayMs);
    if (this.results.length > 9) this.results.shift();
    return result;
  }

  /** Median of the recent measurements (ms), or null before the first one. */
  get delayMs() {
    if (!this.results.length) return null;
    const s = [...this.results].sort((a, b) => a - b);
    return s[s.length >> 1];
  }
}
