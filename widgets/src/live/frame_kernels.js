// The arithmetic of the frame interpreter's ops (frame_ops.js plans them): elementwise loops,
// matrix products and convolutions over plain typed arrays. Each loop is its own function, so V8
// compiles a tight monomorphic loop per op rather than a megamorphic call per element.
import { attrBool, attrInts, attrString } from "./graph_file.js";
import { UnsupportedGraphError, tensor } from "./frame_tensor.js";

export const LOOPS = {
  add: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = x[ia[i]] + y[ib[i]]; },
  sub: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = x[ia[i]] - y[ib[i]]; },
  mul: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = x[ia[i]] * y[ib[i]]; },
  div: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = x[ia[i]] / y[ib[i]]; },
  max: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = Math.max(x[ia[i]], y[ib[i]]); },
  min: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = Math.min(x[ia[i]], y[ib[i]]); },
  sqdiff: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) { const d = x[ia[i]] - y[ib[i]]; o[i] = d * d; } },
  less: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = x[ia[i]] < y[ib[i]] ? 1 : 0; },
  and: (o, x, y, ia, ib) => { for (let i = 0; i < o.length; i++) o[i] = x[ia[i]] && y[ib[i]] ? 1 : 0; },
};

export const UNARY = {
  neg: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = -x[i]; },
  exp: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = Math.exp(x[i]); },
  log: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = Math.log(x[i]); },
  sqrt: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(x[i]); },
  rsqrt: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = 1 / Math.sqrt(x[i]); },
  square: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = x[i] * x[i]; },
  tanh: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = Math.tanh(x[i]); },
  sigmoid: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = 1 / (1 + Math.exp(-x[i])); },
  softplus: (o, x) => {
    for (let i = 0; i < o.length; i++) {
      const v = x[i];
      o[i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
    }
  },
  relu: (o, x) => { for (let i = 0; i < o.length; i++) o[i] = x[i] > 0 ? x[i] : 0; },
  leaky: (o, x, alpha) => { for (let i = 0; i < o.length; i++) o[i] = x[i] >= 0 ? x[i] : x[i] * alpha; },
};

// out[i, j] = dot(row i of A, column j of B). Both operands are laid out at compile time so each
// dot product walks contiguous memory: A's row as given (or gathered), B as columns (B^T).
export function matmul(node, [a, b]) {
  const ta = attrBool(node, "transpose_a");
  const tb = attrBool(node, "transpose_b");
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new UnsupportedGraphError("MatMul needs 2-D operands");
  const [m, k] = ta ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = tb ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== k2) throw new UnsupportedGraphError(`MatMul shapes [${a.shape}] x [${b.shape}] do not match`);
  const out = tensor("float32", [m, n]);
  const cols = new Float64Array(n * k); // B^T, refreshed per run only when B can change
  const rowBuf = new Float64Array(k);
  const layoutB = () => {
    const w = b.data;
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) cols[j * k + p] = tb ? w[j * k + p] : w[p * n + j];
  };
  layoutB();
  let bIsConst = true;
  return {
    outs: [out],
    markDynamicInputs: (dyn) => {
      bIsConst = !dyn[1];
    },
    run: () => {
      if (!bIsConst) layoutB();
      const o = out.data;
      const x = a.data;
      for (let i = 0; i < m; i++) {
        for (let p = 0; p < k; p++) rowBuf[p] = ta ? x[p * m + i] : x[i * k + p];
        for (let j = 0; j < n; j++) {
          let s = 0;
          const base = j * k;
          for (let p = 0; p < k; p++) s += rowBuf[p] * cols[base + p];
          o[i * n + j] = s;
        }
      }
    },
  };
}

// Conv2D as dot products: for each output position the receptive taps are gathered into one
// vector, and each output channel is one dot product with its filter (laid out per channel).
export function conv2d(node, [x, f]) {
  if (attrString(node, "padding") !== "VALID") throw new UnsupportedGraphError("Conv2D: only VALID padding is supported (causal convs pad explicitly)");
  if (attrString(node, "data_format", "NHWC") !== "NHWC") throw new UnsupportedGraphError("Conv2D: only NHWC is supported");
  const st = attrInts(node, "strides");
  const dl = attrInts(node, "dilations");
  const [sh, sw] = [st[1] || 1, st[2] || 1];
  const [dh, dw] = [dl[1] || 1, dl[2] || 1];
  const [N, H, W, C] = x.shape;
  const [kh, kw, C2, O] = f.shape;
  if (C !== C2) throw new UnsupportedGraphError(`Conv2D channels ${C} vs filter ${C2}`);
  const Ho = Math.floor((H - (kh - 1) * dh - 1) / sh) + 1;
  const Wo = Math.floor((W - (kw - 1) * dw - 1) / sw) + 1;
  const out = tensor("float32", [N, Ho, Wo, O]);
  const K = kh * kw * C;
  const filt = new Float64Array(O * K); // filt[q * K + (u * kw + v) * C + c]
  for (let t = 0; t < kh * kw; t++) for (let c = 0; c < C; c++) for (let q = 0; q < O; q++) filt[q * K + t * C + c] = f.data[(t * C + c) * O + q];
  const positions = N * Ho * Wo;
  const taps = new Int32Array(positions * kh * kw); // start of each tap's C inputs
  for (let b = 0, pos = 0; b < N; b++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++, pos++) {
        for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) taps[pos * kh * kw + u * kw + v] = ((b * H + i * sh + u * dh) * W + j * sw + v * dw) * C;
      }
    }
  }
  const gathered = new Float64Array(K);
  const nTaps = kh * kw;
  return {
    outs: [out],
    run: () => {
      const xd = x.data;
      const o = out.data;
      for (let pos = 0; pos < positions; pos++) {
        for (let t = 0; t < nTaps; t++) {
          const from = taps[pos * nTaps + t];
          for (let c = 0; c < C; c++) gathered[t * C + c] = xd[from + c];
        }
        for (let q = 0; q < O; q++) {
          let s = 0;
          const base = q * K;
          for (let p = 0; p < K; p++) s += gathered[p] * filt[base + p];
          o[pos * O + q] = s;
        }
      }
    },
  };
}

