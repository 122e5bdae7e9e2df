"""The exported instrument format: which files a MODEL_DIR holds and how they are checked.

Shared by ``export`` (writes it) and ``load`` (reads it), so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from sounds_kit.errors import ModelFileError

FORMAT = "sounds-kit-instrument"
FORMAT_VERSION = 1
WEIGHTS_FILE = "decoder.npz"
"""The decoder's float32 variables for Python (the browser reads the TF.js shard instead)."""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_decoder_weights(decoder, path: Path) -> None:
    """Variables by name, float32 (the browser's weights are these, possibly quantised)."""
    arrays = {v.name.replace("/", "__").replace(":", "_"): v.numpy() for v in decoder.variables}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def browser_files(model_dir: str | Path) -> dict[str, bytes]:
    """The files the browser needs (metadata.json and every file it lists), as bytes.

    Raises ModelFileError with a clear message for a missing or tampered instrument.
    """
    model_dir = Path(model_dir)
    meta_path = model_dir / "metadata.json"
    if not meta_path.exists():
        raise ModelFileError(f"{model_dir}: no metadata.json - not an exported sounds-kit instrument")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{meta_path}: not valid JSON ({err})") from err
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{model_dir}: instrument format {meta.get('format_version')} is not the format {FORMAT_VERSION} "
            "this kit reads; re-export it with `sounds-kit export`"
        )
    out = {"metadata.json": meta_path.read_bytes()}
    for name, digest in meta["files"].items():
        path = model_dir / name
        if not path.exists():
            raise ModelFileError(f"{model_dir}: {name} is missing")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ModelFileError(f"{model_dir}: {name} does not match its hash in metadata.json (damaged or edited)")
        out[name] = data
    return out


def download_bytes(model_dir: str | Path) -> int:
    """What the browser fetches for this instrument, in bytes."""
    return sum(len(b) for b in browser_files(model_dir).values())
