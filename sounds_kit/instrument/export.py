"""Export a decoder to a TF.js graph model plus the files the browser engine checks.

MODEL_DIR layout (what the widget sends to the browser, and what counts as the download):

* ``model.json`` + ``group1-shard*.bin``: the decoder as a TF.js graph model;
* ``metadata.json``: format version, kit version, audio conventions, decoder config, input and output
  names, synth settings, tone-transfer stats and the sha256 of every other file;
* ``reverb.f32``: the learned impulse response (float32 little-endian), when the model has one;
* ``decoder.npz``: the same weights for Python (``sounds_kit.instrument.load``; not fetched by the browser);
* ``model_card.md`` and ``stats.json``: for people (not fetched by the browser).

Only the decoder runs in TF.js; the synth runs in float64 JS next to it (design.md), so the graph has
no phase accumulation, no FFT and no loops for the CNN decoder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from sounds_kit import conventions
from sounds_kit._version import __version__
from sounds_kit.atomic import staging_dir
from sounds_kit.instrument.files import FORMAT, FORMAT_VERSION, WEIGHTS_FILE, save_decoder_weights, sha256_file
from sounds_kit.model.decoders import INPUT_NAMES, OUTPUT_NAMES, DecoderConfig

QUANTIZATIONS = ("float16", "uint8", "none")
BROWSER_STATS = ("fit", "voiced_fraction")


def save_serving_model(decoder, path: Path) -> Path:
    """SavedModel with one ``serving_default`` signature: [1, T, 1] inputs -> three control outputs."""
    import tensorflow as tf

    tf.saved_model.save(decoder, str(path), signatures={"serving_default": decoder.serving_function()})
    return path


def signature_output_nodes(saved_model: Path) -> dict[str, str]:
    """Output name -> graph node (``Identity_N:0``) of the SavedModel's serving signature.

    The converter keys its signature by these names, except when two outputs share a shape; then it
    falls back to node names, and this mapping (flattened in sorted-key order, as TF does) decides.
    """
    import tensorflow as tf

    sig = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    return {k: t.name for k, t in zip(sorted(sig.structured_outputs), sig.outputs, strict=True)}


def convert_to_tfjs(saved_model: Path, out_dir: Path, quantize: str = "float16") -> None:
    """Run the official tensorflowjs converter (in a subprocess: it imports TF and TF-DF heavily)."""
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}, got {quantize!r}")
    cmd = [
        sys.executable, "-m", "tensorflowjs.converters.converter",
        "--input_format=tf_saved_model", "--output_format=tfjs_graph_model",
        "--signature_name=serving_default", "--saved_model_tags=serve",
        "--weight_shard_size_bytes=4194304",
    ]  # fmt: skip
    if quantize == "float16":
        cmd.append("--quantize_float16=*")
    elif quantize == "uint8":
        cmd.append("--quantize_uint8=*")
    cmd += [str(saved_model), str(out_dir)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"tensorflowjs converter failed:\n{done.stderr[-4000:]}")


def compact_model_json(model_json: dict) -> dict:
    """Shorten the graph's node names (and write it without spaces): the browser downloads less.

    Node names like ``StatefulPartitionedCall/cnn_decoder/strided_slice_3/stack_2`` are a third of a
    small model's download. Inputs and outputs named by the signature keep their names; graphs with
    function libraries (a GRU's loop) keep their names, since their bodies refer to names too. Every
    graph loses the bookkeeping attributes TF.js never reads (``strip_bookkeeping``).
    """
    topology = model_json["modelTopology"]
    strip_bookkeeping(model_json)
    if topology.get("library", {}).get("function"):
        return model_json
    signature = model_json.get("signature", {})
    keep = {
        spec["name"].split(":")[0]
        for part in ("inputs", "outputs")
        for spec in signature.get(part, {}).values()
    }
    mapping = {}
    for i, node in enumerate(topology["node"]):
        mapping[node["name"]] = node["name"] if node["name"] in keep else f"n{i:x}"

    def rename(ref: str) -> str:
        control = ref.startswith("^")
        name, sep, port = ref.lstrip("^").partition(":")
        return ("^" if control else "") + mapping.get(name, name) + sep + port

    for node in topology["node"]:
        node["name"] = mapping[node["name"]]
        if "input" in node:
            node["input"] = [rename(r) for r in node["input"]]
    for group in model_json.get("weightsManifest", []):
        for weight in group["weights"]:
            weight["name"] = mapping.get(weight["name"], weight["name"])
    return model_json


# Graph-building bookkeeping that TF.js never reads. TensorFlow sets it on a different subset of a
# GRU's loop nodes from one trace to the next, so keeping it made the same model's download vary by
# ~400 bytes between exports.
BOOKKEEPING_ATTRS = ("_has_manual_control_dependencies",)


def strip_bookkeeping(model_json: dict) -> None:
    topology = model_json["modelTopology"]
    nodes = list(topology.get("node", []))
    for fn in topology.get("library", {}).get("function", []):
        nodes += fn.get("nodeDef", [])
    for node in nodes:
        for attr in BOOKKEEPING_ATTRS:
            node.get("attr", {}).pop(attr, None)


def graph_ops(model_json: dict) -> set[str]:
    """The op types in a converted graph (to check it only uses what every TF.js backend has)."""
    nodes = model_json["modelTopology"].get("node", [])
    ops = {n["op"] for n in nodes}
    for fn in model_json["modelTopology"].get("library", {}).get("function", []):
        ops |= {n["op"] for n in fn.get("nodeDef", [])}
    return ops


def export_decoder(
    decoder,
    config: DecoderConfig,
    out_dir: str | Path,
    *,
    name: str,
    quantize: str = "float16",
    stats: dict | None = None,
    reverb_ir: np.ndarray | None = None,
    card: str | None = None,
    extra_metadata: dict | None = None,
) -> Path:
    """Write MODEL_DIR atomically (a temp dir renamed into place) and return it."""
    out_dir = Path(out_dir)
    staging = staging_dir(out_dir)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            saved = save_serving_model(decoder, Path(tmp) / "saved_model")
            output_nodes = signature_output_nodes(saved)
            convert_to_tfjs(saved, staging, quantize)
        model_json = compact_model_json(json.loads((staging / "model.json").read_text()))
        (staging / "model.json").write_text(json.dumps(model_json, separators=(",", ":")))
        signature = model_json.get("signature", {})
        files = sorted(p.name for p in staging.iterdir())
        if reverb_ir is not None:
            np.asarray(reverb_ir, "<f4").tofile(staging / "reverb.f32")
            files.append("reverb.f32")
        metadata = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kit_version": __version__,
            "name": name,
            "conventions": conventions.model_conventions(),
            "decoder": config.to_dict(),
            "quantization": quantize,
            "inputs": {k: signature.get("inputs", {}).get(k, {}).get("name", f"{k}:0") for k in INPUT_NAMES},
            "outputs": {
                k: signature.get("outputs", {}).get(k, {}).get("name") or output_nodes.get(k) for k in OUTPUT_NAMES
            },
            "synth": {
                "n_harmonics": config.n_harmonics,
                "n_noise_bands": config.n_noise_bands,
                "reverb": "reverb.f32" if reverb_ir is not None else None,
            },
            # Only what tone transfer reads travels to the browser; histograms stay in stats.json.
            "stats": {k: v for k, v in (stats or {}).items() if k in BROWSER_STATS},
            "files": {f: sha256_file(staging / f) for f in sorted(files)},
            **(extra_metadata or {}),
        }
        missing = [k for k, v in metadata["outputs"].items() if not v]
        if missing:
            raise RuntimeError(f"converted model lacks outputs {missing}; signature was {signature}")
        (staging / "metadata.json").write_text(json.dumps(metadata, separators=(",", ":")) + "\n")

        save_decoder_weights(decoder, staging / WEIGHTS_FILE)  # for Python; not part of the download
        if stats is not None:
            (staging / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
        if card is not None:
            (staging / "model_card.md").write_text(card)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
