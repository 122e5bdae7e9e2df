// TF.js backends for the decoder: webgl, wasm and cpu, chosen automatically with a fallback.
// In the widget the wasm binaries are bundled (esbuild binary loader) and handed to TF.js as blob
// URLs, so choosing wasm never makes a network request; the page build links them as files.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-webgl";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm";

export { tf };

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
function configureWasm() {
  if (wasmConfigured) return;
  // The widget bundle carries the binaries (bytes); the published page links them as files (a URL
  // next to the bundle), so a phone on WebGL never downloads them.
  const url = (bin) =>
    typeof bin === "string" ? new URL(bin, import.meta.url).href : URL.createObjectURL(new Blob([bin], { type: "application/wasm" }));
  const simd = url(wasmSimd);
  // Threads need SharedArrayBuffer (COOP/COEP), which Jupyter does not send: never use them.
  setWasmPaths({
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
      if (name === "wasm") configureWasm();
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
