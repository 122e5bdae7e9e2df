"""Test plumbing shared by the real-browser tests: a Jupyter server and Debian chromium.

The browser is Debian's chromium driven by Playwright's Python bindings; no browser is ever
downloaded. Requests to any host other than the local Jupyter server are recorded (and aborted)
so tests can assert the widget stays offline.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sounds_kit.browser.chromium import (  # noqa: F401 - the tests' one place to get a browser
    CHROMIUM_ARGS,
    Browser,
    chromium_path,
    free_port,
    open_browser,
)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SOUNDS_KIT_ARTIFACTS", REPO / "artifacts"))
JUPYTER_PYTHON_ENV = "SOUNDS_KIT_JUPYTER_PYTHON"
"""Names the Python whose Jupyter (and kernel) the browser tests drive; default: this one. test_packaging sets
it to a venv with the installed wheel, so the same tests run against the package a person installs."""


@dataclass
class JupyterServer:
    root: Path
    port: int
    token: str
    proc: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, notebook: str, workspace: str | None = None) -> str:
        """``workspace``: a fresh JupyterLab workspace, so a second browser on the same server does not
        reopen the first browser's notebooks (their widgets would match the same selectors)."""
        ws = f"/workspaces/{workspace}" if workspace else ""
        return f"{self.base}/lab{ws}/tree/{notebook}?token={self.token}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_jupyter(root: Path, app: str = "lab", extra_args: list[str] | None = None) -> JupyterServer:
    """Start JupyterLab (or Notebook 7 with app='notebook') on 127.0.0.1 and wait until it answers."""
    port, token = free_port(), secrets.token_hex(16)
    cfg = root / ".jupyter"
    for sub in ("config", "data", "runtime", "settings", "workspaces"):
        (cfg / sub).mkdir(parents=True, exist_ok=True)
    # No "Jupyter news?" toast over the widgets in screenshots.
    notif = cfg / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True, exist_ok=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(cfg / "config"),
        JUPYTER_RUNTIME_DIR=str(cfg / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(cfg / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(cfg / "workspaces"),
        PYTHONUNBUFFERED="1",
    )
    log = root / f"jupyter-{app}.log"
    args = [
        os.environ.get(JUPYTER_PYTHON_ENV) or sys.executable, "-m", "jupyter", app, "--no-browser",
        f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=", "--ServerApp.allow_root=True", *(extra_args or []),
    ]  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=root)
    server = JupyterServer(root, port, token, proc, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {app} exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"jupyter {app} did not start: {log.read_text()[-3000:]}")


def write_notebook(path: Path, cells: list[str]) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(nbformat.writes(nb))
    return path


def run_all_cells(page, timeout_ms: int = 120_000, app: str = "lab") -> None:
    """Wait for the kernel, then Run > Run All Cells (JupyterLab, or Notebook 7 with app='notebook')."""
    page.wait_for_selector(".jp-Notebook", timeout=timeout_ms)
    if app == "lab":
        # The status bar names the kernel and its state once the session is connected.
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=timeout_ms)
    else:
        # Notebook 7 has no status bar: the toolbar names the kernel once it is connected.
        page.locator(".jp-Toolbar").get_by_text("Python 3 (ipykernel)").first.wait_for(timeout=timeout_ms)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def wait_for_file(path: Path, timeout_s: float = 180.0) -> dict:
    """Wait for the kernel to write a JSON marker (written when the front end reported back)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return json.loads(path.read_text())
        time.sleep(0.25)
    raise TimeoutError(f"{path} was not written within {timeout_s:.0f} s")


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    return out


def require_browser() -> None:
    import pytest

    if chromium_path() is None:
        pytest.skip("Debian chromium is not installed")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")


# --- microphone ------------------------------------------------------------------------------


def fake_microphone_args(wav: Path) -> list[str]:
    """Chromium flags that grant the microphone and feed it ``wav`` (looped; absolute path)."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={Path(wav).resolve()}",
    ]


# A fake device exists, so getUserMedia fails for the permission (NotAllowedError), not for a missing mic.
DENY_MICROPHONE_ARGS = ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]


def pad_for_fake_microphone(src: Path, dst: Path, silence_s: float = 1.0) -> Path:
    """Copy a clip as 16-bit WAV with trailing silence: chromium loops the file with small glitches
    at each wrap, and the silence keeps a phrase from running into its own restart."""
    import numpy as np
    import soundfile as sf

    audio, sr = sf.read(str(src), dtype="float32", always_2d=True)
    audio = np.concatenate([audio.mean(axis=1), np.zeros(int(silence_s * sr), np.float32)])
    sf.write(str(dst), audio, sr, subtype="PCM_16")
    return dst


def open_browser_with_microphone(profile: Path, wav: Path, **kwargs) -> Browser:
    """A browser whose microphone plays ``wav``, already allowed."""
    extra = fake_microphone_args(wav) + list(kwargs.pop("extra_args", None) or [])
    return open_browser(profile, extra_args=extra, **kwargs)


def open_browser_denying_microphone(profile: Path, **kwargs) -> Browser:
    """A browser where the person has blocked the microphone for every site."""
    extra = DENY_MICROPHONE_ARGS + list(kwargs.pop("extra_args", None) or [])
    browser = open_browser(profile, extra_args=extra, **kwargs)
    browser.context.clear_permissions()
    return browser


# --- talking to the notebook's kernel directly ----------------------------------------------


class KernelProbe:
    """A second client on the notebook's kernel: runs Python there and returns JSON results.

    Widget state lives in the kernel; asking it directly is faster and sturdier than typing cells.
    Comm messages that this code triggers still reach the page (IOPub goes to every client).
    """

    def __init__(self, connection_file: Path):
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60.0) -> str:
        """Execute ``code``; return its stdout. Raises RuntimeError with the traceback on error."""
        out: list[str] = []
        error: list[str] = []

        def collect(msg):
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                error.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=collect, store_history=False)
        if error or reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel code failed:\n{code}\n{''.join(error)}")
        return "".join(out)

    def eval(self, expr: str, timeout: float = 60.0):
        """The JSON value of a Python expression in the kernel."""
        text = self.run(f"import json as _j\nprint(_j.dumps({expr}))", timeout=timeout)
        return json.loads(text.strip().splitlines()[-1])

    def wait_until(self, expr: str, timeout_s: float = 120.0, poll_s: float = 0.3):
        """Poll a Python expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = self.eval(expr)
            if value:
                return value
            time.sleep(poll_s)
        raise TimeoutError(f"{expr!r} stayed {value!r} for {timeout_s:.0f} s")

    def close(self) -> None:
        self.client.stop_channels()


def kernel_probe(server: JupyterServer, timeout_s: float = 120.0, exclude: set[str] | None = None) -> KernelProbe:
    """Connect to the newest running kernel of ``server`` (the notebook the test opened)."""
    runtime = server.root / ".jupyter" / "runtime"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = [p for p in runtime.glob("kernel-*.json") if p.name not in (exclude or set())]
        if files:
            return KernelProbe(max(files, key=lambda p: p.stat().st_mtime))
        time.sleep(0.3)
    raise TimeoutError(f"no kernel started under {runtime} within {timeout_s:.0f} s")


def save_element_screenshot(locator, name: str) -> Path:
    """A screenshot of one element (e.g. a widget), whatever the notebook's scroll position."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(out))
    return out


# A name that resolves to 127.0.0.1 but is not "localhost": the page is plain http on a "remote" host,
# which is not a secure context, so the browser withholds the microphone.
INSECURE_HOST = "sounds-kit.test"
INSECURE_HOST_ARGS = [f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1"]
# Jupyter refuses Host headers it does not know as local; this lets the test name in.
JUPYTER_INSECURE_HOST_ARGS = [f"--ServerApp.local_hostnames=['localhost', '{INSECURE_HOST}']"]
