"""Python vs the browser engine: render a voice in headless chromium and compare with Python."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sounds_kit.conventions import is_voiced

if TYPE_CHECKING:
    pass


def browser_unavailable() -> str | None:
    """Why the browser parity check cannot run here (None if it can): it needs Playwright's Python
    package, Debian chromium and the built widget bundle."""
    import importlib.util

    from sounds_kit.browser.chromium import chromium_path
    from sounds_kit.browser.engine_page import STATIC

    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python package is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "Debian chromium is not installed (scripts/install-system-deps.sh installs it)"
    if not (STATIC / "widget.js").is_file():
        return "the widget bundle is not built (make widget)"
    return None


def _in_browser(jobs: Sequence[tuple[str | Path, str]], audio: np.ndarray) -> list[dict]:
    """Render ``audio`` in headless chromium for each (MODEL_DIR, backend) job, on one page."""
    import base64
    from concurrent.futures import ThreadPoolExecutor

    from sounds_kit.instrument.files import browser_files

    reason = browser_unavailable()
    if reason:
        raise RuntimeError(f"no browser here: {reason}")
    payload_audio = base64.b64encode(np.ascontiguousarray(audio, dtype="<f4").tobytes()).decode("ascii")
    def run() -> list[dict]:
        # Playwright's sync API refuses to run on a thread that has an asyncio loop (the kernel's main
        # thread has one), so the browser is driven from a worker thread.
        from sounds_kit.browser.engine_page import RENDER_JS, EnginePage, instrument_payload

        page = EnginePage(Path(tempfile.mkdtemp(prefix="sounds-kit-chromium-")))
        try:
            out = []
            for model_dir, backend in jobs:
                args = {"backend": backend, "files": instrument_payload(browser_files(model_dir)),
                        "audio": payload_audio, "opts": {}}  # fmt: skip
                out.append(page.evaluate(RENDER_JS, args))
            return out
        finally:
            page.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def browser_render(model_dirs: Mapping[str, str | Path], audio: np.ndarray, backend: str = "wasm") -> dict:
    """What the browser engine plays for ``audio`` with each labelled instrument (auto-fit on):
    ``{label: float32 audio}``. Needs what :func:`browser_unavailable` checks."""
    results = _in_browser([(path, backend) for path in model_dirs.values()], audio)
    return {label: np.asarray(r["audio"], np.float32) for label, r in zip(model_dirs, results, strict=True)}


def snr_db(reference: np.ndarray, other: np.ndarray) -> float:
    """Signal-to-noise ratio of ``other`` against ``reference`` in dB (inf when identical)."""
    ref, out = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    if ref.shape != out.shape:
        return float("-inf")
    err = float(np.sum((ref - out) ** 2))
    return float("inf") if err == 0 else float(10 * np.log10(float(np.sum(ref**2)) / err))


def browser_parity(
    model_dir: str | Path, audio: np.ndarray, backends: Sequence[str] = ("wasm", "webgl", "cpu")
) -> dict:
    """Render ``audio`` (a voice, 16 kHz) with the instrument in Python and in the browser engine.

    The browser is headless Debian chromium driven by Playwright, on a local page serving the very
    bundle the widget uses (``tests/engine_page.py``); both sides use auto-fit. Returns ``table``: one
    row per backend (the backend that actually ran, SNR of browser vs Python audio in dB, the largest
    f0 and loudness differences of the browser's own feature analysis, render time), ``python``: the
    Python audio and ``browser``: the audio per backend.
    """
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.instrument.load import load_instrument

    audio = np.ascontiguousarray(audio, dtype=np.float32)
    feats = compute_features(audio)
    expected = load_instrument(model_dir).transfer(audio, features=feats)
    results = _in_browser([(model_dir, b) for b in backends], audio)
    voiced = is_voiced(feats["f0_confidence"])
    rows, rendered = [], {}
    for asked, got in zip(backends, results, strict=True):
        out = np.asarray(got["audio"], np.float32)
        f0 = np.asarray(got["f0Hz"], np.float64)[voiced]
        loud = np.asarray(got["loudnessDb"], np.float64)
        cents = 1200 * np.abs(np.log2(np.maximum(f0, 1e-9) / feats["f0_hz"][voiced])) if voiced.any() else [0.0]
        rows.append({
            "backend asked": asked,
            "backend used": got["backend"],
            "SNR vs Python (dB)": round(snr_db(expected, out), 1),
            "max f0 diff (cents)": round(float(np.max(cents)), 3),
            "max loudness diff (dB)": round(float(np.max(np.abs(loud - feats["loudness_db"]))), 3),
            "render (ms)": round(float(got["ms"])),
        })  # fmt: skip
        rendered[asked] = out
    return {"table": rows, "python": expected, "browser": rendered}


def table_html(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """A small HTML table (no pandas needed) for a list of dicts."""
    from IPython.display import HTML

    columns = list(columns or rows[0].keys()) if rows else []

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape(str(v))

    head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{fmt(r.get(c, ''))}</td>" for c in columns) + "</tr>"
                   for r in rows)  # fmt: skip
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
