"""sounds-kit: sing into a notebook and hear an Indian classical instrument.

The public API is the names in ``__all__`` (and the ``sounds-kit`` CLI); docs/architecture.md maps the
subpackages, which follow the signal: ``data`` (audio in, datasets) -> ``dsp`` (features, controls,
synth) -> ``model`` (decoders, training) -> ``instrument`` (export, load) -> ``widgets`` / ``notebook``.

Importing the package is cheap: TensorFlow and the other heavy modules load
only when a function that needs them runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sounds_kit._version import __version__

# Public names -> the module that defines them; resolved on first access so
# ``import sounds_kit`` never pulls TensorFlow in.
_LAZY = {
    "SingWidget": "sounds_kit.widgets.sing",
    "EnvironmentCheck": "sounds_kit.widgets.environment",
    "load_audio": "sounds_kit.data.audio_io",
    "compute_features": "sounds_kit.dsp.features",
    "load_instrument": "sounds_kit.instrument.load",
    "Instrument": "sounds_kit.instrument.load",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sounds_kit' has no attribute {name!r}")
