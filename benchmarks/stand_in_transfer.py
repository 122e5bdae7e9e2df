"""Each stand-in voice through each shipped instrument, judged against the voice's MIDI truth.

    .venv/bin/python benchmarks/stand_in_transfer.py [--voices a,b] [--instruments bansuri,...] [--take 0]

The stand-in singer set (``sounds_kit/data/stand_in_singers.py``: choir, synth voice, voice oohs in
male and female ranges, breath, consonants, espeak-ng whispers, room, hum, a low mic, all together) is
rendered by fluidsynth with its MIDI truth, then turned into each instrument the way a user gets it
(``Instrument.transfer``: auto-fit, note gate, room on). The output's pitch is measured by librosa.pyin
(independent of the kit's tracker, hop 256 = every 4th kit frame) on the dry render, and compared with
the truth moved by the fit's own octave shift - nothing folded:

- **octave %**: frames where a note sounds (boundaries and decays excluded, as in the pitch benchmark)
  and the output is voiced more than 600 cents from the truth, over the note frames;
- **dropout %**: note frames where the output is not voiced;
- **phantom %**: rest frames (no note, no decay) where the output is voiced more than 600 cents from
  the last sung note (shifted): a note nobody sang; **high**: how many of those frames sit more than a
  fifth above the highest sung note - the squeaks of issue 12; **tail %**: rest frames voiced within
  600 cents of the last note (the instrument's 40 ms gate hold and 60 ms release, dry);
- **rest dB**: median loudness in the rests relative to the 95th percentile of the note frames, of
  the output in its room minus the voice's (the rest test asserts <= +6 dB).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sounds_kit.conventions import F0_MAX_HZ, F0_MIN_HZ, HOP_SIZE, SAMPLE_RATE
from sounds_kit.data.stand_in_singers import VOICE_TYPES, render_stand_in
from sounds_kit.dsp.features import compute_features, compute_loudness
from sounds_kit.instrument.load import SHIPPED, load_instrument

ROOT = Path(__file__).resolve().parent.parent
STEP = 4  # pyin hop = 4 kit frames


def pyin(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    f0, flag, _ = librosa.pyin(audio.astype(np.float64), fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=SAMPLE_RATE,
                               frame_length=1024, hop_length=HOP_SIZE * STEP, center=True)  # fmt: skip
    loud = compute_loudness(audio)[::STEP][: len(f0)]
    f0 = np.nan_to_num(f0[: len(loud)], nan=0.0)
    return f0, flag[: len(loud)] & (loud > -60.0) & (f0 > 0)


def score(clip, inst) -> dict:
    feats = compute_features(clip.audio)
    octaves = int(inst.controls(feats)["octaves"])
    dry = inst.transfer(clip.audio, features=feats, room=False)
    wet = inst.transfer(clip.audio, features=feats)
    f0, voiced = pyin(dry)
    n = len(f0)
    truth = clip.f0_hz[::STEP][:n] * 2.0**octaves
    keep = ~clip.excluded[::STEP][:n]
    note, rest = keep & (truth > 0), keep & (truth <= 0)
    cents = 1200 * np.abs(np.log2(np.maximum(f0, 1e-9) / np.maximum(truth, 1e-9)))
    # The last sung note (shifted) at every frame: a rest voiced near it is the note's release or room
    # tail; voiced far from it, a note nobody sang.
    idx = np.maximum.accumulate(np.where(truth > 0, np.arange(n), 0))
    last = np.where(truth[idx] > 0, truth[idx], np.inf)
    with np.errstate(divide="ignore"):  # before the first note there is no last note: infinitely far
        from_last = 1200 * np.abs(np.log2(np.maximum(f0, 1e-9) / last))
    phantom = rest & voiced & (from_last > 600)
    tail = rest & voiced & (from_last <= 600)
    high = phantom & (f0 > truth.max() * 1.5)

    def rest_level(audio: np.ndarray) -> float:
        loud = compute_loudness(audio)[::STEP][:n]
        return float(np.median(loud[rest]) - np.percentile(loud[note], 95))

    return {
        "octave_shift": octaves,
        "octave_pct": 100 * float(np.mean((note & voiced & (cents > 600))[note])),
        "dropout_pct": 100 * float(np.mean(~voiced[note])),
        "median_cents": float(np.median(cents[note & voiced])) if (note & voiced).any() else float("nan"),
        "phantom_pct": 100 * float(phantom.sum() / max(rest.sum(), 1)),
        "tail_pct": 100 * float(tail.sum() / max(rest.sum(), 1)),
        "phantom_high": int(high.sum()),
        "rest_db": rest_level(wet) - rest_level(clip.audio),
        "rest_db_dry": rest_level(dry) - rest_level(clip.audio),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", help="comma-separated voice types (default: all)")
    parser.add_argument("--instruments", default=",".join(SHIPPED))
    parser.add_argument("--take", type=int, default=0)
    parser.add_argument("--cache", default=str(ROOT / "work" / "stand-ins"))
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    voices = args.voices.split(",") if args.voices else list(VOICE_TYPES)
    instruments = {name: load_instrument(name) for name in args.instruments.split(",")}
    rows, t0 = [], time.perf_counter()
    head = ["voice type", "instrument", "octave %", "dropout %", "median cents", "phantom %", "high", "tail %",
            "rest dB (room)", "rest dB (dry)"]  # fmt: skip
    print("| " + " | ".join(head) + " |\n" + "| --- " * len(head) + "|")
    for voice in voices:
        clip = render_stand_in(voice, cache_dir=args.cache, take=args.take)
        for name, inst in instruments.items():
            r = {"voice": voice, "instrument": name, "seconds": clip.seconds, **score(clip, inst)}
            rows.append(r)
            cells = [voice, name, f"{r['octave_pct']:.2f}", f"{r['dropout_pct']:.1f}", f"{r['median_cents']:.1f}",
                     f"{r['phantom_pct']:.2f}", str(r["phantom_high"]), f"{r['tail_pct']:.1f}", f"{r['rest_db']:+.1f}",
                     f"{r['rest_db_dry']:+.1f}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |", flush=True)
    worst = {k: max(r[k] for r in rows) for k in ("octave_pct", "phantom_pct", "phantom_high", "rest_db")}
    print(f"\nworst over {len(rows)} pairs: {json.dumps({k: round(v, 3) for k, v in worst.items()})}; "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
