// Tensors of the frame interpreter: plain typed arrays with a dtype and a shape.

export class UnsupportedGraphError extends Error {}

const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };

export function size(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor(dtype, shape, data = null) {
  const Arr = ARRAYS[dtype];
  if (!Arr) throw new UnsupportedGraphError(`tensors of type ${dtype} are not supported`);
  return { dtype, shape, data: data || new Arr(size(shape)) };
}
