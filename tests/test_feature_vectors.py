"""The committed JS parity vectors (widgets/test/vectors/features.json) match the Python features.

If this fails after a deliberate change to sounds_kit/dsp/features.py, regenerate the file with
``python tests/make_feature_vectors.py`` and make the JS (widgets/src/dsp/features.js) match again.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from make_feature_vectors import DEFAULT_PATH, decode_audio, make_signals
from sounds_kit.conventions import FRAME_RATE, HOP_SIZE, SAMPLE_RATE, n_frames
from sounds_kit.dsp.features import compute_features

REGENERATE = "stale vectors: run `python tests/make_feature_vectors.py` and rerun the JS tests"


@pytest.fixture(scope="module")
def vectors() -> dict:
    assert DEFAULT_PATH.exists(), REGENERATE
    return json.loads(DEFAULT_PATH.read_text())


def test_file_is_small_and_describes_the_conventions(vectors):
    assert DEFAULT_PATH.stat().st_size < 300_000
    assert (vectors["sample_rate"], vectors["hop_size"], vectors["frame_rate"]) == (
        SAMPLE_RATE,
        HOP_SIZE,
        FRAME_RATE,
    )


def test_signals_are_the_generated_ones(vectors):
    expected = make_signals()
    assert [e["name"] for e in vectors["signals"]] == [name for name, _, _ in expected], REGENERATE
    for entry, (_, _, audio) in zip(vectors["signals"], expected, strict=True):
        np.testing.assert_array_equal(decode_audio(entry), audio, err_msg=REGENERATE)


def test_stored_features_are_what_python_computes_now(vectors):
    for entry in vectors["signals"]:
        audio = decode_audio(entry)
        feats = compute_features(audio)
        n = n_frames(len(audio))
        for key in ("f0_hz", "f0_confidence", "loudness_db"):
            assert len(entry[key]) == n, f"{entry['name']} {key}: {REGENERATE}"
        stored_f0 = np.asarray(entry["f0_hz"])
        np.testing.assert_allclose(feats["f0_hz"], stored_f0, rtol=1e-5, atol=1e-3, err_msg=REGENERATE)
        np.testing.assert_allclose(feats["f0_confidence"], entry["f0_confidence"], atol=1e-5, err_msg=REGENERATE)
        np.testing.assert_allclose(feats["loudness_db"], entry["loudness_db"], atol=1e-4, err_msg=REGENERATE)


def test_vectors_exercise_voiced_unvoiced_and_silent_frames(vectors):
    conf = np.concatenate([e["f0_confidence"] for e in vectors["signals"]])
    loud = np.concatenate([e["loudness_db"] for e in vectors["signals"]])
    assert (conf > 0.9).sum() > 300  # plenty of voiced frames for the 1-cent f0 check
    assert ((conf < 0.5) & (loud > -60)).sum() > 20  # loud but unvoiced (noise)
    assert (loud == -80).sum() > 20  # digital silence
