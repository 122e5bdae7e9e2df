"""Export writes a TF.js graph model the browser can trust, and Python refuses damaged instruments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sounds_kit.errors import ModelFileError


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import tensorflow as tf

    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.model.decoders import DecoderConfig, build_decoder

    cfg = DecoderConfig(width=16, depth=3, n_harmonics=16, n_noise_bands=8)
    dec = build_decoder(cfg, seed=1)
    dec(tf.zeros([1, 4, 1]), tf.zeros([1, 4, 1]))
    out = tmp_path_factory.mktemp("exp") / "tiny"
    return export_decoder(dec, cfg, out, name="tiny", stats={"fit": None}), dec, cfg


def test_export_layout_metadata_and_ops(exported):
    from sounds_kit.instrument.export import graph_ops
    from sounds_kit.instrument.files import download_bytes
    from sounds_kit.model.decoders import parameter_count

    out, dec, cfg = exported
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["format"] == "sounds-kit-instrument" and meta["decoder"] == cfg.to_dict()
    assert set(meta["files"]) == {"model.json", "group1-shard1of1.bin"}
    assert meta["conventions"]["sample_rate"] == 16000
    model_json = json.loads((out / "model.json").read_text())
    ops = graph_ops(model_json)
    # Loop-free, FFT-free, and only ops every TF.js backend implements (wasm has no Einsum or FFT).
    assert not ops & {"While", "StatelessWhile", "TensorListReserve", "Einsum", "RFFT", "IRFFT", "Cumsum"}
    # float16 weights, no folded constants: the shard is the parameters at 2 bytes each (+ small consts).
    shard = (out / "group1-shard1of1.bin").stat().st_size
    assert parameter_count(dec) * 2 <= shard <= parameter_count(dec) * 2 + 512
    assert download_bytes(out) < 100_000


def test_python_instrument_matches_the_decoder(exported):
    import tensorflow as tf

    from sounds_kit.instrument.load import load_instrument

    out, dec, cfg = exported
    inst = load_instrument(out)
    x = tf.random.uniform([1, 50, 1], seed=1)
    ours, theirs = inst.decoder(x.numpy(), x.numpy()), dec(x, x)  # an export plays in numpy (numpy_decoder)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k].numpy(), rtol=2e-3, atol=1e-6)  # float16 weights


def test_damaged_instruments_are_refused(exported, tmp_path):
    import shutil

    from sounds_kit.instrument.files import browser_files
    from sounds_kit.instrument.load import load_instrument

    out, _, _ = exported
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    shard = bad / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    data[0] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="does not match its hash"):
        browser_files(bad)
    shard.unlink()
    with pytest.raises(ModelFileError, match="missing"):
        load_instrument(bad)
    with pytest.raises(ModelFileError, match="no instrument"):
        load_instrument(tmp_path / "nothing-here")
