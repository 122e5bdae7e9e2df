// The page's handle on the live worklet: load it (from the bundled string, never a URL of the
// server), hand it the instrument, start and stop it, and turn its messages into figures:
// measured delay (DelayMeter over the worklet's own input/output envelopes), the algorithm's
// stated delay, misses, and the device latencies the browser reports.
import WORKLET_SOURCE from "virtual:live-worklet";
import { LIVE_PROCESSOR } from "./live_protocol.js";
import { readGraphModel } from "./graph_file.js";
import { DelayMeter } from "./delay_meter.js";

let workletUrl = null;
const modules = new WeakMap(); // AudioContext -> addModule promise

/** Register the live processor in `ctx` (once per context). */
export function addLiveModule(ctx) {
  if (!workletUrl) workletUrl = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: "text/javascript" }));
  if (!modules.has(ctx)) modules.set(ctx, ctx.audioWorklet.addModule(workletUrl));
  return modules.get(ctx);
}

export class LiveNode {
  constructor(ctx, node, { onFigures = () => {}, onFrames = () => {}, onError = () => {} } = {}) {
    this.ctx = ctx;
    this.node = node;
    this.onFigures = onFigures;
    this.onFrames = onFrames;
    this.onError = onError;
    this.meter = new DelayMeter();
    this.latencyMs = null;
    this.running = false;
    this.lastMeasure = 0;
    this.figures = {};
    this.ready = new Promise((resolve, reject) => {
      this._ready = resolve;
      this._failed = reject;
    });
    node.port.onmessage = (e) => this._onMessage(e.data);
  }

  _onMessage(m) {
    if (m.type === "ready") {
      this.latencyMs = m.latencyMs;
      this.compileMs = m.compileMs;
      this._ready(this);
    } else if (m.type === "error") {
      this.running = false;
      this._failed(new Error(m.message));
      this.onError(new Error(m.message));
    } else if (m.type === "env") {
      this.meter.push(m.input, m.output, m.hopMs, m.dropped);
      // Once a second is plenty for a figure a person reads (and costs ~1 ms here).
      if (this.meter.count - this.lastMeasure >= 1000) {
        this.lastMeasure = this.meter.count;
        this.meter.measure();
      }
    } else if (m.type === "running") {
      if (this._started) this._started();
    } else if (m.type === "frames") {
      this.onFrames(m);
    } else if (m.type === "stats") {
      this.figures = {
        measuredDelayMs: this.meter.delayMs,
        algorithmMs: m.latencyMs,
        underruns: m.underruns,
        late: m.late,
        maxQuantumMs: m.maxQuantumMs,
        maxLateMs: m.maxLateMs,
        seconds: m.seconds,
        baseLatencyMs: 1000 * (this.ctx.baseLatency || 0),
        outputLatencyMs: 1000 * (this.ctx.outputLatency || 0),
      };
      this.onFigures(this.figures);
    }
  }

  /** Start playing (a fade in); resolves when the worklet has started. */
  start() {
    this.meter = new DelayMeter();
    this.lastMeasure = 0;
    this.running = true;
    const started = new Promise((resolve) => {
      this._started = resolve;
    });
    this.node.port.postMessage({ type: "run", on: true });
    return started;
  }

  stop() {
    this.running = false;
    this.node.port.postMessage({ type: "run", on: false });
  }

  setOptions(options) {
    this.node.port.postMessage({ type: "options", options });
  }

  dispose() {
    this.stop();
    this.node.port.onmessage = null;
    this.node.disconnect();
  }
}

/**
 * A live instrument in `ctx`: {meta (checked metadata.json), files ({name: Uint8Array})}.
 * Resolves once the worklet has compiled the decoder; connect a source to .node and .node onward.
 */
export async function createLiveNode(ctx, { meta, files }, { options = {}, ...handlers } = {}) {
  await addLiveModule(ctx);
  const graph = readGraphModel(files);
  const node = new AudioWorkletNode(ctx, LIVE_PROCESSOR, {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 1,
    channelCountMode: "explicit", // the browser mixes the microphone down to mono
    // Offline rendering has no deadline: no quantum is a miss there, however long it takes.
    processorOptions: { realtime: !(typeof OfflineAudioContext !== "undefined" && ctx instanceof OfflineAudioContext) },
  });
  const live = new LiveNode(ctx, node, handlers);
  node.port.postMessage({ type: "instrument", meta, graph, options });
  return live.ready;
}
