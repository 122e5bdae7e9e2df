"""sounds-kit: sing into a notebook and hear an Indian classical instrument.

Importing the package is cheap: TensorFlow and the other heavy modules load
only when a function that needs them runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._version import __version__

# Public names -> the module that defines them; resolved on first access so
# ``import sounds_kit`` never pulls TensorFlow in.
_LAZY = {
    "SingWidget": "sounds_kit.sing_widget",
    "EnvironmentCheck": "sounds_kit.widget",
    "load_audio": "sounds_kit.audio_io",
    "compute_features": "sounds_kit.features",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sounds_kit' has no attribute {name!r}")
