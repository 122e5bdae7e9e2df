"""The compiled training kernels: their checks, and training without them (sounds_kit/model/kernels)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from sounds_kit.conventions import HOP_SIZE, SAMPLE_RATE  # noqa: E402
from sounds_kit.model import kernels  # noqa: E402


def _inputs(hops=3, harmonics=5, seed=0):
    rng = np.random.default_rng(seed)
    phase = [tf.constant(x) for x in (rng.uniform(0, 1, hops), rng.uniform(50, 900, hops), rng.uniform(50, 900, hops))]
    left, right = (tf.constant(rng.uniform(0, 1, (hops, harmonics)).astype(np.float32)) for _ in range(2))
    return phase, left, right


def test_kernel_sums_the_counted_harmonics_of_each_hop():
    (start, f0_a, f0_b), left, right = _inputs()
    h = np.arange(HOP_SIZE)
    w = h / HOP_SIZE
    # Counts past the harmonics given are the harmonics given; below zero, none.
    got = kernels.harmonic_hops(start, f0_a, f0_b, left, right, tf.constant([2, 9, -1], tf.int32), SAMPLE_RATE)
    for n, count in enumerate([2, 5, 0]):
        a, b = f0_a.numpy()[n], f0_b.numpy()[n]
        cycles = start.numpy()[n] + (a * h + (b - a) * h * (h - 1) / (2 * HOP_SIZE)) / SAMPLE_RATE
        k = np.arange(1, count + 1)
        amps = (1 - w)[:, None] * left.numpy()[n, :count] + w[:, None] * right.numpy()[n, :count]
        want = np.sum(amps * np.sin(2 * np.pi * k * cycles[:, None]), axis=-1)
        np.testing.assert_allclose(got.numpy()[n], want, atol=1e-6)


def test_kernel_rejects_mismatched_shapes_with_a_clear_error():
    (start, f0_a, f0_b), left, right = _inputs()
    counts = tf.constant([1, 1, 1], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="start, f0_a and f0_b"):
        kernels.harmonic_hops(start, f0_a[:2], f0_b, left, right, counts, SAMPLE_RATE)
    with pytest.raises(tf.errors.InvalidArgumentError, match="left and right"):
        kernels.harmonic_hops(start, f0_a, f0_b, left, right[:, :4], counts, SAMPLE_RATE)
    with pytest.raises(tf.errors.InvalidArgumentError, match="counts must be"):
        kernels.harmonic_hops(start, f0_a, f0_b, left, right, counts[:2], SAMPLE_RATE)


def _run(code: str, **env) -> subprocess.CompletedProcess:
    """``code`` in a fresh Python (the kernel is loaded once a process)."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=full_env, timeout=600)  # fmt: skip


SYNTH_A_TONE = """
    import warnings
    import numpy as np, tensorflow as tf
    from sounds_kit.model import kernels, tf_synth
    from sounds_kit.model.loss import spectral_loss
    warnings.simplefilter("always")
    f0 = tf.fill([1, 11], 440.0)
    amps = tf_synth.harmonic_amplitudes(f0, tf.fill([1, 11, 1], 0.5), tf.ones([1, 11, 8]))
    audio = tf.function(tf_synth.harmonic_synth)(f0, amps).numpy()
    want = tf_synth.harmonic_synth(f0, amps, compiled=False).numpy()
    print("kernel", tf_synth.use_compiled_kernel(), "|", kernels.unavailable_reason())
    print("same", np.allclose(audio, want, atol=1e-6), audio.shape, float(np.abs(audio).max()) > 0.1)
    quieter = tf.constant(0.5 * audio)
    with tf.GradientTape() as tape:
        tape.watch(quieter)
        value = spectral_loss(tf.constant(audio), quieter, (256, 64))
    grad = tape.gradient(value, quieter)
    want = spectral_loss(tf.constant(audio), quieter, (256, 64), compiled=False)
    print("loss", abs(float(value) - float(want)) < 1e-5 * float(want), bool(np.isfinite(grad.numpy()).all()))
"""


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"SOUNDS_KIT_KERNELS": "0"}, "switched off by SOUNDS_KIT_KERNELS=0"),
        ({"CXX": "/nonexistent/c++"}, "no C++ compiler"),
    ],
)
def test_without_the_kernel_the_synth_falls_back_to_tensorflow(tmp_path, env, reason):
    done = _run(SYNTH_A_TONE, SOUNDS_KIT_CACHE_DIR=str(tmp_path), **env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"kernel False | {reason}" in done.stdout
    assert "same True (1, 640) True" in done.stdout and "loss True True" in done.stdout
    if "CXX" in env:  # a failure to build is said once; a deliberate switch-off is not
        assert done.stderr.count("the compiled training kernels are unavailable (no C++ compiler") == 1


def test_a_corrupt_cached_kernel_is_built_again(tmp_path):
    compiler = kernels._compiler()
    assert compiler, "training needs a C++ compiler for its kernels (scripts/install-system-deps.sh installs g++)"
    path = kernels.library_path(compiler)
    cached = tmp_path / path.relative_to(kernels.cache_dir())
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a shared library")
    done = _run(SYNTH_A_TONE, SOUNDS_KIT_CACHE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kernel True | None" in done.stdout and "same True (1, 640) True" in done.stdout
    assert "loss True True" in done.stdout
    assert cached.read_bytes()[:4] == b"\x7fELF"
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temp file left behind
