// TF.js backends for the decoder: webgl, wasm and cpu, chosen automatically with a fallback.
// Each backend is imported only when it is tried: the widget's single-file bundle inlines them all,
// while the published page's split build fetches only the chunk of the backend that runs (a phone on
// WebGL never downloads wasm, and the other way round). The wasm binaries come from wasm_binaries.js
// (bytes in the widget, turned into blob URLs so choosing wasm makes no request; files beside the
// page's bundle on the page).
import * as tf from "@tensorflow/tfjs-core";

const BACKEND_MODULES = {
  webgl: () => import("@tensorflow/tfjs-backend-webgl"),
  wasm: () => import("@tensorflow/tfjs-backend-wasm"),
  cpu: () => import("@tensorflow/tfjs-backend-cpu"),
};

export { tf };

/** Import a backend's module without switching to it (registers its flags, e.g. WEBGL_FORCE_F16_TEXTURES). */
export function loadBackendModule(name) {
  return BACKEND_MODULES[name]();
}

export const BACKEND_ORDER = ["webgl", "wasm", "cpu"];

/** True when WebGL is rendered in software (SwiftShader, llvmpipe): wasm is then the faster choice. */
export function softwareWebGL() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (!gl) return false;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    return /swiftshader|llvmpipe|software/i.test(String(renderer));
  } catch (_) {
    return false;
  }
}

/** The automatic order: a real GPU first; with software WebGL, wasm (measured 4x faster here). */
export function autoOrder() {
  return softwareWebGL() ? ["wasm", "webgl", "cpu"] : BACKEND_ORDER;
}

let wasmConfigured = false;
async function configureWasm(wasmModule) {
  if (wasmConfigured) return;
  const { wasmPlain, wasmSimd } = await import("./wasm_binaries.js");
  // The widget bundle carries the binaries (bytes); the published page links them as files (a URL
  // next to the bundle).
  const url = (bin) =>
    typeof bin === "string" ? new URL(bin, import.meta.url).href : URL.createObjectURL(new Blob([bin], { type: "application/wasm" }));
  const simd = url(wasmSimd);
  // Threads need SharedArrayBuffer (COOP/COEP), which Jupyter does not send: never use them.
  wasmModule.setWasmPaths({
    "tfjs-backend-wasm.wasm": url(wasmPlain),
    "tfjs-backend-wasm-simd.wasm": simd,
    "tfjs-backend-wasm-threaded-simd.wasm": simd,
  });
  wasmConfigured = true;
}

/**
 * Switch TF.js to `preferred` (or the first that works of BACKEND_ORDER).
 * Returns {backend, notes}: notes say why a backend was skipped, for the widget to show.
 */
export async function chooseBackend(preferred = "auto") {
  const order = preferred === "auto" ? autoOrder() : [preferred, ...BACKEND_ORDER.filter((b) => b !== preferred)];
  const notes = [];
  for (const name of order) {
    try {
      const mod = await BACKEND_MODULES[name]();
      if (name === "wasm") await configureWasm(mod);
      // setBackend resolves false (or throws) when the backend cannot initialise, e.g. no WebGL.
      const ok = await tf.setBackend(name);
      if (ok) {
        await tf.ready();
        // A tiny op proves the backend really computes (a lost WebGL context fails here).
        const probe = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync()[0]);
        if (probe === 2) return { backend: name, notes };
        notes.push(`${name}: computed ${probe} for 1+1`);
      } else {
        notes.push(`${name}: not available in this browser`);
      }
    } catch (err) {
      notes.push(`${name}: ${err && err.message ? err.message : err}`);
    }
  }
  throw new Error(`no TF.js backend works here (${notes.join("; ")})`);
}
