// Live: the instrument plays while you sing. The microphone goes into the live worklet, which runs
// the whole instrument in the audio thread (widgets/src/live) and plays it in the same render
// quantum; nothing passes through this page, which only shows what the worklet reports: the delay
// it measures, the device latencies the browser reports, misses, and its frames for the pitch trace.
// Reports through the live, live_underruns, live_latency_ms and live_stats traits and the "live"
// status topic.
import { createLiveNode } from "../live/live_node.js";
import { roomIr } from "../dsp/room.js";
import { SAMPLE_RATE } from "../dsp/conventions.js";
import { asFrames } from "./features_client.js";
import { errText } from "./status.js";

const FADE_OUT_MS = 40; // the worklet fades out over 10 ms; disconnect only after that
const round1 = (v) => (v == null ? null : Math.round(v * 10) / 10);

export class LiveLoop {
  /**
   * instrument(): {inst, name, files} loaded now (inst null when none); isRecording(); soundOptions();
   * beforeStart(): stop what must not play over Live.
   */
  constructor({ audio, mic, model, view, status, traceFeed, instrument, isRecording, soundOptions, beforeStart }) {
    Object.assign(this, { audio, mic, model, view, status, traceFeed, instrument, isRecording, soundOptions, beforeStart });
    this.on = false;
    this.node = null; // the LiveNode playing now
    this.nodeFor = null; // the instrument it was made for
    this.source = null; // the microphone it listens to
    this.disposed = false;
  }

  /** Whether the instrument is playing now. */
  get playing() {
    return this.on && this.node !== null;
  }

  unavailable(err) {
    this.status.set("live", "error", `Live is not available for this instrument: ${errText(err)}`);
  }

  liveOptions() {
    const { autoFit, octaveShift, gainDb } = this.soundOptions();
    return { autoFit, octaveShift, gainDb };
  }

  // The room, as rendered takes have it: the same impulse response (dsp/room.js) on a wet path
  // beside the dry one, in the audio graph (a ConvolverNode). Only at 16 kHz, the rate of the IR.
  wetPath(ctx, node) {
    if (ctx.sampleRate !== SAMPLE_RATE) return null;
    const ir = roomIr();
    const buffer = ctx.createBuffer(1, ir.length, SAMPLE_RATE);
    buffer.copyToChannel(Float32Array.from(ir), 0);
    const conv = new ConvolverNode(ctx, { buffer, disableNormalization: true });
    const wet = ctx.createGain();
    wet.gain.value = this.soundOptions().room ? 1 : 0;
    node.connect(conv).connect(wet).connect(ctx.destination);
    return { conv, wet };
  }

  /** A live node for the current instrument in the current context, listening to the microphone. */
  async start() {
    const { inst, files } = this.instrument();
    const ctx = this.audio.ctx;
    if (!this.node || this.nodeFor !== inst || this.node.ctx !== ctx) {
      this.release();
      const node = await createLiveNode(ctx, { meta: inst.meta, files }, {
        options: this.liveOptions(),
        onFigures: (f) => this.figures(f),
        onFrames: (m) => this.frames(m),
        onError: (err) => this.failed(err),
      });
      if (this.disposed || !this.on || this.instrument().inst !== inst || this.audio.ctx !== ctx) {
        node.dispose();
        return;
      }
      node.node.connect(ctx.destination);
      node.room = this.wetPath(ctx, node.node);
      this.node = node;
      this.nodeFor = inst;
    }
    this.listen(this.audio.source);
    await this.node.start();
  }

  /** Connect the (possibly reopened) microphone to the live node. */
  listen(source) {
    if (!this.node || !source || source === this.source) return;
    if (this.source) this.source.disconnect(this.node.node);
    source.connect(this.node.node);
    this.source = source;
  }

  /** Stop the node (it fades out) and let it go. */
  release() {
    const node = this.node;
    if (!node) return;
    this.node = null;
    this.nodeFor = null;
    const source = this.source;
    this.source = null;
    node.stop();
    setTimeout(() => {
      try {
        if (source) source.disconnect(node.node);
      } catch (_) {
        /* the microphone closed already */
      }
      node.dispose();
      if (node.room) node.room.wet.disconnect();
    }, FADE_OUT_MS);
  }

  failed(err) {
    this.status.set("live", "error", `Live stopped: the instrument failed (${errText(err)}).`);
    this.set(false);
  }

  async set(on) {
    if (on === this.on) return;
    const input = this.view.liveInput;
    if (on) {
      if (!this.instrument().inst) {
        input.checked = false;
        this.setTrait(false);
        this.status.set("live", "warning", "Live needs an instrument: wait until it has loaded.");
        return;
      }
      this.beforeStart();
      input.checked = true;
      input.disabled = true;
      const ok = await this.mic.open("live");
      this.on = ok && !!this.instrument().inst;
      if (this.on) {
        try {
          await this.start();
        } catch (err) {
          this.unavailable(err);
          this.on = false;
        }
      }
      input.disabled = false;
      if (!this.on || !this.node) {
        this.on = false;
        input.checked = false;
        this.release();
        this.setTrait(false);
        if (ok) this.mic.release("live");
        return;
      }
      if (!this.isRecording()) this.view.trace.reset();
      this.traceFeed.stop(); // the worklet's own frames feed the trace: no second tracker
      this.audio.setCapture(true); // the level meter (and a take, if one is recording)
      this.status.set("live", "info", `Live: sing and hear the ${this.instrument().name}. Wear headphones, or the mic hears the instrument and it howls.`);
      this.model.set("live_underruns", 0);
      this.model.set("live_latency_ms", 0);
      this.model.set("live_stats", {});
    } else {
      this.on = false;
      this.release();
      input.checked = false;
      if (this.isRecording() && !this.traceFeed.running) this.traceFeed.start(); // the trace keeps going for the take
      this.mic.release("live");
      this.status.set("live", null);
      this.view.liveStats.textContent = "";
    }
    this.setTrait(this.on);
  }

  setTrait(on) {
    this.model.set("live", on);
    this.model.save_changes();
  }

  /** The worklet's features, frame by frame: the pitch trace shows them. */
  frames(m) {
    if (this.on) this.view.trace.push(asFrames(m));
  }

  /** The worklet's figures: measured delay, the device's latencies, misses. */
  figures(f) {
    if (!this.on) return;
    this.model.set("live_underruns", f.underruns);
    if (f.measuredDelayMs != null) this.model.set("live_latency_ms", round1(f.measuredDelayMs));
    this.model.set("live_stats", {
      measured_delay_ms: round1(f.measuredDelayMs), // in the page's audio graph, voice in -> instrument out
      algorithm_ms: round1(f.algorithmMs), // what the chain must wait for (look-ahead + one frame)
      base_latency_ms: round1(f.baseLatencyMs), // the device's side, as the browser reports it
      output_latency_ms: round1(f.outputLatencyMs),
      max_quantum_ms: round1(f.maxQuantumMs), // the slowest render quantum (8 ms of sound at 16 kHz)
      late: f.late, // times the graph was pulled 20+ ms late (this thread or the device's)
      max_late_ms: round1(f.maxLateMs),
      seconds: round1(f.seconds),
    });
    this.model.save_changes();
    const delay = f.measuredDelayMs == null ? "measuring delay…" : `delay ${Math.round(f.measuredDelayMs)} ms`;
    const card = `sound card +${Math.round(f.baseLatencyMs)} ms base +${Math.round(f.outputLatencyMs)} ms output`;
    this.view.liveStats.textContent = `${delay} · ${card}${f.underruns ? ` · ${f.underruns} gaps` : ""}`;
    this.view.liveStats.title =
      `Measured in the page, voice in -> instrument out: ${f.measuredDelayMs == null ? "not yet (sing a few notes)" : `${f.measuredDelayMs.toFixed(1)} ms`}` +
      ` (the instrument needs ${f.algorithmMs} ms of your voice ahead). The sound card adds what the browser reports:` +
      ` ${Math.round(f.baseLatencyMs)} ms base + ${Math.round(f.outputLatencyMs)} ms output.`;
  }

  /** New sound settings: the running instrument retunes in place (its features and phase go on). */
  retune() {
    if (!this.node) return;
    this.node.setOptions(this.liveOptions());
    if (this.node.room) this.node.room.wet.gain.value = this.soundOptions().room ? 1 : 0;
  }

  /** The instrument is about to be replaced or removed: stop playing it. */
  drop() {
    this.release();
  }

  /** A new instrument has loaded: keep playing live on it. */
  async follow(inst) {
    if (!this.on || this.instrument().inst !== inst) return;
    try {
      await this.start();
    } catch (err) {
      this.unavailable(err);
      this.set(false);
    }
  }

  dispose() {
    this.disposed = true;
    this.release();
  }
}
