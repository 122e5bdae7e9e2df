"""Where a notebook runs (Colab, CI, a checkout) and its settings (small in CI, full on request)."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sounds_kit.quiet import quiet_tensorflow  # noqa: F401 - the notebooks' import path

if TYPE_CHECKING:
    pass


WORKSHOP_ENV = "SOUNDS_KIT_WORKSHOP"
"""Environment variable naming the workshop folder (the tests point it at a temporary folder)."""




def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def is_ci() -> bool:
    """True when the ``CI`` environment variable is set (tests, CI services): nobody is listening."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def settings(use_full: bool, *, small: dict, full: dict, ci: dict | None = None) -> SimpleNamespace:
    """The notebook's knobs: ``full`` when ``use_full``, else ``small`` (with ``ci`` on top under CI).

    ``small`` and ``full`` must name the same knobs; ``ci`` may override some of them to keep the
    automated run of every notebook short. Prints what was chosen and returns it as attributes
    (``S.minutes``), plus ``S.mode``.
    """
    if set(small) != set(full):
        raise ValueError(f"small and full settings differ in their names: {sorted(set(small) ^ set(full))}")
    unknown = set(ci or {}) - set(small)
    if unknown:
        raise ValueError(f"ci settings name knobs that small does not have: {sorted(unknown)}")
    if use_full:
        chosen, mode = dict(full), "full"
    elif ci and is_ci():
        chosen, mode = {**small, **ci}, "small, shrunk further for CI"
    else:
        chosen, mode = dict(small), "small"
    print(f"Settings ({mode}; set FULL = {not use_full} for the {'small' if use_full else 'full'} ones):")
    width = max(len(k) for k in chosen) if chosen else 0
    for key, value in chosen.items():
        print(f"  {key:<{width}} = {value!r}")
    return SimpleNamespace(**chosen, mode=mode)
