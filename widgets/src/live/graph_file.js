// Read an exported TF.js graph model (model.json + weight shards) without TF.js: the nodes of the
// graph and every weight as a plain typed array. Parsed on the main thread (JSON, TextDecoder) and
// handed to the worklet as structured-clonable data. The live decoder (frame_graph.js) runs these in
// the audio thread, where TF.js cannot load; offline rendering still hands the same bytes to TF.js.
// Weight layout (tfjs weights manifest): the shards of all groups, concatenated in manifest order,
// hold each weight in turn, quantized per its `quantization` entry (float16, uint8, uint16).

const text = (bytes) => new TextDecoder().decode(bytes);

export class GraphFileError extends Error {}

/** IEEE 754 half -> float (the converter's --quantize_float16 stores weights this way). */
export function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (and zero)
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const PLAIN_BYTES = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES = { float16: 2, uint8: 1, uint16: 2 };

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

function concatShards(groups, files) {
  const parts = [];
  for (const group of groups) {
    for (const path of group.paths) {
      const bytes = files[path];
      if (!bytes) throw new GraphFileError(`weight shard ${path} is missing`);
      parts.push(bytes);
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function decodeWeight(spec, view, offset) {
  const n = product(spec.shape);
  const q = spec.quantization;
  if (q) {
    const width = QUANT_BYTES[q.dtype];
    if (!width) throw new GraphFileError(`weight ${spec.name}: quantization ${q.dtype} is not supported`);
    const out = spec.dtype === "int32" ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const at = offset + i * width;
      if (q.dtype === "float16") out[i] = halfToFloat(view.getUint16(at, true));
      else {
        const raw = q.dtype === "uint8" ? view.getUint8(at) : view.getUint16(at, true);
        out[i] = raw * q.scale + q.min; // affine quantization, as tfjs dequantizes it
      }
    }
    return { data: out, bytes: n * width };
  }
  const width = PLAIN_BYTES[spec.dtype];
  if (!width) throw new GraphFileError(`weight ${spec.name}: dtype ${spec.dtype} is not supported`);
  let out;
  if (spec.dtype === "float32") {
    out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  } else if (spec.dtype === "int32") {
    out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt32(offset + 4 * i, true);
  } else {
    out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getUint8(offset + i);
  }
  return { data: out, bytes: n * width };
}

/**
 * Parse model.json and its shards from {filename: Uint8Array}.
 * Returns {nodes: [{name, op, inputs, attr}], weights: Map(name -> {dtype, shape, data}), signature}.
 */
export function readGraphModel(files) {
  if (!files["model.json"]) throw new GraphFileError("model.json is missing");
  let model;
  try {
    model = JSON.parse(text(files["model.json"]));
  } catch (err) {
    throw new GraphFileError(`model.json is not valid JSON (${err.message})`);
  }
  if (model.format !== "graph-model" || !model.modelTopology) {
    throw new GraphFileError("model.json is not a TF.js graph model");
  }
  const groups = model.weightsManifest || [];
  const bytes = concatShards(groups, files);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Map();
  let offset = 0;
  for (const spec of groups.flatMap((g) => g.weights)) {
    const { data, bytes: used } = decodeWeight(spec, view, offset);
    if (offset + used > bytes.length) throw new GraphFileError(`weight ${spec.name} runs past the end of the shards`);
    const dtype = spec.dtype === "float32" ? "float32" : spec.dtype;
    weights.set(spec.name, { dtype, shape: spec.shape.slice(), data });
    offset += used;
  }
  if (offset !== bytes.length) throw new GraphFileError(`weight shards hold ${bytes.length} bytes, the manifest ${offset}`);
  const topology = model.modelTopology;
  if (topology.library && topology.library.function && topology.library.function.length) {
    throw new GraphFileError("graph models with function libraries are not supported by the live decoder");
  }
  const nodes = (topology.node || []).map((n) => ({ name: n.name, op: n.op, inputs: n.input || [], attr: n.attr || {} }));
  return { nodes, weights, signature: model.signature || {} };
}

// --- node attributes (TF's AttrValue in proto3 JSON: int64 as strings, strings base64) ----------

export function attrInt(node, key, fallback = 0) {
  const a = node.attr[key];
  return a && a.i !== undefined ? Number(a.i) : fallback;
}

export function attrFloat(node, key, fallback = 0) {
  const a = node.attr[key];
  return a && a.f !== undefined ? Number(a.f) : fallback;
}

export function attrBool(node, key, fallback = false) {
  const a = node.attr[key];
  return a && a.b !== undefined ? !!a.b : fallback;
}

export function attrInts(node, key) {
  const a = node.attr[key];
  return a && a.list && a.list.i ? a.list.i.map(Number) : [];
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 -> ASCII string. Our own: the AudioWorklet scope has neither atob nor TextDecoder. */
export function base64Ascii(s) {
  let bits = 0;
  let acc = 0;
  let out = "";
  for (const ch of s) {
    const v = B64.indexOf(ch);
    if (v < 0) continue; // padding
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
    }
  }
  return out;
}

export function attrString(node, key, fallback = "") {
  const a = node.attr[key];
  return a && a.s !== undefined ? base64Ascii(a.s) : fallback;
}
