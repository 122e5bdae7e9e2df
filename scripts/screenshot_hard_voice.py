"""Screenshot the sing widget after a take of a hard stand-in voice (issue 12's "no stray dots" check).

Renders a stand-in from the kit's set (default "breath": Choir Aahs male and Synth Voice female with
breath between and under the notes), plays it as Chromium's fake microphone into the widget in
JupyterLab, records a take, and saves the widget to docs/images/sing-widget-<voice>.png. It also prints
how many of the take's pitched frames (what the trace draws) sit more than 600 cents from the MIDI
truth, using the same tracker as the widget.

    .venv/bin/python scripts/screenshot_hard_voice.py [--voice breath] [--seconds 8]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from jupyter_browser import (  # noqa: E402
    kernel_probe,
    open_browser_with_microphone,
    pad_for_fake_microphone,
    run_all_cells,
    save_element_screenshot,
    start_jupyter,
    write_notebook,
)
from sounds_kit.conventions import SAMPLE_RATE, is_voiced  # noqa: E402
from sounds_kit.data.stand_in_singers import render_stand_in  # noqa: E402
from sounds_kit.dsp.features import compute_features  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default="breath")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    stand_in = render_stand_in(args.voice, cache_dir=REPO / "work" / "stand-ins")
    n = int(args.seconds * SAMPLE_RATE)
    audio, truth = stand_in.audio[:n], stand_in.f0_hz[: n // 64 + 1]
    tmp = Path(tempfile.mkdtemp(prefix="sk-shot-"))
    clip = tmp / "voice.wav"
    sf.write(str(clip), audio, SAMPLE_RATE)
    wav = pad_for_fake_microphone(clip, tmp / "fake-mic.wav")

    (tmp / "lab").mkdir()
    server = start_jupyter(tmp / "lab")
    browser = open_browser_with_microphone(tmp / "profile", wav, viewport=(1200, 1300))
    try:
        code = "from sounds_kit import SingWidget\nw = SingWidget(instrument='shehnai', sa='C3', raga='bhupali')\nw"
        write_notebook(server.root / "sing.ipynb", [code])
        browser.page.goto(server.lab_url("sing.ipynb", workspace="shot"))
        run_all_cells(browser.page)
        kernel = kernel_probe(server)
        widget = browser.page.locator(".sk-sing")
        widget.wait_for(timeout=120_000)
        kernel.wait_until("'w' in globals() and w.model_state == 'ready'", timeout_s=180)
        browser.page.locator(".sk-record").click()
        kernel.wait_until("w.recording")
        browser.page.wait_for_timeout(int(args.seconds * 1000))
        browser.page.locator(".sk-record").click()
        kernel.wait_until("w.outputs_received >= 1", timeout_s=180)
        browser.page.wait_for_timeout(1500)  # let the trace and spectrograms draw
        out = REPO / "docs" / "images" / f"sing-widget-{args.voice}.png"
        shutil.copy(save_element_screenshot(widget, f"sing-widget-{args.voice}"), out)
        print(f"screenshot: {out}")
        kernel.close()
    finally:
        browser.close()
        server.stop()

    feats = compute_features(audio)
    m = min(len(truth), len(feats["f0_hz"]))
    pitched = is_voiced(feats["f0_confidence"][:m]) & (feats["f0_hz"][:m] > 0)
    f0, ref = feats["f0_hz"][:m][pitched], truth[:m][pitched]
    stray = (ref <= 0) | (np.abs(1200 * np.log2(np.maximum(f0, 1e-9) / np.maximum(ref, 1e-9))) > 600)
    print(f"voice={args.voice} pitched_frames={int(pitched.sum())} stray={int(stray.sum())} "
          f"({100 * stray.mean() if stray.size else 0:.2f}%: > 600 cents from the MIDI truth or where no note sounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
