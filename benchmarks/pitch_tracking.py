"""Pitch tracking on the stand-in singer set against its MIDI truth: the kit's tracker beside librosa.pyin.

    .venv/bin/python benchmarks/pitch_tracking.py [--take 0] [--voices choir_aahs_male,room] [--no-pyin] [--js]

Per voice type (sounds_kit/data/stand_in_singers.py; rendered with fluidsynth and espeak-ng, cached under
work/stand-ins) and tracker: gross error rate, its octave-or-worse and phantom parts, median cents,
voicing recall and false-alarm rate, as defined in sounds_kit/evaluate/pitch_scores.py (frames within 20 ms of
a note boundary and the decays of notes into rests are left out, for every tracker alike), and speed
in x real time of CPU time on one core (BLAS/numba threads pinned to one).

Trackers: ``kit`` (sounds_kit.dsp.features.compute_f0, voiced = confidence >= VOICED_CONFIDENCE);
``kit-before`` (the kit's tracker at 9e696c4, before issue 12: YIN's first dip under 0.15 on the same difference
function, voiced = 1 - cmnd >= 0.5 and loudness >= -60 dB); ``pyin`` (librosa.pyin, 65-2000 Hz,
frame 1024, hop 64, its own voicing); ``pyin-gated`` (pyin's frames, voiced only where the kit's
loudness is >= -60 dB: pyin holds notes into digital silence, which this forgives it); ``swift-f0`` (a
neural peer, ONNX weights in its PyPI package, when installed: ``pip install swift-f0``; 16 ms frames mapped
to the nearest frame here, voiced = its confidence >= 0.5, ~176 ms of look-ahead when streamed).
``--js`` adds the speed of the browser's tracker (widgets/src/dsp/features.js under Node) on the same audio.

Prints a table, then one ``RESULT {json}`` line per voice type and tracker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

from sounds_kit.conventions import F0_MAX_HZ, F0_MIN_HZ, HOP_SIZE, SAMPLE_RATE, VOICED_LOUDNESS_DB  # noqa: E402
from sounds_kit.data.stand_in_singers import VOICE_TYPES, render_stand_in  # noqa: E402
from sounds_kit.dsp import features as F  # noqa: E402
from sounds_kit.evaluate.pitch_scores import pooled, score  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OLD_YIN_THRESHOLD = 0.15


def kit(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f0, conf = F.compute_f0(audio)
    return f0, conf >= 0.5


def kit_yin_before(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kit's tracker at 9e696c4: YIN's first dip under 0.15 (else the global minimum), refined as now."""
    from numpy.lib.stride_tricks import sliding_window_view

    audio = np.asarray(audio, np.float32)
    total = F.n_frames(len(audio))
    loud = F.compute_loudness(audio)
    region = F._region(audio, -F.YIN_LEFT, (total - 1) * HOP_SIZE + F.YIN_LENGTH - F.YIN_LEFT)
    rows = sliding_window_view(region, F.YIN_LENGTH)[::HOP_SIZE][:total]
    f0, voiced = np.zeros(total), np.zeros(total, bool)
    for i0 in range(0, total, 1024):
        energy0, energy, spec = F._lag_spectrum(rows[i0 : i0 + 1024])
        diff, cmnd = F._difference_rows(energy0, energy, spec)
        search = cmnd[:, F.TAU_MIN : F.TAU_MAX + 1]
        below = search < OLD_YIN_THRESHOLD
        first = np.argmax(below, axis=-1)
        stops = np.concatenate([search[:, 1:] >= search[:, :-1], np.ones((len(search), 1), bool)], axis=-1)
        stops &= np.arange(search.shape[1]) >= first[:, None]
        pick = np.where(below.any(axis=-1), np.argmax(stops, axis=-1), np.argmin(search, axis=-1)) + F.TAU_MIN
        tau = F._refine_lags(diff, spec, pick)
        f0[i0 : i0 + len(pick)] = np.clip(SAMPLE_RATE / tau, F0_MIN_HZ, F0_MAX_HZ)
        voiced[i0 : i0 + len(pick)] = 1.0 - cmnd[np.arange(len(pick)), pick] >= 0.5
    return f0, voiced & (loud >= VOICED_LOUDNESS_DB)


def pyin(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    f0, voiced, _ = librosa.pyin(
        np.asarray(audio, np.float64), fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=SAMPLE_RATE, frame_length=1024,
        hop_length=HOP_SIZE,
    )  # fmt: skip
    return np.nan_to_num(f0), voiced


def swift_f0_tracker():
    """swift-f0 as a tracker at the kit's frame rate, or None when the package is not installed."""
    try:
        from swift_f0 import SwiftF0
    except ImportError:
        return None
    model = SwiftF0(threads=1)

    def track(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = model.detect(np.asarray(audio, np.float32), SAMPLE_RATE, fmin=F0_MIN_HZ, fmax=F0_MAX_HZ)
        times = np.arange(F.n_frames(len(audio))) * HOP_SIZE / SAMPLE_RATE
        stamps = result.timestamps
        right = np.clip(np.searchsorted(stamps, times), 0, len(stamps) - 1)
        left = np.maximum(right - 1, 0)
        nearest = np.where(np.abs(stamps[left] - times) <= np.abs(stamps[right] - times), left, right)
        return result.pitch_hz[nearest], result.confidence[nearest] >= 0.5

    return track


def js_speed(clips: list[np.ndarray]) -> float:
    """x real time of widgets/src/dsp/features.js computeFeatures (Node, one thread) over the clips."""
    script = ROOT / "benchmarks" / "pitch_tracking_js.mjs"
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, audio in enumerate(clips):
            paths.append(Path(tmp) / f"{i}.f32")
            np.asarray(audio, "<f4").tofile(paths[-1])
        out = subprocess.run(["node", str(script), *map(str, paths)], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout)["x_real_time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--take", type=int, default=0, help="which take of the set (0 = the benchmark's)")
    parser.add_argument("--voices", default="", help="comma-separated voice types (default: all)")
    parser.add_argument("--cache", default=str(ROOT / "work" / "stand-ins"))
    parser.add_argument("--no-pyin", action="store_true", help="skip librosa.pyin (~1-2 s of CPU per audio second)")
    parser.add_argument("--js", action="store_true", help="also time the JS tracker under Node")
    args = parser.parse_args()
    names = [v for v in args.voices.split(",") if v] or list(VOICE_TYPES)
    trackers = {"kit": kit, "kit-before": kit_yin_before}
    if not args.no_pyin:
        trackers["pyin"] = pyin
        pyin(np.zeros(SAMPLE_RATE // 4, np.float32))  # compile numba kernels before timing
    swift = swift_f0_tracker()
    if swift is not None:
        trackers["swift-f0"] = swift
        swift(np.zeros(SAMPLE_RATE // 4, np.float32))
    else:
        print("swift-f0 is not installed: its column is left out (pip install swift-f0)")
    kit(np.zeros(SAMPLE_RATE // 4, np.float32))

    results: dict[str, dict[str, dict]] = {t: {} for t in trackers}
    if "pyin" in trackers:
        results["pyin-gated"] = {}
    cpu: dict[str, float] = dict.fromkeys(results, 0.0)
    total_s = 0.0
    clips = []
    for name in names:
        clip = render_stand_in(name, args.cache, take=args.take)
        clips.append(clip.audio)
        total_s += clip.seconds
        loud = F.compute_loudness(clip.audio)
        for tname, fn in trackers.items():
            t0 = time.process_time()
            f0, voiced = fn(clip.audio)
            took = time.process_time() - t0
            cpu[tname] += took
            f0, voiced = f0[: len(clip.f0_hz)], voiced[: len(clip.f0_hz)]
            results[tname][name] = score(f0, voiced, clip.f0_hz, clip.excluded) | {"x_real_time": clip.seconds / took}
            if tname == "pyin":
                gated = voiced & (loud >= VOICED_LOUDNESS_DB)
                results["pyin-gated"][name] = score(f0, gated, clip.f0_hz, clip.excluded) | {"x_real_time": None}
        print(f"  {name}: {clip.seconds:.1f} s done", flush=True)
    for tname in results:
        results[tname]["all"] = pooled(list(results[tname].values())) | {
            "x_real_time": total_s / cpu[tname] if cpu[tname] else None
        }
    js = js_speed(clips) if args.js else None

    print(f"\nStand-in set take {args.take}: {len(names)} voice types, {total_s:.0f} s of audio")
    head = f"{'voice type':20s} {'tracker':11s} {'gross %':>8s} {'octave+ %':>9s} {'phantom %':>9s} "
    print(head + f"{'median c':>8s} {'recall %':>8s} {'f.alarm %':>9s} {'x rt':>6s}")
    for name in [*names, "all"]:
        for tname in results:
            s = results[tname][name]
            speed = f"{s['x_real_time']:6.1f}" if s.get("x_real_time") else "     -"
            print(
                f"{name:20s} {tname:11s} {100 * s['gross_error']:8.2f} {100 * s['octave_or_worse']:9.2f} "
                f"{100 * s['phantom']:9.2f} {s['median_cents']:8.1f} {100 * s['voicing_recall']:8.1f} "
                f"{100 * s['false_alarm']:9.1f} {speed}"
            )
    if js is not None:
        print(f"JS tracker (Node, computeFeatures): {js:.1f}x real time")
    for tname in results:
        for name, s in results[tname].items():
            print("RESULT " + json.dumps({"take": args.take, "tracker": tname, "voice": name, **s}))
    if js is not None:
        print("RESULT " + json.dumps({"take": args.take, "tracker": "kit-js", "voice": "all", "x_real_time": js}))


if __name__ == "__main__":
    main()
