"""Where the files the kit ships with live: the instruments, the stand-in singers and the notebooks.

An installed wheel (or sdist) carries them inside the package, in ``sounds_kit/_shipped/`` (see
``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml); a checkout or an editable install
reads them where they are kept, at the top of the repository. Nothing here needs a checkout.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PACKAGED = PACKAGE / "_shipped"


def _shipped(packaged: str, checkout: str) -> Path:
    inside = PACKAGED / packaged
    return inside if inside.is_dir() else PACKAGE.parent / checkout


MODELS_DIR = _shipped("models", "models")
"""The shipped instruments (``MODELS_DIR / "bansuri"`` ...)."""
SINGERS_DIR = _shipped("singers", "assets/singers")
"""Short clips of a stand-in singer (rendered, see assets/README.md) for demos without a microphone."""
NOTEBOOKS_DIR = _shipped("notebooks", "notebooks")
"""The workshop notebooks (``sounds-kit sing`` opens a working copy of them)."""


def singer_clips() -> list[Path]:
    """The stand-in singer clips, sorted (empty if they were left out of this install)."""
    return sorted(SINGERS_DIR.glob("*.wav")) if SINGERS_DIR.is_dir() else []


def checkout_root() -> Path | None:
    """The repository this kit runs from when it is a checkout (editable install), else None (a wheel)."""
    return None if NOTEBOOKS_DIR.is_relative_to(PACKAGED) else NOTEBOOKS_DIR.parent
