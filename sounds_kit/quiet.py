"""TensorFlow without its start-up chatter.

On a machine without a GPU, importing TensorFlow writes a dozen lines of failed CUDA probing straight to
the process's stderr (file descriptor 2, from C++, before TensorFlow's own log settings apply), and its
first operation adds a "failed call to cuInit". None of it is an error a person can act on, and it buries
the answer of a command. Two ways to drop it:

* :func:`quiet_tensorflow` imports TensorFlow now with fd 2 silenced (notebooks call it in their first cell);
* :func:`quiet_tensorflow_on_import` does the same whenever TensorFlow is first imported later, so a
  command that never needs TensorFlow never pays for importing it (the CLI, unless ``--verbose``).

Either way errors still raise (only the stream is silenced, and only while TensorFlow's modules execute),
TensorFlow's C++ log keeps to what ``TF_CPP_MIN_LOG_LEVEL`` allows (default here: nothing below fatal) and
its Python log to errors. Without TensorFlow installed both do nothing.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator

_TENSORFLOW = "tensorflow"


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """File descriptor 2 goes to /dev/null inside the block (C++ libraries write there directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _after_import() -> None:
    logging.getLogger(_TENSORFLOW).setLevel(logging.ERROR)


def quiet_tensorflow() -> None:
    """Import TensorFlow now, without its start-up chatter (a no-op without TensorFlow installed)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if _TENSORFLOW not in sys.modules:
        if importlib.util.find_spec(_TENSORFLOW) is None:
            return
        with silenced_stderr():
            import tensorflow  # noqa: F401
    _after_import()


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of the ``tensorflow`` package with fd 2 silenced."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = self._loader  # the package sees its own loader afterwards
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        with silenced_stderr():
            self._loader.exec_module(module)
        _after_import()
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]  # done: one import

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` like every other finder would, and hands it to :class:`_QuietLoader`.

    It stays on ``sys.meta_path`` until TensorFlow has been imported: ``find_spec`` is also called by
    mere look-ups (``importlib.util.find_spec``, e.g. the extras check), which import nothing.
    """

    _looking = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TENSORFLOW or self._looking:
            return None
        self._looking = True  # the look-up below must reach the real finders, not this one
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._looking = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec

def quiet_tensorflow_on_import() -> None:
    """Silence TensorFlow's start-up chatter whenever it is first imported from now on (idempotent)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if _TENSORFLOW in sys.modules:
        _after_import()
    elif not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
