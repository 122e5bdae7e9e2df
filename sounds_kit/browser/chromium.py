"""Debian chromium driven by Playwright (never a downloaded browser), with every off-host request
recorded and aborted, so callers can show a page stays offline.

Used by the notebooks' browser checks, the benchmarks and the tests.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--enable-unsafe-swiftshader",
    "--autoplay-policy=no-user-gesture-required",
]

def chromium_path() -> str | None:
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Browser:
    """A Playwright page in Debian chromium that records every off-host request."""

    playwright: object
    context: object
    page: object
    foreign_requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    owns_playwright: bool = True

    def close(self) -> None:
        self.context.close()
        if self.owns_playwright:
            self.playwright.stop()


def open_browser(
    profile: Path,
    allowed_host: str | tuple[str, ...] = "127.0.0.1",
    extra_args: list[str] | None = None,
    viewport: tuple[int, int] = (1200, 900),
    playwright: object | None = None,
) -> Browser:
    """``playwright``: an already started instance to share (a second sync instance cannot start
    while one is running in the same thread)."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Debian chromium is not installed (scripts/install-system-deps.sh installs it)")
    pw = playwright or sync_playwright().start()
    context = pw.chromium.launch_persistent_context(
        str(profile),
        executable_path=exe,
        headless=True,
        args=CHROMIUM_ARGS + list(extra_args or []),
        viewport={"width": viewport[0], "height": viewport[1]},
    )
    allowed = (allowed_host, "localhost") if isinstance(allowed_host, str) else (*allowed_host, "localhost")
    page = context.pages[0] if context.pages else context.new_page()
    browser = Browser(pw, context, page, owns_playwright=playwright is None)

    def guard(route, request):
        host = request.url.split("/")[2] if "://" in request.url else ""
        if request.url.startswith(("data:", "blob:")) or host.split(":")[0] in allowed:
            route.continue_()
        else:
            browser.foreign_requests.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda msg: browser.console.append(f"{msg.type}: {msg.text}"))
    return browser
