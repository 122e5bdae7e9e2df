// The AudioWorklet that hands microphone blocks to the main thread (level meter, takes, the pitch
// trace). It is shipped as a string and loaded from a blob: URL because the widget may not fetch
// files. Live play does not pass through here: it runs in its own worklet (widgets/src/live).
export const PROCESSOR_NAME = "sounds-kit-io";

export const WORKLET_SOURCE = String.raw`
class SoundsKitIO extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.blockSize = o.blockSize || 512;
    this.capture = false;
    this.inBuf = new Float32Array(this.blockSize);
    this.inFill = 0;
    this.port.onmessage = (e) => {
      if (e.data.type === "capture") this.capture = !!e.data.on;
    };
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
    if (out) out.fill(0);
    return true;
  }
}
registerProcessor("sounds-kit-io", SoundsKitIO);
`;
