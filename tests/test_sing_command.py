"""`sounds-kit sing` (what `make sing` runs): the printed URL opens the sing notebook, which runs on its own
(an empty workshop folder), and running it there leaves the committed notebooks untouched (it runs a
working copy under the git-ignored work/ folder)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jupyter_browser import REPO, open_browser, require_browser, run_all_cells, save_screenshot
from sounds_kit.notebook.working_copy import PREVIOUS, default_dir, sync_notebooks
from sounds_kit.shipped import NOTEBOOKS_DIR

URL_RE = re.compile(r"JupyterLab is up at (http://127\.0\.0\.1:\d+/lab/tree/05_sing\.ipynb\?token=\w+)")


def make_kit(folder: Path, text: str = "v1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "05_sing.ipynb").write_text(json.dumps({"kit": text}))
    (folder / "README.md").write_text("read me")
    return folder


def test_working_copies_are_made_once_and_follow_the_kit(tmp_path):
    kit, mine = make_kit(tmp_path / "kit"), tmp_path / "mine"
    folder, notes = sync_notebooks(mine, source=kit)
    assert folder == mine and sorted(notes) == ["copied 05_sing.ipynb", "copied README.md"]
    assert sync_notebooks(mine, source=kit)[1] == []  # up to date: nothing to do

    # Running a notebook saves outputs into the copy; the copy stays the person's.
    (mine / "05_sing.ipynb").write_text(json.dumps({"kit": "v1", "outputs": ["mine"]}))
    assert sync_notebooks(mine, source=kit)[1] == []
    assert "mine" in (mine / "05_sing.ipynb").read_text()

    # The kit's notebook changes (git pull): the copy follows, and the edited one is kept aside.
    make_kit(kit, "v2")
    notes = sync_notebooks(mine, source=kit)[1]
    assert any("05_sing.ipynb" in n and PREVIOUS in n for n in notes), notes
    assert json.loads((mine / "05_sing.ipynb").read_text()) == {"kit": "v2"}
    assert "mine" in (mine / PREVIOUS / "05_sing.ipynb").read_text()
    assert (mine / "README.md").read_text() == "read me"

    # An untouched copy is simply replaced; a file of the person's own with a kit name is left alone.
    make_kit(kit, "v3")
    assert sync_notebooks(mine, source=kit)[1] == ["updated 05_sing.ipynb (the kit's notebook changed)"]
    other = make_kit(tmp_path / "other")
    (other / "05_sing.ipynb").write_text("my own notebook")
    (other / ".sounds-kit-copies.json").unlink(missing_ok=True)
    sync_notebooks(other, source=kit)
    assert (other / "05_sing.ipynb").read_text() == "my own notebook"


def test_the_working_copies_live_in_the_git_ignored_work_folder():
    assert NOTEBOOKS_DIR == REPO / "notebooks"  # a checkout reads its own notebooks
    assert default_dir() == REPO / "work" / "notebooks"
    if shutil.which("git") and (REPO / ".git").exists():
        probe = "work/notebooks/05_sing.ipynb"
        assert subprocess.run(["git", "check-ignore", "-q", probe], cwd=REPO).returncode == 0


def committed_notebooks() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}


def code_cells(path) -> list[dict]:
    """The code cells of a notebook file, or none while it is missing or half written."""
    try:
        return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    except (OSError, ValueError, KeyError):
        return []


@pytest.mark.browser
@pytest.mark.slow
def test_the_printed_url_opens_the_sing_notebook_and_running_it_leaves_the_checkout_clean(tmp_path):
    require_browser()
    before = committed_notebooks()
    jupyter = tmp_path / "jupyter"
    env = dict(
        os.environ, CI="true", PYTHONUNBUFFERED="1", SOUNDS_KIT_WORKSHOP=str(tmp_path / "workshop"),
        JUPYTER_CONFIG_DIR=str(jupyter / "config"), JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(jupyter / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(jupyter / "workspaces"),
    )  # fmt: skip
    copies = tmp_path / "notebooks"  # the default, work/notebooks, is checked above; keep the developer's own
    cmd = [sys.executable, "-m", "sounds_kit.cli", "sing", "--no-browser", "--dir", str(copies), "--port", "18931"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    browser = None
    try:
        url, seen = None, []
        deadline = time.monotonic() + 180
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            seen.append(line)
            if m := URL_RE.search(line):
                url = m.group(1)
        assert url, "".join(seen)
        assert not any("/lab?token=" in line for line in seen), "Jupyter's own launcher URL was printed"

        browser = open_browser(tmp_path / "profile", viewport=(1200, 1000))
        browser.page.goto(url)
        run_all_cells(browser.page)
        tab = browser.page.locator(".jp-mod-current .lm-TabBar-tabLabel, .lm-TabBar-tab.jp-mod-current")
        assert "05_sing.ipynb" in tab.first.inner_text()
        browser.page.locator(".sk-sing").wait_for(timeout=180_000)  # the widget is on the page
        # Every cell has run (no "[*]" prompt left, the kernel idle), then the notebook is saved with its
        # outputs. The prompts can read done while the kernel is still busy, and a save then writes the
        # notebook before its outputs (CI failed on that once): so save again until the file has them.
        browser.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-InputPrompt')].every(p => !p.textContent.includes('*'))"
            " && [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /\\bIdle\\b/.test(e.textContent))",
            timeout=300_000,
        )
        saved = copies / "05_sing.ipynb"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any(c.get("outputs") for c in code_cells(saved)):
            browser.page.keyboard.press("Control+s")
            wait = time.monotonic() + 20
            while time.monotonic() < wait and not any(c.get("outputs") for c in code_cells(saved)):
                time.sleep(0.5)
        save_screenshot(browser.page, "make-sing-notebook")
        cells = code_cells(saved)
        assert any(c.get("outputs") for c in cells)
        # It ran on its own, with a fresh workshop folder: the shipped instruments came with the kit.
        errors = [o for c in cells for o in c["outputs"] if o.get("output_type") == "error"]
        assert not errors, errors
    finally:
        if browser is not None:
            browser.close()
        proc.terminate()
        proc.wait(timeout=60)
    # Stopping the command stopped JupyterLab too: nothing answers on its port any more.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert not isinstance(refused.value, urllib.error.HTTPError), "JupyterLab still answers"
    assert committed_notebooks() == before, "running the sing notebook changed a committed notebook"
