// The AudioWorkletProcessor that plays the whole live instrument in the audio thread: microphone
// in, instrument out, in the same render quantum; nothing goes through the main thread, which
// only receives figures (stats, envelopes for the delay meter, frames for the pitch trace).
// esbuild bundles this file (with everything it imports) into one script string at build time
// (build.mjs); live_node.js loads that string from a blob: URL, so the widget never fetches.
//
// Misses: the only deadline left is the audio device's, one render quantum at a time. A quantum
// that takes longer to compute than it lasts is a miss this thread is to blame for (the device runs
// dry unless its own buffer covers it): counted as an underrun, and the sound fades back in rather
// than resuming mid-waveform. No buffer in here could prevent it, so there is none: the delay is
// the algorithm's, every quantum, and never grows. The processor also watches the audio clock
// against the wall clock ("late": the graph was pulled late - by this thread, or by a device whose
// own thread was held up, as the headless test device's timer is under load); that is reported,
// not counted as a miss, since this thread cannot tell the two apart.
import { SAMPLE_RATE as RATE } from "../dsp/conventions.js";
import { LiveInstrument } from "./live_instrument.js";
import { StreamResampler } from "../sing/resample.js";
import { LIVE_PROCESSOR, LIVE_TUNING as T } from "./live_protocol.js";


class LiveProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.realtime = !options || !options.processorOptions || options.processorOptions.realtime !== false;
    this.live = null;
    this.running = false;
    this.gainRamp = 0; // 0..1, the fade applied to the instrument's output
    this.target = 0;
    this.rateIn = sampleRate === RATE ? null : new StreamResampler(sampleRate, RATE);
    this.rateOut = sampleRate === RATE ? null : new StreamResampler(RATE, sampleRate);
    this.outFifo = new Float32Array(sampleRate); // only used when resampling
    this.envHop = Math.max(1, Math.round(sampleRate / 1000)); // 1 ms envelope frames for the delay meter
    this.mono = new Float32Array(128);
    this.port.onmessage = (e) => this.onMessage(e.data);
    this.resetStats();
  }

  resetStats() {
    this.stats = { underruns: 0, late: 0, quanta: 0, maxLateMs: 0, maxQuantumMs: 0, starved: 0, errors: 0 };
    this.wall0 = null;
    this.lagWindow = [];
    this.late = false;
    this.env = { inAcc: 0, outAcc: 0, n: 0, inBuf: new Float32Array(T.envBatch), outBuf: new Float32Array(T.envBatch), dropBuf: new Uint8Array(T.envBatch), drop: false, fill: 0, start: 0 };
    this.afterMiss = false; // from a miss until the fade back in is done
    this.trace = { f0: new Float32Array(T.frameBatch), conf: new Float32Array(T.frameBatch), loud: new Float32Array(T.frameBatch), fill: 0 };
    this.lastStats = currentFrame;
    this.fifoRead = 0;
    this.fifoWrite = 0;
    this.primed = !this.rateOut;
  }

  onMessage(m) {
    try {
      if (m.type === "instrument") {
        const t0 = Date.now();
        this.live = new LiveInstrument(m.meta, m.graph, m.options || {});
        this.live.onFrame = (f0, conf, loud) => this.traceFrame(f0, conf, loud);
        // Resampling adds each filter's look-ahead (rateIn's in 16 kHz samples, rateOut's in the
        // context's) and the output cushion (context samples).
        const extraMs = this.rateIn ? (1000 * this.rateIn.latency) / RATE + (1000 * (this.rateOut.latency + T.resampleCushion)) / sampleRate : 0;
        const latencyMs = this.live.latencyMs + extraMs;
        this.port.postMessage({ type: "ready", latencyMs, name: m.meta.name, compileMs: Date.now() - t0 });
      } else if (m.type === "options" && this.live) {
        this.live.setOptions(m.options);
      } else if (m.type === "run") {
        if (m.on && !this.running && this.live) {
          this.live.reset();
          this.resetStats();
          this.running = true;
          this.target = 1;
          this.port.postMessage({ type: "running", on: true });
        } else if (!m.on) this.target = 0; // fades out, then stops
      }
    } catch (err) {
      this.fail(err);
    }
  }

  fail(err) {
    this.stats.errors++;
    this.target = 0;
    this.running = false;
    this.port.postMessage({ type: "error", message: String((err && err.message) || err) });
  }

  traceFrame(f0, conf, loud) {
    const t = this.trace;
    t.f0[t.fill] = f0;
    t.conf[t.fill] = conf;
    t.loud[t.fill] = loud;
    if (++t.fill === t.f0.length) {
      this.port.postMessage({ type: "frames", f0Hz: t.f0, f0Confidence: t.conf, loudnessDb: t.loud }, [t.f0.buffer, t.conf.buffer, t.loud.buffer]);
      this.trace = { f0: new Float32Array(T.frameBatch), conf: new Float32Array(T.frameBatch), loud: new Float32Array(T.frameBatch), fill: 0 };
    }
  }

  // Wall clock against audio clock: when this thread was held up, audio time falls behind by more
  // than the device's usual bursts. Date.now() is all a worklet has (no performance.now()).
  checkDeadline(now) {
    if (this.wall0 === null) {
      this.wall0 = now;
      this.frame0 = currentFrame;
    }
    const lag = now - this.wall0 - ((currentFrame - this.frame0) * 1000) / sampleRate;
    const w = this.lagWindow;
    w.push(lag);
    if (w.length > T.lagWindowQuanta) w.shift();
    let base = Infinity;
    for (let i = 0; i < w.length; i++) base = Math.min(base, w[i]);
    const behind = lag - base;
    this.stats.maxLateMs = Math.max(this.stats.maxLateMs, behind);
    if (!this.late && behind > T.lateMs && this.stats.quanta > T.settleQuanta) {
      this.late = true;
      this.stats.late++;
    } else if (this.late && behind < T.lateMs / 2) this.late = false;
  }

  render(input, out) {
    if (!this.rateIn) {
      this.live.process(input, out);
      return;
    }
    const x = this.rateIn.push(input);
    const y = this.rateOut.push(this.live.process(x, new Float32Array(x.length)));
    const size = this.outFifo.length;
    for (let i = 0; i < y.length; i++) this.outFifo[this.fifoWrite++ % size] = y[i];
    if (!this.primed && this.fifoWrite - this.fifoRead >= T.resampleCushion + out.length) this.primed = true;
    for (let i = 0; i < out.length; i++) {
      if (this.primed && this.fifoRead < this.fifoWrite) out[i] = this.outFifo[this.fifoRead++ % size];
      else {
        out[i] = 0;
        if (this.primed) this.stats.starved++;
      }
    }
  }

  // `dropped`: this quantum is a miss or fades back in after one; its frames are flagged so that the
  // delay meter bridges them (a stall can drop voice and instrument together: delay_meter.js).
  envelope(input, out, dropped) {
    const e = this.env;
    if (dropped) e.drop = true;
    for (let i = 0; i < out.length; i++) {
      e.inAcc += input[i] * input[i];
      e.outAcc += out[i] * out[i];
      if (++e.n === this.envHop) {
        e.inBuf[e.fill] = e.inAcc / e.n;
        e.outBuf[e.fill] = e.outAcc / e.n;
        e.dropBuf[e.fill] = e.drop ? 1 : 0;
        e.drop = dropped; // the rest of this quantum belongs to the next frame
        e.inAcc = e.outAcc = e.n = 0;
        if (++e.fill === e.inBuf.length) {
          this.port.postMessage({ type: "env", input: e.inBuf, output: e.outBuf, dropped: e.dropBuf, hopMs: (1000 * this.envHop) / sampleRate }, [e.inBuf.buffer, e.outBuf.buffer, e.dropBuf.buffer]);
          e.inBuf = new Float32Array(T.envBatch);
          e.outBuf = new Float32Array(T.envBatch);
          e.dropBuf = new Uint8Array(T.envBatch);
          e.fill = 0;
        }
      }
    }
  }

  postStats() {
    const s = this.stats;
    const seconds = (s.quanta * this.mono.length) / sampleRate;
    this.port.postMessage({
      type: "stats",
      underruns: s.underruns,
      late: s.late,
      maxQuantumMs: s.maxQuantumMs,
      starved: s.starved,
      errors: s.errors,
      seconds,
      maxLateMs: s.maxLateMs,
      latencyMs: this.live ? this.live.latencyMs : null,
    });
  }

  process(inputs, outputs) {
    const out = outputs[0] && outputs[0][0];
    if (!out) return true;
    if (!this.running || !this.live) {
      out.fill(0);
      return true;
    }
    const t0 = Date.now();
    if (this.realtime) this.checkDeadline(t0);
    const chans = inputs[0] || [];
    if (this.mono.length !== out.length) this.mono = new Float32Array(out.length);
    const x = this.mono;
    if (chans.length === 0) x.fill(0);
    else {
      for (let i = 0; i < x.length; i++) {
        let s = 0;
        for (let c = 0; c < chans.length; c++) s += chans[c][i];
        x[i] = s / chans.length;
      }
    }
    try {
      this.render(x, out);
    } catch (err) {
      this.fail(err);
      out.fill(0);
      return true;
    }
    // Fades: in at the start and after a miss, out when switched off (then the stream stops).
    const step = RATE / (T.fadeSamples * sampleRate); // fadeSamples counts 16 kHz samples
    for (let i = 0; i < out.length; i++) {
      if (this.gainRamp !== this.target) this.gainRamp = this.target > this.gainRamp ? Math.min(this.target, this.gainRamp + step) : Math.max(this.target, this.gainRamp - step);
      out[i] *= this.gainRamp;
    }
    if (this.target === 0 && this.gainRamp === 0) this.running = false;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.stats.quanta++;
    // Date.now() has 1 ms steps: a quantum measured longer than it lasts really took at least that.
    const took = Date.now() - t0;
    if (this.realtime && this.stats.quanta > T.settleQuanta) {
      this.stats.maxQuantumMs = Math.max(this.stats.maxQuantumMs, took);
      if (took > (1000 * out.length) / sampleRate) {
        this.stats.underruns++;
        this.gainRamp = 0; // the device may have played silence: come back with a fade, not mid-waveform
        this.afterMiss = true;
      }
    }
    this.envelope(x, out, this.afterMiss);
    if (this.afterMiss && this.gainRamp === this.target) this.afterMiss = false;
    if (currentFrame - this.lastStats >= T.statsSeconds * sampleRate || !this.running) {
      this.lastStats = currentFrame;
      this.postStats();
    }
    return true;
  }
}

registerProcessor(LIVE_PROCESSOR, LiveProcessor);
