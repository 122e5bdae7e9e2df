"""Working copies of the workshop notebooks, so opening and running them never edits the kit's own.

JupyterLab saves a notebook with its outputs as soon as it runs; in a checkout that would dirty the
committed notebooks (which are kept without outputs). ``sounds-kit sing`` therefore opens copies: in a
checkout under ``work/notebooks/`` (git-ignored), elsewhere in ``./sounds-kit-notebooks/``.

A copy is made once and then belongs to the person using it. When the kit's notebook changes (a
``git pull``, a new version), the copy is replaced; if it had been edited or run, the old copy is kept in
``.previous/`` next to it first. ``.sounds-kit-copies.json`` remembers which version each copy came from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from sounds_kit.atomic import write_json_atomic
from sounds_kit.shipped import NOTEBOOKS_DIR, checkout_root

RECORD = ".sounds-kit-copies.json"
PREVIOUS = ".previous"  # a dot folder: JupyterLab's file browser does not show it


def default_dir() -> Path:
    """``work/notebooks`` in a checkout (git-ignored), else ``./sounds-kit-notebooks``."""
    root = checkout_root()
    return root / "work" / "notebooks" if root is not None else Path.cwd() / "sounds-kit-notebooks"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync_notebooks(target: str | Path | None = None, source: Path = NOTEBOOKS_DIR) -> tuple[Path, list[str]]:
    """Make or refresh the working copies of the kit's notebooks in ``target``.

    Returns the folder and one line per change (nothing for copies already up to date).
    """
    target = Path(target) if target is not None else default_dir()
    if not source.is_dir():
        raise FileNotFoundError(f"the kit's notebooks are missing ({source}): reinstall sounds-kit")
    target.mkdir(parents=True, exist_ok=True)
    record_path = target / RECORD
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    notes = []
    for src in sorted(p for p in source.iterdir() if p.suffix in (".ipynb", ".md")):
        dst, src_sha = target / src.name, _sha(src)
        if not dst.exists():
            notes.append(f"copied {src.name}")
        elif src.name not in record or record[src.name] == src_sha:
            continue  # up to date, or a file of the person's own that happens to share the name
        elif _sha(dst) == record[src.name]:
            notes.append(f"updated {src.name} (the kit's notebook changed)")
        else:
            keep = target / PREVIOUS / src.name
            keep.parent.mkdir(exist_ok=True)
            shutil.copy2(dst, keep)
            notes.append(f"updated {src.name} (the kit's notebook changed; your edited copy is in {keep})")
        shutil.copyfile(src, dst)
        record[src.name] = src_sha
    write_json_atomic(record_path, record)
    return target, notes
