"""pip install sounds-kit: the wheel and sdist a person installs, in fresh venvs outside the checkout.

One wheel and one sdist are built per session (sdist first, the wheel from the sdist, no Node on PATH).
The light core is installed from each into its own venv (no Node on PATH, no editable install) and there
turns a shipped singer clip into each shipped instrument with `sounds-kit transfer`, without TensorFlow;
the core also installs and transfers under Python 3.12 (Colab) and 3.13; and the sing widget's browser
tests run in Chromium against a venv holding the wheel with the [jupyter] extra.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from install_kit import REPO, find_python, make_venv, wheel_names
from sounds_kit.instrument.load import SHIPPED

pytestmark = pytest.mark.slow
MAX_WHEEL_BYTES = 3_000_000  # measured 1.46 MB: the 2.0 MB bundle, three 0.2 MB instruments, two clips


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    from install_kit import build_dists

    return build_dists(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def core(dists, tmp_path_factory):
    """The light core from the wheel, in a venv of this Python (3.11 in the project's venv)."""
    return make_venv(sys.executable, tmp_path_factory.mktemp("venv") / "core", str(dists[0]))


@pytest.fixture
def outside(tmp_path):
    """A working folder that is not the checkout (nothing there to import or find by accident)."""
    assert REPO not in tmp_path.parents
    return tmp_path


def packaged_singer(venv) -> str:
    code = "from sounds_kit.shipped import singer_clips; print(singer_clips()[0])"
    return venv.run("python", "-c", code, cwd=Path("/")).stdout.strip()


def transfer_each_instrument(venv, cwd: Path, instruments=SHIPPED) -> dict[str, tuple[Path, int]]:
    """name -> (output wav, the octave shift auto-fit chose, as the command reports it)."""
    singer = packaged_singer(venv)
    assert "_shipped/singers" in singer, singer  # the clip came with the package
    outs = {}
    for name in instruments:
        out = cwd / f"{name}.wav"
        done = venv.run("sounds-kit", "transfer", singer, "--instrument", name, "-o", str(out), cwd=cwd)
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stderr == "", done.stderr  # quiet: no start-up chatter of any kind
        outs[name] = (out, int(re.search(r"octave shift ([+-]\d+)", done.stdout).group(1)))
    return outs


def test_the_wheel_holds_instruments_singers_notebooks_and_the_bundle(dists):
    wheel, _ = dists
    names = wheel_names(wheel)
    assert names["sounds_kit/static/widget.js"] > 1_000_000
    for name in SHIPPED:
        for f in ("metadata.json", "model.json", "group1-shard1of1.bin", "decoder.npz", "model_card.md"):
            assert f"sounds_kit/_shipped/models/{name}/{f}" in names, (name, f)
    assert {"sounds_kit/_shipped/singers/voice_male.wav", "sounds_kit/_shipped/singers/voice_female.wav"} <= set(names)
    assert "sounds_kit/_shipped/notebooks/05_sing.ipynb" in names
    # training compiles them on first use
    kernels = ("harmonic_hops.cc", "spectral_l1.cc", "clones.h")
    assert {f"sounds_kit/model/kernels/{name}" for name in kernels} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "widgets/", "models/", "notebooks/"))]
    assert wheel.stat().st_size < MAX_WHEEL_BYTES, f"wheel is {wheel.stat().st_size / 1e6:.2f} MB"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        requires = [line for line in z.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert not [r for r in core if any(m in r for m in ("tensorflow", "apache-beam", "jupyterlab", "pandas"))], core


def test_the_sdist_carries_the_built_bundle_and_no_build_leftovers(dists):
    _, sdist = dists
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    assert "sounds_kit/static/widget.js" in names  # so installing it needs no Node
    assert "models/bansuri/metadata.json" in names and "assets/singers/voice_male.wav" in names
    assert not [n for n in names if n.startswith(("widgets/node_modules", ".venv", "work/", "artifacts/"))]


def test_the_core_turns_a_shipped_singer_into_each_shipped_instrument(core, outside):
    from sounds_kit.data.audio_io import load_audio
    from sounds_kit.dsp.features import compute_features
    from sounds_kit.evaluate.metrics import transfer_metrics

    voice = load_audio(packaged_singer(core))
    for name, (out, shift) in transfer_each_instrument(core, outside).items():
        played = load_audio(out)
        assert len(played) == len(voice) and np.isfinite(played).all()
        # Against the voice moved by the chosen shift (metrics never fold an octave away).
        m = transfer_metrics(voice, played, octave_shift=shift, features=compute_features(voice))
        assert m["transfer_pitch_median_cents"] <= 20.0 and m["transfer_voiced_ratio"] > 0.8, (name, m)


def test_the_core_has_no_tensorflow_and_names_the_extras_it_lacks(core, outside):
    done = core.run("python", "-c", "import tensorflow", cwd=outside)
    assert done.returncode != 0 and "No module named 'tensorflow'" in done.stderr
    where = core.run("python", "-c", "import sounds_kit; print(sounds_kit.__file__)", cwd=outside).stdout
    assert Path(where.strip()).is_relative_to(core.root), where  # the installed package, not the checkout
    commands = {
        ("train", "datasets/mine", "-o", "runs/mine"): "train",
        ("export", "runs/mine", "-o", "models/mine"): "train",
        ("prepare", "recordings", "-o", "datasets/mine"): "train",
        ("sing",): "jupyter",
    }
    for args, extra in commands.items():
        done = core.run("sounds-kit", *args, cwd=outside)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"needs the [{extra}] extra" in done.stderr and f"pip install 'sounds-kit[{extra}]'" in done.stderr


def test_the_core_widget_and_python_api_find_shipped_and_own_instruments(core, outside):
    mine = outside / "my-instruments"
    shutil.copytree(REPO / "models" / "bansuri", mine / "flute")  # an export of one's own, under a new name
    shutil.copytree(REPO / "models" / "sarangi", outside / "models" / "fiddle")  # ./models
    code = (
        "import json, numpy as np\n"
        "from sounds_kit import SingWidget, load_instrument\n"
        "w = SingWidget(instruments=['bansuri', 'shehnai', 'sarangi', 'flute', 'fiddle', 'tabla'])\n"
        "inst = load_instrument('flute')\n"
        "out = inst.transfer(np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32) * 0.3)\n"
        "print(json.dumps({c['key']: c['available'] for c in w.instrument_choices}))\n"
        "print(type(inst.decoder).__name__, out.shape[0], inst.model_dir)\n"
    )
    done = core.run("python", "-c", code, cwd=outside, SOUNDS_KIT_MODELS=str(mine))
    assert done.returncode == 0, done.stderr[-3000:]
    available, decoder = done.stdout.strip().splitlines()
    expected = {"bansuri": True, "shehnai": True, "sarangi": True, "flute": True, "fiddle": True, "tabla": False}
    assert json.loads(available) == expected
    assert decoder.split()[:2] == ["NumpyDecoder", "16000"] and str(mine / "flute") in decoder


def test_the_sdist_installs_without_node_and_plays(dists, tmp_path_factory, outside):
    venv = make_venv(sys.executable, tmp_path_factory.mktemp("venv") / "sdist", str(dists[1]))
    transfer_each_instrument(venv, outside, instruments=SHIPPED[:1])
    assert venv.run("python", "-c", "import tensorflow", cwd=outside).returncode != 0


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_core_installs_and_plays_on_newer_pythons(version, dists, tmp_path_factory, outside):
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine (pyenv install {version} provides one)")
    venv = make_venv(python, tmp_path_factory.mktemp("venv") / f"py{version}", str(dists[0]))
    assert venv.run("python", "-c", "import sys; print(sys.version)", cwd=outside).stdout.startswith(version)
    outs = transfer_each_instrument(venv, outside)
    import soundfile as sf

    assert all(sf.info(str(out)).frames > 16000 for out, _ in outs.values())


@pytest.mark.browser
def test_the_sing_widget_runs_in_chromium_from_the_installed_wheel(dists, tmp_path_factory):
    from jupyter_browser import JUPYTER_PYTHON_ENV, require_browser

    require_browser()
    venv = make_venv(sys.executable, tmp_path_factory.mktemp("venv") / "jupyter", f"{dists[0]}[jupyter]")
    tests = ("take_reaches_python", "follows_the_singer", "never_leaves_the_jupyter_server")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           str(REPO / "tests" / "test_sing_widget_browser.py"), "-k", " or ".join(tests)]  # fmt: skip
    env = dict(os.environ, **{JUPYTER_PYTHON_ENV: str(venv.python)})
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    assert "3 passed" in done.stdout, done.stdout[-2000:]
