// A tanpura drone on Sa, synthesized here (no samples to fetch): four strings tuned Pa (mandra),
// Sa, Sa, Sa (kharaj, an octave down), plucked in the classic Pa-Sa-Sa-Sa cycle.
//
// Each pluck is additive synthesis. The jawari (the flat bridge) makes a tanpura's upper
// harmonics swell one after another after the pluck instead of dying first; we imitate that by
// letting harmonic k bloom later and decay more slowly the higher it is, and detune two
// "courses" by a fraction of a cent so the sound shimmers.

const CYCLE_S = 4.4;
const PLUCK_AT = [0, 1.1, 2.2, 3.3]; // seconds within the cycle
const RING_S = 6.5; // each pluck rings past the next cycle's start, as on the real instrument
const N_HARMONICS = 36;

export function pluck(sampleRate, f0, brightness) {
  const n = Math.round(RING_S * sampleRate);
  const out = new Float32Array(n);
  const nyq = sampleRate / 2;
  const twoPi = 2 * Math.PI;
  for (let k = 1; k <= N_HARMONICS; k++) {
    const f = f0 * k;
    if (f >= nyq * 0.95) break;
    // Spectral envelope: strong low partials, a broad jawari "formant" around the 8th-14th.
    const base = 1 / k ** 0.9;
    const buzz = brightness * Math.exp(-(((k - 11) / 6) ** 2));
    const amp = 0.35 * (base + buzz);
    const bloom = 0.02 + 0.045 * k; // s: the moment harmonic k peaks
    const decay = 1.2 + 0.08 * k + 2.5 / k; // s
    const a = Math.exp(-1 / (bloom * sampleRate)), b = Math.exp(-1 / (decay * sampleRate));
    for (const detune of [-0.25, 0.25]) {
      // Recurrences instead of sin()/exp() per sample keep re-tuning to a new Sa quick.
      const w = (twoPi * f * 2 ** (detune / 1200)) / sampleRate;
      const phase0 = (k * 1.7 + detune) % twoPi;
      const c2 = 2 * Math.cos(w);
      let s1 = Math.sin(phase0 - w), s0 = Math.sin(phase0 - 2 * w);
      let pa = 1, pb = 0.5 * amp;
      for (let i = 0; i < n; i++) {
        const s = c2 * s1 - s0;
        s0 = s1;
        s1 = s;
        out[i] += (1 - pa) * pb * s;
        pa *= a;
        pb *= b;
      }
    }
  }
  // Soft 30 ms fade at the end so a truncated ring never clicks.
  const fade = Math.round(0.03 * sampleRate);
  for (let i = 0; i < fade; i++) out[n - 1 - i] *= i / fade;
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  for (let i = 0; i < n; i++) out[i] /= peak || 1;
  return out;
}

export class Tanpura {
  constructor(ctx) {
    this.ctx = ctx;
    this.out = ctx.createGain();
    this.out.gain.value = 0;
    this.out.connect(ctx.destination);
    this.buffers = null;
    this.saHz = 0;
    this.timer = null;
    this.nextCycle = 0;
    this.sources = new Set();
    this.volumeDb = -12;
  }

  _buffers(saHz) {
    if (this.buffers && this.saHz === saHz) return this.buffers;
    const rate = this.ctx.sampleRate;
    const make = (f, bright) => {
      const samples = pluck(rate, f, bright);
      const b = this.ctx.createBuffer(1, samples.length, rate);
      b.copyToChannel(samples, 0);
      return b;
    };
    const sa = make(saHz, 0.5);
    this.buffers = [make(saHz * 0.75, 0.55), sa, sa, make(saHz / 2, 0.7)];
    this.saHz = saHz;
    return this.buffers;
  }

  get playing() {
    return this.timer !== null;
  }

  setVolume(db) {
    this.volumeDb = db;
    if (this.playing) this.out.gain.setTargetAtTime(10 ** (db / 20), this.ctx.currentTime, 0.05);
  }

  setSa(hz) {
    if (this.playing && Math.abs(hz - this.saHz) > 0.01) {
      this.stop();
      this.start(hz);
    }
  }

  start(saHz) {
    this.stop();
    this._buffers(saHz);
    this.out.gain.cancelScheduledValues(this.ctx.currentTime);
    this.out.gain.setTargetAtTime(10 ** (this.volumeDb / 20), this.ctx.currentTime, 0.05);
    this.nextCycle = this.ctx.currentTime + 0.1;
    // Look-ahead scheduling: timers are late by tens of ms, AudioParam times are exact.
    const schedule = () => {
      while (this.nextCycle < this.ctx.currentTime + 1.5) {
        this.buffers.forEach((buf, s) => this._pluckAt(buf, this.nextCycle + PLUCK_AT[s], s === 3 ? 1.0 : 0.8));
        this.nextCycle += CYCLE_S;
      }
    };
    schedule();
    this.timer = setInterval(schedule, 400);
  }

  _pluckAt(buffer, when, level) {
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    const g = this.ctx.createGain();
    g.gain.value = level * 0.5;
    src.connect(g).connect(this.out);
    src.onended = () => this.sources.delete(src);
    this.sources.add(src);
    src.start(when);
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const now = this.ctx.currentTime;
    this.out.gain.cancelScheduledValues(now);
    this.out.gain.setTargetAtTime(0, now, 0.08);
    for (const s of this.sources) {
      try {
        s.stop(now + 0.5);
      } catch (_) {
        /* not started yet or already ended */
      }
    }
    this.sources.clear();
  }

  dispose() {
    this.stop();
    this.out.disconnect();
  }
}
