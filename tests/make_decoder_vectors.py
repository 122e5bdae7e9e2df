"""A GRU instrument and what TensorFlow computes with it: the test vector for the JS live decoder.

``python tests/make_decoder_vectors.py`` rewrites ``widgets/test/vectors/gru_decoder/``: a small
seeded GRU decoder exported exactly as ``sounds-kit export`` exports one (TF.js graph model, float16
weights), plus ``expected.json`` with the decoder's outputs in TensorFlow on a fixed input sequence.
``widgets/test/live_decoder.test.js`` holds the JS frame-by-frame decoder to it. (TF.js 4.22 itself
cannot run an exported GRU graph - its executor stops at the scan's while loop - so TensorFlow is
the reference for the GRU, and the offline engine runs a GRU on the same interpreter; the shipped CNN
instruments are checked against TF.js.) ``decoder.npz`` is kept too, so Python can play the vector.

The weights are rounded to float16 before export, so the float16 export loses nothing and
TensorFlow's float32 outputs are what the exported graph computes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

from sounds_kit.model.decoders import DecoderConfig, build_decoder

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "widgets" / "test" / "vectors" / "gru_decoder"
CONFIG = DecoderConfig(type="gru", width=16, depth=2, n_harmonics=12, n_noise_bands=8)
N_FRAMES = 300
SEED = 7


def input_sequence(n_frames: int = N_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """f0_scaled and loudness_scaled [T]: a glide with vibrato, notes and rests (float32)."""
    t = np.arange(n_frames)
    midi = 55 + 7 * np.clip((t - 40) / 80, 0, 1) + 0.4 * np.sin(2 * np.pi * t / 45)
    loud_db = np.where((t // 60) % 3 == 2, -80.0, -30.0 + 8 * np.sin(2 * np.pi * t / 70))
    return (midi / 127.0).astype(np.float32), (loud_db / 80.0 + 1.0).astype(np.float32)


def write_vectors(out_dir: str | Path = DEFAULT_DIR) -> Path:
    import tensorflow as tf

    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.instrument.files import WEIGHTS_FILE

    out_dir = Path(out_dir)
    decoder = build_decoder(CONFIG, seed=SEED)
    decoder(tf.zeros([1, 4, 1]), tf.zeros([1, 4, 1]))
    rng = np.random.default_rng(SEED)
    # Livelier heads than the quiet initialisation, so every output moves with the input.
    n_out = 1 + CONFIG.n_harmonics + CONFIG.n_noise_bands
    decoder.head_b.assign(rng.normal(0.0, 1.0, n_out).astype(np.float32))
    for v in decoder.trainable_variables:
        v.assign(v.numpy().astype(np.float16).astype(np.float32))
    f0, loud = input_sequence()
    outputs = decoder(tf.constant(f0[None, :, None]), tf.constant(loud[None, :, None]))
    tmp = out_dir.with_name(out_dir.name + ".export")
    shutil.rmtree(tmp, ignore_errors=True)
    export_decoder(decoder, CONFIG, tmp, name="gru-vector", quantize="float16")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.iterdir():
        old.unlink()
    meta = json.loads((tmp / "metadata.json").read_text())
    # decoder.npz too: with it the vector is a whole instrument Python can play (load_instrument).
    for name in ["metadata.json", *meta["files"], WEIGHTS_FILE]:
        shutil.copy(tmp / name, out_dir / name)
    shutil.rmtree(tmp)

    def flat(x) -> list[float]:
        return [float(f"{v:.8g}") for v in np.asarray(x, np.float64).ravel()]

    expected = {
        "description": "a sounds_kit GRU in TensorFlow on the inputs below (tests/make_decoder_vectors.py)",
        "n_frames": N_FRAMES,
        "f0_scaled": flat(f0),
        "loudness_scaled": flat(loud),
        **{k: flat(v.numpy()[0]) for k, v in outputs.items()},
    }
    (out_dir / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")
    return out_dir


if __name__ == "__main__":
    print(write_vectors(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR))
