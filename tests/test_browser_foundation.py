"""A real browser opens a notebook, renders a sounds-kit widget, and the widget reports back."""

from __future__ import annotations

import json

import pytest

from jupyter_browser import (
    open_browser,
    require_browser,
    run_all_cells,
    save_screenshot,
    start_jupyter,
    wait_for_file,
    write_notebook,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_widget_renders_and_round_trips_in_jupyterlab_and_notebook7(tmp_path, app):
    require_browser()
    marker = tmp_path / "frontend.json"
    write_notebook(
        tmp_path / "check.ipynb",
        [
            "import json\nfrom pathlib import Path\nfrom sounds_kit.widgets.environment import EnvironmentCheck\n"
            "w = EnvironmentCheck()\n"
            f"def report(change):\n    Path({str(marker)!r}).write_text(json.dumps(w.frontend_info))\n"
            "w.observe(report, 'frontend_ready')\nw",
        ],
    )
    server = start_jupyter(tmp_path, app=app)
    browser = open_browser(tmp_path / "profile")
    try:
        notebook7 = f"{server.base}/notebooks/check.ipynb?token={server.token}"
        browser.page.goto(server.lab_url("check.ipynb") if app == "lab" else notebook7)
        run_all_cells(browser.page, app=app)
        info = wait_for_file(marker)
        browser.page.wait_for_selector(".sounds-kit-env")
        save_screenshot(browser.page, f"foundation-environment-check-{app}")
        text = browser.page.locator(".sounds-kit-env").inner_text()
    finally:
        browser.close()
        server.stop()

    # The front end loaded the bundle, read the shared conventions and probed the browser.
    assert info["sampleRate"] == 16000 and info["frameRate"] == 250
    assert info["secureContext"] is True  # 127.0.0.1 counts as secure: the microphone is allowed
    assert info["webgl2"] is True, json.dumps(info)
    assert "WebGL 2: yes" in text
    assert browser.foreign_requests == [], browser.foreign_requests
