"""The CLI without TensorFlow's start-up chatter (unless --verbose), and a clear word when an extra is missing.

The core-only install (no TensorFlow at all) is exercised for real in test_packaging.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sounds_kit.extras import EXTRAS, MissingExtraError, install_hint, require
from sounds_kit.shipped import singer_clips


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real training run dir (two steps of a small decoder on toy audio): playing it needs TensorFlow."""
    pytest.importorskip("tensorflow")
    from synthetic_instrument import toy_examples

    from sounds_kit.model.decoders import DecoderConfig
    from sounds_kit.model.train import TrainConfig, train

    run = tmp_path_factory.mktemp("run")
    decoder = DecoderConfig(width=8, depth=2, n_harmonics=8, n_noise_bands=4)
    train(toy_examples(4, seconds=1.0), run, TrainConfig(decoder=decoder, steps=2, batch_size=2), progress=False)
    return run


def transfer_through(run, tmp_path, *flags: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # TensorFlow's own default
    cmd = [sys.executable, "-m", "sounds_kit.cli", *flags, "transfer", str(singer_clips()[0]),
           "--instrument", str(run), "-o", str(tmp_path / "out.wav")]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_tensorflow_start_up_chatter_is_hidden(tiny_run, tmp_path):
    done = transfer_through(tiny_run, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == ""  # no CUDA probing, no absl banner, no oneDNN notice
    assert "written to" in done.stdout and (tmp_path / "out.wav").stat().st_size > 1000


def test_verbose_brings_the_chatter_back(tiny_run, tmp_path):
    done = transfer_through(tiny_run, tmp_path, "--verbose")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.strip(), "TensorFlow said nothing at start-up with --verbose"


def test_verbose_is_accepted_after_the_command_too():
    from sounds_kit.cli import build_parser

    assert build_parser("features").parse_args(["features", "a.wav", "-o", "f.json", "--verbose"]).verbose
    assert build_parser("features").parse_args(["--verbose", "features", "a.wav", "-o", "f.json"]).verbose
    assert not build_parser("features").parse_args(["features", "a.wav", "-o", "f.json"]).verbose


def test_quieting_does_not_import_tensorflow_by_itself():
    code = (
        "import sys; from sounds_kit.quiet import quiet_tensorflow_on_import as q; q(); q(); "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_missing_extra_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setitem(EXTRAS, "train", (*EXTRAS["train"], "sounds_kit_no_such_module"))
    with pytest.raises(MissingExtraError) as err:
        require("train", "sounds-kit train")
    message = str(err.value)
    assert message.startswith("sounds-kit train needs the [train] extra (sounds_kit_no_such_module missing)")
    assert "pip install 'sounds-kit[train]'" in message
    assert isinstance(err.value, ImportError)  # code that guards imports still catches it


@pytest.mark.parametrize("version", [(3, 12), (3, 13)])
def test_the_train_hint_names_the_pythons_its_pins_allow(monkeypatch, version):
    monkeypatch.setattr(sys, "version_info", (*version, 0, "final", 0))
    hint = install_hint("train")
    assert hint.startswith("pip install 'sounds-kit[train]'")
    assert ("3.11 or 3.12" in hint) == (version == (3, 13))
