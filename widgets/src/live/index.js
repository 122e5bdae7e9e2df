// Live play in the audio thread: the decoder as plain JS over the exported graph, the whole
// instrument in an AudioWorklet, and the page-side handle that measures what it does.
export { readGraphModel, GraphFileError } from "./graph_file.js";
export { compileFrameGraph, UnsupportedGraphError } from "./frame_graph.js";
export { LiveInstrument, compileDecoder } from "./live_instrument.js";
export { DelayMeter } from "./delay_meter.js";
export { createLiveNode, addLiveModule, LiveNode } from "./live_node.js";
export { LIVE_PROCESSOR, LIVE_TUNING } from "./live_protocol.js";
