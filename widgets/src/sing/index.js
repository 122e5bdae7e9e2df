// The sing widget's view: record or hand over a take, hear it on an instrument, see the pitch.
// Python talks to it through traits (settings, status) and custom messages (model bytes, audio);
// the protocol is described at the top of sounds_kit/sing_widget.py.
import { STYLES } from "./styles.js";
import { AudioIO, RATE, microphoneAvailability, MicError } from "./audio_io.js";
import { PitchTrace } from "./pitch_trace.js";
import { Tanpura } from "./tanpura.js";
import { spectrogram, drawSpectrogram } from "./spectrogram.js";
import { saChoices, noteName } from "./swaras.js";
import { RAGAS, hzToMidi, midiToHz } from "../dsp/conventions.js";
import { getEngine, loadInstrument } from "./engine_client.js";
import { asFrames, clipFeatures, liveFeatures } from "./features_client.js";
import { icon } from "./icons.js";

const MAX_TAKE_S = 60;
const MAX_LIVE_LAG_S = 0.35; // a block older than this would be heard too late: skip it, catch up
const WARMUP_BLOCKS = 10; // enough for the stream's history to reach its full (final) shape
const LEVEL_RANK = { info: 0, warning: 1, error: 2 };

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") el.className = v;
    else if (k === "style") el.style.cssText = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null) el.append(c);
  return el;
}

const bytesOf = (b) => (b instanceof DataView ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));

function float32Of(b) {
  const u8 = bytesOf(b);
  // Copy: comm buffers may be unaligned views that are reused after the handler returns.
  const out = new Float32Array(u8.byteLength >> 2);
  new Uint8Array(out.buffer).set(u8.subarray(0, out.length * 4));
  return out;
}

const fmtTime = (s) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
const errText = (e) => (e && e.message ? e.message : String(e));

class SingView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.topics = new Map();
    this.seq = 0;
    this.inst = null;
    this.instName = "";
    this.loadSeq = 0;
    this.renderSeq = 0;
    this.take = null;
    this.takeId = null;
    this.takeCount = 0;
    this.output = null;
    this.recording = false;
    this.live = false;
    this.stream = null;
    this.features = null;
    this.stopPlayback = null;
    this.tanpura = null;
    this.disposed = false;
    this.audio = new AudioIO({
      onBlock: (s, end, n) => this.onBlock(s, end, n),
      onStats: (st) => this.onLiveStats(st),
      onStateChange: (state) => this.onAudioState(state),
    });
    this.build();
    this.bindModel();
    this.checkMicrophone();
    this.startEngine();
    this.setHint(this.idleHint());
    // Colab drops binary initial state: Python sends the instrument only after this message.
    this.model.send({ type: "ready" });
  }

  // ---------------------------------------------------------------- DOM

  build() {
    const m = this.model;
    this.root = h("div", { class: "sk-sing", onpointerdown: () => this.onUserGesture() });
    this.root.append(h("style", { text: STYLES }));

    this.pills = h("div", { class: "sk-instruments" });
    this.modelChip = h("span", { class: "sk-chip sk-busy", text: "waiting for Python…" });
    this.backendChip = h("span", { class: "sk-chip", text: "engine…", title: "where the instrument's neural network runs" });
    this.root.append(
      h("div", { class: "sk-row sk-head" },
        h("div", { class: "sk-title" }, icon("note", "sk-logo"), "Sing as a", this.pills),
        h("div", { class: "sk-row" }, this.modelChip, this.backendChip)),
    );

    this.recordBtn = h("button", { class: "sk-btn sk-record", onclick: () => this.toggleRecord() });
    this.timer = h("span", { class: "sk-timer", text: "0:00.0" });
    this.meterFill = h("div", { class: "sk-meter-fill" });
    // The gradient stays put; a cover over its unlit part shrinks (one compositor-only transform).
    this.meterCover = h("div", { class: "sk-meter-cover" });
    this.meterPeak = h("div", { class: "sk-meter-peak" });
    this.meterLabel = h("span", { class: "sk-meter-label", text: "mic level" });
    this.liveInput = h("input", { type: "checkbox", onchange: () => this.setLive(this.liveInput.checked) });
    this.liveStats = h("span", { class: "sk-live-stats" });
    this.playVoice = h("button", { class: "sk-btn", disabled: true, onclick: () => this.togglePlay("voice") });
    this.playInst = h("button", { class: "sk-btn", disabled: true, onclick: () => this.togglePlay("instrument") });
    this.root.append(
      h("div", { class: "sk-row sk-main" },
        this.recordBtn, this.timer,
        h("div", { class: "sk-row", style: "gap:8px" }, h("div", { class: "sk-meter" }, this.meterFill, this.meterCover, this.meterPeak), this.meterLabel),
        h("span", { class: "sk-spacer" }),
        h("div", { class: "sk-live-box" },
          h("label", { class: "sk-switch", title: "Play the instrument while you sing" }, this.liveInput, "Live"),
          h("span", { class: "sk-hint" }, icon("headphones"), " wear headphones for Live"), this.liveStats)),
      h("div", { class: "sk-row", style: "gap:8px; margin-bottom:4px" }, this.playVoice, this.playInst),
    );

    this.traceCanvas = h("canvas", { class: "sk-trace" });
    this.legend = h("div", { class: "sk-trace-legend" });
    this.root.append(h("div", { class: "sk-trace-wrap" }, this.traceCanvas, this.legend));
    this.trace = new PitchTrace(this.traceCanvas);

    // Guide: Sa, raga, tanpura.
    this.saSelect = h("select", { onchange: () => this.setTrait("sa_hz", midiToHz(Number(this.saSelect.value))) });
    for (const c of saChoices()) this.saSelect.append(h("option", { value: c.midi, text: c.label }));
    this.ragaSelect = h("select", { onchange: () => this.setTrait("raga", this.ragaSelect.value) });
    for (const [key, r] of Object.entries(RAGAS)) this.ragaSelect.append(h("option", { value: key, text: r.label }));
    this.tanpuraInput = h("input", { type: "checkbox", onchange: () => this.setTrait("tanpura", this.tanpuraInput.checked) });
    this.tanpuraVol = h("input", { type: "range", min: -36, max: 0, step: 1, title: "tanpura volume", oninput: () => this.setTrait("tanpura_gain_db", Number(this.tanpuraVol.value)) });

    // Sound: auto-fit, octave, gain.
    this.autoFit = h("input", { type: "checkbox", onchange: () => this.setTrait("auto_fit", this.autoFit.checked) });
    this.octaveSeg = h("div", { class: "sk-seg" });
    for (const o of [-2, -1, 0, 1, 2]) {
      this.octaveSeg.append(h("button", { "data-octave": o, text: o > 0 ? `+${o}` : `${o}`, onclick: () => this.setTrait("octave_shift", o) }));
    }
    this.gain = h("input", { type: "range", min: -24, max: 12, step: 1, oninput: () => this.setTrait("gain_db", Number(this.gain.value)) });
    this.gainValue = h("span", { class: "sk-value" });
    this.root.append(
      h("div", { class: "sk-panels" },
        h("div", { class: "sk-panel" }, h("h4", { text: "Guide" }),
          h("label", { class: "sk-field" }, h("span", { text: "Sa" }), this.saSelect),
          h("label", { class: "sk-field" }, h("span", { text: "Raga" }), this.ragaSelect),
          h("span", { class: "sk-field" }, h("label", { class: "sk-switch" }, this.tanpuraInput, "Tanpura"), this.tanpuraVol)),
        h("div", { class: "sk-panel" }, h("h4", { text: "Instrument sound" }),
          h("label", { class: "sk-field sk-switch", title: "Move your pitch by octaves into the instrument's range and match its loudness" }, this.autoFit, "Auto-fit"),
          h("span", { class: "sk-field" }, h("span", { text: "Octave" }), this.octaveSeg),
          h("span", { class: "sk-field" }, h("span", { text: "Gain" }), this.gain, this.gainValue))),
    );

    this.specVoice = h("canvas");
    this.specInst = h("canvas");
    this.specInstTitle = h("h4", { text: "Instrument" });
    this.root.append(
      h("div", { class: "sk-specs" },
        h("div", { class: "sk-spec" }, h("h4", { text: "Your voice" }), this.specVoice),
        h("div", { class: "sk-spec" }, this.specInstTitle, this.specInst)),
    );

    this.banners = h("div");
    this.statusText = h("span");
    this.root.append(this.banners, h("div", { class: "sk-status" }, icon("info"), this.statusText));
    this.el.append(this.root);
    this.specObserver = new ResizeObserver(() => this.drawSpecs());
    this.specObserver.observe(this.specVoice);
    this.refreshAll();
  }

  refreshAll() {
    this.renderPills();
    this.renderRecord();
    this.renderSettings();
    this.renderPlayButtons();
    this.drawSpecs();
  }

  renderPills() {
    const current = this.model.get("instrument");
    this.pills.replaceChildren(
      ...(this.model.get("instrument_choices") || []).map((c) =>
        h("button", {
          class: `sk-pill${c.key === current ? " sk-on" : ""}${c.available ? "" : " sk-missing"}`,
          title: c.available ? c.key : `${c.key}: not found (export it or check the path)`,
          text: c.label,
          onclick: () => this.setTrait("instrument", c.key),
        })),
    );
  }

  instrumentLabel() {
    const key = this.model.get("instrument");
    const c = (this.model.get("instrument_choices") || []).find((x) => x.key === key);
    return c ? c.label : key;
  }

  renderRecord() {
    this.recordBtn.replaceChildren(h("span", { class: "sk-dot" }), this.recording ? "Stop" : "Record");
    this.recordBtn.classList.toggle("sk-recording", this.recording);
    this.timer.classList.toggle("sk-active", this.recording);
  }

  renderSettings() {
    const m = this.model;
    const sa = m.get("sa_hz");
    const midi = Math.round(hzToMidi(sa));
    const exact = Math.abs(hzToMidi(sa) - midi) < 0.05;
    let opt = this.saSelect.querySelector("option[data-custom]");
    if (!exact) {
      if (!opt) this.saSelect.append((opt = h("option", { "data-custom": true })));
      opt.value = "custom";
      opt.textContent = `${sa.toFixed(1)} Hz`;
      this.saSelect.value = "custom";
    } else {
      if (opt) opt.remove();
      this.saSelect.value = String(midi);
    }
    this.ragaSelect.value = m.get("raga");
    this.tanpuraInput.checked = m.get("tanpura");
    this.tanpuraVol.value = m.get("tanpura_gain_db");
    this.autoFit.checked = m.get("auto_fit");
    for (const b of this.octaveSeg.children) b.classList.toggle("sk-on", Number(b.dataset.octave) === m.get("octave_shift"));
    this.gain.value = m.get("gain_db");
    const g = m.get("gain_db");
    this.gainValue.textContent = `${g > 0 ? "+" : ""}${g.toFixed(0)} dB`;
    this.trace.setSa(sa);
    this.trace.setRaga(m.get("raga"));
    this.legend.textContent = `Sa = ${exact ? noteName(midi) : `${sa.toFixed(1)} Hz`} · ${RAGAS[m.get("raga")]?.label || m.get("raga")} · dot above a name: upper octave, below: lower`;
    this.specInstTitle.textContent = this.instrumentLabel();
  }

  renderPlayButtons() {
    const playing = this.playingKind;
    this.playVoice.disabled = !this.take;
    this.playInst.disabled = !this.output;
    const label = (on, text) => [icon(on ? "stop" : "play"), on ? "Stop" : text];
    this.playVoice.replaceChildren(...label(playing === "voice", "Your voice"));
    this.playInst.replaceChildren(...label(playing === "instrument", this.instName || this.instrumentLabel()));
    this.playVoice.classList.toggle("sk-playing", playing === "voice");
    this.playInst.classList.toggle("sk-playing", playing === "instrument");
  }

  renderModelChip(state, text) {
    this.modelChip.className = `sk-chip ${state === "ready" ? "sk-ready" : state === "loading" ? "sk-busy" : state === "error" ? "sk-bad" : ""}`;
    this.modelChip.textContent = text;
  }

  drawSpecs() {
    drawSpectrogram(this.specVoice, this.take ? (this.specVoiceData ||= spectrogram(this.take)) : null, { emptyText: "Record a take to see it here" });
    const busy = this.take && this.inst && !this.output;
    drawSpectrogram(this.specInst, this.output ? (this.specInstData ||= spectrogram(this.output)) : null, {
      emptyText: busy ? "Playing it on the instrument…" : "…and how the instrument plays it",
    });
  }

  // ---------------------------------------------------------------- messages shown to people

  /** One message per topic; the banner list shows warnings and errors, the status line the latest info. */
  setStatus(topic, level, text) {
    if (!text) this.topics.delete(topic);
    else this.topics.set(topic, { level, text, seq: ++this.seq });
    const all = [...this.topics.values()];
    const problems = all.filter((t) => t.level !== "info").sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || b.seq - a.seq);
    this.banners.replaceChildren(
      ...problems.map((p) => h("div", { class: `sk-banner sk-${p.level}` }, icon(p.level === "error" ? "error" : "warning"), h("span", { text: p.text }))),
    );
    const info = all.filter((t) => t.level === "info").sort((a, b) => b.seq - a.seq)[0];
    this.statusText.textContent = info ? info.text : "";
    const top = problems[0] || info;
    this.model.set("status", top ? top.text : "");
    this.model.set("status_level", top ? top.level : "info");
    this.model.save_changes();
  }

  setHint(text) {
    this.setStatus("hint", "info", text);
  }

  idleHint() {
    const mic = this.model.get("mic_state");
    const inst = this.instName || this.instrumentLabel();
    if (this.model.get("model_state") === "ready") {
      if (mic === "insecure" || mic === "unsupported" || mic === "denied" || mic === "absent") {
        return `${inst} is ready. No microphone here: call widget.transform('clip.wav') in Python to play a clip on it.`;
      }
      return `${inst} is ready: press Record, sing a phrase, press Stop.`;
    }
    return "Press Record and sing: your take reaches Python as widget.last_take.";
  }

  setTrait(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  // ---------------------------------------------------------------- model & traits

  bindModel() {
    const m = this.model;
    this.onCustom = (content, buffers) => this.onMessage(content, buffers || []);
    m.on("msg:custom", this.onCustom);
    this.onChange = {
      "change:instrument_choices": () => this.renderPills(),
      "change:instrument": () => this.onInstrumentChosen(),
      "change:sa_hz": () => {
        this.renderSettings();
        if (this.tanpura) this.tanpura.setSa(m.get("sa_hz"));
      },
      "change:raga": () => this.renderSettings(),
      "change:tanpura": () => {
        this.renderSettings();
        this.applyTanpura();
      },
      "change:tanpura_gain_db": () => {
        this.renderSettings();
        if (this.tanpura) this.tanpura.setVolume(m.get("tanpura_gain_db"));
      },
      "change:auto_fit": () => this.onSoundSettings(),
      "change:octave_shift": () => this.onSoundSettings(),
      "change:gain_db": () => this.onSoundSettings(),
      "change:live": () => {
        if (m.get("live") !== this.live) this.setLive(m.get("live"));
      },
    };
    for (const [ev, fn] of Object.entries(this.onChange)) m.on(ev, fn);
  }

  onMessage(content, buffers) {
    if (content.type === "model") this.onModelFiles(content, buffers);
    else if (content.type === "model_error") this.onModelError(content);
    else if (content.type === "transform") this.onTransform(content, buffers);
  }

  startEngine() {
    getEngine().then(
      ({ backend, notes }) => {
        notes = notes || [];
        this.backendChip.textContent = backend === "webgl" ? "WebGL" : backend === "wasm" ? "WebAssembly" : backend;
        this.backendChip.title = ["where the instrument's neural network runs", ...notes].join("\n");
        this.model.set("backend", backend);
        this.model.set("engine_notes", notes);
        this.model.save_changes();
        // The engine may pick wasm on purpose (software WebGL is slower); warn only when WebGL failed.
        const webglNote = notes.find((n) => n.startsWith("webgl"));
        if (backend !== "webgl" && webglNote) {
          this.setStatus("engine", "warning",
            `WebGL does not work in this browser (${webglNote}): the instrument runs on ${backend === "wasm" ? "WebAssembly" : "plain JavaScript"} instead. It sounds the same but may be slower; Live may stutter.`);
        }
      },
      (err) => {
        this.backendChip.textContent = "no engine";
        this.backendChip.className = "sk-chip sk-bad";
        this.setStatus("engine", "error", `The instrument engine cannot start in this browser (${errText(err)}). Recording still works; takes reach Python.`);
      },
    );
  }

  onInstrumentChosen() {
    this.renderPills();
    this.renderSettings();
    // The old rendering belongs to the old instrument; Python sends the new files next.
    this.output = null;
    this.specInstData = null;
    this.renderPlayButtons();
    this.drawSpecs();
    this.renderModelChip("loading", `loading ${this.instrumentLabel()}…`);
  }

  async onModelFiles(content, buffers) {
    const seq = ++this.loadSeq;
    const label = this.instrumentLabel();
    this.setTrait("model_state", "loading");
    this.renderModelChip("loading", `loading ${label}…`);
    this.setStatus("model", "info", `Loading the ${label}…`);
    const files = {};
    content.files.forEach((name, i) => (files[name] = bytesOf(buffers[i]).slice()));
    // Another view of this widget opening makes Python send the files again: keep what is loaded.
    const fingerprint = `${content.key}\n${new TextDecoder().decode(files["metadata.json"] || new Uint8Array())}`;
    if (this.inst && fingerprint === this.loadedFingerprint) {
      this.loadSeq = seq;
      this.setTrait("model_state", "ready");
      this.renderModelChip("ready", `${this.instName} ready`);
      this.setStatus("model", null);
      return;
    }
    let inst;
    try {
      inst = await loadInstrument(files);
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.inst = null;
      this.setTrait("model_state", "error");
      this.renderModelChip("error", `${label} failed`);
      this.setStatus("model", "error", `The ${label} could not be loaded: ${errText(err)}`);
      this.failPendingTransform(`the instrument could not be loaded: ${errText(err)}`);
      return;
    }
    if (seq !== this.loadSeq || this.disposed) {
      inst.dispose();
      return;
    }
    // A live stream belongs to the old instrument: stop feeding it before its decoder goes.
    this.stream = null;
    if (this.inst) this.inst.dispose();
    this.inst = inst;
    this.loadedFingerprint = fingerprint;
    this.instName = content.name ? content.name.charAt(0).toUpperCase() + content.name.slice(1) : label;
    this.setTrait("model_state", "ready");
    this.renderModelChip("ready", `${this.instName} ready`);
    this.setStatus("model", null);
    this.setHint(this.idleHint());
    this.renderPlayButtons();
    if (this.take) this.renderOutput();
    if (this.live) {
      // Keep playing live on the new instrument once it is warm (the old one is gone already).
      try {
        await this.warmUp(inst);
        if (this.live && this.inst === inst) this.stream = this.newStream();
      } catch (err) {
        this.setStatus("live", "error", `Live is not available for this instrument: ${errText(err)}`);
        this.setLive(false);
      }
    }
  }

  onModelError(content) {
    this.loadSeq++;
    this.stream = null;
    if (this.inst) this.inst.dispose();
    this.inst = null;
    this.loadedFingerprint = null;
    this.model.set("model_state", "error");
    this.renderModelChip("error", "no instrument");
    this.setStatus("model", "error", `Cannot load the instrument: ${content.message}`);
    this.failPendingTransform(content.message);
    if (this.live) this.setLive(false);
  }

  onTransform(content, buffers) {
    if (!buffers.length) return;
    const audio = float32Of(buffers[0]);
    this.setTake(audio, content.id);
    this.setHint(`Received ${(audio.length / RATE).toFixed(1)} s of audio from Python.`);
    if (this.inst) this.renderOutput();
    else if (this.model.get("model_state") === "error") this.failPendingTransform("no instrument is loaded");
    else this.setHint(`Received ${(audio.length / RATE).toFixed(1)} s of audio from Python; it plays as soon as the instrument has loaded.`);
  }

  failPendingTransform(message) {
    if (typeof this.takeId === "number" && !this.output) {
      this.model.send({ type: "transform_error", id: this.takeId, message });
    }
  }

  onSoundSettings() {
    this.renderSettings();
    if (this.live && this.stream) {
      // Retune the running stream in place: a new one would restart its features and phase.
      if (this.stream.setOptions) this.stream.setOptions(this.soundOptions());
      else this.stream = this.newStream();
    }
    // Re-render the last take so the new setting can be heard right away.
    clearTimeout(this.rerenderTimer);
    if (this.take && this.inst) this.rerenderTimer = setTimeout(() => this.renderOutput(), 250);
  }

  soundOptions() {
    return { autoFit: this.model.get("auto_fit"), octaveShift: this.model.get("octave_shift"), gainDb: this.model.get("gain_db") };
  }

  // ---------------------------------------------------------------- microphone & audio

  checkMicrophone() {
    const av = microphoneAvailability();
    if (!av.ok) {
      this.setTrait("mic_state", av.state);
      this.setStatus("mic", "error", av.message);
      this.recordBtn.disabled = true;
      this.liveInput.disabled = true;
      return;
    }
    this.setTrait("mic_state", "available");
    // Say so before the first click when the site is already blocked.
    if (navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "microphone" }).then(
        (p) => {
          const show = () => {
            if (p.state === "denied") this.micFailed(new MicError({ name: "NotAllowedError" }));
            else if (this.model.get("mic_state") === "denied") {
              this.setTrait("mic_state", "available");
              this.setStatus("mic", null);
            }
          };
          show();
          p.onchange = show;
        },
        () => {},
      );
    }
  }

  micFailed(err) {
    this.setTrait("mic_state", err.state || "error");
    this.setStatus("mic", "error", err.message);
    this.setHint(this.idleHint());
  }

  async openMic() {
    try {
      await this.audio.openMic();
    } catch (err) {
      this.micFailed(err instanceof MicError ? err : new MicError(err));
      return false;
    }
    this.setTrait("mic_state", "on");
    this.setStatus("mic", null);
    return true;
  }

  maybeCloseMic() {
    if (this.recording || this.live) return;
    this.audio.setCapture(false);
    this.audio.closeMic();
    this.setTrait("mic_state", "available");
    this.setLevel(-90);
  }

  onUserGesture() {
    // Browsers keep audio suspended until a click: any click in the widget starts it.
    if (this.audio.ctx && this.audio.ctx.state === "suspended") this.audio.ctx.resume().catch(() => {});
  }

  onAudioState(state) {
    if (state === "suspended") {
      this.setStatus("audio", "warning", "Sound is paused by the browser until you click: click anywhere in this widget.");
    } else this.setStatus("audio", null);
  }

  startFeatures() {
    try {
      this.features = liveFeatures();
    } catch (err) {
      this.features = null;
      this.setStatus("trace", "warning", `The pitch trace is unavailable (${errText(err)}); recording still works.`);
    }
  }

  onBlock(samples, endFrame, ctxLen) {
    let sum = 0, peak = 0;
    for (const v of samples) {
      sum += v * v;
      peak = Math.max(peak, Math.abs(v));
    }
    this.setLevel(10 * Math.log10(sum / samples.length + 1e-12), 20 * Math.log10(peak + 1e-9));
    if (this.recording) {
      this.chunks.push(samples);
      this.recorded += samples.length;
      if (this.recorded >= MAX_TAKE_S * RATE) {
        this.stopRecording();
        this.setStatus("take", "info", `Takes stop at ${MAX_TAKE_S} s.`);
      }
    }
    if (this.live && this.stream) this.liveBlock(samples, endFrame, ctxLen);
    else if (this.features) {
      try {
        this.trace.push(this.features.push(samples));
      } catch (err) {
        this.features = null;
        this.setStatus("trace", "warning", `The pitch trace stopped (${errText(err)}).`);
      }
    }
  }

  liveBlock(samples, endFrame, ctxLen) {
    const ctx = this.audio.ctx;
    // When the page stalls (garbage collection, a busy notebook), blocks queue up; playing them
    // late only grows the delay, so drop what is already stale and count it.
    if (ctx.currentTime - endFrame / ctx.sampleRate > MAX_LIVE_LAG_S) {
      this.liveSkipped++;
      return;
    }
    const t0 = performance.now();
    if (this.lastBlockAt) this.liveLoad.maxGapMs = Math.max(this.liveLoad.maxGapMs, t0 - this.lastBlockAt);
    this.lastBlockAt = t0;
    try {
      const out = this.stream.process(samples);
      const lag = Math.round(((this.stream.latencySamples || 0) * ctx.sampleRate) / RATE);
      this.audio.playLive(out, endFrame - ctxLen - lag);
      const ms = performance.now() - t0;
      this.liveLoad.processMs.push(ms);
      if (this.liveLoad.processMs.length > 200) this.liveLoad.processMs.shift();
    } catch (err) {
      this.setStatus("live", "error", `Live stopped: the instrument failed (${errText(err)}).`);
      this.setLive(false);
    }
    if (!this.stream || !this.stream.tapped) {
      if (this.features) this.trace.push(this.features.push(samples));
    }
  }

  setLevel(rmsDb, peakDb = rmsDb) {
    const now = performance.now();
    if (!this.peakHold || peakDb > this.peakHold.db || now - this.peakHold.t > 1500) this.peakHold = { db: peakDb, t: now };
    this.level = { rmsDb, peakDb };
    this.scheduleUi();
  }

  /** Meter and timer change with every block; the DOM follows at most once per frame. */
  scheduleUi() {
    if (this.uiPending) return;
    this.uiPending = true;
    requestAnimationFrame(() => {
      this.uiPending = false;
      const frac = (db) => Math.max(0, Math.min(1, (db + 60) / 60));
      const { rmsDb, peakDb } = this.level;
      // transform, not width: the compositor moves it without a layout of the notebook.
      this.meterCover.style.transform = `scaleX(${(1 - frac(rmsDb + 3)).toFixed(3)})`;
      this.meterPeak.style.transform = `translateX(${(frac(this.peakHold.db) * 178).toFixed(1)}px)`;
      const label = peakDb > -1 ? "too loud!" : rmsDb < -55 ? "mic level" : `${Math.round(rmsDb)} dB`;
      if (this.meterLabel.textContent !== label) this.meterLabel.textContent = label;
      if (this.recording) this.timer.textContent = fmtTime(this.recorded / RATE);
    });
  }

  // ---------------------------------------------------------------- record / live / play

  async toggleRecord() {
    if (this.recording) return this.stopRecording();
    if (this.busyStarting) return;
    this.busyStarting = true;
    try {
      this.stopPlay();
      if (!(await this.openMic())) return;
      this.chunks = [];
      this.recorded = 0;
      this.recording = true;
      if (!this.live) {
        this.trace.reset();
        this.startFeatures();
      }
      this.audio.setCapture(true);
      this.setTrait("recording", true);
      this.renderRecord();
      this.setStatus("take", null);
      this.setHint("Recording… sing! Press Stop when you are done.");
    } finally {
      this.busyStarting = false;
    }
  }

  stopRecording() {
    if (!this.recording) return;
    this.recording = false;
    const take = new Float32Array(this.recorded);
    let off = 0;
    for (const c of this.chunks) {
      take.set(c, off);
      off += c.length;
    }
    this.chunks = [];
    if (!this.live) this.features = null;
    this.maybeCloseMic();
    this.setTrait("recording", false);
    this.renderRecord();
    if (take.length < RATE * 0.25) {
      this.setStatus("take", "warning", "That take was too short: press Record, sing, then press Stop.");
      return;
    }
    this.takeCount += 1;
    this.setTake(take, `take-${this.takeCount}`);
    const copy = take.slice();
    this.model.send({ type: "take", id: this.takeId, sample_rate: RATE, source: "microphone" }, undefined, [copy.buffer]);
    this.setHint(this.inst ? `Got ${(take.length / RATE).toFixed(1)} s. Playing it on the ${this.instName}…` : `Got ${(take.length / RATE).toFixed(1)} s: it is in widget.last_take.`);
    if (this.inst) this.renderOutput({ autoplay: !this.live });
  }

  setTake(audio, id) {
    this.take = audio;
    this.takeId = id;
    this.output = null;
    this.specVoiceData = null;
    this.specInstData = null;
    this.timer.textContent = fmtTime(audio.length / RATE);
    try {
      if (!this.live) this.trace.showClip(clipFeatures(audio));
    } catch (err) {
      this.setStatus("trace", "warning", `The pitch trace is unavailable (${errText(err)}).`);
    }
    this.renderPlayButtons();
    this.drawSpecs();
  }

  async renderOutput({ autoplay = false } = {}) {
    if (!this.take || !this.inst) return;
    const seq = ++this.renderSeq;
    const take = this.take, id = this.takeId, inst = this.inst, name = this.instName;
    this.output = null;
    this.specInstData = null;
    this.drawSpecs();
    this.renderPlayButtons();
    this.setStatus("render", "info", `Playing your take on the ${name}…`);
    let result;
    try {
      result = await inst.render(take, this.soundOptions());
    } catch (err) {
      if (seq !== this.renderSeq) return;
      this.setStatus("render", "error", `The ${name} could not play this take: ${errText(err)}`);
      if (typeof id === "number") this.model.send({ type: "transform_error", id, message: errText(err) });
      return;
    }
    if (seq !== this.renderSeq || this.disposed) return;
    this.output = result.audio;
    const copy = result.audio.slice();
    this.model.send({ type: "output", id, sample_rate: RATE, instrument: this.model.get("instrument") }, undefined, [copy.buffer]);
    this.setStatus("render", null);
    this.setHint(`Done: press ${name} to listen again. In Python: widget.last_output, widget.save('my-take').`);
    this.renderPlayButtons();
    this.drawSpecs();
    if (autoplay && this.audio.running) this.togglePlay("instrument");
  }

  newStream() {
    let st;
    try {
      st = this.inst.createStream(this.soundOptions());
    } catch (err) {
      this.setStatus("live", "error", `Live is not available for this instrument: ${errText(err)}`);
      return null;
    }
    // The stream already tracks pitch; show its frames instead of running a second tracker.
    if (st.features && typeof st.features.push === "function") {
      const push = st.features.push.bind(st.features);
      st.features.push = (block) => {
        const frames = push(block);
        this.trace.push(asFrames(frames));
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
    const zeros = new Float32Array(512);
    for (let i = 0; i < WARMUP_BLOCKS && !this.disposed; i++) {
      st.process(zeros);
      await new Promise((r) => setTimeout(r, 0)); // let the page breathe between blocks
    }
    inst.warmedUp = true;
  }

  async setLive(on) {
    if (on === this.live) return;
    if (on) {
      if (!this.inst) {
        this.liveInput.checked = false;
        this.setTrait("live", false);
        this.setStatus("live", "warning", "Live needs an instrument: wait until it has loaded.");
        return;
      }
      this.stopPlay();
      this.liveInput.checked = true;
      this.liveInput.disabled = true;
      const ok = await this.openMic();
      if (ok && !this.inst.warmedUp) {
        this.setStatus("live", "info", `Warming up the ${this.instName} for live play (the first time takes a few seconds)…`);
        try {
          await this.warmUp(this.inst);
        } catch (err) {
          this.setStatus("live", "error", `Live is not available for this instrument: ${errText(err)}`);
        }
      }
      this.liveInput.disabled = false;
      this.stream = ok && this.inst && this.inst.warmedUp ? this.newStream() : null;
      if (!this.stream) {
        this.liveInput.checked = false;
        this.setTrait("live", false);
        this.maybeCloseMic();
        return;
      }
      this.live = true;
      this.liveSkipped = 0;
      this.liveLoad = { processMs: [], maxGapMs: 0 };
      this.lastBlockAt = 0;
      if (!this.recording) this.trace.reset();
      // The tapped stream feeds the trace; otherwise keep (or start) a tracker of our own.
      if (this.stream.tapped) this.features = null;
      else if (!this.features) this.startFeatures();
      this.audio.setLive(true);
      this.audio.setCapture(true);
      this.setStatus("live", "info", `Live: sing and hear the ${this.instName}. Wear headphones, or the mic hears the instrument and it howls.`);
      this.model.set("live_underruns", 0);
      this.model.set("live_stats", {});
    } else {
      this.live = false;
      this.stream = null;
      this.audio.setLive(false);
      this.liveInput.checked = false;
      if (!this.recording) this.features = null;
      else if (!this.features) this.startFeatures(); // the trace keeps going for the take
      this.maybeCloseMic();
      this.setStatus("live", null);
      this.liveStats.textContent = "";
    }
    this.model.set("live", this.live);
    this.model.save_changes();
  }

  onLiveStats(st) {
    if (!this.live) return;
    this.model.set("live_underruns", st.underruns);
    const ms = [...this.liveLoad.processMs].sort((a, b) => a - b);
    // How hard the page works for live play; the numbers to look at when it stutters.
    this.model.set("live_stats", {
      dropped_blocks: this.liveSkipped || 0,
      trims: st.trims,
      cushion_ms: Math.round(st.cushionMs),
      buffered_ms: Math.round(st.bufferedMs),
      process_ms_median: ms.length ? Math.round(ms[ms.length >> 1] * 10) / 10 : null,
      process_ms_max: ms.length ? Math.round(ms[ms.length - 1] * 10) / 10 : null,
      max_gap_ms: Math.round(this.liveLoad.maxGapMs),
      block_ms: Math.round((1000 * 512) / RATE),
    });
    if (st.latencyMs != null) this.model.set("live_latency_ms", Math.round(st.latencyMs * 10) / 10);
    this.model.save_changes();
    this.liveStats.textContent = st.latencyMs == null ? "" : `delay ${Math.round(st.latencyMs)} ms${st.underruns ? ` · ${st.underruns} gaps` : ""}`;
  }

  async togglePlay(kind) {
    if (this.playingKind === kind) return this.stopPlay();
    this.stopPlay();
    const clip = kind === "voice" ? this.take : this.output;
    if (!clip) return;
    await this.audio.ensureContext();
    this.playingKind = kind;
    this.stopPlayback = this.audio.playClip(clip, () => {
      if (this.playingKind === kind) {
        this.playingKind = null;
        this.stopPlayback = null;
        this.renderPlayButtons();
      }
    });
    this.renderPlayButtons();
  }

  stopPlay() {
    if (this.stopPlayback) this.stopPlayback();
    this.stopPlayback = null;
    this.playingKind = null;
    this.renderPlayButtons();
  }

  async applyTanpura() {
    const on = this.model.get("tanpura");
    if (!on) {
      if (this.tanpura) this.tanpura.stop();
      return;
    }
    const ctx = await this.audio.ensureContext();
    if (!this.tanpura || this.tanpura.ctx !== ctx) this.tanpura = new Tanpura(ctx);
    this.tanpura.setVolume(this.model.get("tanpura_gain_db"));
    if (this.model.get("tanpura")) this.tanpura.start(this.model.get("sa_hz"));
  }

  dispose() {
    this.disposed = true;
    this.model.off("msg:custom", this.onCustom);
    for (const [ev, fn] of Object.entries(this.onChange)) this.model.off(ev, fn);
    this.specObserver.disconnect();
    this.trace.dispose();
    if (this.tanpura) this.tanpura.dispose();
    if (this.inst) this.inst.dispose();
    this.audio.dispose();
  }
}

export function renderSing({ model, el }) {
  const view = new SingView(model, el);
  return () => view.dispose();
}
