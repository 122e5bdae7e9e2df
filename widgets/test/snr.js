// Shared by the JS tests (not a test itself): signal-to-noise ratio of `got` against `ref`, in dB.
export function snrDb(ref, got) {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] * ref[i];
    e += (ref[i] - got[i]) ** 2;
  }
  return 10 * Math.log10(s / Math.max(e, 1e-300));
}
