"""Rests stay rests (the note gate) and the instrument plays in a room (switchable), for every shipped
instrument, on a stand-in singer with breath-like noise between phrases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from sounds_kit.conventions import FRAME_RATE, HOP_SIZE, SAMPLE_RATE, is_voiced
from sounds_kit.data.audio_io import load_audio
from sounds_kit.dsp.features import compute_features, compute_loudness
from sounds_kit.dsp.gate import gate_constants, note_gate
from sounds_kit.dsp.room import apply_room, room_ir
from sounds_kit.instrument.load import SHIPPED, load_instrument

REPO = Path(__file__).resolve().parents[1]
SINGERS = sorted((REPO / "assets" / "singers").glob("*.wav"))
NOISE_DBFS = -50.0  # breath and room noise, as a quiet room and a close microphone give


def _with_noise(voice: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = np.convolve(rng.standard_normal(len(voice)), np.ones(6) / 6, mode="same")  # breathy: low-passed
    return (voice + noise * 10 ** (NOISE_DBFS / 20) / noise.std()).astype(np.float32)


def _rest_frames(clean: np.ndarray) -> np.ndarray:
    """Frames at least 60 ms from any sung frame of the clean (noise-free) voice: the truth of the rests."""
    sung = compute_loudness(clean) > -70.0
    return ~binary_dilation(sung, iterations=int(0.06 * FRAME_RATE))


def _relative_rest_level(audio: np.ndarray, rests: np.ndarray, notes: np.ndarray) -> float:
    """Median loudness in the rests relative to the 95th percentile of the loud (sung) frames, dB."""
    loud = compute_loudness(audio)[: len(rests)]
    return float(np.median(loud[rests]) - np.percentile(loud[notes], 95))


def test_gate_holds_through_short_gaps_and_releases_in_rests():
    hold, release = gate_constants()
    conf = np.zeros(300)
    conf[10:50] = 0.9
    conf[50 : 50 + hold] = 0.1  # a consonant-length gap: the note goes on
    conf[50 + hold : 120] = 0.9
    gain, in_note = note_gate(conf)
    assert gain[:10].max() == 0.0  # a clip starts in a rest
    assert np.all(gain[10 : 120 + hold] == 1.0) and in_note[50 : 50 + hold].all()
    tail = gain[120 + hold :]
    assert np.all(np.diff(tail) < 0) and tail[0] == pytest.approx(release)  # fades, never jumps to 0
    assert tail[-1] < 1e-3


@pytest.mark.parametrize("name", SHIPPED)
def test_rests_of_the_voice_stay_rests_in_the_instrument(name):
    inst = load_instrument(name)
    for singer in SINGERS:
        clean = load_audio(singer)
        voice = _with_noise(clean)
        rests = _rest_frames(clean)
        notes = is_voiced(compute_features(clean)["f0_confidence"])
        assert rests.mean() > 0.05, "the stand-in singer needs rests for this test"
        out = inst.transfer(voice, room=False)
        ungated = inst.render_controls(inst.controls(compute_features(voice), gate=False), len(voice))
        voice_level = _relative_rest_level(voice, rests, notes)
        out_level = _relative_rest_level(out, rests, notes)
        # Never louder in the rests (relative to its own loud notes) than the voice is, by more than 6 dB.
        assert out_level <= voice_level + 6.0, (singer.name, out_level, voice_level)
        # And the gate is what does it: without it the decoder keeps sounding through the rests.
        assert out_level < _relative_rest_level(ungated, rests, notes) - 6.0, singer.name


def test_room_is_on_by_default_and_dry_is_dry():
    inst = load_instrument("bansuri")
    voice = load_audio(SINGERS[0])
    feats = compute_features(voice)
    wet = inst.transfer(voice, features=feats)
    dry = inst.transfer(voice, features=feats, room=False)
    np.testing.assert_allclose(wet, apply_room(dry), atol=1e-6)
    ir = room_ir()
    assert 0.3 * SAMPLE_RATE < len(ir) <= SAMPLE_RATE  # a short room, not a hall
    # The tail: after the last sung frame the room still rings for a while, the dry render does not.
    loud = compute_loudness(voice)
    last = int(np.flatnonzero(loud > -60)[-1]) * HOP_SIZE
    after = slice(last + 800, min(last + 3200, len(voice)))
    if after.stop - after.start > 400:
        assert np.std(wet[after]) > 2 * np.std(dry[after])


def test_room_impulse_response_is_deterministic_and_decays():
    ir = room_ir()
    assert np.array_equal(ir, room_ir())
    quarter = len(ir) // 4
    early, late = np.sum(ir[:quarter] ** 2), np.sum(ir[-quarter:] ** 2)
    assert late < early * 1e-3  # about 30 dB or more down by the end of the response
