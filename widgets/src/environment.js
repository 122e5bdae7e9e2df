// What this browser offers the kit: secure context (needed for the microphone),
// WebGL 2, WebAssembly (+SIMD), Web Audio. Pure probing, no side effects.

export function probeEnvironment() {
  const info = {
    userAgent: navigator.userAgent,
    secureContext: globalThis.isSecureContext === true,
    microphoneApi: !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia),
    webAudio: typeof AudioContext !== "undefined",
    audioWorklet: typeof AudioWorkletNode !== "undefined",
    webgl2: false,
    webglFloatTextures: false,
    wasm: typeof WebAssembly === "object",
    wasmSimd: false,
  };
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2");
    if (gl) {
      info.webgl2 = true;
      info.webglFloatTextures = !!gl.getExtension("EXT_color_buffer_float");
      const lose = gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
    }
  } catch (_) {
    info.webgl2 = false;
  }
  if (info.wasm) {
    // Smallest module using a v128 op; validate() is synchronous and offline.
    const simdProbe = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253,
      98, 11,
    ]);
    try {
      info.wasmSimd = WebAssembly.validate(simdProbe);
    } catch (_) {
      info.wasmSimd = false;
    }
  }
  return info;
}

export function describeEnvironment(info) {
  const lines = [];
  lines.push(info.secureContext ? "secure context: yes" : "secure context: NO - the microphone needs https or localhost");
  lines.push(info.microphoneApi ? "microphone API: yes" : "microphone API: no - use widget.transform() from Python");
  lines.push(info.webgl2 ? "WebGL 2: yes" : "WebGL 2: no - the kit falls back to WebAssembly");
  lines.push(info.wasm ? `WebAssembly: yes${info.wasmSimd ? " (SIMD)" : ""}` : "WebAssembly: no - the kit uses plain JS");
  lines.push(info.webAudio ? "Web Audio: yes" : "Web Audio: no - playback unavailable");
  return lines;
}
