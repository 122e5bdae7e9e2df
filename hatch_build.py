"""Build hook: the files the kit ships with go inside the wheel, under sounds_kit/_shipped/.

Only for a standard wheel (from the checkout or from the sdist): an editable install reads them from the
checkout itself (``sounds_kit/shipped.py``), so copying them into site-packages would leave stale copies.
"""

from __future__ import annotations

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = {"models": "models", "assets/singers": "singers", "notebooks": "notebooks"}  # source -> _shipped/


class ShippedFilesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version != "standard":
            return
        for source, name in SHIPPED.items():
            build_data["force_include"][source] = f"sounds_kit/_shipped/{name}"
