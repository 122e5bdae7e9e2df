import sys
from pathlib import Path

# Test helpers (tests/*.py that are not tests) import by module name.
sys.path.insert(0, str(Path(__file__).parent))


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A local page exposing the bundled browser engine (``window.sk``) in Debian chromium, one per module."""
    from jupyter_browser import require_browser

    require_browser()
    from sounds_kit.browser.engine_page import EnginePage

    p = EnginePage(tmp_path_factory.mktemp("profile"))
    yield p
    p.close()
