"""Decoders: output shapes and ranges, causality and receptive field, parameter counts, config JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sounds_kit.model.decoders import DecoderConfig, parameter_count, receptive_field

tf = pytest.importorskip("tensorflow")
from sounds_kit.model.decoders import build_decoder  # noqa: E402

SMALL_CNN = DecoderConfig(type="cnn", width=16, depth=3, kernel=3, n_harmonics=10, n_noise_bands=6)
SMALL_GRU = DecoderConfig(type="gru", width=12, depth=2, n_harmonics=10, n_noise_bands=6)


def inputs(rng, b=2, t=50):
    return (
        rng.uniform(0.3, 0.7, (b, t, 1)).astype(np.float32),
        rng.uniform(0.0, 1.0, (b, t, 1)).astype(np.float32),
    )


@pytest.mark.parametrize("config", [SMALL_CNN, SMALL_GRU], ids=["cnn", "gru"])
def test_output_shapes_and_range(config):
    out = build_decoder(config)(*inputs(np.random.default_rng(0), b=3, t=40))
    assert out["amplitude"].shape == (3, 40, 1)
    assert out["harmonic_distribution"].shape == (3, 40, 10)
    assert out["noise_magnitudes"].shape == (3, 40, 6)
    for v in out.values():
        assert np.all((v.numpy() >= 1e-7) & (v.numpy() <= 2.0 + 1e-6))


@pytest.mark.parametrize("config", [SMALL_CNN, SMALL_GRU], ids=["cnn", "gru"])
def test_controls_work_frame_by_frame(config):
    """Stage 2 crops between ``features`` and ``controls``: cropping first must give the crop of the
    whole decoder's output (``controls`` may not mix frames)."""
    import tensorflow as tf

    decoder = build_decoder(config)
    f0, loudness = inputs(np.random.default_rng(4), b=2, t=60)
    whole = decoder(f0, loudness)
    features = decoder.features(f0, loudness)
    for frames in (slice(0, 60), slice(17, 41), slice(59, 60)):
        part = decoder.controls(tf.constant(features.numpy()[:, frames]))
        for name, value in whole.items():
            np.testing.assert_allclose(part[name].numpy(), value.numpy()[:, frames], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("config", [SMALL_CNN, SMALL_GRU], ids=["cnn", "gru"])
def test_future_input_does_not_change_past_outputs(config):
    rng = np.random.default_rng(1)
    f0, loud = inputs(rng, b=1, t=60)
    decoder = build_decoder(config)
    before = decoder(f0, loud)
    f0b, loudb = f0.copy(), loud.copy()
    f0b[:, 30:] += 0.2
    loudb[:, 30:] = rng.uniform(0, 1, (1, 30, 1))
    after = decoder(f0b, loudb)
    for key in before:
        np.testing.assert_array_equal(before[key].numpy()[:, :30], after[key].numpy()[:, :30])
        assert not np.allclose(before[key].numpy()[:, 30:], after[key].numpy()[:, 30:])


def test_cnn_receptive_field_is_exact():
    config = DecoderConfig(type="cnn", width=8, depth=3, kernel=3, dilations=[1, 2, 4], n_harmonics=4, n_noise_bands=2)
    rf = receptive_field(config)
    assert rf == 1 + 2 * (1 + 2 + 4) == 15
    decoder = build_decoder(config)
    f0, loud = inputs(np.random.default_rng(2), b=1, t=60)
    base = decoder(f0, loud)["amplitude"].numpy()[0, :, 0]
    bumped = loud.copy()
    bumped[0, 10] += 0.5
    changed = np.flatnonzero(decoder(f0, bumped)["amplitude"].numpy()[0, :, 0] != base)
    assert changed.min() == 10 and changed.max() == 10 + rf - 1


def test_parameter_counts():
    w, k, depth, n_out = 16, 3, 3, 1 + 10 + 6
    cnn = 2 * w + w + depth * (k * w * w + w) + (depth + 1) * 2 * w + w * n_out + n_out
    assert parameter_count(build_decoder(SMALL_CNN)) == cnn
    g = 12
    gru = 2 * g + g + 2 * g * 3 * g + 3 * g + 1 * (g * g + g) + g * n_out + n_out
    assert parameter_count(build_decoder(SMALL_GRU)) == gru
    assert 10_000 < parameter_count(build_decoder(DecoderConfig())) < 200_000  # the default stays small


def test_config_json_round_trip_and_validation(tmp_path):
    config = DecoderConfig(type="gru", width=32, reverb=True)
    config.save(tmp_path / "decoder.json")
    loaded = DecoderConfig.load(tmp_path / "decoder.json")
    assert loaded == config
    assert set(json.loads((tmp_path / "decoder.json").read_text())) == {
        "type",
        "width",
        "depth",
        "kernel",
        "dilations",
        "n_harmonics",
        "n_noise_bands",
        "reverb",
        "reverb_seconds",
    }
    assert DecoderConfig(depth=4).dilations == [1, 2, 4, 8]
    with pytest.raises(ValueError):
        DecoderConfig(type="lstm")
    with pytest.raises(ValueError):
        DecoderConfig.from_dict({"type": "cnn", "colour": "red"})


def test_same_seed_same_weights_and_serving_signature():
    a, b = build_decoder(SMALL_CNN, seed=3), build_decoder(SMALL_CNN, seed=3)
    for va, vb in zip(a.trainable_variables, b.trainable_variables, strict=True):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    fn = a.serving_function()
    out = fn(f0_scaled=tf.zeros([1, 7, 1]), loudness_scaled=tf.zeros([1, 7, 1]))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "amplitude": (1, 7, 1),
        "harmonic_distribution": (1, 7, 10),
        "noise_magnitudes": (1, 7, 6),
    }


def test_importing_the_config_does_not_import_tensorflow():
    modules = "sounds_kit.model.decoders, sounds_kit.model.train, sounds_kit.model.run, sounds_kit.commands.train"
    code = f"import sys, {modules}; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
