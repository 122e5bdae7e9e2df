// A small radix-2 FFT in float64 (plain JS, no TF.js): complex in-place transforms and real
// transforms built on a half-size complex one. Conventions match numpy.fft: the forward
// transform uses exp(-2*pi*i*k*n/N) without scaling, the inverse scales by 1/N.
//
//   const plan = getFFT(1024);
//   const re = new Float64Array(513), im = new Float64Array(513);
//   plan.rfft(signal, re, im);          // signal of <= 1024 samples, zero-padded
//   const back = new Float64Array(1024);
//   plan.irfft(re, im, back);           // back == signal (zero-padded)

function isPowerOfTwo(n) {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

export class FFT {
  /** @param {number} n transform size, a power of two */
  constructor(n) {
    if (!isPowerOfTwo(n)) throw new Error(`FFT size must be a power of two, got ${n}`);
    this.n = n;
    // Twiddles exp(-2*pi*i*k/n) for k < n/2, computed directly (not by recurrence) for accuracy.
    const half = Math.max(1, n >> 1);
    this.cos = new Float64Array(half);
    this.sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    this.rev = new Uint32Array(n);
    let bits = 0;
    while (1 << bits < n) bits++;
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this._half = null; // plan of size n/2 for the real transforms, made on first use
    this._zr = null;
    this._zi = null;
  }

  /** In-place complex transform of (re, im), each of length n; inverse scales by 1/n. */
  transform(re, im, inverse = false) {
    const n = this.n;
    const rev = this.rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    const sign = inverse ? -1 : 1; // conjugate twiddles for the inverse
    for (let size = 2; size <= n; size <<= 1) {
      const halfSize = size >> 1;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0, t = 0; k < halfSize; k++, t += step) {
          const wr = this.cos[t];
          const wi = sign * this.sin[t];
          const a = start + k;
          const b = a + halfSize;
          const xr = re[b] * wr - im[b] * wi;
          const xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
    if (inverse) {
      const scale = 1 / n;
      for (let i = 0; i < n; i++) {
        re[i] *= scale;
        im[i] *= scale;
      }
    }
  }

  _halfPlan() {
    if (this._half === null) {
      const h = this.n >> 1;
      this._half = new FFT(h);
      this._zr = new Float64Array(h);
      this._zi = new Float64Array(h);
    }
    return this._half;
  }

  /**
   * Real forward transform: bins 0..n/2 of `input` (length <= n, zero-padded) into outRe/outIm
   * (length >= n/2 + 1). Packs even/odd samples into one half-size complex FFT.
   */
  rfft(input, outRe, outIm) {
    const n = this.n;
    if (input.length > n) throw new Error(`rfft input of ${input.length} samples exceeds size ${n}`);
    if (n < 4) {
      const re = new Float64Array(n);
      const im = new Float64Array(n);
      re.set(input);
      this.transform(re, im);
      for (let k = 0; k <= n >> 1; k++) {
        outRe[k] = re[k];
        outIm[k] = im[k];
      }
      return;
    }
    const h = n >> 1;
    const plan = this._halfPlan();
    const zr = this._zr;
    const zi = this._zi;
    const len = input.length;
    for (let m = 0; m < h; m++) {
      const e = 2 * m;
      zr[m] = e < len ? input[e] : 0;
      zi[m] = e + 1 < len ? input[e + 1] : 0;
    }
    plan.transform(zr, zi);
    // X[k] = E[k] + exp(-2 pi i k / n) O[k], with E, O recovered from Z[k] and conj(Z[h - k]).
    outRe[0] = zr[0] + zi[0];
    outIm[0] = 0;
    outRe[h] = zr[0] - zi[0];
    outIm[h] = 0;
    for (let k = 1; k < h; k++) {
      const ar = zr[k];
      const ai = zi[k];
      const br = zr[h - k];
      const bi = -zi[h - k];
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = this.cos[k];
      const wi = this.sin[k];
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }

  /**
   * Real inverse transform: n real samples (scaled by 1/n, like numpy.fft.irfft) from bins
   * 0..n/2 in re/im; the imaginary parts of bins 0 and n/2 are ignored.
   */
  irfft(re, im, out) {
    const n = this.n;
    if (n < 4) {
      const r = new Float64Array(n);
      const i = new Float64Array(n);
      for (let k = 0; k <= n >> 1; k++) {
        r[k] = re[k];
        i[k] = k === 0 || 2 * k === n ? 0 : im[k];
        if (k > 0 && k < n - k) {
          r[n - k] = re[k];
          i[n - k] = -im[k];
        }
      }
      this.transform(r, i, true);
      for (let j = 0; j < n; j++) out[j] = r[j];
      return;
    }
    const h = n >> 1;
    const plan = this._halfPlan();
    const zr = this._zr;
    const zi = this._zi;
    // Invert the packing of rfft: Z[k] = E[k] + i O[k], E and O from X[k] and conj(X[h - k]).
    for (let k = 0; k < h; k++) {
      const ar = re[k];
      const ai = k === 0 ? 0 : im[k];
      const br = re[h - k];
      const bi = h - k === h ? 0 : -im[h - k];
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const dr = 0.5 * (ar - br);
      const di = 0.5 * (ai - bi);
      // O[k] = (X[k] - conj(X[h-k])) / 2 * exp(+2 pi i k / n)
      const wr = this.cos[k];
      const wi = -this.sin[k];
      const or = dr * wr - di * wi;
      const oi = dr * wi + di * wr;
      zr[k] = er - oi;
      zi[k] = ei + or;
    }
    plan.transform(zr, zi, true);
    for (let m = 0; m < h; m++) {
      out[2 * m] = zr[m];
      out[2 * m + 1] = zi[m];
    }
  }
}

const plans = new Map();

/** A cached FFT plan of size n (a power of two). */
export function getFFT(n) {
  let plan = plans.get(n);
  if (plan === undefined) {
    plan = new FFT(n);
    plans.set(n, plan);
  }
  return plan;
}

/** Forward complex FFT of copies of re/im (length n, a power of two) -> {re, im}. */
export function fft(re, im) {
  const outRe = Float64Array.from(re);
  const outIm = im ? Float64Array.from(im) : new Float64Array(re.length);
  getFFT(outRe.length).transform(outRe, outIm);
  return { re: outRe, im: outIm };
}

/** Inverse complex FFT (scaled by 1/n) of copies of re/im -> {re, im}. */
export function ifft(re, im) {
  const outRe = Float64Array.from(re);
  const outIm = Float64Array.from(im);
  getFFT(outRe.length).transform(outRe, outIm, true);
  return { re: outRe, im: outIm };
}

/** numpy.fft.rfft(x, n): bins 0..n/2 as {re, im}; n defaults to x.length (a power of two). */
export function rfft(x, n = x.length) {
  const re = new Float64Array((n >> 1) + 1);
  const im = new Float64Array((n >> 1) + 1);
  getFFT(n).rfft(x.length > n ? x.subarray(0, n) : x, re, im);
  return { re, im };
}

/** numpy.fft.irfft(X, n): n real samples from bins 0..n/2 (n defaults to 2 * (bins - 1)). */
export function irfft(re, im, n = 2 * (re.length - 1)) {
  const out = new Float64Array(n);
  const bins = (n >> 1) + 1;
  const r = new Float64Array(bins);
  const i = new Float64Array(bins);
  r.set(re.subarray ? re.subarray(0, Math.min(bins, re.length)) : re.slice(0, bins));
  i.set(im.subarray ? im.subarray(0, Math.min(bins, im.length)) : im.slice(0, bins));
  getFFT(n).irfft(r, i, out);
  return out;
}
