"""The numpy decoder (what `load_instrument` plays, with no TensorFlow) against the TF decoder it mirrors.

Held to TensorFlow on the three shipped instruments (their float16 weights, real singer features and
random inputs) and on both decoder types with other shapes (a GRU, a CNN with kernel 4). TF computes in
float32, numpy in float64: the worst gap measured here was 5.1e-5 relative (one tiny noise magnitude of
1.8e-6 among 62k values; typically below 1e-5), so 2e-4 leaves room for other CPUs' float32 sums and
none for a wrong formula (a leaky slope or layer-norm epsilon off changes outputs by percents).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sounds_kit.errors import ModelFileError
from sounds_kit.instrument.load import MODELS_DIR, SHIPPED
from sounds_kit.instrument.numpy_decoder import NumpyDecoder, load_numpy_decoder, weight_shapes
from sounds_kit.model.decoders import DecoderConfig
from sounds_kit.shipped import singer_clips

RTOL = 2e-4
OTHER_SHAPES = [
    DecoderConfig(type="gru", width=24, depth=3, n_harmonics=10, n_noise_bands=6),
    DecoderConfig(type="cnn", width=16, depth=3, kernel=4, dilations=[1, 3, 5], n_harmonics=10, n_noise_bands=6),
]


def random_inputs(seed: int, frames: int = 1500, batch: int = 1):
    rng = np.random.default_rng(seed)
    f0 = rng.uniform(0.3, 0.8, (batch, frames, 1)).astype(np.float32)
    loud = rng.uniform(0.0, 1.0, (batch, frames, 1)).astype(np.float32)
    return f0, loud


def assert_same_controls(tf_out: dict, np_out: dict) -> None:
    assert set(tf_out) == set(np_out) == {"amplitude", "harmonic_distribution", "noise_magnitudes"}
    for key in tf_out:
        reference = np.asarray(tf_out[key], np.float64)
        assert np_out[key].shape == reference.shape, key
        np.testing.assert_allclose(np_out[key], reference, rtol=RTOL, atol=1e-9, err_msg=key)


def singer_inputs(inst) -> tuple[np.ndarray, np.ndarray]:
    """The decoder inputs a shipped instrument gets for a stand-in singer (fitted, filled, scaled)."""
    from sounds_kit.data.audio_io import load_audio
    from sounds_kit.dsp import controls as C
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.dsp.tone_fit import fit_features

    feats = compute_features(load_audio(singer_clips()[0]))
    fitted = fit_features(feats, inst.stats, auto_fit=True)
    f0 = C.fill_unvoiced(fitted["f0_hz"], feats["f0_confidence"])
    return (
        C.scale_f0(f0)[None, :, None].astype(np.float32),
        C.scale_loudness(fitted["loudness_db"])[None, :, None].astype(np.float32),
    )


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instruments_decode_as_in_tensorflow(name):
    pytest.importorskip("tensorflow")
    from sounds_kit.instrument.load import load_decoder_weights, load_instrument

    inst = load_instrument(name)
    assert isinstance(inst.decoder, NumpyDecoder)  # an export plays without TensorFlow
    meta = json.loads((MODELS_DIR / name / "metadata.json").read_text())
    assert meta["quantization"] == "float16"  # so the float16 path is the one checked here
    reference = load_decoder_weights(DecoderConfig.from_dict(meta["decoder"]), MODELS_DIR / name / "decoder.npz",
                                     meta["quantization"])  # fmt: skip
    for inputs in (singer_inputs(inst), random_inputs(seed=1)):
        assert_same_controls({k: v.numpy() for k, v in reference(*inputs).items()}, inst.decoder(*inputs))


@pytest.mark.parametrize("config", OTHER_SHAPES, ids=["gru", "cnn-kernel4"])
@pytest.mark.parametrize("quantization", ["none", "float16"])
def test_both_decoder_types_decode_as_in_tensorflow(config, quantization, tmp_path):
    pytest.importorskip("tensorflow")
    from sounds_kit.instrument.files import save_decoder_weights
    from sounds_kit.instrument.load import load_decoder_weights
    from sounds_kit.model.decoders import build_decoder

    save_decoder_weights(build_decoder(config, seed=3), tmp_path / "decoder.npz")
    reference = load_decoder_weights(config, tmp_path / "decoder.npz", quantization)
    ours = load_numpy_decoder(config, tmp_path / "decoder.npz", quantization)
    inputs = random_inputs(seed=2, frames=400, batch=2)
    assert_same_controls({k: v.numpy() for k, v in reference(*inputs).items()}, ours(*inputs))


@pytest.mark.parametrize("config", OTHER_SHAPES, ids=["gru", "cnn-kernel4"])
def test_the_future_never_changes_the_past(config):
    # Both types are causal, which the browser's streaming relies on.
    rng = np.random.default_rng(4)
    weights = {k: rng.normal(0, 0.3, shape) for k, shape in weight_shapes(config).items()}
    decoder = NumpyDecoder(config, weights)
    f0, loud = random_inputs(seed=5, frames=120)
    later_f0, later_loud = f0.copy(), loud.copy()
    later_f0[:, 60:] += 0.1
    later_loud[:, 60:] = rng.uniform(0, 1, (1, 60, 1))
    before, after = decoder(f0, loud), decoder(later_f0, later_loud)
    for key in before:
        np.testing.assert_array_equal(before[key][:, :60], after[key][:, :60])
        assert not np.allclose(before[key][:, 60:], after[key][:, 60:])


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    config = OTHER_SHAPES[1]
    shapes = weight_shapes(config)
    rng = np.random.default_rng(0)
    good = {k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()}

    np.savez(tmp_path / "missing.npz", **{k: v for k, v in good.items() if k != "head_w_0"})
    with pytest.raises(ModelFileError, match="do not match the decoder config"):
        load_numpy_decoder(config, tmp_path / "missing.npz")
    np.savez(tmp_path / "shape.npz", **{**good, "conv1_w_0": good["conv1_w_0"][:2]})
    with pytest.raises(ModelFileError, match="conv1_w_0 has shape"):
        load_numpy_decoder(config, tmp_path / "shape.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a readable decoder.npz"):
        load_numpy_decoder(config, tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="batch, frames, 1"):
        NumpyDecoder(config, good)(np.zeros((5, 1)), np.zeros((5, 1)))
