// What the live worklet and the page agree on: the processor's name and its tuning.
// Messages, page -> worklet:
//   {type: "instrument", meta, graph: {nodes, weights}, options}   compile the decoder (once)
//   {type: "options", options: {autoFit, octaveShift, gainDb}}     change sound options live
//   {type: "run", on}                                               start (fade in) / stop (fade out)
// worklet -> page:
//   {type: "ready", latencyMs, name, compileMs}   the instrument is compiled; its algorithmic delay
//   {type: "running", on: true}             it started (after a "run" message)
//   {type: "stats", underruns, late, maxQuantumMs, maxLateMs, seconds, starved, errors, latencyMs}
//       every statsSeconds; underruns: quanta that took longer than they last (misses of this thread)
//   {type: "env", input, output, dropped, hopMs}  mean-square envelopes (1 ms frames) for the delay
//       meter; dropped: 1 for frames of a miss or of the fade back in after it
//   {type: "frames", f0Hz, f0Confidence, loudnessDb}   the stream's own features, for the pitch trace
//   {type: "error", message}
export const LIVE_PROCESSOR = "sounds-kit-live";

export const LIVE_TUNING = {
  statsSeconds: 0.25,
  envBatch: 100, // envelope frames per message (100 ms)
  frameBatch: 25, // feature frames per message (100 ms)
  fadeSamples: 160, // 10 ms at 16 kHz: long enough not to click, short enough not to smear an onset
  // "Late": the audio clock fell this far behind the wall clock, beyond its usual render-ahead
  // bursts (the smallest lag of the last ~2 s is the baseline). Reported, not counted as a miss.
  lateMs: 20,
  lagWindowQuanta: 250,
  settleQuanta: 125, // the first second after a start (JIT, the noise table) is not counted
  resampleCushion: 128, // output samples (context rate) kept in hand when the context cannot run at 16 kHz
};
