// Run an exported decoder graph one frame at a time, in plain JS (the live decoder: the audio
// thread cannot load TF.js). The graph is the very model.json TF.js runs offline; this interpreter
// gives it streaming semantics, frame by frame, with its own state:
//  - every tensor is evaluated for one frame (time axis = 1, batch = 1), so shapes are static and
//    all shape arithmetic (Shape, StridedSlice of shapes, Reshape targets) is folded at compile time;
//  - a causal convolution's left Pad on the time axis becomes a delay line holding the last p
//    frames of its input (zeros before the first frame, exactly the offline zero padding);
//  - a while loop over time (tf.scan: the GRU) runs one iteration per frame; its float loop
//    variables (the hidden state) carry over from frame to frame, its counters and lists restart.
// Loops that do not iterate over time are refused (the loop condition is checked at compile time).
// Anything else the interpreter does not know is refused with a clear error, never guessed.
import { PLANNERS, STATIC_ARGS, UnsupportedGraphError, delayLine, intsOf, tensor } from "./frame_ops.js";

export { UnsupportedGraphError };

function parseRef(ref) {
  const [name, index] = ref.replace(/^\^/, "").split(":");
  return { name, index: index ? Number(index) : 0 };
}

const dataInputs = (node) => node.inputs.filter((r) => !r.startsWith("^"));
const LIST_OPS = new Set(["TensorListFromTensor", "TensorListReserve", "TensorListSetItem", "TensorListGetItem", "TensorListStack", "TensorListLength"]);

function listValue(shape, data) {
  return { dtype: "list", shape, data };
}

// TensorList ops, over lists stored as one tensor with a leading element axis.
function planList(node, ins) {
  switch (node.op) {
    case "TensorListFromTensor":
      return { outs: [listValue(ins[0].shape, ins[0].data)] };
    case "TensorListReserve":
      return { outs: [{ dtype: "list", shape: null, data: null, count: Number(ins[1].data[0]) }] };
    case "TensorListLength":
      return { outs: [tensor("int32", [], Int32Array.of(ins[0].shape ? ins[0].shape[0] : ins[0].count))] };
    case "TensorListGetItem": {
      const [list, index] = ins;
      const elem = list.shape.slice(1);
      const n = elem.reduce((a, b) => a * b, 1);
      const at = Number(index.data[0]) * n;
      return { outs: [{ dtype: "float32", shape: elem, data: list.data.subarray(at, at + n) }] };
    }
    case "TensorListSetItem": {
      const [list, index, item] = ins;
      const count = list.shape ? list.shape[0] : list.count;
      const n = item.data.length;
      const out = listValue([count, ...item.shape], new Float32Array(count * n));
      const at = Number(index.data[0]) * n;
      const src = list.data;
      return {
        outs: [out],
        run: () => {
          if (src) out.data.set(src);
          out.data.set(item.data, at);
        },
      };
    }
    case "TensorListStack": {
      const list = ins[0];
      if (!list.data) throw new UnsupportedGraphError("TensorListStack of a list that was never written");
      return { outs: [{ dtype: "float32", shape: list.shape, data: list.data }] };
    }
  }
  throw new UnsupportedGraphError(`op ${node.op}`);
}

/**
 * Compile a graph ({nodes, weights} from readGraphModel) for frame-by-frame evaluation.
 * inputs/outputs: tensor names ("f0_scaled:0", "Identity_1:0"). Returns a FrameGraph.
 */
export function compileFrameGraph(graph, { inputs, outputs }) {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const values = new Map(); // node name -> outputs [value]
  const dynamic = new Set(); // nodes whose value changes from frame to frame
  const runs = []; // per-frame work, in dependency order
  const resets = [];
  const recurrent = []; // {state, nextRef}: loop variables carried from frame to frame
  const visiting = new Set();
  const placeholders = new Map();

  const node = (name) => {
    const n = nodes.get(name);
    if (!n) throw new UnsupportedGraphError(`the graph refers to a node ${name} it does not define`);
    return n;
  };
  const valueOf = (ref) => {
    const { name, index } = parseRef(ref);
    const v = visit(name)[index];
    if (!v) throw new UnsupportedGraphError(`${name} has no output ${index}`);
    return v;
  };
  const isDynamic = (ref) => dynamic.has(parseRef(ref).name);

  // The value a loop variable takes after one iteration: Exit <- Switch <- Merge <- NextIteration.
  function nextOfMerge(merge) {
    const ref = dataInputs(merge).find((r) => node(parseRef(r).name).op === "NextIteration");
    if (!ref) throw new UnsupportedGraphError(`Merge ${merge.name} is not a loop variable`);
    return dataInputs(node(parseRef(ref).name))[0];
  }

  function planMerge(n) {
    const initRef = dataInputs(n).find((r) => node(parseRef(r).name).op !== "NextIteration");
    const init = valueOf(initRef);
    if (init.dtype !== "float32") {
      // Counters, bounds and lists start afresh every frame: one iteration per frame.
      if (isDynamic(initRef)) dynamic.add(n.name);
      return { outs: [init] };
    }
    const state = tensor("float32", init.shape);
    let fresh = true;
    recurrent.push({ state, nextRef: nextOfMerge(n) });
    resets.push(() => {
      fresh = true;
    });
    dynamic.add(n.name);
    return {
      outs: [state],
      run: () => {
        if (fresh) {
          state.data.set(init.data); // the loop's initial value (zeros for the GRU) on the first frame
          fresh = false;
        }
      },
    };
  }

  function plan(n) {
    const ins = dataInputs(n);
    switch (n.op) {
      case "Placeholder": {
        const dims = n.attr.shape?.shape?.dim || [];
        const t = tensor("float32", dims.map((d) => (Number(d.size) < 0 ? 1 : Number(d.size))));
        placeholders.set(n.name, t);
        dynamic.add(n.name);
        return { outs: [t] };
      }
      case "Const": {
        const w = graph.weights.get(n.name);
        if (!w) throw new UnsupportedGraphError(`constant ${n.name} has no weight in the shards`);
        return { outs: [tensor(w.dtype, w.shape, w.data)] };
      }
      case "NoOp":
        return { outs: [] };
      case "Enter":
      case "NextIteration":
      case "LoopCond": {
        const v = valueOf(ins[0]);
        if (isDynamic(ins[0])) dynamic.add(n.name);
        return { outs: [v] };
      }
      case "Switch": {
        const v = valueOf(ins[0]);
        if (isDynamic(ins[0])) dynamic.add(n.name);
        return { outs: [v, v] }; // :0 leaves the loop, :1 enters the body: one iteration sees both
      }
      case "Merge":
        return planMerge(n);
      case "Exit": {
        const sw = node(parseRef(ins[0]).name);
        const merge = node(parseRef(dataInputs(sw)[0]).name);
        const ref = nextOfMerge(merge);
        const v = valueOf(ref);
        if (isDynamic(ref)) dynamic.add(n.name);
        return { outs: [v] };
      }
      default:
        break;
    }
    const vals = ins.map(valueOf);
    const dyn = ins.some(isDynamic);
    if (n.op === "Pad" && dyn) {
      dynamic.add(n.name);
      return delayLine(n, vals);
    }
    const staticArgs = STATIC_ARGS[n.op] || [];
    for (const i of staticArgs) {
      const ref = ins[i < 0 ? ins.length + i : i];
      if (isDynamic(ref)) throw new UnsupportedGraphError(`${n.op} ${n.name}: its shape argument depends on the audio`);
    }
    const planner = LIST_OPS.has(n.op) ? planList : PLANNERS[n.op];
    if (!planner) throw new UnsupportedGraphError(`op ${n.op} (node ${n.name}) is not supported by the live decoder`);
    const result = planner(n, vals);
    if (result.markDynamicInputs) result.markDynamicInputs(ins.map(isDynamic));
    if (dyn && !result.shapeOnly) dynamic.add(n.name);
    return result;
  }

  function visit(name) {
    if (values.has(name)) return values.get(name);
    if (visiting.has(name)) throw new UnsupportedGraphError(`the graph has a cycle through ${name} outside a while loop`);
    visiting.add(name);
    const n = node(name);
    const result = plan(n);
    visiting.delete(name);
    if (result.run) {
      result.run(); // static values are computed here, once
      if (dynamic.has(name)) runs.push(result.run);
    }
    if (result.reset) resets.push(result.reset);
    values.set(name, result.outs);
    return result.outs;
  }

  const strip = (ref) => ref.replace(/:0$/, "");
  const inputTensors = inputs.map((ref) => {
    const n = node(parseRef(ref).name);
    if (n.op !== "Placeholder") throw new UnsupportedGraphError(`input ${ref} is not a placeholder`);
    visit(n.name);
    return placeholders.get(n.name);
  });
  const outputTensors = outputs.map((ref) => valueOf(strip(ref)));
  for (const r of recurrent) r.next = valueOf(r.nextRef);
  checkLoopsRunOncePerFrame(graph, nodes, visit, valueOf, isDynamic, nextOfMerge);
  return new FrameGraph(inputTensors, outputTensors, runs, resets, recurrent);
}

// Every loop the graph runs must iterate over the frames of the input: true on the first
// iteration of a one-frame input, false on the second. Anything else would not stream.
function checkLoopsRunOncePerFrame(graph, nodes, visit, valueOf, isDynamic, nextOfMerge) {
  for (const n of graph.nodes) {
    if (n.op !== "LoopCond") continue;
    visit(n.name);
    const condRef = dataInputs(n)[0];
    if (isDynamic(condRef)) throw new UnsupportedGraphError(`loop ${n.name} depends on the audio, not only on its length`);
    if (!valueOf(condRef).data[0]) throw new UnsupportedGraphError(`loop ${n.name} does not run for a one-frame input`);
    // Second iteration: every Merge takes its NextIteration value.
    const memo = new Map();
    const again = (ref) => {
      const { name, index } = parseRef(ref);
      if (memo.has(name)) return memo.get(name)[index];
      const m = nodes.get(name);
      let outs;
      if (m.op === "Merge") outs = [valueOf(nextOfMerge(m))];
      else if (m.op === "Switch" || m.op === "Identity" || m.op === "Enter") {
        const v = again(dataInputs(m)[0]);
        outs = [v, v];
      } else if (m.op === "Const") outs = visit(name);
      else {
        const planner = PLANNERS[m.op];
        if (!planner) throw new UnsupportedGraphError(`loop condition uses ${m.op}`);
        const r = planner(m, dataInputs(m).map(again));
        if (r.run) r.run();
        outs = r.outs;
      }
      memo.set(name, outs);
      return outs[index];
    };
    if (again(condRef).data[0]) throw new UnsupportedGraphError(`loop ${n.name} runs more than once per frame`);
  }
}

/** A compiled graph: write the inputs' one-frame values, step(), read the outputs. */
export class FrameGraph {
  constructor(inputs, outputs, runs, resets, recurrent) {
    this.inputs = inputs.map((t) => t.data); // Float32Array(1) each for the decoder's [1, 1, 1] inputs
    this.outputs = outputs.map((t) => t.data); // stable buffers, overwritten by every step
    this.outputShapes = outputs.map((t) => t.shape);
    this.runs = runs;
    this.resets = resets;
    this.recurrent = recurrent;
    this.reset();
  }

  /** Forget the past: the next frame is the first of a new stream. */
  reset() {
    for (const r of this.resets) r();
  }

  /** One frame of a two-input decoder (f0_scaled, loudness_scaled); returns this.outputs. */
  step(a, b) {
    this.inputs[0][0] = a;
    if (this.inputs.length > 1) this.inputs[1][0] = b;
    const runs = this.runs;
    for (let i = 0; i < runs.length; i++) runs[i]();
    const rec = this.recurrent;
    for (let i = 0; i < rec.length; i++) rec[i].state.data.set(rec[i].next.data);
    return this.outputs;
  }
}

export { intsOf };
