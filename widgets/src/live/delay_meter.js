// Measures how far the instrument's sound trails the voice, from what actually went in and came
// out of the worklet (its 1 ms mean-square envelopes): the lag that best aligns the output's
// loudness contour (dB) with the input's (normalised cross-correlation). A measurement, not the
// algorithm's stated delay: if anything in the chain held sound back, it would show here. It reads
// a little more than the chain's sample delay, because the instrument's attack is part of the
// contour (measured on tone bursts: sample delay 28.25 ms, contour 33 ms). Needs notes that start
// and stop; a flat input gives no measurement.
// Frames the worklet marks as dropped (a miss, and the output fading back in after it) are bridged
// in both contours: after a miss the instrument fades back in, and if the same stall starved the
// capture device the voice drops at the same moment; such shared gaps pull the best lag towards 0
// (shown with simulated stalls in widgets/test/delay_meter.test.js).
const SMOOTH = 8; // ms of moving average: a sung period (2-15 ms) must not ripple the envelope
const FLOOR_DB = -70;

export class DelayMeter {
  constructor({ maxDelayMs = 200, windowMs = 6000, minCorrelation = 0.7 } = {}) {
    this.maxLag = maxDelayMs;
    this.size = windowMs;
    this.minCorrelation = minCorrelation;
    this.input = new Float64Array(windowMs);
    this.output = new Float64Array(windowMs);
    this.dropped = new Uint8Array(windowMs); // frames of a miss and its fade, to bridge
    this.count = 0; // frames pushed in all
    this.results = [];
  }

  /** Envelope frames (mean square per hopMs) of the worklet's input and output; `dropped` (optional,
   * one flag per frame) marks frames around a miss, whose contours are the stall's, not the music's. */
  push(input, output, hopMs = 1, dropped = null) {
    if (Math.abs(hopMs - 1) > 0.05) throw new Error(`DelayMeter expects 1 ms envelope frames, got ${hopMs} ms`);
    for (let i = 0; i < input.length; i++) {
      const at = this.count++ % this.size;
      this.input[at] = input[i];
      this.output[at] = output[i];
      this.dropped[at] = dropped && dropped[i] ? 1 : 0;
    }
  }

  // Which frames of the window count: not dropped, and no dropped frame in the moving average that
  // smooths them.
  _usable() {
    const n = Math.min(this.count, this.size);
    const start = this.count - n;
    const ok = new Uint8Array(n);
    let last = -Infinity;
    for (let i = 0; i < n; i++) {
      if (this.dropped[(start + i) % this.size]) last = i;
      ok[i] = i - last >= SMOOTH ? 1 : 0;
    }
    return ok;
  }

  // The window's smoothed dB envelope, its mean over the `ok` frames removed.
  _contour(ring, ok) {
    const n = Math.min(this.count, this.size);
    const start = this.count - n;
    const db = new Float64Array(n);
    let acc = 0;
    let mean = 0;
    let used = 0;
    for (let i = 0; i < n; i++) {
      acc += ring[(start + i) % this.size];
      if (i >= SMOOTH) acc -= ring[(start + i - SMOOTH) % this.size];
      db[i] = Math.max(FLOOR_DB, 10 * Math.log10(Math.max(acc, 0) / Math.min(i + 1, SMOOTH) + 1e-12));
      if (ok[i]) {
        mean += db[i];
        used++;
      }
    }
    mean /= Math.max(used, 1);
    // Across a stall, the line between the frames either side, at the same frames in both contours.
    // Every lag then compares the same number of frames; leaving them out instead would compare a
    // different set at each lag, which favoured the lags that left out the most.
    for (let i = 0; i < n; i++) {
      if (ok[i]) continue;
      let j = i;
      while (j < n && !ok[j]) j++;
      const a = i > 0 ? db[i - 1] : j < n ? db[j] : mean;
      const b = j < n ? db[j] : a;
      for (let k = i; k < j; k++) db[k] = a + ((b - a) * (k - i + 1)) / (j - i + 1);
      i = j;
    }
    for (let i = 0; i < n; i++) db[i] -= mean;
    return db;
  }

  /** {delayMs, correlation} over the window, or null when it holds nothing to align. */
  measure() {
    const n = Math.min(this.count, this.size);
    if (n < 4 * this.maxLag) return null;
    const ok = this._usable();
    let usable = 0;
    for (let i = 0; i < n; i++) usable += ok[i];
    if (usable < n / 2) return null; // mostly stalls: too little of the music left to align
    const x = this._contour(this.input, ok);
    const y = this._contour(this.output, ok);
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
