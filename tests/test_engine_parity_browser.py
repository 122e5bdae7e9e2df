"""Python and the browser engine give the same features and the same audio, on every TF.js backend.

The same input goes through ``sounds_kit`` (numpy features, TF decoder, numpy synth) and through the
bundled JS engine in Debian chromium (JS features, TF.js decoder, JS synth). The noise table is seeded
identically in both, so the outputs must agree sample by sample.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from jupyter_browser import require_browser
from sounds_kit.conventions import is_voiced

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sung_like(seconds: float = 3.0, sr: int = 16000) -> np.ndarray:
    """A voice-like test signal: glide, vibrato, a rest, harmonics with a falling spectrum."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 196.0 * 2 ** (np.clip(t - 0.3, 0, 0.4) / 0.4 * 5 / 12) * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tone = sum(0.25 / k * np.sin(k * phase) for k in range(1, 12))
    # A 5 ms attack so that frame 0 is voiced: before the first voiced frame a stream holds a default
    # f0 while the offline path fills from the right, and that phase difference would last the clip.
    env = np.clip(np.minimum(t / 0.005, (seconds - t) / 0.05), 0, 1)
    env[(t > 1.6) & (t < 1.9)] = 0.0  # a rest: unvoiced frames in the middle
    rng = np.random.default_rng(0)
    return ((tone * env) + 0.002 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def instrument_dir(tmp_path_factory):
    import tensorflow as tf

    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.model.decoders import DecoderConfig, build_decoder

    # As many harmonics as noise bands: two outputs of one shape, where the converter's signature
    # falls back to node names (the export must still map them right, or the browser mixes them up).
    cfg = DecoderConfig(width=32, depth=4, n_harmonics=16, n_noise_bands=16)
    decoder = build_decoder(cfg, seed=3)
    decoder.head_b.assign(decoder.head_b + np.r_[1.5, np.zeros(cfg.n_harmonics + cfg.n_noise_bands)].astype("f4"))
    decoder(tf.zeros([1, 4, 1]), tf.zeros([1, 4, 1]))
    stats = {"fit": {"meanMidi": 67.0, "loudness": {"probs": [0.05, 0.25, 0.5, 0.75, 0.95],
                                                    "db": [-50.0, -35.0, -28.0, -22.0, -15.0]}}}  # fmt: skip
    return export_decoder(decoder, cfg, tmp_path_factory.mktemp("inst") / "parity", name="parity", stats=stats)


def snr_db(ref: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - got) ** 2), 1e-30)))


@pytest.mark.parametrize("backend", ["webgl", "wasm", "cpu"])
def test_browser_engine_matches_python(page, instrument_dir, backend):
    from sounds_kit.browser.engine_page import RENDER_JS, instrument_payload
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.instrument.files import browser_files
    from sounds_kit.instrument.load import load_instrument

    audio = sung_like()
    inst = load_instrument(instrument_dir)
    feats = compute_features(audio)
    expected = inst.transfer(audio, features=feats)

    got = page.evaluate(
        RENDER_JS,
        {
            "backend": backend,
            "files": instrument_payload(browser_files(instrument_dir)),
            "audio": base64.b64encode(audio.tobytes()).decode(),
            "opts": {},
        },
    )
    assert got["backend"] == backend, got["notes"]

    voiced = is_voiced(feats["f0_confidence"])
    assert voiced.sum() > 100
    cents = 1200 * np.abs(np.log2(np.asarray(got["f0Hz"])[voiced] / feats["f0_hz"][voiced]))
    assert np.max(cents) < 1.0, f"f0 differs by up to {np.max(cents):.3f} cents"
    assert np.max(np.abs(np.asarray(got["loudnessDb"]) - feats["loudness_db"])) < 0.1
    out = np.asarray(got["audio"], np.float32)
    assert out.shape == expected.shape
    assert np.max(np.abs(expected)) > 1e-3  # the comparison is not between two silences
    assert snr_db(expected, out) >= 40.0, f"{backend}: SNR {snr_db(expected, out):.1f} dB"


def test_float16_webgl_textures_keep_phase_over_a_minute(page, instrument_dir, tmp_path):
    """WEBGL_FORCE_F16_TEXTURES: the decoder runs in half precision, the phase stays float64 JS."""
    require_browser()
    from sounds_kit.browser.engine_page import RENDER_JS, EnginePage, instrument_payload
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.instrument.files import browser_files
    from sounds_kit.instrument.load import load_instrument

    sr, seconds = 16000, 60
    t = np.arange(sr * seconds) / sr
    f0 = 220.0 * 2 ** (0.2 / 12 * np.sin(2 * np.pi * 5 * t))
    audio = (0.3 * sum(np.sin(k * 2 * np.pi * np.cumsum(f0) / sr) / k for k in range(1, 6))).astype(np.float32)
    inst = load_instrument(instrument_dir)
    feats = compute_features(audio)
    expected = inst.transfer(audio, features=feats)

    # A fresh page: the float16 flag must be set before WebGL initialises.
    f16_page = EnginePage(tmp_path / "profile", playwright=page.browser.playwright)
    try:
        got = f16_page.evaluate(
            RENDER_JS,
            {"backend": "webgl", "f16": True, "files": instrument_payload(browser_files(instrument_dir)),
             "audio": base64.b64encode(audio.tobytes()).decode(), "opts": {}},
        )  # fmt: skip
        f16 = f16_page.evaluate("() => sk.tf.env().getBool('WEBGL_FORCE_F16_TEXTURES')")
    finally:
        f16_page.close()
    assert got["backend"] == "webgl" and f16
    out = np.asarray(got["audio"], np.float32)
    first, last = slice(sr, 6 * sr), slice(len(out) - 5 * sr, len(out))
    snr_first, snr_last = snr_db(expected[first], out[first]), snr_db(expected[last], out[last])
    # Half-precision controls cost some SNR, but a drifting phase would collapse it by the end.
    assert snr_first > 25.0 and snr_last > 25.0, (snr_first, snr_last)
    assert abs(snr_first - snr_last) < 6.0, (snr_first, snr_last)


def test_browser_refuses_tampered_or_mismatched_instruments(page, instrument_dir):
    import json

    from sounds_kit.browser.engine_page import LOAD_ERROR_JS, instrument_payload
    from sounds_kit.instrument.files import browser_files

    files = browser_files(instrument_dir)
    assert page.evaluate(LOAD_ERROR_JS, {"files": instrument_payload(files)}) is None

    shard = next(name for name in files if name.endswith(".bin"))
    tampered = dict(files, **{shard: bytes([files[shard][0] ^ 1]) + files[shard][1:]})
    msg = page.evaluate(LOAD_ERROR_JS, {"files": instrument_payload(tampered)})
    assert msg and "does not match its hash" in msg and shard in msg

    missing = {k: v for k, v in files.items() if k != "model.json"}
    assert "model.json is missing" in page.evaluate(LOAD_ERROR_JS, {"files": instrument_payload(missing)})

    meta = json.loads(files["metadata.json"])
    meta["conventions"]["sample_rate"] = 22050
    other_rate = dict(files, **{"metadata.json": json.dumps(meta).encode()})
    msg = page.evaluate(LOAD_ERROR_JS, {"files": instrument_payload(other_rate)})
    assert "sample_rate=22050" in msg and "re-export" in msg

    meta = json.loads(files["metadata.json"])
    meta["format_version"] = 99
    newer = dict(files, **{"metadata.json": json.dumps(meta).encode()})
    assert "format 99" in page.evaluate(LOAD_ERROR_JS, {"files": instrument_payload(newer)})
