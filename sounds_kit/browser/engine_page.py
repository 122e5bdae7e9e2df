"""A local page that loads the kit's bundle and exposes the browser engine as ``window.sk``.

Used by the notebooks' parity check, the parity tests and the benchmarks: Python hands audio and
instrument bytes to the page, the page runs the very engine the widget runs, and results come back as
plain lists.
"""

from __future__ import annotations

import base64
import functools
import http.server
import threading
from pathlib import Path

from sounds_kit.browser.chromium import free_port, open_browser

STATIC = Path(__file__).resolve().parents[1] / "static"

PAGE = """<!doctype html><meta charset="utf-8"><title>sounds-kit engine</title>
<script type="module">
import * as bundle from "./widget.js";
window.sk = bundle.engine;
window.skLive = bundle.live;
window.b64ToBytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
window.b64ToFloat32 = (s) => new Float32Array(window.b64ToBytes(s).buffer);
window.skReady = true;
</script>"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # quiet test output
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path in ("/", "/index.html"):
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


class EnginePage:
    """An HTTP server on 127.0.0.1 serving the bundle, and a chromium page on it."""

    def __init__(self, profile: Path, extra_args: list[str] | None = None, playwright: object | None = None):
        handler = functools.partial(_Handler, directory=str(STATIC))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        # One sync Playwright per thread: share a running one when the caller has it.
        self.browser = open_browser(profile, extra_args=extra_args, playwright=playwright)
        self.page = self.browser.page
        self.page.goto(self.url)
        self.page.wait_for_function("window.skReady === true", timeout=60_000)

    def evaluate(self, script: str, arg=None, timeout_ms: int = 600_000):
        self.page.set_default_timeout(timeout_ms)
        return self.page.evaluate(script, arg)

    def close(self) -> None:
        self.browser.close()
        self.httpd.shutdown()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def instrument_payload(files: dict[str, bytes]) -> dict[str, str]:
    return {name: b64(data) for name, data in files.items()}


# Loads an instrument on a backend and renders audio; returns features and output as lists.
RENDER_JS = """
async ({backend, files, audio, opts, f16}) => {
  if (f16) {
    await sk.loadBackendModule("webgl"); // the flag exists once the backend's module has loaded
    sk.tf.env().set("WEBGL_FORCE_F16_TEXTURES", true);
  }
  const engine = await sk.createEngine({ backend });
  const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
  const inst = await engine.loadInstrument(bytes);
  const input = b64ToFloat32(audio);
  const t0 = performance.now();
  const result = await inst.render(input, opts || {});
  const ms = performance.now() - t0;
  const out = {
    backend: engine.backend,
    notes: engine.notes,
    runtime: inst.runtime,
    ms,
    audio: Array.from(result.audio),
    f0Hz: Array.from(result.features.f0Hz),
    f0Confidence: Array.from(result.features.f0Confidence),
    loudnessDb: Array.from(result.features.loudnessDb),
    octaves: result.controls.octaves,
    numTensors: sk.tf.memory().numTensors,
  };
  inst.dispose();
  return out;
}
"""


# Tries to load an instrument; returns the error message (or null when it loaded).
LOAD_ERROR_JS = """
async ({files}) => {
  const engine = await sk.createEngine({ backend: "cpu" });
  const bytes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64ToBytes(v)]));
  try {
    const inst = await engine.loadInstrument(bytes);
    inst.dispose();
    return null;
  } catch (err) {
    return String(err.message || err);
  }
}
"""
