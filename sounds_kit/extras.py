"""The optional parts of the kit (pip extras) and the message when one is missing.

``pip install sounds-kit`` is the light core: sing, transfer and features, with no TensorFlow. Training,
the sweep, export and prepare need ``sounds-kit[train]``; ``sounds-kit sing`` needs JupyterLab
(``sounds-kit[jupyter]``). The lists here name the modules that tell whether an extra is installed; the
packages and their pins are in pyproject.toml.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

from sounds_kit.errors import UserFacingError

EXTRAS: dict[str, tuple[str, ...]] = {
    "train": ("tensorflow", "tf_keras", "tensorflowjs", "apache_beam", "pandas", "optuna", "distributed"),
    "jupyter": ("jupyterlab", "notebook"),
}
TRAIN_PYTHONS = ((3, 11), (3, 12))
"""The Python versions the [train] pins install on (TensorFlow 2.19 has wheels up to 3.12)."""


class MissingExtraError(UserFacingError, ImportError):
    """A feature needs an extra that is not installed; the message says how to install it."""


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (empty: the extra is installed)."""
    return [m for m in EXTRAS[extra] if find_spec(m) is None]


def install_hint(extra: str) -> str:
    hint = f"pip install 'sounds-kit[{extra}]'"
    if extra == "train" and sys.version_info[:2] not in TRAIN_PYTHONS:
        versions = " or ".join(f"{a}.{b}" for a, b in TRAIN_PYTHONS)
        hint += f" in a Python {versions} environment (its TensorFlow pins have no wheels for this Python)"
    return hint


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` naming the extra if ``what`` (e.g. "sounds-kit train") cannot run."""
    missing = missing_modules(extra)
    if missing:
        names = ", ".join(missing)
        raise MissingExtraError(f"{what} needs the [{extra}] extra ({names} missing): {install_hint(extra)}")


def extra_for_module(module: str | None) -> str | None:
    """The extra that provides a top-level module (for an ImportError's ``name``), if any."""
    root = (module or "").split(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if root in modules), None)
