"""The published page on an emulated phone, with and without a 4x CPU slowdown (Chrome DevTools
Protocol Emulation.setCPUThrottlingRate, a mid-range phone): first load to a ready instrument, the
render of a recorded take, and Live. Each rate gets a fresh browser profile (a cold load) and then a
reload (from the service worker's cache).

    .venv/bin/python benchmarks/publish_page.py [--live-seconds 15] [--rates 1 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from publish_browser import SiteServer, open_phone, record_take, samples, trait, wait_trait  # noqa: E402

from jupyter_browser import pad_for_fake_microphone  # noqa: E402
from sounds_kit.widgets.sing import SingWidget  # noqa: E402

SINGER = REPO / "assets" / "singers" / "voice_female.wav"


def timings(page) -> dict:
    return page.evaluate("() => ({ ...globalThis.soundsKitPage.host.timings })")


def one_rate(site_url: str, wav: Path, rate: float, live_s: float, tmp: Path, playwright) -> dict:
    browser = open_phone(tmp / f"profile-{rate}", wav, playwright=playwright)
    try:
        page = browser.page
        cdp = browser.context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        page.goto(site_url)
        wait_trait(page, "m.get('model_state') === 'ready'", 600_000)
        cold_ready = timings(page)["ready"]
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        wait_trait(page, "m.get('model_state') === 'ready'", 600_000)
        warm_ready = timings(page)["ready"]
        record_take(page, 7.0)
        render_ms = timings(page)["renderMs"]
        take_s = samples(page, "voice").size / 16000
        page.locator(".sk-switch", has_text="Live").tap()
        wait_trait(page, "m.get('live')", 30_000)
        page.wait_for_timeout(int(live_s * 1000))
        underruns, latency, stats = (trait(page, n) for n in ("live_underruns", "live_latency_ms", "live_stats"))
        page.locator(".sk-switch", has_text="Live").tap()
        return {
            "rate": rate, "backend": trait(page, "backend"), "cold_ready_ms": cold_ready, "warm_ready_ms": warm_ready,
            "take_s": take_s, "render_ms": render_ms, "live_s": live_s, "underruns": underruns,
            "latency_ms": latency, "live_stats": stats, "load": os.getloadavg()[0],
        }  # fmt: skip
    finally:
        browser.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", type=float, nargs="+", default=[1.0, 4.0])
    ap.add_argument("--live-seconds", type=float, default=15.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    report = SingWidget(instrument="bansuri", instruments=["bansuri"]).publish(tmp / "site")
    print("\n".join(report.lines()))
    wav = pad_for_fake_microphone(SINGER, tmp / "mic.wav")
    server = SiteServer(tmp / "site")
    rows = []
    try:
        with sync_playwright() as pw:
            for rate in args.rates:
                t0 = time.monotonic()
                rows.append(one_rate(server.url, wav, rate, args.live_seconds, tmp, pw))
                print(f"rate {rate:g}: {rows[-1]} ({time.monotonic() - t0:.0f} s)", flush=True)
    finally:
        server.stop()
    print("\n| CPU slowdown | backend | cold load to ready | reload (service worker) to ready | "
          "render of the take | x real time | Live underruns | Live latency | load avg |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['rate']:g}x | {r['backend']} | {r['cold_ready_ms'] / 1000:.1f} s "
              f"| {r['warm_ready_ms'] / 1000:.1f} s "
              f"| {r['render_ms']:.0f} ms for {r['take_s']:.1f} s | {r['take_s'] * 1000 / r['render_ms']:.1f}x "
              f"| {r['underruns']} in {r['live_s']:.0f} s | {r['latency_ms']:.0f} ms | {r['load']:.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
