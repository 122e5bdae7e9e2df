"""Shared plumbing for the kit's anywidgets: one JS bundle shipped in the wheel."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from sounds_kit._version import __version__

STATIC = Path(__file__).resolve().parents[1] / "static"
BUNDLE = STATIC / "widget.js"


def bundle_path() -> Path:
    """The widget bundle; a clear error if the package was installed without building it."""
    if not BUNDLE.exists():
        raise FileNotFoundError(
            f"{BUNDLE} is missing: the widget's JS was not built. "
            "Reinstall with `pip install .` (runs npm) or run `npm --prefix widgets run build`."
        )
    return BUNDLE


class KitWidget(anywidget.AnyWidget):
    """Base class: all views share one bundle and pick themselves by ``_view``."""

    _esm = bundle_path()
    _view = traitlets.Unicode("").tag(sync=True)
    kit_version = traitlets.Unicode(__version__).tag(sync=True)
    frontend_ready = traitlets.Bool(False).tag(sync=True)
