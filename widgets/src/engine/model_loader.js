// Load an exported instrument from bytes (never a URL: works offline and in Colab), verify
// every file's hash and the audio conventions, and build the TF.js decoder.
import * as tfconv from "@tensorflow/tfjs-converter";
import { tf } from "./backends.js";
import { sha256Hex } from "./sha256.js";
import { conventions } from "../dsp/conventions.js";

export const SUPPORTED_FORMAT_VERSION = 1;
const text = (bytes) => new TextDecoder().decode(bytes);

export class ModelFileError extends Error {}

/** Check metadata against the files and this engine; throws ModelFileError with a clear message. */
export function verifyInstrumentFiles(files) {
  if (!files["metadata.json"]) throw new ModelFileError("metadata.json is missing: not a sounds-kit instrument");
  let meta;
  try {
    meta = JSON.parse(text(files["metadata.json"]));
  } catch (err) {
    throw new ModelFileError(`metadata.json is not valid JSON (${err.message})`);
  }
  if (meta.format !== "sounds-kit-instrument") throw new ModelFileError("metadata.json does not describe a sounds-kit instrument");
  if (meta.format_version !== SUPPORTED_FORMAT_VERSION) {
    throw new ModelFileError(
      `instrument format ${meta.format_version} needs a different sounds-kit (this one reads format ${SUPPORTED_FORMAT_VERSION}); re-export it with this kit`,
    );
  }
  for (const key of ["sample_rate", "hop_size", "f0_midi_scale", "loudness_scale_db", "noise_table_size", "noise_seed"]) {
    if (meta.conventions[key] !== conventions[key]) {
      throw new ModelFileError(
        `instrument was exported with ${key}=${meta.conventions[key]} but this kit uses ${conventions[key]} (kit ${meta.kit_version}); re-export it`,
      );
    }
  }
  for (const [name, expected] of Object.entries(meta.files)) {
    const bytes = files[name];
    if (!bytes) throw new ModelFileError(`${name} is missing from the instrument ${meta.name}`);
    const got = sha256Hex(bytes);
    if (got !== expected) throw new ModelFileError(`${name} does not match its hash in metadata.json: the instrument is damaged or was modified`);
  }
  return meta;
}

function concatBytes(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out.buffer;
}

/** Build the TF.js graph model from the instrument's files. */
export async function loadDecoder(files) {
  const modelJson = JSON.parse(text(files["model.json"]));
  const groups = modelJson.weightsManifest || [];
  const weightSpecs = groups.flatMap((g) => g.weights);
  const weightData = concatBytes(groups.flatMap((g) => g.paths).map((p) => files[p]));
  const artifacts = {
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    signature: modelJson.signature,
    userDefinedMetadata: modelJson.userDefinedMetadata,
    modelInitializer: modelJson.modelInitializer,
    weightSpecs,
    weightData,
  };
  return tfconv.loadGraphModel(tf.io.fromMemory(artifacts));
}
