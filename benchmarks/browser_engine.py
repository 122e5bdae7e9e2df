"""Browser engine speed in headless Debian chromium: offline render per backend and the download size of an
instrument. (Live play runs in the audio thread without TF.js: benchmarks/live_latency.py.)

    .venv/bin/python benchmarks/browser_engine.py [MODEL_DIR]   (default: models/bansuri if shipped)
"""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_engine_parity_browser import sung_like  # noqa: E402

from sounds_kit.browser.engine_page import RENDER_JS, EnginePage, instrument_payload  # noqa: E402
from sounds_kit.instrument.files import browser_files, download_bytes  # noqa: E402


def model_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    shipped = REPO / "models" / "bansuri"
    if (shipped / "metadata.json").exists():
        return shipped
    import tensorflow as tf

    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.model.decoders import DecoderConfig, build_decoder

    cfg = DecoderConfig()
    dec = build_decoder(cfg)
    dec(tf.zeros([1, 4, 1]), tf.zeros([1, 4, 1]))
    return export_decoder(dec, cfg, Path(tempfile.mkdtemp()) / "default", name="default")


def main() -> None:
    mdir = model_dir()
    files = instrument_payload(browser_files(mdir))
    seconds = 20.0
    audio = sung_like(seconds)
    b64 = base64.b64encode(audio.tobytes()).decode()
    print(f"instrument: {mdir} ({download_bytes(mdir) / 1024:.1f} KB download)")
    with tempfile.TemporaryDirectory() as tmp:
        page = EnginePage(Path(tmp) / "profile")
        try:
            for backend in ("webgl", "wasm", "cpu"):
                args = {"backend": backend, "files": files, "audio": b64, "opts": {}}
                page.evaluate(RENDER_JS, args)  # warm-up: shader compilation, wasm instantiation
                runs = [page.evaluate(RENDER_JS, args)["ms"] for _ in range(3)]
                ms = float(np.median(runs))
                speed = seconds * 1000 / ms
                print(f"offline render {seconds:.0f} s on {backend:5s}: {ms:7.0f} ms = {speed:5.1f}x real time")
        finally:
            page.close()


if __name__ == "__main__":
    main()
