// The wasm backend's binaries: bytes inside the widget bundle (esbuild "binary" loader), file URLs
// beside the published page's bundle ("file" loader). Imported only when wasm is tried.
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm";

export { wasmPlain, wasmSimd };
