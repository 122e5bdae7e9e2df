"""The shipped instruments: complete, small, documented, and they turn a singer into themselves.

Runs the stand-in singers (assets/singers, rendered Voice Oohs) through `sounds-kit transfer`, as a
person would, and checks that the instrument follows the singer's pitch.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sounds_kit.instrument.load import MODELS_DIR, SHIPPED

REPO = Path(__file__).resolve().parents[1]
SINGERS = sorted((REPO / "assets" / "singers").glob("*.wav"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instrument_is_complete_and_small(name):
    from sounds_kit.instrument.files import download_bytes

    model_dir = MODELS_DIR / name
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["name"] == name
    assert meta["stats"]["fit"]["meanMidi"] > 40  # tone transfer has the instrument's range
    assert download_bytes(model_dir) <= 100 * 1024
    card = (model_dir / "model_card.md").read_text()
    for heading in ("## Data", "## Model", "## Metrics", "## Known limits"):
        assert heading in card
    assert "soundfont" in card.lower()  # says plainly what it was trained on
    assert (model_dir / "stats.json").exists()


@pytest.mark.parametrize("name", SHIPPED)
def test_transfer_follows_the_singer(name, tmp_path):
    from sounds_kit.data.audio_io import load_audio
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.evaluate.metrics import transfer_metrics

    assert SINGERS, "assets/singers/*.wav are missing"
    for singer in SINGERS:
        out = tmp_path / f"{name}-{singer.stem}.wav"
        done = subprocess.run(
            [sys.executable, "-m", "sounds_kit.cli", "transfer", str(singer), "--instrument", name, "-o", str(out)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        voice, output = load_audio(singer), load_audio(out)
        assert len(output) == len(voice)
        shift = int(re.search(r"octave shift ([+-]\d+)", done.stdout).group(1))
        # Against the voice moved by the fit's own shift, never folded: an octave jump counts in full.
        m = transfer_metrics(voice, output, octave_shift=shift, features=compute_features(voice))
        assert m["transfer_voiced_ratio"] > 0.8, (singer.name, m)
        assert m["transfer_pitch_median_cents"] <= 20.0, (singer.name, m)
        assert m["transfer_octave_jump_ratio"] <= 0.01, (singer.name, m)
        assert np.isfinite(output).all() and np.max(np.abs(output)) > 0.01


@pytest.mark.parametrize("name", SHIPPED)
def test_transfer_follows_the_singer_by_an_independent_reference(name):
    """librosa.pyin on the voice and on the output (not the kit's own tracker grading itself)."""
    from sounds_kit.data.audio_io import load_audio
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.evaluate.metrics import transfer_metrics
    from sounds_kit.instrument import load_instrument

    singer = SINGERS[SHIPPED.index(name) % len(SINGERS)]  # one clip each keeps pyin's cost down
    inst, voice = load_instrument(name), load_audio(singer)
    feats = compute_features(voice)
    controls = inst.controls(feats)
    output = inst.render_controls(controls, len(voice), room=True)  # as a person hears it
    m = transfer_metrics(voice, output, octave_shift=controls["octaves"], features=feats, reference="pyin")
    assert m["transfer_voiced_ratio"] > 0.9, (singer.name, m)
    assert m["transfer_octave_jump_ratio"] <= 0.01, (singer.name, m)
    assert m["transfer_pitch_outlier_ratio"] <= 0.05, (singer.name, m)
