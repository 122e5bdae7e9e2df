// Loading instruments: starts the engine (and says which backend runs the network), turns the
// "model" message's bytes into an instrument, and owns it until the next one replaces it.
// Reports through the model chip, the "engine" and "model" status topics and the model_state trait.
import { getEngine, loadInstrument } from "./engine_client.js";
import { errText } from "./status.js";

const BACKEND_NAMES = { webgl: "WebGL", wasm: "WebAssembly" };

/** Bytes of one comm buffer (DataView, typed array or ArrayBuffer) as a Uint8Array view. */
export function bytesOf(b) {
  return ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
}

export class InstrumentLoader {
  /**
   * hooks: willReplace() before the current instrument is disposed (a live stream must let go of it),
   * loaded(inst) once a new one is ready, failed(message) when none could be loaded, gone() when
   * Python says there is no instrument at all.
   */
  constructor({ model, view, status, hooks }) {
    this.model = model;
    this.view = view;
    this.status = status;
    this.hooks = hooks;
    this.inst = null;
    this.files = null; // the loaded instrument's files: Live hands them to its worklet
    this.name = "";
    this.loadSeq = 0;
    this.fingerprint = null;
    this.disposed = false;
  }

  setState(state) {
    this.model.set("model_state", state);
    this.model.save_changes();
  }

  startEngine() {
    getEngine().then(
      ({ backend, notes }) => {
        notes = notes || [];
        this.view.renderBackend(BACKEND_NAMES[backend] || backend, { title: ["where the instrument's neural network runs", ...notes].join("\n") });
        this.model.set("backend", backend);
        this.model.set("engine_notes", notes);
        this.model.save_changes();
        // The engine may pick wasm on purpose (software WebGL is slower); warn only when WebGL failed.
        const webglNote = notes.find((n) => n.startsWith("webgl"));
        if (backend !== "webgl" && webglNote) {
          this.status.set("engine", "warning",
            `WebGL does not work in this browser (${webglNote}): the instrument runs on ${backend === "wasm" ? "WebAssembly" : "plain JavaScript"} instead. It sounds the same but may be slower; Live may stutter.`);
        }
      },
      (err) => {
        this.view.renderBackend("no engine", { bad: true });
        this.status.set("engine", "error", `The instrument engine cannot start in this browser (${errText(err)}). Recording still works; takes reach Python.`);
      },
    );
  }

  /** The "model" message: {key, name, files: [names]} with one buffer per file. */
  async load(content, buffers) {
    const seq = ++this.loadSeq;
    const label = this.view.instrumentLabel();
    this.setState("loading");
    this.view.renderModelChip("loading", `loading ${label}…`);
    this.status.set("model", "info", `Loading the ${label}…`);
    const files = {};
    content.files.forEach((name, i) => (files[name] = bytesOf(buffers[i]).slice()));
    // Another view of this widget opening makes Python send the files again: keep what is loaded.
    const fingerprint = `${content.key}\n${new TextDecoder().decode(files["metadata.json"] || new Uint8Array())}`;
    if (this.inst && fingerprint === this.fingerprint) {
      this.setState("ready");
      this.view.renderModelChip("ready", `${this.name} ready`);
      this.status.set("model", null);
      return;
    }
    let inst;
    try {
      inst = await loadInstrument(files);
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.inst = null;
      this.setState("error");
      this.view.renderModelChip("error", `${label} failed`);
      this.status.set("model", "error", `The ${label} could not be loaded: ${errText(err)}`);
      this.hooks.failed(`the instrument could not be loaded: ${errText(err)}`);
      return;
    }
    if (seq !== this.loadSeq || this.disposed) {
      inst.dispose();
      return;
    }
    this.hooks.willReplace();
    if (this.inst) this.inst.dispose();
    this.inst = inst;
    this.files = files;
    this.fingerprint = fingerprint;
    this.name = content.name ? content.name.charAt(0).toUpperCase() + content.name.slice(1) : label;
    this.setState("ready");
    this.view.renderModelChip("ready", `${this.name} ready`);
    this.status.set("model", null);
    await this.hooks.loaded(inst);
  }

  /** The "model_error" message: Python found no usable instrument. */
  fail(content) {
    this.loadSeq++; // a load still in flight must not come back to life
    this.hooks.willReplace();
    if (this.inst) this.inst.dispose();
    this.inst = null;
    this.files = null;
    this.fingerprint = null;
    this.model.set("model_state", "error"); // saved with the status below
    this.view.renderModelChip("error", "no instrument");
    this.status.set("model", "error", `Cannot load the instrument: ${content.message}`);
    this.hooks.failed(content.message);
    this.hooks.gone();
  }

  dispose() {
    this.disposed = true;
    if (this.inst) this.inst.dispose();
  }
}
