"""Atomic writes of whole folders: build next to the target, then rename into place."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def staging_dir(target: Path) -> Path:
    """An empty folder beside ``target`` (same filesystem, so a rename is atomic), with ordinary
    permissions: mkdtemp makes folders private, and the result is meant to be shared."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    return tmp


def write_json_atomic(path: str | Path, data) -> Path:
    """JSON written to a temp file and renamed over ``path``: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)
    return path
