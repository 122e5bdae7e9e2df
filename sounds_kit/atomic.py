"""Atomic writes of whole folders: build next to the target, then rename into place."""

from __future__ import annotations

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
