// Offline decoding through the live interpreter (widgets/src/live/frame_graph.js), for graphs TF.js
// cannot execute: TF.js 4.22's executor stops at the while loop of an exported GRU (tf.scan), while
// the interpreter runs that loop once per frame with its hidden state carried over - which is
// exactly the scan over a whole clip. CNN instruments keep TF.js (webgl/wasm/cpu) offline.
import { readGraphModel } from "../live/graph_file.js";
import { compileDecoder } from "../live/live_instrument.js";

const text = (bytes) => new TextDecoder().decode(bytes);

/** True when the exported graph holds a loop (a recurrent decoder) that TF.js cannot run. */
export function graphHasLoop(files) {
  const nodes = JSON.parse(text(files["model.json"])).modelTopology?.node || [];
  return nodes.some((n) => n.op === "LoopCond");
}

/** {runtime, decode(f0Scaled, loudnessScaled) -> [amplitude T, harmonics T*K, noise T*B], dispose}. */
export function frameDecoder(meta, files) {
  const graph = compileDecoder(meta, readGraphModel(files));
  return {
    runtime: "frame interpreter",
    decode(f0s, lds) {
      const T = f0s.length;
      graph.reset(); // every clip starts from zero state, as the scan does
      const outs = graph.outputs.map((o) => new Float64Array(T * o.length));
      for (let t = 0; t < T; t++) {
        const step = graph.step(f0s[t], lds[t]);
        for (let i = 0; i < step.length; i++) outs[i].set(step[i], t * step[i].length);
      }
      return outs;
    },
    dispose() {},
  };
}
