// The sing widget: record or hand over a take, hear it on an instrument, see the pitch.
// Python talks to it through traits (settings, status) and custom messages (model bytes, audio);
// the protocol is described at the top of sounds_kit/widgets/sing.py.
//
// This controller wires the parts together and owns the take and its rendering; each part has one job:
//   view.js           the DOM (builds it, shows state, turns clicks into actions)
//   status.js         messages shown to people (banners, status line, the status traits)
//   model_loading.js  the engine and the loaded instrument
//   recorder.js       the microphone and takes
//   player.js         playback of a take or its rendering
//   live.js           Live: the instrument plays while you sing (in its own audio worklet)
//   tanpura_control.js the drone
import { AudioIO, RATE } from "./audio_io.js";
import { clipFeatures, TraceFeed } from "./features_client.js";
import { SingView } from "./view.js";
import { StatusBoard, errText, idleHint } from "./status.js";
import { InstrumentLoader, bytesOf } from "./model_loading.js";
import { Microphone, Recorder } from "./recorder.js";
import { Player } from "./player.js";
import { LiveLoop } from "./live.js";
import { TanpuraControl } from "./tanpura_control.js";

const RERENDER_DELAY_MS = 250; // a slider drag re-renders the take once it rests

/** A comm buffer as float32 samples. */
function float32Of(b) {
  const u8 = bytesOf(b);
  // Copy: comm buffers may be unaligned views that are reused after the handler returns.
  const out = new Float32Array(u8.byteLength >> 2);
  new Uint8Array(out.buffer).set(u8.subarray(0, out.length * 4));
  return out;
}

class SingController {
  constructor(model, el) {
    this.model = model;
    this.take = null;
    this.takeId = null;
    this.takeCount = 0;
    this.output = null;
    this.renderSeq = 0;
    this.disposed = false;

    this.audio = new AudioIO({
      onBlock: (s, end, n) => this.onBlock(s, end, n),
      onStateChange: (state) => this.onAudioState(state),
      onMic: (source) => this.live.listen(source),
    });
    this.view = new SingView(model, el, {
      setTrait: (name, value) => this.setTrait(name, value),
      record: () => this.recorder.toggle(),
      live: (on) => this.live.set(on),
      play: (kind) => this.player.toggle(kind, kind === "voice" ? this.take : this.output),
      gesture: () => this.onUserGesture(),
    });
    this.status = new StatusBoard(model, this.view.banners, this.view.statusText);
    this.traceFeed = new TraceFeed(this.view.trace, (text) => this.status.set("trace", "warning", text));
    this.player = new Player(this.audio, () => this.renderPlayButtons());
    this.tanpura = new TanpuraControl(model, this.audio);
    this.loader = new InstrumentLoader({
      model,
      view: this.view,
      status: this.status,
      hooks: {
        willReplace: () => this.live.drop(),
        loaded: (inst) => this.onInstrumentLoaded(inst),
        failed: (message) => this.failPendingTransform(message),
        gone: () => this.live.on && this.live.set(false),
      },
    });
    const parts = { audio: this.audio, model, view: this.view, status: this.status };
    this.mic = new Microphone({ ...parts, onProblem: () => this.status.hint(this.idleHint()) });
    this.recorder = new Recorder({
      ...parts,
      mic: this.mic,
      traceFeed: this.traceFeed,
      isLive: () => this.live.on,
      beforeStart: () => this.player.stop(),
      onTake: (take) => this.onRecordedTake(take),
    });
    this.live = new LiveLoop({
      ...parts,
      mic: this.mic,
      traceFeed: this.traceFeed,
      instrument: () => ({ inst: this.loader.inst, name: this.loader.name, files: this.loader.files }),
      isRecording: () => this.recorder.recording,
      soundOptions: () => this.soundOptions(),
      beforeStart: () => this.player.stop(),
    });

    this.view.renderPills();
    this.view.renderRecord(false);
    this.view.renderSettings();
    this.renderPlayButtons();
    this.drawSpecs();
    this.bindModel();
    this.mic.check();
    this.loader.startEngine();
    this.status.hint(this.idleHint());
    // Colab drops binary initial state: Python sends the instrument only after this message.
    this.model.send({ type: "ready" });
  }

  setTrait(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  idleHint() {
    return idleHint({
      modelState: this.model.get("model_state"),
      micState: this.model.get("mic_state"),
      instrument: this.loader.name || this.view.instrumentLabel(),
    });
  }

  renderPlayButtons() {
    this.view.renderPlayButtons({
      voice: !!this.take,
      instrument: !!this.output,
      playing: this.player.playing,
      label: this.loader.name || this.view.instrumentLabel(),
    });
  }

  drawSpecs() {
    this.view.drawSpecs({ take: this.take, output: this.output, busy: !!(this.take && this.loader.inst && !this.output) });
  }

  soundOptions() {
    const m = this.model;
    return { autoFit: m.get("auto_fit"), octaveShift: m.get("octave_shift"), gainDb: m.get("gain_db"), room: m.get("room") };
  }

  // ---------------------------------------------------------------- traits and messages from Python

  bindModel() {
    const m = this.model;
    this.onCustom = (content, buffers) => this.onMessage(content, buffers || []);
    m.on("msg:custom", this.onCustom);
    this.onChange = {
      "change:instrument_choices": () => this.view.renderPills(),
      "change:instrument": () => this.onInstrumentChosen(),
      "change:sa_hz": () => {
        this.view.renderSettings();
        this.tanpura.setSa(m.get("sa_hz"));
      },
      "change:raga": () => this.view.renderSettings(),
      "change:tanpura": () => {
        this.view.renderSettings();
        this.tanpura.apply();
      },
      "change:tanpura_gain_db": () => {
        this.view.renderSettings();
        this.tanpura.setVolume(m.get("tanpura_gain_db"));
      },
      "change:auto_fit": () => this.onSoundSettings(),
      "change:octave_shift": () => this.onSoundSettings(),
      "change:gain_db": () => this.onSoundSettings(),
      "change:room": () => this.onSoundSettings(),
      "change:live": () => {
        if (m.get("live") !== this.live.on) this.live.set(m.get("live"));
      },
    };
    for (const [ev, fn] of Object.entries(this.onChange)) m.on(ev, fn);
  }

  onMessage(content, buffers) {
    if (content.type === "model") this.loader.load(content, buffers);
    else if (content.type === "model_error") this.loader.fail(content);
    else if (content.type === "transform") this.onTransform(content, buffers);
  }

  onInstrumentChosen() {
    this.view.renderPills();
    this.view.renderSettings();
    // The old rendering belongs to the old instrument; Python sends the new files next.
    this.output = null;
    this.renderPlayButtons();
    this.drawSpecs();
    this.view.renderModelChip("loading", `loading ${this.view.instrumentLabel()}…`);
  }

  async onInstrumentLoaded(inst) {
    this.status.hint(this.idleHint());
    this.renderPlayButtons();
    if (this.take) this.renderOutput();
    await this.live.follow(inst);
  }

  onSoundSettings() {
    this.view.renderSettings();
    this.live.retune();
    // Re-render the last take so the new setting can be heard right away.
    clearTimeout(this.rerenderTimer);
    if (this.take && this.loader.inst) this.rerenderTimer = setTimeout(() => this.renderOutput(), RERENDER_DELAY_MS);
  }

  onTransform(content, buffers) {
    if (!buffers.length) return;
    const audio = float32Of(buffers[0]);
    this.setTake(audio, content.id);
    this.status.hint(`Received ${(audio.length / RATE).toFixed(1)} s of audio from Python.`);
    if (this.loader.inst) this.renderOutput();
    else if (this.model.get("model_state") === "error") this.failPendingTransform("no instrument is loaded");
    else this.status.hint(`Received ${(audio.length / RATE).toFixed(1)} s of audio from Python; it plays as soon as the instrument has loaded.`);
  }

  /** A transform request from Python (numeric id) that has no output yet will not get one: say so. */
  failPendingTransform(message) {
    if (typeof this.takeId === "number" && !this.output) {
      this.model.send({ type: "transform_error", id: this.takeId, message });
    }
  }

  // ---------------------------------------------------------------- audio in

  onUserGesture() {
    // Browsers keep audio suspended until a click: any click in the widget starts it.
    if (this.audio.ctx && this.audio.ctx.state === "suspended") this.audio.ctx.resume().catch(() => {});
  }

  onAudioState(state) {
    if (state === "suspended") {
      this.status.set("audio", "warning", "Sound is paused by the browser until you click: click anywhere in this widget.");
    } else this.status.set("audio", null);
  }

  /** Every microphone block: the meter, the take, and the trace (unless Live feeds it). */
  onBlock(samples, endFrame, ctxLen) {
    // Blocks the worklet sent before capture stopped arrive after the microphone closed: they
    // belong to nobody, and the meter should stay silent.
    if (!this.mic.inUse) return;
    let sum = 0, peak = 0;
    for (const v of samples) {
      sum += v * v;
      peak = Math.max(peak, Math.abs(v));
    }
    this.view.setLevel(10 * Math.log10(sum / samples.length + 1e-12), 20 * Math.log10(peak + 1e-9));
    this.recorder.capture(samples);
    this.view.setRecordedSeconds(this.recorder.seconds);
    if (!this.live.on) this.traceFeed.push(samples); // Live's trace comes from its worklet
  }

  // ---------------------------------------------------------------- the take and its rendering

  onRecordedTake(take) {
    this.takeCount += 1;
    this.setTake(take, `take-${this.takeCount}`);
    const copy = take.slice();
    this.model.send({ type: "take", id: this.takeId, sample_rate: RATE, source: "microphone" }, undefined, [copy.buffer]);
    const name = this.loader.name;
    this.status.hint(this.loader.inst ? `Got ${(take.length / RATE).toFixed(1)} s. Playing it on the ${name}…` : `Got ${(take.length / RATE).toFixed(1)} s: it is in widget.last_take.`);
    if (this.loader.inst) this.renderOutput({ autoplay: !this.live.on });
  }

  setTake(audio, id) {
    this.take = audio;
    this.takeId = id;
    this.output = null;
    this.view.setTimer(audio.length / RATE);
    try {
      if (!this.live.on) this.view.trace.showClip(clipFeatures(audio));
    } catch (err) {
      this.status.set("trace", "warning", `The pitch trace is unavailable (${errText(err)}).`);
    }
    this.renderPlayButtons();
    this.drawSpecs();
  }

  async renderOutput({ autoplay = false } = {}) {
    if (!this.take || !this.loader.inst) return;
    const seq = ++this.renderSeq;
    const take = this.take, id = this.takeId, inst = this.loader.inst, name = this.loader.name;
    this.output = null;
    this.drawSpecs();
    this.renderPlayButtons();
    this.status.set("render", "info", `Playing your take on the ${name}…`);
    let result;
    try {
      result = await inst.render(take, this.soundOptions());
    } catch (err) {
      if (seq !== this.renderSeq) return;
      this.status.set("render", "error", `The ${name} could not play this take: ${errText(err)}`);
      if (typeof id === "number") this.model.send({ type: "transform_error", id, message: errText(err) });
      return;
    }
    if (seq !== this.renderSeq || this.disposed) return;
    this.output = result.audio;
    const copy = result.audio.slice();
    this.model.send({ type: "output", id, sample_rate: RATE, instrument: this.model.get("instrument") }, undefined, [copy.buffer]);
    this.status.set("render", null);
    this.status.hint(`Done: press ${name} to listen again. In Python: widget.last_output, widget.save('my-take').`);
    this.renderPlayButtons();
    this.drawSpecs();
    if (autoplay && this.audio.running) this.player.toggle("instrument", this.output);
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.rerenderTimer);
    this.model.off("msg:custom", this.onCustom);
    for (const [ev, fn] of Object.entries(this.onChange)) this.model.off(ev, fn);
    this.live.dispose();
    this.view.dispose();
    this.tanpura.dispose();
    this.loader.dispose();
    this.audio.dispose();
  }
}

export function renderSing({ model, el }) {
  const controller = new SingController(model, el);
  return () => controller.dispose();
}
