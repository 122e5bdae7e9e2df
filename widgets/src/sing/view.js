// The sing widget's DOM: builds the controls, shows the traits' values and what the controller
// reports (recording, takes, playback, meter), and turns clicks into `actions`. It decides nothing.
import { STYLES } from "./styles.js";
import { PitchTrace } from "./pitch_trace.js";
import { spectrogram, drawSpectrogram } from "./spectrogram.js";
import { saChoices, ragaChoices, noteName } from "./swaras.js";
import { RAGAS, hzToMidi, midiToHz } from "../dsp/conventions.js";
import { icon } from "./icons.js";
import { h, fmtTime } from "./dom.js";

const PEAK_HOLD_MS = 1500;
const PEAK_TRAVEL_PX = 178; // .sk-meter is 180 px wide (styles.js), the peak marker 2 px

export class SingView {
  /**
   * @param actions {setTrait(name, value), record(), live(on), play(kind), gesture()}
   */
  constructor(model, el, actions) {
    this.model = model;
    this.el = el;
    this.actions = actions;
    this.specState = { take: null, output: null, busy: false };
    this.specCache = new WeakMap(); // clip -> its spectrogram (a clip never changes once made)
    this.playState = { voice: false, instrument: false, playing: null, label: "" };
    this.build();
  }

  build() {
    const act = this.actions;
    this.root = h("div", { class: "sk-sing", onpointerdown: () => act.gesture() });
    this.root.append(h("style", { text: STYLES }));

    this.pills = h("div", { class: "sk-instruments" });
    this.modelChip = h("span", { class: "sk-chip sk-busy", text: "waiting for Python…" });
    this.backendChip = h("span", { class: "sk-chip", text: "engine…", title: "where the instrument's neural network runs" });
    this.root.append(
      h("div", { class: "sk-row sk-head" },
        h("div", { class: "sk-title" }, icon("note", "sk-logo"), "Sing as a", this.pills),
        h("div", { class: "sk-row" }, this.modelChip, this.backendChip)),
    );

    this.recordBtn = h("button", { class: "sk-btn sk-record", onclick: () => act.record() });
    this.timer = h("span", { class: "sk-timer", text: "0:00.0" });
    this.meterFill = h("div", { class: "sk-meter-fill" });
    // The gradient stays put; a cover over its unlit part shrinks (one compositor-only transform).
    this.meterCover = h("div", { class: "sk-meter-cover" });
    this.meterPeak = h("div", { class: "sk-meter-peak" });
    this.meterLabel = h("span", { class: "sk-meter-label", text: "mic level" });
    this.liveInput = h("input", { type: "checkbox", onchange: () => act.live(this.liveInput.checked) });
    this.liveStats = h("span", { class: "sk-live-stats" });
    this.playVoice = h("button", { class: "sk-btn", disabled: true, onclick: () => act.play("voice") });
    this.playInst = h("button", { class: "sk-btn", disabled: true, onclick: () => act.play("instrument") });
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
    this.saSelect = h("select", { onchange: () => act.setTrait("sa_hz", midiToHz(Number(this.saSelect.value))) });
    for (const c of saChoices()) this.saSelect.append(h("option", { value: c.midi, text: c.label }));
    this.ragaSelect = h("select", { onchange: () => act.setTrait("raga", this.ragaSelect.value) });
    for (const r of ragaChoices()) this.ragaSelect.append(h("option", { value: r.key, text: r.label }));
    this.tanpuraInput = h("input", { type: "checkbox", onchange: () => act.setTrait("tanpura", this.tanpuraInput.checked) });
    this.tanpuraVol = h("input", { type: "range", min: -36, max: 0, step: 1, title: "tanpura volume", oninput: () => act.setTrait("tanpura_gain_db", Number(this.tanpuraVol.value)) });

    // Sound: auto-fit, octave, gain.
    this.autoFit = h("input", { type: "checkbox", onchange: () => act.setTrait("auto_fit", this.autoFit.checked) });
    this.octaveSeg = h("div", { class: "sk-seg" });
    for (const o of [-2, -1, 0, 1, 2]) {
      this.octaveSeg.append(h("button", { "data-octave": o, text: o > 0 ? `+${o}` : `${o}`, onclick: () => act.setTrait("octave_shift", o) }));
    }
    this.gain = h("input", { type: "range", min: -24, max: 12, step: 1, oninput: () => act.setTrait("gain_db", Number(this.gain.value)) });
    this.gainValue = h("span", { class: "sk-value" });
    this.room = h("input", { type: "checkbox", onchange: () => act.setTrait("room", this.room.checked) });
    this.root.append(
      h("div", { class: "sk-panels" },
        h("div", { class: "sk-panel" }, h("h4", { text: "Guide" }),
          h("label", { class: "sk-field" }, h("span", { text: "Sa" }), this.saSelect),
          h("label", { class: "sk-field" }, h("span", { text: "Raga" }), this.ragaSelect),
          h("span", { class: "sk-field" }, h("label", { class: "sk-switch" }, this.tanpuraInput, "Tanpura"), this.tanpuraVol)),
        h("div", { class: "sk-panel" }, h("h4", { text: "Instrument sound" }),
          h("label", { class: "sk-field sk-switch", title: "Move your pitch by octaves into the instrument's range and match its loudness" }, this.autoFit, "Auto-fit"),
          h("span", { class: "sk-field" }, h("span", { text: "Octave" }), this.octaveSeg),
          h("span", { class: "sk-field" }, h("span", { text: "Gain" }), this.gain, this.gainValue),
          h("label", { class: "sk-field sk-switch", title: "Play in a small room (off: dry, as the instrument was recorded)" }, this.room, "Room"))),
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
  }

  // ---------------------------------------------------------------- traits

  instrumentLabel() {
    const key = this.model.get("instrument");
    const c = (this.model.get("instrument_choices") || []).find((x) => x.key === key);
    return c ? c.label : key;
  }

  renderPills() {
    const current = this.model.get("instrument");
    this.pills.replaceChildren(
      ...(this.model.get("instrument_choices") || []).map((c) =>
        h("button", {
          class: `sk-pill${c.key === current ? " sk-on" : ""}${c.available ? "" : " sk-missing"}`,
          title: c.available ? c.key : `${c.key}: not found (export it or check the path)`,
          text: c.label,
          onclick: () => this.actions.setTrait("instrument", c.key),
        })),
    );
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
    this.room.checked = m.get("room");
    const g = m.get("gain_db");
    this.gainValue.textContent = `${g > 0 ? "+" : ""}${g.toFixed(0)} dB`;
    this.trace.setSa(sa);
    this.trace.setRaga(m.get("raga"));
    this.legend.textContent = `Sa = ${exact ? noteName(midi) : `${sa.toFixed(1)} Hz`} · ${RAGAS[m.get("raga")]?.label || m.get("raga")} · dot above a name: upper octave, below: lower`;
    this.specInstTitle.textContent = this.instrumentLabel();
  }

  // ---------------------------------------------------------------- what the controller reports

  renderRecord(recording) {
    this.recordBtn.replaceChildren(h("span", { class: "sk-dot" }), recording ? "Stop" : "Record");
    this.recordBtn.classList.toggle("sk-recording", recording);
    this.timer.classList.toggle("sk-active", recording);
  }

  /** {voice, instrument}: which clips exist; playing: "voice" | "instrument" | null; label: the instrument's button. */
  renderPlayButtons(state = this.playState) {
    this.playState = state;
    const { playing } = state;
    this.playVoice.disabled = !state.voice;
    this.playInst.disabled = !state.instrument;
    const label = (on, text) => [icon(on ? "stop" : "play"), on ? "Stop" : text];
    this.playVoice.replaceChildren(...label(playing === "voice", "Your voice"));
    this.playInst.replaceChildren(...label(playing === "instrument", state.label));
    this.playVoice.classList.toggle("sk-playing", playing === "voice");
    this.playInst.classList.toggle("sk-playing", playing === "instrument");
  }

  renderModelChip(state, text) {
    this.modelChip.className = `sk-chip ${state === "ready" ? "sk-ready" : state === "loading" ? "sk-busy" : state === "error" ? "sk-bad" : ""}`;
    this.modelChip.textContent = text;
  }

  renderBackend(text, { title, bad = false } = {}) {
    this.backendChip.textContent = text;
    if (title !== undefined) this.backendChip.title = title;
    if (bad) this.backendChip.className = "sk-chip sk-bad";
  }

  /** No microphone on this page: recording and Live cannot start. */
  disableMicrophone() {
    this.recordBtn.disabled = true;
    this.liveInput.disabled = true;
  }

  /** {take, output, busy}: the clips to draw (busy: the instrument is still playing the take). */
  drawSpecs(state = this.specState) {
    this.specState = state;
    const spec = (clip) => {
      let s = this.specCache.get(clip);
      if (!s) this.specCache.set(clip, (s = spectrogram(clip)));
      return s;
    };
    const { take, output, busy } = state;
    drawSpectrogram(this.specVoice, take ? spec(take) : null, { emptyText: "Record a take to see it here" });
    drawSpectrogram(this.specInst, output ? spec(output) : null, {
      emptyText: busy ? "Playing it on the instrument…" : "…and how the instrument plays it",
    });
  }

  setTimer(seconds) {
    this.timer.textContent = fmtTime(seconds);
  }

  setLevel(rmsDb, peakDb = rmsDb) {
    const now = performance.now();
    if (!this.peakHold || peakDb > this.peakHold.db || now - this.peakHold.t > PEAK_HOLD_MS) this.peakHold = { db: peakDb, t: now };
    this.level = { rmsDb, peakDb };
    this.scheduleUi();
  }

  /** The take's length so far, shown with the next meter update (null: not recording, the timer stays). */
  setRecordedSeconds(seconds) {
    this.recordedSeconds = seconds;
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
      this.meterPeak.style.transform = `translateX(${(frac(this.peakHold.db) * PEAK_TRAVEL_PX).toFixed(1)}px)`;
      const label = peakDb > -1 ? "too loud!" : rmsDb < -55 ? "mic level" : `${Math.round(rmsDb)} dB`;
      if (this.meterLabel.textContent !== label) this.meterLabel.textContent = label;
      if (this.recordedSeconds != null) this.setTimer(this.recordedSeconds);
    });
  }

  dispose() {
    this.specObserver.disconnect();
    this.trace.dispose();
  }
}
