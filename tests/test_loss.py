"""The spectral loss's hand-written gradient against the definition differentiated by TF."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from sounds_kit.model.loss import spectral_loss, spectral_loss_autodiff


def value_and_grad(fn, target, prediction, **kwargs):
    prediction = tf.constant(prediction)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = fn(tf.constant(target), prediction, **kwargs)
    return float(value), tape.gradient(value, prediction).numpy()


def signals(rng, shape):
    """A harmonic tone with noise as the target and a detuned, quieter one as the prediction; the
    prediction is silent (exact zeros) in its last quarter, where |X| = 0 and the gradient must be 0
    as TF's own abs gradient makes it, not NaN."""
    t = np.arange(shape[-1]) / 16000.0
    target = sum(np.sin(2 * np.pi * 440 * k * t) / k for k in range(1, 6)) + 0.05 * rng.standard_normal(shape)
    prediction = 0.5 * sum(np.sin(2 * np.pi * 452 * k * t) / k for k in range(1, 9)) + 0.01 * rng.standard_normal(shape)
    prediction[..., -shape[-1] // 4 :] = 0.0
    return target.astype(np.float32), prediction.astype(np.float32)


@pytest.mark.parametrize(
    "shape, kwargs",
    [((3, 8000), {}), ((4001,), {}), ((2, 6000), {"mag_weight": 0.0}),
     ((2, 6000), {"logmag_weight": 0.3, "overlap": 0.5}), ((2, 5000), {"fft_sizes": (1024, 96)}),
     ((2, 3000), {"fft_sizes": (97, 255), "overlap": 0.7})],  # fmt: skip
)
@pytest.mark.parametrize("compiled", [False, True])  # TF ops, the kit's compiled op (raises if it cannot build)
def test_value_and_gradient_match_the_plain_definition(shape, kwargs, compiled):
    target, prediction = signals(np.random.default_rng(len(shape)), shape)
    value, grad = value_and_grad(spectral_loss, target, prediction, compiled=compiled, **kwargs)
    if len(shape) == 1:
        target, prediction = target[None], prediction[None]
    ref_value, ref_grad = value_and_grad(spectral_loss_autodiff, target, prediction, **kwargs)
    grad = grad.reshape(ref_grad.shape)
    assert value == pytest.approx(ref_value, rel=1e-5)
    assert np.all(np.isfinite(grad))
    scale = np.max(np.abs(ref_grad))
    assert scale > 0
    np.testing.assert_allclose(grad, ref_grad, atol=1e-4 * scale)


@pytest.mark.parametrize("compiled", [False, True])
def test_equal_signals_have_zero_loss_and_the_gradient_reaches_every_sample(compiled):
    target, prediction = signals(np.random.default_rng(0), (2, 4000))
    assert float(spectral_loss(target, target, compiled=compiled)) == pytest.approx(0.0, abs=1e-6)
    _, grad = value_and_grad(spectral_loss, target, prediction, compiled=compiled)
    # Every sample moves the loss, the last (in zero-padded frames) included, but the first: every
    # frame that holds sample 0 weighs it by the periodic Hann window's 0.
    assert np.all(np.abs(grad[:, 1:]).max(axis=0) > 0) and np.all(grad[:, 0] == 0)


def test_inside_a_traced_step_of_unknown_length_and_without_keeping_graphs_alive():
    import gc
    import weakref

    target, prediction = signals(np.random.default_rng(1), (2, 3000))
    spec = tf.TensorSpec([None, None], tf.float32)

    def make():
        @tf.function(input_signature=[spec, spec])
        def step(t, p):
            with tf.GradientTape() as tape:
                tape.watch(p)
                value = spectral_loss(t, p, fft_sizes=(256, 64))
            return value, tape.gradient(value, p)

        return step

    step = make()
    value, grad = step(target, prediction)
    ref_value, ref_grad = value_and_grad(spectral_loss_autodiff, target, prediction, fft_sizes=(256, 64))
    assert grad.shape == prediction.shape  # trimmed to the input's length, known only when run
    assert float(value) == pytest.approx(ref_value, rel=1e-5)
    np.testing.assert_allclose(grad.numpy(), ref_grad, atol=1e-4 * np.max(np.abs(ref_grad)))
    # A training process traces a new step per model (a sweep worker: one per trial); the loss must
    # not keep them alive (tf.custom_gradient's registry would).
    graphs = []
    for _ in range(3):
        fn = make()
        graphs.append(weakref.ref(fn.get_concrete_function().graph))
        del fn
    gc.collect()
    assert [g() for g in graphs] == [None, None, None]


@pytest.mark.parametrize(
    "n, fft_size, hop", [(1000, 256, 128), (1001, 256, 64), (300, 512, 256), (999, 128, 32), (50, 256, 128)]
)
def test_framing_and_overlap_add_equal_tf_signal(n, fft_size, hop):
    """The loss cuts frames as shifted views where the hop divides the frame (no gather)."""
    from sounds_kit.model.loss import _frames, _overlap_add

    audio = tf.constant(np.random.default_rng(n).standard_normal((2, n)).astype(np.float32))
    frames = _frames(audio, fft_size, hop)
    np.testing.assert_array_equal(frames.numpy(), tf.signal.frame(audio, fft_size, hop, pad_end=True).numpy())
    want = tf.signal.overlap_and_add(frames, hop)[..., :n].numpy()
    np.testing.assert_array_equal(_overlap_add(frames, hop, n).numpy(), want)
