"""The shipped instruments' decoder in numpy (what `load_instrument` plays) next to the same decoder in
TensorFlow, and what a `sounds-kit transfer` costs from a fresh process.

    .venv/bin/python benchmarks/decoder_speed.py [SECONDS]    (default 30 s of frames)

Decoder: median of 5 calls on random inputs of SECONDS * 250 frames, after one warm-up call; numpy, then
TF, instrument by instrument, so both see about the same load. Process: wall time of `sounds-kit transfer` of the
male stand-in singer (7.5 s) through the bansuri, and of `python -c "import tensorflow"` (what every
transfer paid before the numpy decoder), three runs each, interleaved.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sounds_kit.quiet import quiet_tensorflow

REPO = Path(__file__).resolve().parents[1]


def median_ms(fn, runs: int = 5) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def decoders(seconds: float) -> list[dict]:
    quiet_tensorflow()
    from sounds_kit.instrument.load import MODELS_DIR, SHIPPED, load_decoder_weights
    from sounds_kit.instrument.numpy_decoder import load_numpy_decoder
    from sounds_kit.model.decoders import DecoderConfig

    rng = np.random.default_rng(0)
    frames = int(seconds * 250)
    f0 = rng.uniform(0.3, 0.8, (1, frames, 1)).astype(np.float32)
    loud = rng.uniform(0.0, 1.0, (1, frames, 1)).astype(np.float32)
    rows = []
    for name in SHIPPED:
        meta = json.loads((MODELS_DIR / name / "metadata.json").read_text())
        config, weights = DecoderConfig.from_dict(meta["decoder"]), MODELS_DIR / name / "decoder.npz"
        ours = load_numpy_decoder(config, weights, meta["quantization"])
        tf_decoder = load_decoder_weights(config, weights, meta["quantization"])
        numpy_ms = median_ms(lambda d=ours: d(f0, loud))
        tf_ms = median_ms(lambda d=tf_decoder: d(f0, loud))
        rows.append({"instrument": name, "frames": frames, "numpy_ms": round(numpy_ms, 1), "tf_ms": round(tf_ms, 1)})
    return rows


def processes(runs: int = 3) -> dict:
    out = Path(tempfile.mkdtemp()) / "bansuri.wav"
    singer = REPO / "assets" / "singers" / "voice_male.wav"
    commands = {
        "sounds-kit transfer (numpy decoder)": [sys.executable, "-m", "sounds_kit.cli", "transfer", str(singer),
                                                "--instrument", "bansuri", "-o", str(out)],
        "python -c 'import tensorflow'": [sys.executable, "-c", "import tensorflow"],
    }  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):
        for label, cmd in commands.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times[label].append(time.perf_counter() - t0)
    return {k: round(float(np.median(v)), 2) for k, v in times.items()}


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    for row in decoders(seconds):
        print(json.dumps(row))
    print(json.dumps(processes()))
