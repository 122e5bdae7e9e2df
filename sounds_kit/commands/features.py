"""``sounds-kit features AUDIO -o OUT.json``: f0, voicing confidence and loudness of a recording."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", help="audio file (wav/flac/ogg/mp3, any rate, any number of channels)")
    parser.add_argument("-o", "--output", required=True, help="JSON file to write")
    parser.add_argument("--plot", metavar="PNG", help="also save a plot of f0 and loudness")


def run(args: argparse.Namespace) -> int:
    import json
    import os
    from pathlib import Path

    import numpy as np

    from sounds_kit.conventions import FRAME_RATE, SAMPLE_RATE
    from sounds_kit.data.audio_io import load_audio
    from sounds_kit.dsp.features import compute_features, features_to_json

    audio = load_audio(args.audio)  # raises AudioError for corrupt, empty, silent or NaN input
    features = compute_features(audio)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"source": str(args.audio), "duration_s": len(audio) / SAMPLE_RATE, **features_to_json(features)}
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, out)  # no half-written JSON if interrupted

    voiced = features["f0_confidence"] > 0.5
    summary = f"{len(features['f0_hz'])} frames ({FRAME_RATE}/s), {voiced.mean() * 100:.0f}% voiced"
    if voiced.any():
        summary += f", median f0 {np.median(features['f0_hz'][voiced]):.1f} Hz"
    print(f"{out}: {summary}")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")  # files only: works without a display
        from sounds_kit.dsp.plots import plot_features

        fig = plot_features(features, audio=audio)
        plot = Path(args.plot)
        plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(plot, dpi=110)
        print(f"{plot}: plot saved")
    return 0
