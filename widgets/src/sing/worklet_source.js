// The AudioWorklet that moves audio between the audio thread and the main thread. It is shipped
// as a string and loaded from a blob: URL because the widget may not fetch files. TF.js cannot
// run in a worklet (no `self`, tfjs#4704), so the worklet only collects microphone blocks and
// plays the instrument's blocks from a ring buffer; the main thread does the thinking.
export const PROCESSOR_NAME = "sounds-kit-io";

export const WORKLET_SOURCE = String.raw`
class SoundsKitIO extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.blockSize = o.blockSize || 512;
    this.ring = new Float32Array(o.ringSize || 16384);
    this.prefill = o.prefill || this.blockSize;
    this.maxPrefill = o.maxPrefill || 4 * this.blockSize;
    this.capture = false;
    this.live = false;
    this.inBuf = new Float32Array(this.blockSize);
    this.inFill = 0;
    this.readPos = 0;
    this.buffered = 0;
    this.totalWritten = 0;
    this.totalRead = 0;
    this.playing = false;
    this.underruns = 0;
    this.trims = 0;
    this.fade = new Float32Array(32);
    this.fadePos = 32;
    this.marks = [];
    this.latencies = [];
    this.lastStats = 0;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (m.type === "capture") this.capture = !!m.on;
    else if (m.type === "live") {
      this.live = !!m.on;
      // A fresh start: old audio, marks and statistics belong to the previous session.
      this.buffered = 0; this.playing = false; this.marks = []; this.latencies = [];
      this.underruns = 0; this.trims = 0; this.fadePos = 32;
      this.prefill = m.prefill || this.prefill; this.totalRead = this.totalWritten = 0;
    } else if (m.type === "play" && this.live) this.write(m.samples, m.srcStart);
  }

  write(samples, srcStart) {
    const n = samples.length, size = this.ring.length;
    if (this.buffered + n > size) {
      // Overflow (should not happen: one clock drives capture and playback); drop the oldest.
      const drop = this.buffered + n - size;
      this.readPos = (this.readPos + drop) % size; this.buffered -= drop; this.totalRead += drop;
    }
    let w = (this.readPos + this.buffered) % size;
    for (let i = 0; i < n; i++) { this.ring[w] = samples[i]; w = w + 1 === size ? 0 : w + 1; }
    this.marks.push({ at: this.totalWritten, src: srcStart });
    this.buffered += n; this.totalWritten += n;
  }

  process(inputs, outputs) {
    const chans = inputs[0];
    if (this.capture && chans && chans.length) {
      const len = chans[0].length, k = chans.length;
      for (let i = 0; i < len; i++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += chans[c][i];
        this.inBuf[this.inFill++] = s / k;
        if (this.inFill === this.blockSize) {
          this.port.postMessage({ type: "in", samples: this.inBuf, end: currentFrame + i + 1 }, [this.inBuf.buffer]);
          this.inBuf = new Float32Array(this.blockSize);
          this.inFill = 0;
        }
      }
    }
    const out = outputs[0] && outputs[0][0];
    if (!out) return true;
    if (!this.live) { out.fill(0); return true; }
    if (!this.playing && this.buffered >= this.prefill) this.playing = true;
    const size = this.ring.length;
    if (this.playing && this.buffered > this.prefill + 2 * this.blockSize) {
      // After a stall the main thread delivers a burst and the queue stays long: every later note
      // would sound late. Skip ahead to the cushion, crossfading 32 samples so it does not click.
      const drop = this.buffered - this.prefill - this.blockSize;
      for (let k = 0; k < this.fade.length; k++) this.fade[k] = this.ring[(this.readPos + k) % size];
      this.fadePos = 0;
      this.readPos = (this.readPos + drop) % size; this.buffered -= drop; this.totalRead += drop;
      this.trims++;
    }
    for (let i = 0; i < out.length; i++) {
      if (this.playing && this.buffered > 0) {
        while (this.marks.length && this.marks[0].at <= this.totalRead) {
          // The first sample of a block starts playing: how long since its input was captured.
          if (this.marks[0].at === this.totalRead) this.latencies.push(currentFrame + i - this.marks[0].src);
          this.marks.shift();
          if (this.latencies.length > 64) this.latencies.shift();
        }
        out[i] = this.ring[this.readPos];
        if (this.fadePos < this.fade.length) {
          const t = (this.fadePos + 1) / (this.fade.length + 1);
          out[i] = this.fade[this.fadePos++] * (1 - t) + out[i] * t;
        }
        this.readPos = this.readPos + 1 === size ? 0 : this.readPos + 1;
        this.buffered--; this.totalRead++;
      } else {
        if (this.playing) {
          // Ran dry: count the gap once, wait for a larger cushion before playing again.
          this.underruns++;
          this.playing = false;
          this.prefill = Math.min(this.maxPrefill, this.prefill + this.blockSize);
        }
        out[i] = 0;
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (currentTime - this.lastStats > 0.5) {
      this.lastStats = currentTime;
      const lat = this.latencies.slice().sort((a, b) => a - b);
      this.port.postMessage({
        type: "stats", underruns: this.underruns, trims: this.trims, buffered: this.buffered, prefill: this.prefill,
        latencyFrames: lat.length ? lat[lat.length >> 1] : null,
      });
    }
    return true;
  }
}
registerProcessor("sounds-kit-io", SoundsKitIO);
`;
