"""A published site served on 127.0.0.1 and opened in Debian chromium as a phone (Pixel 7 emulation:
portrait viewport, touch, mobile user agent), for the publish tests and benchmark."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from jupyter_browser import fake_microphone_args
from sounds_kit.browser.chromium import free_port, open_browser

PHONE = "Pixel 7"


class SiteServer:
    """``python -m http.server`` on 127.0.0.1 for one site folder."""

    def __init__(self, site: Path):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1", "-d", str(site)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"the static server for {site} did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def open_phone(profile: Path, wav: Path | None = None, extra_args: list[str] | None = None, allowed_host="127.0.0.1",
               playwright=None):  # fmt: skip
    """A Browser (sounds_kit.browser.chromium) emulating a phone; its microphone plays ``wav``.
    ``playwright``: a running instance to share (one sync instance per thread)."""
    from playwright.sync_api import sync_playwright

    pw = playwright or sync_playwright().start()
    device = {k: v for k, v in pw.devices[PHONE].items() if k != "default_browser_type"}
    args = (fake_microphone_args(wav) if wav else []) + list(extra_args or [])
    browser = open_browser(profile, allowed_host=allowed_host, extra_args=args, playwright=pw, context_options=device)
    browser.owns_playwright = playwright is None
    browser.requests = []
    browser.page.on("request", lambda r: browser.requests.append(r.url))
    return browser


def trait(page, name: str):
    return page.evaluate(f"() => globalThis.soundsKitPage && globalThis.soundsKitPage.model.get({name!r})")


def wait_trait(page, expr: str, timeout_ms: int = 180_000) -> None:
    """Wait until ``expr`` (JS, with ``m`` the page's model) is true. Polled from Python: the page's
    Content-Security-Policy forbids the eval that Playwright's wait_for_function uses."""
    fn = f"() => {{ const p = globalThis.soundsKitPage; if (!p) return false; const m = p.model; return !!({expr}); }}"
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(fn):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expr} not true after {timeout_ms / 1000:.0f} s; status: {trait(page, 'status')}")
        page.wait_for_timeout(200)


def samples(page, what: str) -> np.ndarray:
    """The page host's ``voice`` or ``output`` take as float32."""
    fn = (
        f"() => {{ const a = globalThis.soundsKitPage.host.{what};"
        " const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = '';"
        " for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192));"
        " return btoa(s); }"
    )
    b64 = page.evaluate(fn)
    return np.frombuffer(base64.b64decode(b64), np.float32).copy()


def record_take(page, seconds: float) -> None:
    """Tap Record, let the fake microphone sing for ``seconds``, tap Stop, wait for the rendering."""
    page.locator(".sk-record").tap()
    wait_trait(page, "m.get('recording')", 30_000)
    page.wait_for_timeout(int(seconds * 1000))
    page.locator(".sk-record").tap()
    wait_trait(page, "!m.get('recording') && !!globalThis.soundsKitPage.host.output", 240_000)
