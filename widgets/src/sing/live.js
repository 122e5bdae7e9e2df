// Live: the instrument plays while you sing. Each microphone block goes through the instrument's
// stream and straight out; the stream's own pitch tracker feeds the trace. Reports through the
// live, live_underruns, live_latency_ms and live_stats traits and the "live" status topic.
import { RATE, BLOCK_SAMPLES } from "./audio_io.js";
import { asFrames } from "./features_client.js";
import { errText } from "./status.js";

const MAX_LIVE_LAG_S = 0.35; // a block older than this would be heard too late: skip it, catch up
const WARMUP_BLOCKS = 10; // enough for the stream's history to reach its full (final) shape
const PROCESS_MS_KEPT = 200; // recent block timings kept for the live_stats median and max

export class LiveLoop {
  /**
   * instrument(): {inst, name} loaded now (inst null when none); isRecording(); soundOptions();
   * beforeStart(): stop what must not play over Live.
   */
  constructor({ audio, mic, model, view, status, traceFeed, instrument, isRecording, soundOptions, beforeStart }) {
    Object.assign(this, { audio, mic, model, view, status, traceFeed, instrument, isRecording, soundOptions, beforeStart });
    this.on = false;
    this.stream = null;
    this.disposed = false;
  }

  /** Whether blocks should go through the instrument now. */
  get playing() {
    return this.on && this.stream !== null;
  }

  unavailable(err) {
    this.status.set("live", "error", `Live is not available for this instrument: ${errText(err)}`);
  }

  newStream() {
    let st;
    try {
      st = this.instrument().inst.createStream(this.soundOptions());
    } catch (err) {
      this.unavailable(err);
      return null;
    }
    // The stream already tracks pitch; show its frames instead of running a second tracker.
    if (st.features && typeof st.features.push === "function") {
      const push = st.features.push.bind(st.features);
      st.features.push = (block) => {
        const frames = push(block);
        this.view.trace.push(asFrames(frames));
        return frames;
      };
      st.tapped = true;
    }
    return st;
  }

  /** Run a throwaway stream on silence so the first real blocks do not stall on shader compiles. */
  async warmUp(inst) {
    if (inst.warmedUp) return;
    const st = inst.createStream(this.soundOptions());
    const zeros = new Float32Array(BLOCK_SAMPLES);
    for (let i = 0; i < WARMUP_BLOCKS && !this.disposed; i++) {
      st.process(zeros);
      await new Promise((r) => setTimeout(r, 0)); // let the page breathe between blocks
    }
    inst.warmedUp = true;
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
      const { inst, name } = this.instrument(); // the one loaded now (the await may have seen a new one)
      if (ok && inst && !inst.warmedUp) {
        this.status.set("live", "info", `Warming up the ${name} for live play (the first time takes a few seconds)…`);
        try {
          await this.warmUp(inst);
        } catch (err) {
          this.unavailable(err);
        }
      }
      input.disabled = false;
      const now = this.instrument().inst; // it may have changed (or gone) while warming up
      this.stream = ok && now && now.warmedUp ? this.newStream() : null;
      if (!this.stream) {
        input.checked = false;
        this.setTrait(false);
        if (ok) this.mic.release("live");
        return;
      }
      this.on = true;
      this.skipped = 0;
      this.load = { processMs: [], maxGapMs: 0 };
      this.lastBlockAt = 0;
      if (!this.isRecording()) this.view.trace.reset();
      // The tapped stream feeds the trace; otherwise keep (or start) a tracker of our own.
      if (this.stream.tapped) this.traceFeed.stop();
      else if (!this.traceFeed.running) this.traceFeed.start();
      this.audio.setLive(true);
      this.audio.setCapture(true);
      this.status.set("live", "info", `Live: sing and hear the ${this.instrument().name}. Wear headphones, or the mic hears the instrument and it howls.`);
      this.model.set("live_underruns", 0);
      this.model.set("live_stats", {});
    } else {
      this.on = false;
      this.stream = null;
      this.audio.setLive(false);
      input.checked = false;
      if (!this.isRecording()) this.traceFeed.stop();
      else if (!this.traceFeed.running) this.traceFeed.start(); // the trace keeps going for the take
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

  /** One microphone block (endFrame: its last sample's frame in the audio context). */
  block(samples, endFrame, ctxLen) {
    const ctx = this.audio.ctx;
    // When the page stalls (garbage collection, a busy notebook), blocks queue up; playing them
    // late only grows the delay, so drop what is already stale and count it.
    if (ctx.currentTime - endFrame / ctx.sampleRate > MAX_LIVE_LAG_S) {
      this.skipped++;
      return;
    }
    const t0 = performance.now();
    if (this.lastBlockAt) this.load.maxGapMs = Math.max(this.load.maxGapMs, t0 - this.lastBlockAt);
    this.lastBlockAt = t0;
    try {
      const out = this.stream.process(samples);
      const lag = Math.round(((this.stream.latencySamples || 0) * ctx.sampleRate) / RATE);
      this.audio.playLive(out, endFrame - ctxLen - lag);
      const ms = performance.now() - t0;
      this.load.processMs.push(ms);
      if (this.load.processMs.length > PROCESS_MS_KEPT) this.load.processMs.shift();
    } catch (err) {
      this.status.set("live", "error", `Live stopped: the instrument failed (${errText(err)}).`);
      this.set(false);
    }
    if (!this.stream || !this.stream.tapped) this.traceFeed.push(samples);
  }

  /** The worklet's report on live output: underruns, trims, buffer, latency. */
  stats(st) {
    if (!this.on) return;
    this.model.set("live_underruns", st.underruns);
    const ms = [...this.load.processMs].sort((a, b) => a - b);
    // How hard the page works for live play; the numbers to look at when it stutters.
    this.model.set("live_stats", {
      dropped_blocks: this.skipped || 0,
      trims: st.trims,
      cushion_ms: Math.round(st.cushionMs),
      buffered_ms: Math.round(st.bufferedMs),
      process_ms_median: ms.length ? Math.round(ms[ms.length >> 1] * 10) / 10 : null,
      process_ms_max: ms.length ? Math.round(ms[ms.length - 1] * 10) / 10 : null,
      max_gap_ms: Math.round(this.load.maxGapMs),
      block_ms: Math.round((1000 * BLOCK_SAMPLES) / RATE),
    });
    if (st.latencyMs != null) this.model.set("live_latency_ms", Math.round(st.latencyMs * 10) / 10);
    this.model.save_changes();
    this.view.liveStats.textContent = st.latencyMs == null ? "" : `delay ${Math.round(st.latencyMs)} ms${st.underruns ? ` · ${st.underruns} gaps` : ""}`;
  }

  /** New sound settings: retune the running stream in place (a new one would restart its features and phase). */
  retune() {
    if (!this.playing) return;
    if (this.stream.setOptions) this.stream.setOptions(this.soundOptions());
    else this.stream = this.newStream();
  }

  /** The instrument is about to be replaced or removed: the stream must not feed its decoder any more. */
  drop() {
    this.stream = null;
  }

  /** A new instrument has loaded: keep playing live on it once it is warm. */
  async follow(inst) {
    if (!this.on) return;
    try {
      await this.warmUp(inst);
      if (this.on && this.instrument().inst === inst) this.stream = this.newStream();
    } catch (err) {
      this.unavailable(err);
      this.set(false);
    }
  }

  dispose() {
    this.disposed = true;
  }
}
