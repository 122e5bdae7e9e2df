// Microphone, AudioContext, the I/O worklet and clip playback. Everything the widget hears or
// plays passes through here, at 16 kHz on the widget's side whatever rate the context runs at.
import { PROCESSOR_NAME, WORKLET_SOURCE } from "./worklet_source.js";
import { StreamResampler } from "./resample.js";
import { SAMPLE_RATE } from "../dsp/conventions.js";

export const RATE = SAMPLE_RATE;
const BLOCK_SECONDS = 0.032; // 512 samples at 16 kHz: the meter and the trace need no more than that
/** Samples in one block handed to onBlock, at RATE (about: blocks are cut at the context's rate, then resampled). */
export const BLOCK_SAMPLES = Math.round(BLOCK_SECONDS * RATE);

// Echo cancellation, noise suppression and AGC all reshape a sung tone (a steady tone faded from
// 0.22 to 0.038 RMS in 2.5 s with them on): the models need the voice as it is.
export const MIC_CONSTRAINTS = {
  audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
};

/** VS Code renders notebook outputs in webviews that carry its theme variables. */
export function inVSCode() {
  try {
    const style = getComputedStyle(document.documentElement);
    return !!style.getPropertyValue("--vscode-font-family") || !!document.body?.dataset?.vscodeThemeKind;
  } catch (_) {
    return false;
  }
}

/** Can this page use a microphone at all? {ok, state, message} without asking the person. */
export function microphoneAvailability() {
  if (inVSCode()) {
    // VS Code notebook outputs cannot call getUserMedia (microsoft/vscode#119127).
    return {
      ok: false,
      state: "unsupported",
      message:
        "VS Code notebooks cannot use the microphone. Record in JupyterLab (or any app), then call " +
        "widget.transform('clip.wav') in Python: the instrument plays it here.",
    };
  }
  if (!globalThis.isSecureContext) {
    return {
      ok: false,
      state: "insecure",
      message:
        `The microphone only works on a secure page, and this one is ${location.protocol}//${location.host}. ` +
        "Open Jupyter at http://127.0.0.1:8888 on this computer or over https (an SSH tunnel works). " +
        "Meanwhile widget.transform('clip.wav') in Python plays a recording through the instrument.",
    };
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return {
      ok: false,
      state: "unsupported",
      message:
        "This notebook front end cannot use the microphone (VS Code notebooks cannot, for example). " +
        "Use widget.transform('clip.wav') or widget.transform(array) in Python instead.",
    };
  }
  if (typeof AudioWorkletNode === "undefined") {
    return { ok: false, state: "unsupported", message: "This browser has no AudioWorklet: use a current Chrome, Edge, Firefox or Safari." };
  }
  return { ok: true, state: "available", message: "" };
}

/** A getUserMedia failure in words a student can act on. */
export function describeMicError(err) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return {
      state: "denied",
      message:
        "The browser blocked the microphone. Click the icon at the left of the address bar, allow the " +
        "microphone for this site, then press Record again. (widget.transform() still works without it.)",
    };
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return { state: "absent", message: "No microphone was found. Plug one in (or enable it in the system settings) and press Record again." };
  }
  if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") {
    return { state: "busy", message: "The microphone is busy or failed to start: close other apps that use it and press Record again." };
  }
  return { state: "error", message: `The microphone could not start (${name || "error"}: ${(err && err.message) || err}).` };
}

export class MicError extends Error {
  constructor(err) {
    const d = describeMicError(err);
    super(d.message);
    this.state = d.state;
  }
}

export class AudioIO {
  /** onBlock(samples16k, endFrame) gets every captured block; onMic(source) each newly opened microphone. */
  constructor({ onBlock = () => {}, onStateChange = () => {}, onMic = () => {} } = {}) {
    this.onBlock = onBlock;
    this.onStateChange = onStateChange;
    this.onMic = onMic;
    this.ctx = null;
    this.node = null;
    this.stream = null;
    this.source = null;
    this.toRate = null;
    this.players = new Set();
    this.workletUrl = null;
  }

  get running() {
    return !!this.ctx && this.ctx.state === "running";
  }

  get sampleRate() {
    return this.ctx ? this.ctx.sampleRate : RATE;
  }

  /** Create the context (16 kHz when the browser allows) with the worklet; resume it if it can. */
  async ensureContext(preferRate = RATE) {
    if (this.ctx && this.ctx.state !== "closed") {
      if (this.ctx.state === "suspended") await this.ctx.resume().catch(() => {});
      return this.ctx;
    }
    let ctx;
    try {
      ctx = new AudioContext({ sampleRate: preferRate, latencyHint: "interactive" });
    } catch (_) {
      ctx = new AudioContext({ latencyHint: "interactive" });
    }
    ctx.onstatechange = () => this.onStateChange(ctx.state);
    if (!this.workletUrl) this.workletUrl = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: "text/javascript" }));
    await ctx.audioWorklet.addModule(this.workletUrl);
    const block = Math.round(BLOCK_SECONDS * ctx.sampleRate);
    this.node = new AudioWorkletNode(ctx, PROCESSOR_NAME, {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { blockSize: block },
    });
    this.node.port.onmessage = (e) => this._onWorklet(e.data);
    // Pulled by the graph only when it leads somewhere: its output is silence.
    this.node.connect(ctx.destination);
    this.ctx = ctx;
    this.blockSize = block;
    this.toRate = new StreamResampler(ctx.sampleRate, RATE);
    if (ctx.state === "suspended") await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 300))]).catch(() => {});
    this.onStateChange(ctx.state);
    return ctx;
  }

  /** Ask for the microphone (throws MicError) and connect it to the worklet. */
  async openMic() {
    await this.ensureContext();
    if (this.stream && this.stream.active) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    } catch (err) {
      throw new MicError(err);
    }
    try {
      this.source = this.ctx.createMediaStreamSource(stream);
    } catch (err) {
      // Firefox will not connect a mic to a context at another rate: run at the device's rate
      // and resample in JS instead.
      if (this.ctx.sampleRate === RATE) {
        await this.close();
        await this.ensureContext(undefined);
        this.source = this.ctx.createMediaStreamSource(stream);
      } else throw err;
    }
    this.source.connect(this.node);
    this.stream = stream;
    this.onMic(this.source);
  }

  closeMic() {
    if (this.source) this.source.disconnect();
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.source = null;
    this.stream = null;
  }

  setCapture(on) {
    if (this.node) this.node.port.postMessage({ type: "capture", on });
  }

  /** Play a 16 kHz clip; returns a stop() function. onEnded fires when it stops either way. */
  playClip(samples16k, onEnded = () => {}) {
    const buf = this.ctx.createBuffer(1, Math.max(1, samples16k.length), RATE);
    buf.copyToChannel(samples16k, 0);
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.ctx.destination);
    const entry = { src, stopped: false };
    src.onended = () => {
      this.players.delete(entry);
      onEnded();
    };
    this.players.add(entry);
    src.start();
    return () => {
      try {
        src.stop();
      } catch (_) {
        /* already ended */
      }
    };
  }

  stopClips() {
    for (const p of [...this.players]) {
      try {
        p.src.stop();
      } catch (_) {
        /* already ended */
      }
    }
  }

  _onWorklet(m) {
    if (m.type === "in") {
      const samples = this.toRate ? this.toRate.push(m.samples) : m.samples;
      if (samples.length) this.onBlock(samples, m.end, m.samples.length);
    }
  }

  async close() {
    this.closeMic();
    this.stopClips();
    if (this.ctx && this.ctx.state !== "closed") await this.ctx.close().catch(() => {});
    this.ctx = null;
    this.node = null;
  }

  dispose() {
    this.close();
    if (this.workletUrl) URL.revokeObjectURL(this.workletUrl);
    this.workletUrl = null;
  }
}
