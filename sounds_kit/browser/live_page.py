"""Scripts for an EnginePage that run the live instrument in a real AudioContext and record it.

``LIVE_RUN_JS`` plays the fake microphone through one live path for a while and records, in the same
audio graph, what went in (the microphone) and what came out (the instrument), as two channels of one
recorder worklet: their offset is the delay inside the graph. Paths: ``"worklet"`` (the live worklet,
everything in the audio thread) and ``"off"`` (no instrument: the microphone and recorder only, the
audio thread's baseline). ``busy`` adds a 50 ms main-thread task every 200 ms. (Until commit 7f56766 a
``"main"`` path ran the former main-thread Live for comparison; it went with that code.)
``OFFLINE_WORKLET_JS`` renders a clip through the worklet in an OfflineAudioContext."""

from __future__ import annotations

import json

# A recorder in the graph: two channels in (microphone, instrument), posted in 4096-frame batches.
RECORDER_SOURCE = """
registerProcessor("sk-recorder", class extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = 4096; this.a = new Float32Array(this.size); this.b = new Float32Array(this.size); this.fill = 0;
    // Its own quanta take microseconds: one measured longer than it lasts means the audio thread was
    // held up from outside (the platform's share of any misses, in the same thread as Live).
    this.stalls = 0; this.maxMs = 0; this.quanta = 0;
    this.port.onmessage = () => {
      this.port.postMessage({ a: this.a.slice(0, this.fill), b: this.b.slice(0, this.fill), last: true,
                              stalls: this.stalls, maxMs: this.maxMs });
      this.fill = 0;
    };
  }
  process(inputs) {
    const t0 = Date.now();
    const x = inputs[0];
    if (!x || !x.length) return true;
    const y = x[1] || x[0];
    for (let i = 0; i < x[0].length; i++) {
      this.a[this.fill] = x[0][i]; this.b[this.fill] = y[i];
      if (++this.fill === this.size) {
        this.port.postMessage({ a: this.a, b: this.b }, [this.a.buffer, this.b.buffer]);
        this.a = new Float32Array(this.size); this.b = new Float32Array(this.size); this.fill = 0;
      }
    }
    const took = Date.now() - t0;
    if (++this.quanta > 125) {
      this.maxMs = Math.max(this.maxMs, took);
      if (took > (1000 * x[0].length) / sampleRate) this.stalls++;
    }
    return true;
  }
});
"""

LIVE_RUN_JS = """
async ({mode, busy, seconds, files, options, recorderSource}) => {
  const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
  const meta = JSON.parse(new TextDecoder().decode(bytes["metadata.json"]));
  const MIC = { audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } };
  let ctx, source, instrumentOut, figures = {}, live = null, track = null;
  if (mode === "worklet") {
    ctx = new AudioContext({ sampleRate: 16000, latencyHint: "interactive" });
    const stream = await navigator.mediaDevices.getUserMedia(MIC);
    track = stream.getAudioTracks()[0];
    source = ctx.createMediaStreamSource(stream);
    live = await skLive.createLiveNode(ctx, { meta, files: bytes }, { options, onFigures: (f) => { figures = f; } });
    source.connect(live.node);
    live.node.connect(ctx.destination);
    instrumentOut = live.node;
  } else if (mode === "off") {
    // No instrument: the microphone and the recorder only (the audio thread's baseline cost).
    ctx = new AudioContext({ sampleRate: 16000, latencyHint: "interactive" });
    const stream = await navigator.mediaDevices.getUserMedia(MIC);
    track = stream.getAudioTracks()[0];
    source = ctx.createMediaStreamSource(stream);
    instrumentOut = ctx.createGain();
    instrumentOut.gain.value = 0;
    source.connect(instrumentOut);
  } else {
    throw new Error(`unknown live path ${mode}`);
  }
  // The recorder: microphone on channel 0, instrument on channel 1, in the same graph.
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([recorderSource], { type: "text/javascript" })));
  const merger = ctx.createChannelMerger(2);
  source.connect(merger, 0, 0);
  instrumentOut.connect(merger, 0, 1);
  const rec = new AudioWorkletNode(ctx, "sk-recorder", {
    numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
    channelCount: 2, channelCountMode: "explicit", channelInterpretation: "discrete",
  });
  const chunks = [];
  let done;
  const finished = new Promise((r) => { done = r; });
  rec.port.onmessage = (e) => { chunks.push(e.data); if (e.data.last) done(); };
  merger.connect(rec);
  rec.connect(ctx.destination);
  await ctx.resume();
  if (live) await live.start();
  let busyTimer = null, busyMs = 0;
  if (busy) {
    busyTimer = setInterval(() => {
      const t = performance.now();
      while (performance.now() - t < 50);
      busyMs += performance.now() - t;
    }, 200);
  }
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wallS = (performance.now() - t0) / 1000;
  if (busyTimer) clearInterval(busyTimer);
  rec.port.postMessage("stop");
  await finished;
  const n = chunks.reduce((s, c) => s + c.a.length, 0);
  const inAudio = new Float32Array(n), outAudio = new Float32Array(n);
  let at = 0;
  for (const c of chunks) { inAudio.set(c.a, at); outAudio.set(c.b, at); at += c.a.length; }
  const b64 = (f) => {
    const u = new Uint8Array(f.buffer);
    let s = "";
    for (let i = 0; i < u.length; i += 32768) s += String.fromCharCode.apply(null, u.subarray(i, i + 32768));
    return btoa(s);
  };
  const result = {
    mode, busy, wallS, busyMs, sampleRate: ctx.sampleRate,
    baseLatencyMs: 1000 * (ctx.baseLatency || 0), outputLatencyMs: 1000 * (ctx.outputLatency || 0),
    inputLatencyMs: track && track.stats ? 1000 * track.stats.averageLatency : null,
    inputLatencyNowMs: track && track.stats ? 1000 * track.stats.latency : null,
    input: b64(inAudio), output: b64(outAudio),
    recorderStalls: chunks[chunks.length - 1].stalls, recorderMaxMs: chunks[chunks.length - 1].maxMs,
  };
  if (live) {
    await new Promise((r) => setTimeout(r, 300)); // the last stats message
    result.figures = { ...figures, compileMs: live.compileMs };
    live.dispose();
  }
  if (track) track.stop();
  await ctx.close();
  return result;
}
"""

# A clip through the live worklet in an OfflineAudioContext (no clock, no microphone: exact), and the
# same clip through the same JS on the page's main thread, for comparison.
OFFLINE_WORKLET_JS = """
async ({files, audio, options, rate}) => {
  const sr = rate || 16000;
  const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
  const meta = JSON.parse(new TextDecoder().decode(bytes["metadata.json"]));
  const input = b64ToFloat32(audio);
  const ctx = new OfflineAudioContext(1, input.length, sr);
  const buf = ctx.createBuffer(1, input.length, sr);
  buf.copyToChannel(input, 0);
  const src = ctx.createBufferSource();
  src.buffer = buf;
  const live = await skLive.createLiveNode(ctx, { meta, files: bytes }, { options });
  src.connect(live.node);
  live.node.connect(ctx.destination);
  await live.start();
  src.start();
  const out = (await ctx.startRendering()).getChannelData(0);
  let mainThread = null;
  if (sr === 16000) {
    const ref = new skLive.LiveInstrument(meta, skLive.readGraphModel(bytes), options);
    mainThread = new Float32Array(input.length);
    for (let i = 0; i < input.length; i += 128) {
      ref.process(input.subarray(i, i + 128), mainThread.subarray(i, i + 128));
    }
  }
  await new Promise((r) => setTimeout(r, 200)); // let the last messages arrive
  return { worklet: Array.from(out), mainThread: mainThread && Array.from(mainThread), latencyMs: live.latencyMs,
           figures: live.figures, measured: live.meter.measure() };
}
"""


# An init script (Playwright add_init_script) that records, inside any page, what every live
# worklet hears and plays: when the page creates a "sounds-kit-live" node, a recorder joins the same
# graph with the microphone on channel 0 and the instrument on channel 1. Independent of the widget's
# own figures; collect with TAP_COLLECT_JS.
LIVE_TAP_INIT_JS = """
(() => {
  const RECORDER = __RECORDER__;
  const sources = new WeakMap();
  const create = AudioContext.prototype.createMediaStreamSource;
  AudioContext.prototype.createMediaStreamSource = function (stream) {
    const node = create.call(this, stream);
    sources.set(this, node);
    return node;
  };
  const Base = window.AudioWorkletNode;
  const taps = [];
  window.skLiveTap = { taps };
  async function tap(ctx, live) {
    await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([RECORDER], { type: "text/javascript" })));
    const merger = ctx.createChannelMerger(2);
    const source = sources.get(ctx);
    if (source) source.connect(merger, 0, 0);
    live.connect(merger, 0, 1);
    const rec = new Base(ctx, "sk-recorder", {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      channelCount: 2, channelCountMode: "explicit", channelInterpretation: "discrete",
    });
    const entry = { chunks: [], done: null, sampleRate: ctx.sampleRate };
    rec.port.onmessage = (e) => { entry.chunks.push(e.data); if (e.data.last && entry.done) entry.done(); };
    merger.connect(rec);
    rec.connect(ctx.destination);
    entry.stop = () => new Promise((resolve) => { entry.done = resolve; rec.port.postMessage("stop"); });
    taps.push(entry);
  }
  window.AudioWorkletNode = class extends Base {
    constructor(ctx, name, options) {
      super(ctx, name, options);
      if (name === "sounds-kit-live") tap(ctx, this);
    }
  };
})();
""".replace("__RECORDER__", json.dumps(RECORDER_SOURCE))

# Stops the latest tap and returns {input, output} (base64 float32) and its sample rate.
TAP_COLLECT_JS = """
async () => {
  const entry = window.skLiveTap.taps[window.skLiveTap.taps.length - 1];
  if (!entry) return null;
  await entry.stop();
  const n = entry.chunks.reduce((s, c) => s + c.a.length, 0);
  const a = new Float32Array(n), b = new Float32Array(n);
  let at = 0;
  for (const c of entry.chunks) { a.set(c.a, at); b.set(c.b, at); at += c.a.length; }
  const b64 = (f) => {
    const u = new Uint8Array(f.buffer);
    let s = "";
    for (let i = 0; i < u.length; i += 32768) s += String.fromCharCode.apply(null, u.subarray(i, i + 32768));
    return btoa(s);
  };
  return { input: b64(a), output: b64(b), sampleRate: entry.sampleRate };
}
"""
