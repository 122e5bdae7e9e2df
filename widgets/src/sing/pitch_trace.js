// The pitch trace: what you sing, drawn against Sa and the swaras of a raga, with a loudness bar.
// Live it scrolls (newest at the right); after a take it shows the whole take.
import { centsAbove, guideLines, nearestSwara } from "./swaras.js";
import { FRAME_RATE, LOUDNESS_FLOOR_DB as FLOOR_DB, RAGAS, DEFAULT_RAGA, isVoiced, midiToHz } from "../dsp/conventions.js";

const WINDOW_S = 8;
const DEFAULT_RANGE = [-560, 1460]; // mandra Pa .. taar Ga: where most singing lives (it widens as needed)
const EDGE_CENTS = 45;
const LEFT = 52, RIGHT = 30, TOP = 10, BOTTOM = 20;

const C = {
  bg: "#131a2d",
  grid: "rgba(170,180,210,0.22)",
  sa: "#f5a742",
  pa: "rgba(120,210,200,0.55)",
  label: "#c5cbe0",
  trace: "#7fe3ff",
  dot: "#ffffff",
  good: "#6be49b",
  near: "#f5d142",
  off: "#ff7b6b",
};

export class PitchTrace {
  constructor(canvas) {
    this.canvas = canvas;
    this.saHz = midiToHz(49); // C#3 until the widget sets its Sa
    this.raga = DEFAULT_RAGA;
    this.n = WINDOW_S * FRAME_RATE;
    this.cents = new Float32Array(this.n).fill(NaN);
    this.loud = new Float32Array(this.n).fill(FLOOR_DB);
    this.f0 = new Float32Array(this.n).fill(NaN);
    this.head = 0; // frames pushed so far (live mode)
    this.clip = null; // {f0, loud, conf} when showing a whole take
    this.range = [...DEFAULT_RANGE];
    this.bgKey = "";
    this.level = FLOOR_DB;
    this.pending = false;
    this.resize = new ResizeObserver(() => this.requestDraw());
    this.resize.observe(canvas);
  }

  setSa(hz) {
    this.saHz = hz;
    this.requestDraw();
  }

  setRaga(key) {
    this.raga = RAGAS[key] ? key : "chromatic";
    this.requestDraw();
  }

  /** Start a fresh live trace. */
  reset() {
    this.cents.fill(NaN);
    this.f0.fill(NaN);
    this.loud.fill(FLOOR_DB);
    this.head = 0;
    this.clip = null;
    this.range = [...DEFAULT_RANGE];
    this.requestDraw();
  }

  /** Append frames {f0Hz, confidence, loudnessDb} from the live feature stream. */
  push(frames) {
    for (const fr of frames) {
      const i = this.head % this.n;
      const voiced = isVoiced(fr.confidence) && fr.f0Hz > 0; // unvoiced frames leave a gap
      this.f0[i] = voiced ? fr.f0Hz : NaN;
      this.loud[i] = fr.loudnessDb;
      this.head++;
    }
    if (frames.length) this.level = frames[frames.length - 1].loudnessDb;
    this.requestDraw();
  }

  /** Show a whole take (arrays from computeFeatures). */
  showClip(features) {
    this.clip = features;
    this.requestDraw();
  }

  setLevel(db) {
    this.level = db;
  }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    const tick = (t) => {
      // ~30 redraws a second is smooth for a trace and halves the page's drawing work.
      if (t - (this.lastDraw || 0) < 30) return requestAnimationFrame(tick);
      this.pending = false;
      this.lastDraw = t;
      this.draw();
    };
    requestAnimationFrame(tick);
  }

  /** The frames currently on screen as {f0 (Hz or NaN), loud}, oldest first. */
  visible() {
    if (this.clip) {
      const { f0Hz, f0Confidence, loudnessDb } = this.clip;
      const f0 = Float32Array.from(f0Hz, (v, i) => (isVoiced(f0Confidence[i]) && v > 0 ? v : NaN));
      return { f0, loud: loudnessDb, live: false };
    }
    const f0 = new Float32Array(this.n).fill(NaN), loud = new Float32Array(this.n).fill(FLOOR_DB);
    const count = Math.min(this.head, this.n);
    for (let k = 0; k < count; k++) {
      const src = (this.head - count + k) % this.n;
      f0[this.n - count + k] = this.f0[src];
      loud[this.n - count + k] = this.loud[src];
    }
    return { f0, loud, live: true };
  }

  draw() {
    const canvas = this.canvas;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(200, canvas.clientWidth || 600), h = Math.max(120, canvas.clientHeight || 240);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const pw = w - LEFT - RIGHT, ph = h - TOP - BOTTOM;
    const { f0, loud, live } = this.visible();
    const cents = Float32Array.from(f0, (v) => (Number.isFinite(v) ? centsAbove(v, this.saHz) : NaN));

    // Widen the view (in whole steps of 300 cents, so it rarely moves) to hold what is sung.
    let lo = DEFAULT_RANGE[0], hi = DEFAULT_RANGE[1];
    for (const c of cents) if (Number.isFinite(c)) { lo = Math.min(lo, c - 150); hi = Math.max(hi, c + 150); }
    this.range = [lo < DEFAULT_RANGE[0] ? Math.floor(lo / 300) * 300 : lo, hi > DEFAULT_RANGE[1] ? Math.ceil(hi / 300) * 300 : hi];
    const [rlo, rhi] = this.range;
    // A little room beyond the outer guide lines so their names are never cut by the edge.
    const y = (c) => TOP + ((rhi + EDGE_CENTS - c) / (rhi - rlo + 2 * EDGE_CENTS)) * ph;

    // Guides, names and axes change rarely: draw them once into a cached layer and copy it.
    const key = [w, h, dpr, rlo, rhi, this.saHz, this.raga, live, live ? 0 : cents.length].join();
    if (key !== this.bgKey) {
      this.bgKey = key;
      this.bg ||= document.createElement("canvas");
      this.bg.width = canvas.width;
      this.bg.height = canvas.height;
      const b = this.bg.getContext("2d");
      b.setTransform(dpr, 0, 0, dpr, 0, 0);
      this.drawBackground(b, w, h, y, rlo, rhi, live, cents.length);
    }
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(this.bg, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.drawTrace(g, w, h, y, cents, loud, live);
  }

  drawBackground(g, w, h, y, rlo, rhi, live, n) {
    const pw = w - LEFT - RIGHT;
    g.fillStyle = C.bg;
    g.fillRect(0, 0, w, h);
    // Guide lines and their names; a dot above = upper octave (taar), below = lower (mandra).
    g.font = "600 12px system-ui, sans-serif";
    g.textAlign = "right";
    g.textBaseline = "middle";
    const lines = guideLines(this.raga, rlo, rhi);
    // Name as many lines as fit without overlapping: Sa first, then Pa, then the rest.
    const named = new Set(), taken = [];
    for (const ln of [...lines].sort((a, b) => (b.isSa - a.isSa) || (b.isPa - a.isPa))) {
      const yy = y(ln.cents);
      if (taken.every((t) => Math.abs(t - yy) >= 11)) {
        named.add(ln);
        taken.push(yy);
      }
    }
    for (const ln of lines) {
      const yy = Math.round(y(ln.cents)) + 0.5;
      g.strokeStyle = ln.isSa ? C.sa : ln.isPa ? C.pa : C.grid;
      g.lineWidth = ln.isSa ? 2 : 1;
      g.setLineDash(ln.isSa || ln.isPa ? [] : [4, 4]);
      g.beginPath();
      g.moveTo(LEFT, yy);
      g.lineTo(LEFT + pw, yy);
      g.stroke();
      if (!named.has(ln)) continue;
      g.fillStyle = ln.isSa ? C.sa : C.label;
      g.font = ln.isSa ? "700 12px system-ui, sans-serif" : "600 11px system-ui, sans-serif";
      g.fillText(ln.name, LEFT - 10, yy);
      const tw = g.measureText(ln.name).width;
      for (let k = 0; k < Math.abs(ln.octave); k++) {
        // Octave dots beside the name (not above/below, where they would touch the next name).
        g.beginPath();
        g.arc(LEFT - 14 - tw - 4 * k, ln.octave > 0 ? yy - 4 : yy + 4, 1.6, 0, 2 * Math.PI);
        g.fill();
      }
    }
    g.setLineDash([]);
    // Time axis.
    g.fillStyle = C.label;
    g.font = "11px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "alphabetic";
    if (live) {
      for (let s = 0; s <= WINDOW_S; s += 2) g.fillText(s === 0 ? "now" : `-${s}s`, LEFT + pw - (s / WINDOW_S) * pw, h - 5);
    } else {
      const secs = n / FRAME_RATE, step = secs > 20 ? 5 : secs > 8 ? 2 : 1;
      for (let s = 0; s <= secs; s += step) g.fillText(`${s}s`, Math.min(LEFT + (s / secs) * pw, LEFT + pw - 8), h - 5);
    }
    // Loudness bar's track.
    g.fillStyle = "rgba(255,255,255,0.08)";
    g.fillRect(w - RIGHT + 10, TOP, 10, h - TOP - BOTTOM);
  }

  drawTrace(g, w, h, y, cents, loud, live) {
    const pw = w - LEFT - RIGHT, ph = h - TOP - BOTTOM;
    // The sung pitch, brighter where louder: segments batched into a few paths by brightness,
    // so a redraw is a handful of strokes rather than thousands (the page must keep up with live audio).
    const n = cents.length;
    const x = (i) => LEFT + (n > 1 ? (i / (n - 1)) * pw : 0);
    const ALPHAS = [0.4, 0.6, 0.8, 1.0];
    const paths = ALPHAS.map(() => new Path2D());
    let last = -1;
    for (let i = 0; i < n; i++) {
      const c = cents[i];
      if (!Number.isFinite(c)) {
        last = -1;
        continue;
      }
      if (last >= 0 && Math.abs(c - cents[last]) < 250) {
        const a = Math.max(0, Math.min(1, (loud[i] + 60) / 40));
        const p = paths[Math.min(ALPHAS.length - 1, Math.floor(a * ALPHAS.length))];
        p.moveTo(x(last), y(cents[last]));
        p.lineTo(x(i), y(c));
      }
      last = i;
    }
    g.lineWidth = 2.5;
    g.lineJoin = "round";
    g.lineCap = "round";
    ALPHAS.forEach((a, k) => {
      g.strokeStyle = `rgba(127,227,255,${a})`;
      g.stroke(paths[k]);
    });

    // The swara being sung now and how far from it, at the top right.
    let now = NaN;
    for (let i = n - 1; i >= Math.max(0, n - 25); i--) if (Number.isFinite(cents[i])) { now = cents[i]; break; }
    if (live && Number.isFinite(now)) {
      const sw = nearestSwara(this.raga, now);
      const off = Math.round(sw.offsetCents);
      g.fillStyle = C.dot;
      g.beginPath();
      g.arc(LEFT + pw, y(now), 5, 0, 2 * Math.PI);
      g.fill();
      const tone = Math.abs(off) <= 15 ? C.good : Math.abs(off) <= 35 ? C.near : C.off;
      g.textAlign = "right";
      g.textBaseline = "top";
      g.font = "700 22px system-ui, sans-serif";
      g.fillStyle = tone;
      const x0 = LEFT + pw - 70;
      g.fillText(sw.name, x0, TOP + 8);
      // Octave dots as in sargam notation: above = taar (upper), below = mandra (lower).
      const tw = g.measureText(sw.name).width;
      for (let k = 0; k < Math.abs(sw.octave); k++) {
        g.beginPath();
        g.arc(x0 - tw / 2 + (k - (Math.abs(sw.octave) - 1) / 2) * 7, sw.octave > 0 ? TOP + 4 : TOP + 36, 2.4, 0, 2 * Math.PI);
        g.fill();
      }
      g.font = "600 15px system-ui, sans-serif";
      g.fillText(`${off > 0 ? "+" : ""}${off}¢`, LEFT + pw - 10, TOP + 13);
    }

    // Loudness bar at the right edge (A-weighted dB from the features).
    const lv = live ? this.level : FLOOR_DB;
    const frac = Math.max(0, Math.min(1, (lv + 70) / 70));
    g.fillStyle = frac > 0.9 ? C.off : frac > 0.55 ? C.good : "#4aa3ff";
    g.fillRect(w - RIGHT + 10, TOP + ph * (1 - frac), 10, ph * frac);
  }

  dispose() {
    this.resize.disconnect();
  }
}
