// The one place the widget meets the engine (widgets/src/engine). One engine per page: TF.js
// holds a single global backend, so every sing widget on the page shares it.
import { createEngine } from "../engine/index.js";

let enginePromise = null;

/** {backend, notes, loadInstrument(files)}; notes say why a faster backend was skipped. */
export function getEngine() {
  if (!enginePromise) {
    enginePromise = createEngine({ backend: "auto" }).catch((err) => {
      enginePromise = null; // let a later attempt (another widget, a re-run) try again
      throw err;
    });
  }
  return enginePromise;
}

/** Load an instrument from {filename: Uint8Array}: {meta, name, render, dispose}. */
export async function loadInstrument(files) {
  const engine = await getEngine();
  return engine.loadInstrument(files);
}
