"""Widgets people meet in notebooks."""

from __future__ import annotations

import traitlets

from sounds_kit.widgets.base import KitWidget


class EnvironmentCheck(KitWidget):
    """Shows what this browser offers the kit (microphone, WebGL, wasm) and reports it to Python.

    ``frontend_info`` holds the browser's answers once ``frontend_ready`` is True.
    """

    _view = traitlets.Unicode("environment").tag(sync=True)
    frontend_info = traitlets.Dict({}).tag(sync=True)
