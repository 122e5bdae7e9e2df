"""The kit's compiled TensorFlow ops, for stage-2 training on CPUs.

* ``harmonic_hops.cc``: the harmonic synth's sum without a sine bank. A stage-2 step spent about a
  sixth of its op time building the bank (``sin`` of [hops, 64, harmonics]), multiplying it with the
  amplitudes, and sorting hops into chunks so the bank stays narrow. TensorFlow has no op that sums
  sines without materialising them, and XLA's ``sin`` on CPU was slower than TF's. The kernel gets
  ``sin(k x)`` by rotating a phasor, a few multiplies per harmonic, and never writes the bank.
* ``spectral_l1.cc``: one scale of the spectral loss and its gradient in the predicted spectrum, in
  one pass over the bins instead of some thirty element-wise TF ops (each a pass over memory and a
  scheduling cost; a step runs hundreds of them). The FFTs stay TF's.

Both are the same maths as the TF forms beside them (tests/test_kernels.py, tests/test_synth.py,
tests/test_loss.py); BENCHMARKS.md, "Stage 2: compiled kernels", has the measurements.

They are compiled on first use with the C++ compiler and TensorFlow's headers (about 10 s) into a cache
(``$SOUNDS_KIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/sounds-kit``, else ``~/.cache/sounds-kit``), keyed by the
sources, TensorFlow's version and the compiler, built under a file lock and written atomically so
parallel workers share one build. Where they cannot be built or loaded (no compiler, another platform)
training warns once and uses the TF forms, the same maths; switched off (``SOUNDS_KIT_KERNELS=0``) or
on a GPU (they are CPU-only) it uses those without a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from types import ModuleType

import tensorflow as tf

SOURCES = tuple(Path(__file__).with_name(name) for name in ("harmonic_hops.cc", "spectral_l1.cc"))
HEADERS = (Path(__file__).with_name("clones.h"),)
HOP = 64  # the harmonic kernel's hop, kHop in its source (sounds_kit.conventions.HOP_SIZE)

_lock = threading.Lock()
_state: dict[str, object] = {}  # "module" or "reason", once decided in this process


def cache_dir() -> Path:
    if os.environ.get("SOUNDS_KIT_CACHE_DIR"):
        return Path(os.environ["SOUNDS_KIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sounds-kit"


def _compiler() -> str | None:
    cxx = os.environ.get("CXX")
    return shutil.which(cxx) if cxx else shutil.which("c++") or shutil.which("g++")


def _flags() -> list[str]:
    return ["-shared", "-fPIC", "-O3", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math",
            "-Wno-deprecated-declarations",
            *tf.sysconfig.get_compile_flags(), *tf.sysconfig.get_link_flags()]  # fmt: skip


def library_path(compiler: str) -> Path:
    """Where the built ops live: one file per sources, TensorFlow, compiler and machine."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    key = hashlib.sha256()
    parts = [src.read_bytes() for src in (*SOURCES, *HEADERS)]
    parts += [s.encode() for s in (tf.__version__, " ".join(_flags()), version, platform.machine())]
    for part in parts:
        key.update(part + b"\0")
    return cache_dir() / "kernels" / f"sounds_kit_ops-{key.hexdigest()[:16]}.so"


def build(compiler: str, target: Path) -> None:
    """Compile the ops into ``target`` atomically (a temp file beside it, then a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        cmd = [compiler, *map(str, SOURCES), "-o", tmp, *_flags()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(compiler).name} failed: {done.stderr.strip()[-600:]}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def _build_lock(folder: Path):
    """An exclusive lock on ``folder/.lock`` between processes (where fcntl exists; else none)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no compiler path is supported there anyway
        yield
        return
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load() -> ModuleType:
    """Load the cached ops (built first if missing; rebuilt once if the cached file will not load)."""
    compiler = _compiler()
    if compiler is None:
        raise RuntimeError("no C++ compiler (set CXX, or install g++)")
    path = library_path(compiler)
    if not path.exists():
        with _build_lock(path.parent):  # one build for all the workers that start at once
            if not path.exists():
                print("sounds-kit: compiling the training kernels (once, about 10 s)...", file=sys.stderr)
                build(compiler, path)
    try:
        module = tf.load_op_library(str(path))
    except Exception:  # a truncated or foreign file in the cache: build it again
        build(compiler, path)
        module = tf.load_op_library(str(path))

    return module


def _harmonic_hops_gradient(op, grad):
    start, f0_a, f0_b, left, _, counts = op.inputs
    d_left, d_right = _loaded().sounds_kit_harmonic_hops_grad(
        start, f0_a, f0_b, left, counts, grad, sample_rate=op.get_attr("sample_rate")
    )
    return None, None, None, d_left, d_right, None


# Registered once with the module, whether or not the ops load (the registry refuses a second time).
try:
    tf.RegisterGradient("SoundsKitHarmonicHops")(_harmonic_hops_gradient)
    tf.no_gradient("SoundsKitSpectralL1")  # its gradient is its second output
except KeyError:  # this module imported twice (a reload): the first registration stands
    pass


@tf.autograph.experimental.do_not_convert  # first called while a step is traced: plain Python
def ops() -> ModuleType | None:
    """The loaded ops, or None (with one warning a process) where they are not available."""
    with _lock:
        if not _state:
            if os.environ.get("SOUNDS_KIT_KERNELS", "1") == "0":
                _state["reason"] = "switched off by SOUNDS_KIT_KERNELS=0"
            else:
                try:
                    _state["module"] = _load()
                except Exception as exc:  # noqa: BLE001 - any failure means: use the TensorFlow form
                    _state["reason"] = str(exc) or type(exc).__name__
                    warnings.warn(
                        f"sounds-kit: the compiled training kernels are unavailable ({_state['reason']}); "
                        "training uses TensorFlow ops for the same maths, about 1.2x slower.",
                        RuntimeWarning,
                        stacklevel=2,
                    )
        return _state.get("module")  # type: ignore[return-value]


def unavailable_reason() -> str | None:
    """Why :func:`ops` gave None (after it was called), else None."""
    return _state.get("reason")  # type: ignore[return-value]


@tf.autograph.experimental.do_not_convert
def use_kernels() -> bool:
    """Whether training runs the compiled ops here: built and loaded, and no GPU (they are CPU-only;
    on a GPU the TF forms keep the step there)."""
    return not tf.config.list_logical_devices("GPU") and ops() is not None


def _loaded() -> ModuleType:
    module = ops()
    if module is None:
        raise RuntimeError(f"the compiled training kernels are unavailable: {unavailable_reason()}")
    return module


def harmonic_hops(start, f0_a, f0_b, left, right, counts, sample_rate: float):
    """The harmonic sum of N hops of 64 samples: [N, 64] float32.

    ``audio[n, h] = sum_{k < counts[n]} ((1 - h/64) left[n, k] + h/64 right[n, k]) sin(2 pi (k+1) c[n, h])``
    with the phase ``c[n, h] = start[n] + (f0_a[n] h + (f0_b[n] - f0_a[n]) h (h - 1) / 128) / sample_rate``
    in cycles (``tf_synth.phase_cycles``). start, f0_a, f0_b: [N] float64 (no gradient); left and right
    [N, K] float32, the hop's two frames' amplitudes (gradients flow to both); counts [N] int32.
    Raises RuntimeError where the kernel is unavailable.
    """
    return _loaded().sounds_kit_harmonic_hops(start, f0_a, f0_b, left, right, counts, sample_rate=float(sample_rate))


def spectral_l1(spectra, fft_size: int, mag_weight: float, logmag_weight: float, log_eps: float):
    """One loss scale from ``spectra`` [2R, ..., bins] complex64 (the target's rows, then the
    prediction's): (value, gradient in the prediction's spectrum [R, ..., bins]), as
    ``loss._value_and_gradient`` defines them before its inverse FFT. No gradient of its own."""
    return _loaded().sounds_kit_spectral_l1(spectra, fft_size=int(fft_size), mag_weight=float(mag_weight),
                                            logmag_weight=float(logmag_weight), log_eps=float(log_eps))  # fmt: skip
