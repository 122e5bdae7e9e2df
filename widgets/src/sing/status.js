// Messages shown to people: one per topic (mic, engine, model, live, take...). Warnings and errors
// stay as banners until their topic clears; the status line shows the latest info. The most
// important message also goes to Python as the `status` and `status_level` traits.
import { h } from "./dom.js";
import { icon } from "./icons.js";

const LEVEL_RANK = { info: 0, warning: 1, error: 2 };

/** The text to show for a failure, whatever was thrown. */
export const errText = (e) => (e && e.message ? e.message : String(e));

export class StatusBoard {
  constructor(model, bannersEl, statusTextEl) {
    this.model = model;
    this.banners = bannersEl;
    this.statusText = statusTextEl;
    this.topics = new Map();
    this.seq = 0;
  }

  /** Set (or, without text, clear) the message of one topic. */
  set(topic, level, text) {
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

  /** What to do next (the "hint" topic). */
  hint(text) {
    this.set("hint", "info", text);
  }
}

const NO_MIC_STATES = new Set(["insecure", "unsupported", "denied", "absent"]);

/** The hint when nothing is going on: what the person can do now. */
export function idleHint({ modelState, micState, instrument }) {
  if (modelState === "ready") {
    if (NO_MIC_STATES.has(micState)) {
      return `${instrument} is ready. No microphone here: call widget.transform('clip.wav') in Python to play a clip on it.`;
    }
    return `${instrument} is ready: press Record, sing a phrase, press Stop.`;
  }
  return "Press Record and sing: your take reaches Python as widget.last_take.";
}
