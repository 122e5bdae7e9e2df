// The ops of an exported decoder graph, for the frame interpreter (frame_graph.js). Each planner
// sees its inputs' values ({dtype, shape, data}) once, at compile time, allocates its output and
// returns a `run` closure that recomputes the output in place from the inputs' (stable) buffers.
// Index maps (broadcasts, slices, reductions) are built at compile time, so a frame allocates
// nothing: the audio thread must not wait for a garbage collector.
import { attrBool, attrFloat, attrInt, attrInts } from "./graph_file.js";
import { UnsupportedGraphError, size, tensor } from "./frame_tensor.js";
import { LOOPS, UNARY, conv2d, matmul } from "./frame_kernels.js";

export { UnsupportedGraphError, size, tensor };
const DT = { DT_FLOAT: "float32", DT_INT32: "int32", DT_BOOL: "bool" };

function strides(shape) {
  const out = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1] * shape[i + 1];
  return out;
}

/** numpy broadcasting of shapes; throws on a mismatch. */
export function broadcastShape(a, b) {
  const n = Math.max(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new UnsupportedGraphError(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** For each element of outShape, the offset of the input element it reads (broadcast). */
function broadcastIndex(outShape, inShape) {
  const n = size(outShape);
  const idx = new Int32Array(n);
  const inStr = strides(inShape);
  const off = outShape.length - inShape.length;
  const outStr = strides(outShape);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let at = 0;
    for (let d = 0; d < outShape.length; d++) {
      const c = Math.floor(rem / outStr[d]);
      rem -= c * outStr[d];
      const id = d - off;
      if (id >= 0 && inShape[id] !== 1) at += c * inStr[id];
    }
    idx[i] = at;
  }
  return idx;
}

function binary(loop, outDtype = null) {
  return (node, [a, b]) => {
    const shape = broadcastShape(a.shape, b.shape);
    const out = tensor(outDtype || a.dtype, shape);
    const ia = broadcastIndex(shape, a.shape);
    const ib = broadcastIndex(shape, b.shape);
    return { outs: [out], run: () => loop(out.data, a.data, b.data, ia, ib) };
  };
}

function unary(loop) {
  return (node, [a]) => {
    const out = tensor(a.dtype, a.shape);
    const alpha = attrFloat(node, "alpha", 0.2);
    return { outs: [out], run: () => loop(out.data, a.data, alpha) };
  };
}

// An output that shares its input's buffer under another shape (no copy, no run).
function alias(a, shape) {
  return { outs: [{ dtype: a.dtype, shape, data: a.data }] };
}

function intsOf(v) {
  return Array.from(v.data, Number);
}

function normAxis(axis, rank) {
  return axis < 0 ? axis + rank : axis;
}

// Gather: out[i] = in[idx[i]].
function gather(a, shape, idx) {
  const out = tensor(a.dtype, shape);
  const o = out.data;
  const x = a.data;
  return { outs: [out], run: () => { for (let i = 0; i < o.length; i++) o[i] = x[idx[i]]; } };
}

function reshapeTo(a, spec) {
  const total = size(a.shape);
  const known = spec.filter((d) => d !== -1);
  const shape = spec.map((d) => (d === -1 ? total / size(known) : d));
  if (size(shape) !== total) throw new UnsupportedGraphError(`cannot reshape [${a.shape}] to [${spec}]`);
  return shape;
}

/** TF StridedSlice semantics (masks included) -> {shape, idx}. */
export function stridedSliceIndex(shape, begin, end, step, node) {
  const bm = attrInt(node, "begin_mask");
  const em = attrInt(node, "end_mask");
  const elm = attrInt(node, "ellipsis_mask");
  const nam = attrInt(node, "new_axis_mask");
  const sam = attrInt(node, "shrink_axis_mask");
  const ranges = []; // per input dim: {start, step, count, keep}
  const outShape = [];
  let dim = 0;
  const specs = begin.length;
  let explicit = 0;
  for (let i = 0; i < specs; i++) if (!((elm >> i) & 1) && !((nam >> i) & 1)) explicit++;
  const full = (n) => ({ start: 0, step: 1, count: n, keep: true });
  for (let i = 0; i < specs; i++) {
    if ((elm >> i) & 1) {
      // The ellipsis spans every input dim that no other entry names.
      for (let k = 0; k < shape.length - explicit; k++) {
        ranges.push(full(shape[dim]));
        outShape.push(shape[dim]);
        dim++;
      }
      continue;
    }
    if ((nam >> i) & 1) {
      outShape.push(1);
      continue;
    }
    const n = shape[dim];
    const s = step[i];
    if (s === 0) throw new UnsupportedGraphError("strided slice with step 0");
    if ((sam >> i) & 1) {
      const b = begin[i] < 0 ? begin[i] + n : begin[i];
      ranges.push({ start: b, step: 1, count: 1, keep: false });
      dim++;
      continue;
    }
    const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
    const norm = (v) => (v < 0 ? v + n : v);
    const b = (bm >> i) & 1 ? (s > 0 ? 0 : n - 1) : s > 0 ? clamp(norm(begin[i]), 0, n) : clamp(norm(begin[i]), -1, n - 1);
    const e = (em >> i) & 1 ? (s > 0 ? n : -1) : s > 0 ? clamp(norm(end[i]), 0, n) : clamp(norm(end[i]), -1, n - 1);
    const count = Math.max(0, Math.ceil((e - b) / s));
    ranges.push({ start: b, step: s, count, keep: true });
    outShape.push(count);
    dim++;
  }
  while (dim < shape.length) {
    ranges.push(full(shape[dim]));
    outShape.push(shape[dim]);
    dim++;
  }
  const inStr = strides(shape);
  const counts = ranges.map((r) => r.count);
  const n = size(counts);
  const idx = new Int32Array(n);
  const cStr = strides(counts);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let at = 0;
    for (let d = 0; d < ranges.length; d++) {
      const c = Math.floor(rem / cStr[d]);
      rem -= c * cStr[d];
      at += (ranges[d].start + c * ranges[d].step) * inStr[d];
    }
    idx[i] = at;
  }
  return { shape: outShape, idx };
}

function concat(node, ins) {
  const n = attrInt(node, "N", ins.length - 1);
  const parts = ins.slice(0, n);
  const rank = parts[0].shape.length;
  const axis = normAxis(Number(ins[n].data[0]), rank);
  const shape = parts[0].shape.slice();
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
  const out = tensor(parts[0].dtype, shape);
  const outer = size(shape.slice(0, axis));
  const inner = size(shape.slice(axis + 1));
  const o = out.data;
  return {
    outs: [out],
    run: () => {
      let at = 0;
      for (let r = 0; r < outer; r++) {
        for (const p of parts) {
          const len = p.shape[axis] * inner;
          const src = p.data;
          const base = r * len;
          for (let j = 0; j < len; j++) o[at++] = src[base + j];
        }
      }
    },
  };
}

/** Split along an axis into pieces of the given sizes (one may be -1: the rest); one gather per piece. */
function splitInto(a, axis, sizes) {
  const rank = a.shape.length;
  const ax = normAxis(axis, rank);
  const known = sizes.filter((n) => n !== -1).reduce((s, n) => s + n, 0);
  const counts = sizes.map((n) => (n === -1 ? a.shape[ax] - known : n));
  if (counts.reduce((s, n) => s + n, 0) !== a.shape[ax] || counts.some((n) => n < 0)) {
    throw new UnsupportedGraphError(`cannot split [${a.shape}] into [${sizes}] on axis ${ax}`);
  }
  const outer = size(a.shape.slice(0, ax));
  const inner = size(a.shape.slice(ax + 1));
  const outs = [];
  const runs = [];
  let start = 0;
  for (const count of counts) {
    const shape = a.shape.slice();
    shape[ax] = count;
    const idx = new Int32Array(size(shape));
    let i = 0;
    for (let r = 0; r < outer; r++) {
      const base = (r * a.shape[ax] + start) * inner;
      for (let j = 0; j < count * inner; j++) idx[i++] = base + j;
    }
    const piece = gather(a, shape, idx);
    outs.push(piece.outs[0]);
    runs.push(piece.run);
    start += count;
  }
  return { outs, run: () => { for (const run of runs) run(); } };
}

function mean(node, [a, axesV]) {
  const rank = a.shape.length;
  const axes = intsOf(axesV).map((x) => normAxis(x, rank));
  const keep = attrBool(node, "keep_dims");
  const outFull = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const shape = keep ? outFull : a.shape.filter((_, i) => !axes.includes(i));
  const out = tensor(a.dtype, shape);
  const groups = out.data.length;
  const count = size(a.shape) / Math.max(1, groups);
  // Input offsets grouped by the output element they reduce into: members[g * count + j].
  const target = broadcastIndex(a.shape, outFull);
  const members = new Int32Array(target.length);
  const fill = new Int32Array(groups);
  for (let i = 0; i < target.length; i++) members[target[i] * count + fill[target[i]]++] = i;
  return {
    outs: [out],
    run: () => {
      const o = out.data;
      const x = a.data;
      for (let g = 0; g < groups; g++) {
        let s = 0;
        for (let j = g * count, end = j + count; j < end; j++) s += x[members[j]];
        o[g] = s / count;
      }
    },
  };
}

function transpose(node, [a, permV]) {
  const perm = intsOf(permV);
  const shape = perm.map((p) => a.shape[p]);
  const inStr = strides(a.shape);
  const outStr = strides(shape);
  const idx = new Int32Array(size(shape));
  for (let i = 0; i < idx.length; i++) {
    let rem = i;
    let at = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(rem / outStr[d]);
      rem -= c * outStr[d];
      at += c * inStr[perm[d]];
    }
    idx[i] = at;
  }
  return gather(a, shape, idx);
}

function pack(node, ins) {
  const axis = normAxis(attrInt(node, "axis"), ins[0].shape.length + 1);
  const shape = ins[0].shape.slice();
  shape.splice(axis, 0, ins.length);
  const out = tensor(ins[0].dtype, shape);
  const outer = size(ins[0].shape.slice(0, axis));
  const inner = size(ins[0].shape.slice(axis));
  const o = out.data;
  return {
    outs: [out],
    run: () => {
      for (let r = 0; r < outer; r++) {
        for (let p = 0; p < ins.length; p++) {
          for (let j = 0; j < inner; j++) o[(r * ins.length + p) * inner + j] = ins[p].data[r * inner + j];
        }
      }
    },
  };
}

function staticPad(node, [a, padV]) {
  const pads = intsOf(padV);
  const shape = a.shape.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
  const out = tensor(a.dtype, shape);
  const outStr = strides(shape);
  const inStr = strides(a.shape);
  const dst = new Int32Array(size(a.shape));
  for (let i = 0; i < dst.length; i++) {
    let rem = i;
    let at = 0;
    for (let d = 0; d < a.shape.length; d++) {
      const c = Math.floor(rem / inStr[d]);
      rem -= c * inStr[d];
      at += (c + pads[2 * d]) * outStr[d];
    }
    dst[i] = at;
  }
  const o = out.data;
  return { outs: [out], run: () => { o.fill(0); for (let i = 0; i < dst.length; i++) o[dst[i]] = a.data[i]; } };
}


export const PLANNERS = {
  Identity: (node, [a]) => alias(a, a.shape),
  Snapshot: (node, [a]) => alias(a, a.shape),
  StopGradient: (node, [a]) => alias(a, a.shape),
  Reshape: (node, [a, s]) => alias(a, reshapeTo(a, intsOf(s))),
  ExpandDims: (node, [a, axV]) => {
    const shape = a.shape.slice();
    shape.splice(normAxis(Number(axV.data[0]), a.shape.length + 1), 0, 1);
    return alias(a, shape);
  },
  Squeeze: (node, [a]) => {
    const dims = attrInts(node, "squeeze_dims").map((d) => normAxis(d, a.shape.length));
    return alias(a, a.shape.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1)));
  },
  Shape: (node, [a]) => ({ outs: [tensor("int32", [a.shape.length], Int32Array.from(a.shape))], shapeOnly: true }),
  StridedSlice: (node, [a, b, e, s]) => {
    const { shape, idx } = stridedSliceIndex(a.shape, intsOf(b), intsOf(e), intsOf(s), node);
    return gather(a, shape, idx);
  },
  ConcatV2: concat,
  // The decoder's heads are one split of the output layer (tf.split exports SplitV).
  SplitV: (node, [a, sizes, axis]) => splitInto(a, Number(axis.data[0]), intsOf(sizes)),
  Split: (node, [axis, a]) => {
    const n = attrInt(node, "num_split");
    const ax = normAxis(Number(axis.data[0]), a.shape.length);
    return splitInto(a, ax, new Array(n).fill(a.shape[ax] / n));
  },
  Pack: pack,
  Transpose: transpose,
  Fill: (node, [dims, v]) => {
    const out = tensor(v.dtype, intsOf(dims));
    return { outs: [out], run: () => out.data.fill(v.data[0]) };
  },
  Cast: (node, [a]) => {
    const out = tensor(DT[node.attr.DstT?.type] || "float32", a.shape);
    return { outs: [out], run: () => { for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i]; } };
  },
  MatMul: matmul,
  Conv2D: conv2d,
  Mean: mean,
  AddV2: binary(LOOPS.add),
  Add: binary(LOOPS.add),
  BiasAdd: binary(LOOPS.add),
  Sub: binary(LOOPS.sub),
  Mul: binary(LOOPS.mul),
  RealDiv: binary(LOOPS.div),
  Maximum: binary(LOOPS.max),
  Minimum: binary(LOOPS.min),
  SquaredDifference: binary(LOOPS.sqdiff),
  Less: binary(LOOPS.less, "bool"),
  LogicalAnd: binary(LOOPS.and, "bool"),
  Neg: unary(UNARY.neg),
  Exp: unary(UNARY.exp),
  Log: unary(UNARY.log),
  Sqrt: unary(UNARY.sqrt),
  Rsqrt: unary(UNARY.rsqrt),
  Square: unary(UNARY.square),
  Tanh: unary(UNARY.tanh),
  Sigmoid: unary(UNARY.sigmoid),
  Softplus: unary(UNARY.softplus),
  Relu: unary(UNARY.relu),
  LeakyRelu: unary(UNARY.leaky),
  Pad: staticPad,
};

/** The Pad that streams: left padding on the time axis (axis 1) becomes the last `p` frames. */
export function delayLine(node, [a, padV]) {
  const pads = intsOf(padV);
  const rank = a.shape.length;
  const timeOnly = rank === 3 && pads.every((p, i) => (i === 2 ? true : p === 0));
  if (!timeOnly || a.shape[1] !== 1) {
    throw new UnsupportedGraphError(`Pad [${pads}] on [${a.shape}] is not a causal padding of the time axis`);
  }
  const p = pads[2];
  const C = a.shape[2];
  if (a.shape[0] !== 1) throw new UnsupportedGraphError("the live decoder streams one sequence (batch 1)");
  const out = tensor(a.dtype, [1, 1 + p, C]);
  const o = out.data;
  const x = a.data;
  return {
    outs: [out],
    run: () => {
      o.copyWithin(0, C); // the window slides one frame: the oldest frame leaves
      o.set(x, p * C);
    },
    reset: () => o.fill(0), // before the first frame the past is zeros, as in the offline padding
  };
}

// Inputs that planners read at compile time (shapes, axes, paddings): they must not depend on
// the audio. -1 means the last input.
export const STATIC_ARGS = {
  Reshape: [1], ExpandDims: [1], StridedSlice: [1, 2, 3], ConcatV2: [-1], SplitV: [1, 2], Split: [0], Transpose: [1],
  Fill: [0], Mean: [1], Pad: [1],
};

export { intsOf, DT };
