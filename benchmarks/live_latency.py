"""Live play, measured in the audio graph: input-to-output delay, misses, CPU, idle and with a busy page.

    .venv/bin/python benchmarks/live_latency.py [--seconds 60] [--model models/bansuri]
                                               [--paths worklet,main] [--loads idle,busy]

Headless Debian chromium's fake microphone plays tone bursts (a scale in the bansuri's range, 0.5 s
notes with vibrato and 0.3 s rests; padded with 1 s of silence, looped). For each live path and load,
the page records the microphone and the instrument side by side in one recorder worklet in the same
AudioContext (sounds_kit.browser.live_page), so their offset is the delay inside the graph. Paths:
``worklet`` (the whole instrument in the AudioWorklet) and ``off`` (no instrument, only the microphone
and the recorder: the baseline the CPU figures are compared with). The former main-thread path (blocks
to the page, TF.js decoder, blocks back through a ring buffer) was measured as the peer ``main`` by this
script up to commit 7f56766 (BENCHMARKS.md has that run); it no longer exists. Loads: ``idle`` (whatever
the machine is doing), ``busy`` (a 50 ms task on the page's main thread every 200 ms) and ``stall``
(the page's renderer process frozen by SIGSTOP for 150 ms at 10, 25 and 40 s: the audio thread
misses for sure; the figures show the misses counted and the delay unchanged afterwards).

Figures (one ``key=value`` line each):
  latency_ms          the delay the live chain adds: the recorded instrument against a zero-latency
                      render of the recorded voice (the same instrument in Python, output sample n
                      answering input sample n), aligned by their loudness contours (same attack in
                      both, so the attack cancels); median of 5 s windows (and their range)
  contour_delay_ms    how late the instrument's loudness contour follows the voice's (includes attack)
  onset_delay_ms      voice onset -> instrument within 20 dB of its note level (median over notes)
  underruns           render quanta that took longer to compute than they last (the worklet's misses)
  late                worklet: times the graph was pulled 20+ ms behind the wall clock (by this thread
                      or by the device's; headless chromium's fake output device runs on a timer)
  recorder_stalls     the same test on the recorder worklet, whose quanta take microseconds: what the
                      platform alone does to the audio thread (the peer for underruns)
  output_gaps         dropouts of the instrument inside sung notes, found in the recording
  input_dropouts      runs of missing microphone samples inside notes (the browser's capture)
  base/output/input_latency_ms   what the browser reports for the device side (not in the graph):
                      AudioContext.baseLatency/outputLatency, the microphone track's stats.latency
  audio_thread_cpu, main_thread_cpu   /proc CPU time of chromium's audio worklet thread and the page's
                      main thread, per second of wall time (share of one core); Live's own cost is
                      the difference to the ``off`` run
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import live_audio as la  # noqa: E402

from sounds_kit.browser.engine_page import EnginePage, instrument_payload  # noqa: E402
from sounds_kit.browser.live_page import LIVE_RUN_JS, RECORDER_SOURCE  # noqa: E402
from sounds_kit.instrument.files import browser_files  # noqa: E402

SR = 16000


def tone_bursts(seconds: float = 20.0) -> np.ndarray:
    """A major scale from C5, 0.5 s notes (vibrato, 5 harmonics) and 0.3 s rests."""
    t = np.arange(int(seconds * SR)) / SR
    scale = 523.25 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12]) / 12)
    f0 = scale[(t // 0.8).astype(int) % len(scale)] * 2 ** (0.2 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    tone = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6))
    on = (t % 0.8) < 0.5
    ramp = np.clip(np.minimum((t % 0.8) / 0.005, (0.5 - t % 0.8) / 0.005), 0, 1)  # 5 ms edges
    return (tone * on * ramp).astype(np.float32)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def browser_pid(profile: Path) -> int | None:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(b"--user-data-dir=") and a.endswith(str(profile).encode()) for a in cmd) and not any(
            a.startswith(b"--type=") for a in cmd
        ):
            return int(pid)
    return None


def thread_cpu(profile: Path) -> dict[tuple[str, int], float]:
    """CPU seconds so far, per thread, of the audio worklet thread ("audio") and the main thread
    ("main") of each renderer that has one."""
    tick = os.sysconf("SC_CLK_TCK")
    root = browser_pid(profile)
    out = {}
    for pid in _descendants(root) if root else []:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
            names = {int(t): Path(f"/proc/{pid}/task/{t}/comm").read_text().strip() for t in tids}
            if not any(n.startswith(("Realtime AudioW", "AudioWorklet")) for n in names.values()):
                continue
            for tid, name in names.items():
                if name.startswith(("Realtime AudioW", "AudioWorklet")) or tid == pid:
                    fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                    out[("audio" if tid != pid else "main", tid)] = (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return out


class CpuSampler(threading.Thread):
    """Samples thread_cpu every half second while a run plays (the threads exist only during it)."""

    def __init__(self, profile: Path):
        super().__init__(daemon=True)
        self.profile, self.first, self.last, self.stop = profile, {}, {}, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for key, cpu in thread_cpu(self.profile).items():
                self.first.setdefault(key, cpu)
                self.last[key] = cpu

    def totals(self) -> dict[str, float]:
        self.stop.set()
        self.join()
        out = {"audio": 0.0, "main": 0.0}
        for key, cpu in self.last.items():
            out[key[0]] += cpu - self.first[key]
        return out


def audio_renderer(profile: Path) -> int | None:
    """The renderer process running the audio worklet thread."""
    root = browser_pid(profile)
    for pid in _descendants(root) if root else []:
        try:
            names = [Path(f"/proc/{pid}/task/{t}/comm").read_text() for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            continue
        if any(n.startswith(("Realtime AudioW", "AudioWorklet")) for n in names):
            return pid
    return None


class Staller(threading.Thread):
    """Freezes the page's renderer (SIGSTOP) for `ms` at the given seconds into the run."""

    def __init__(self, profile: Path, at_s: tuple[float, ...] = (10.0, 25.0, 40.0), ms: float = 150.0):
        super().__init__(daemon=True)
        self.profile, self.at_s, self.ms, self.done = profile, at_s, ms, []

    def run(self) -> None:
        t0 = time.monotonic()
        for at in self.at_s:
            time.sleep(max(0.0, at - (time.monotonic() - t0)))
            pid = audio_renderer(self.profile)
            if pid is None:
                continue
            os.kill(pid, signal.SIGSTOP)
            time.sleep(self.ms / 1000)
            os.kill(pid, signal.SIGCONT)
            self.done.append(round(time.monotonic() - t0, 1))


def reference_render(model_dir: Path, voice: np.ndarray) -> np.ndarray:
    """The instrument offline in Python, dry, no auto-fit: output sample n answers input sample n."""
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.instrument.load import load_instrument

    inst = load_instrument(model_dir)
    controls = inst.controls(compute_features(voice), auto_fit=False)
    return inst.render_controls(controls, len(voice), reverb=False)


def analyse(run: dict, model_dir: Path, save: Path | None = None) -> dict:
    voice, played = la.f32(run["input"]), la.f32(run["output"])
    skip = SR  # the first second: start-up (warm-up, prefill), not steady play
    voice, played = voice[skip:], played[skip:]
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        name = f"{run['mode']}-{'busy' if run['busy'] else 'idle'}.wav"
        sf.write(str(save / name), np.stack([voice, played], axis=1), SR, subtype="FLOAT")
    if run["mode"] == "off":
        return {"recorded_s": len(voice) / SR, "notes": len(la.notes(voice)),
                "input_dropouts": la.input_dropouts(voice)}  # fmt: skip
    ref = reference_render(model_dir, voice)
    windows = la.windowed_system_delays_ms(played, ref)
    contour, corr = la.contour_delay_ms(voice, played)
    onsets = la.onset_delays_ms(voice, played)
    latency = float(np.median(windows)) if windows else float("nan")
    return {
        "latency_ms": latency,
        "latency_windows_ms": (min(windows), max(windows)) if windows else None,
        "contour_delay_ms": contour,
        "contour_correlation": corr,
        "onset_delay_ms": float(np.median(onsets)) if onsets else float("nan"),
        "notes": len(onsets),
        "output_gaps": la.output_gaps(voice, played, latency if np.isfinite(latency) else contour),
        "input_dropouts": la.input_dropouts(voice),
        "output_rms": float(np.sqrt(np.mean(played**2))),
        "recorded_s": len(voice) / SR,
    }


def report(path: str, load: str, run: dict, res: dict, cpu: dict, wall: float) -> None:
    print(f"path={path} load={load} recorded_s={res['recorded_s']:.1f} notes={res['notes']}")
    threads = f"  audio_thread_cpu={cpu['audio'] / wall:.4f}  main_thread_cpu={cpu['main'] / wall:.4f}"
    print(f"  recorder_stalls={run['recorderStalls']} (the recorder's own trivial quanta measured slower than"
          f" real time: the platform holding the audio thread; slowest {run['recorderMaxMs']} ms)")  # fmt: skip
    if path == "off":
        print(f"  input_dropouts={res['input_dropouts']}")
        print(f"{threads}  load_avg={os.getloadavg()[0]:.1f}")
        return
    lo_hi = res["latency_windows_ms"]
    spread = f" (5 s windows {lo_hi[0]:.2f}..{lo_hi[1]:.2f})" if lo_hi else ""
    print(f"  latency_ms={res['latency_ms']:.2f}{spread}")
    print(f"  contour_delay_ms={res['contour_delay_ms']:.1f} (r={res['contour_correlation']:.2f})"
          f"  onset_delay_ms={res['onset_delay_ms']:.1f}")  # fmt: skip
    if path == "worklet":
        f = run.get("figures") or {}
        print(f"  underruns={f.get('underruns')} (quanta computed slower than real time;"
              f" slowest {f.get('maxQuantumMs')} ms)  late={f.get('late')} (graph pulled 20+ ms late;"
              f" max {f.get('maxLateMs')} ms)")  # fmt: skip
        print(f"  output_gaps={res['output_gaps']}  input_dropouts={res['input_dropouts']}")
        print(f"  widget_delay_ms={f.get('measuredDelayMs')}  algorithm_ms={f.get('algorithmMs')}"
              f"  instrument_setup_ms={f.get('compileMs')} (in the audio thread, before playing)")  # fmt: skip
    print(f"  base_latency_ms={run['baseLatencyMs']:.1f}  output_latency_ms={run['outputLatencyMs']:.1f}"
          f"  input_latency_ms={run['inputLatencyMs']} (average; at the end {run['inputLatencyNowMs']})")  # fmt: skip
    print(f"{threads}  output_rms={res['output_rms']:.4f}  load_avg={os.getloadavg()[0]:.1f}")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "bansuri")
    ap.add_argument("--paths", default="off,worklet")
    ap.add_argument("--loads", default="idle,busy,stall")
    ap.add_argument("--save", type=Path, default=None, help="write each recording (voice, instrument) as a wav here")
    args = ap.parse_args()
    files = instrument_payload(browser_files(args.model))
    load = os.getloadavg()[0]
    print(f"instrument={args.model} seconds={args.seconds:.0f} cores={os.cpu_count()} load_avg={load:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "bursts.wav"
        sf.write(str(wav), np.concatenate([tone_bursts(), np.zeros(SR, np.float32)]), SR, subtype="PCM_16")
        profile = Path(tmp) / "profile"
        mic = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
               f"--use-file-for-fake-audio-capture={wav}"]  # fmt: skip
        page = EnginePage(profile, extra_args=mic)
        try:
            for path in args.paths.split(","):
                for load in args.loads.split(","):
                    opts = {"autoFit": False}
                    arg = {"mode": path, "busy": load == "busy", "seconds": args.seconds, "files": files,
                           "options": opts, "recorderSource": RECORDER_SOURCE}  # fmt: skip
                    sampler, t0 = CpuSampler(profile), time.monotonic()
                    sampler.start()
                    if load == "stall":
                        Staller(profile, tuple(t for t in (10.0, 25.0, 40.0) if t < args.seconds - 3)).start()
                    run = page.evaluate(LIVE_RUN_JS, arg, timeout_ms=int(1000 * (args.seconds + 240)))
                    cpu = sampler.totals()
                    report(path, load, run, analyse(run, args.model, args.save), cpu, time.monotonic() - t0)
        finally:
            page.close()


if __name__ == "__main__":
    main()
