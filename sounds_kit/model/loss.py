"""Multi-scale spectral loss (design.md, "Training").

``spectral_loss_autodiff`` is the definition written the obvious way (``tf.abs`` of
``tf.signal.stft``, differentiated by TF). ``spectral_loss``, what training uses, has the same value;
its gradient is written out by hand because stage 2 spends most of its time here: TF's generic
gradients for ``ComplexAbs``, ``RFFT`` and ``frame`` cost two to three times the prediction's STFTs
themselves (hypot per bin, a masked complex product, strided-slice scatters), while the adjoint of a windowed real FFT
is one inverse FFT and an overlap-add. Same value, and the same gradient to float rounding
(tests/test_loss.py; bins quieter than ~1e-19, which the CPU flushes to zero, get none); stage-2
steps 1.17x faster (BENCHMARKS.md). Where the kit's compiled ops build (``kernels``), the part between
the FFTs (magnitudes, logs, the sums and the gradient's spectrum) is one op instead of some thirty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_FFT_SIZES = (2048, 1024, 512, 256, 128, 64)  # the loss as a measure (evaluation, sweeps)
DEFAULT_OVERLAP = 0.75
LOG_EPS = 1e-7
# Stage 2 trains on a cheaper form: no 64-point scale and half-overlapping frames (Hann windows at 50%
# still cover every sample). 1.28x more steps in the same time, and models judged by the full loss above
# came out as good at equal wall time, though 2.2% worse at equal steps: it learns less per step
# (BENCHMARKS.md, "Stage 2: a cheaper loss").
TRAINING_FFT_SIZES = (2048, 1024, 512, 256, 128)
TRAINING_OVERLAP = 0.5


def full_loss_form() -> dict:
    """The measure's form as TrainConfig settings (runs and sweeps from before the cheaper form)."""
    return {"fft_sizes": list(DEFAULT_FFT_SIZES), "loss_overlap": DEFAULT_OVERLAP}


def _kernels():
    from sounds_kit.model import kernels  # imports TensorFlow

    return kernels


def hop_size(fft_size: int, overlap: float = DEFAULT_OVERLAP) -> int:
    return max(1, int(fft_size * (1.0 - overlap)))


def _frames(audio, fft_size: int, hop: int):
    """``tf.signal.frame(audio, fft_size, hop, pad_end=True)`` of [B, N] audio: [B, ceil(N / hop), fft_size].

    Where the hop divides the frame (every overlap the kit uses), the frames are ``fft_size // hop``
    shifted views of the audio cut into hops, side by side: no gather, which tf.signal.frame uses.
    """
    import tensorflow as tf

    n = audio.shape[-1]
    if n is None or fft_size % hop:
        return tf.signal.frame(audio, fft_size, hop, pad_end=True)
    n_frames, parts = -(-n // hop), fft_size // hop
    blocks = tf.reshape(tf.pad(audio, [[0, 0], [0, (n_frames + parts - 1) * hop - n]]), [-1, n_frames + parts - 1, hop])
    return tf.concat([blocks[:, j : j + n_frames] for j in range(parts)], axis=-1)


def _overlap_add(frames, hop: int, n: int):
    """``tf.signal.overlap_and_add(frames, hop)[..., :n]`` for [B, F, fft_size] frames of _frames."""
    import tensorflow as tf

    fft_size = int(frames.shape[-1])
    if frames.shape[1] is None or fft_size % hop:
        return tf.signal.overlap_and_add(frames, hop)[..., :n]
    n_frames, parts = int(frames.shape[1]), fft_size // hop
    if parts == 2:
        # Half-overlapping frames: after a hop of zeros in front, the output's hop j is the sum of the
        # j-th pair of hops of the frames laid end to end (the second half of frame j - 1, the first
        # of frame j): one pad and one sum instead of a split, two pads and an add.
        laid = tf.pad(tf.reshape(frames, [-1, n_frames * fft_size]), [[0, 0], [hop, hop]])
        pairs = tf.reduce_sum(tf.reshape(laid, [-1, n_frames + 1, 2, hop]), axis=2)
        return tf.reshape(pairs, [-1, (n_frames + 1) * hop])[:, :n]
    total = 0.0
    for j, part in enumerate(tf.split(frames, parts, axis=-1)):  # part j lands j hops after its frame
        total += tf.pad(part, [[0, 0], [j, parts - 1 - j], [0, 0]])
    return tf.reshape(total, [-1, (n_frames + parts - 1) * hop])[:, :n]


def _spectrum(audio, fft_size: int, hop: int):
    """(real, imag, magnitude) of the periodic-Hann STFT [B, frames, bins], frames padded at the end."""
    import tensorflow as tf

    frames = _frames(audio, fft_size, hop) * tf.signal.hann_window(fft_size)
    spec = tf.signal.rfft(frames)
    re, im = tf.math.real(spec), tf.math.imag(spec)
    # sqrt(re^2 + im^2) rather than tf.abs: ComplexAbs is a scalar hypot per bin, several times slower.
    return re, im, tf.sqrt(re * re + im * im)


def _value_and_gradient(target, pred, fft_size: int, overlap: float, mag_weight: float, logmag_weight: float,
                        compiled: bool | None = None):  # fmt: skip
    """One scale's loss and its gradient in ``pred``, both without a gradient of their own.

    ``compiled``: True computes the bins' part in the kit's compiled op (``kernels.spectral_l1``), False
    in TF ops, None: compiled where ``kernels.use_kernels()``. Same maths either way (tests/test_loss.py).
    """
    import tensorflow as tf

    hop = hop_size(fft_size, overlap)
    pred = tf.stop_gradient(pred)
    target = tf.stop_gradient(target)
    same_shapes = target.shape.is_fully_defined() and target.shape == pred.shape
    if same_shapes and (compiled or (compiled is None and _kernels().use_kernels())):
        # The compiled op: magnitudes, logs, both sums and the gradient's spectrum in one pass.
        window = tf.signal.hann_window(fft_size)
        spec = tf.signal.rfft(_frames(tf.concat([target, pred], axis=0), fft_size, hop) * window)
        value, d_spec = _kernels().spectral_l1(spec, fft_size, mag_weight, logmag_weight, LOG_EPS)
        return value, _overlap_add(tf.signal.irfft(d_spec, [fft_size]) * window, hop, tf.shape(pred)[-1])
    if same_shapes:
        # Both signals in one STFT: the same FFTs, half the ops (a step runs hundreds of small ones).
        re, im, mag = _spectrum(tf.concat([target, pred], axis=0), fft_size, hop)
        s_t, s_p = tf.split(mag, 2, axis=0)
        log_t, log_p = tf.split(tf.math.log(mag + LOG_EPS), 2, axis=0)
        re, im = tf.split(re, 2, axis=0)[1], tf.split(im, 2, axis=0)[1]
    else:
        s_t = _spectrum(target, fft_size, hop)[2]
        re, im, s_p = _spectrum(pred, fft_size, hop)
        log_t, log_p = tf.math.log(s_t + LOG_EPS), tf.math.log(s_p + LOG_EPS)
    d_mag = s_p - s_t
    d_log = log_p - log_t
    count = tf.cast(tf.size(s_p), tf.float32)
    value = (mag_weight * tf.reduce_sum(tf.abs(d_mag)) + logmag_weight * tf.reduce_sum(tf.abs(d_log))) / count

    # The gradient in the prediction, written out: dL/d|X|, times d|X|/dX = X / |X| (0 where X = 0, as
    # TF's abs gradient), through the adjoint of rfft (irfft counts the bins between 0 and Nyquist twice
    # and divides by N: undo both), the window, and the framing (an overlap-add).
    d_s = mag_weight * tf.sign(d_mag) + logmag_weight * tf.sign(d_log) / (s_p + LOG_EPS)
    bin_scale = np.full(fft_size // 2 + 1, 0.5 * fft_size, np.float32)
    bin_scale[0] = fft_size
    if fft_size % 2 == 0:
        bin_scale[-1] = fft_size  # the Nyquist bin, once in irfft (odd sizes have none)
    k = tf.math.divide_no_nan(d_s, s_p) * (bin_scale / count)
    d_frames = tf.signal.irfft(tf.complex(k * re, k * im), [fft_size]) * tf.signal.hann_window(fft_size)
    return value, _overlap_add(d_frames, hop, tf.shape(pred)[-1])


def _with_gradient(prediction, value, grad):
    """``value``, whose gradient in ``prediction`` is ``grad``.

    Attached without tf.custom_gradient, whose registry keeps every traced graph alive (a sweep worker
    traces one per trial): <prediction, grad> - the same, stopped, is exactly 0 with gradient ``grad``.
    """
    import tensorflow as tf

    link = tf.reduce_sum(prediction * tf.stop_gradient(grad))
    return value + (link - tf.stop_gradient(link))


def scale_loss(target, prediction, fft_size: int, overlap: float = DEFAULT_OVERLAP, mag_weight: float = 1.0,
               logmag_weight: float = 1.0):  # fmt: skip
    """One scale: mean |S_t - S_p| * mag_weight + mean |log S_t - log S_p| * logmag_weight, with the
    gradient in ``prediction`` only (the target is data)."""
    value, grad = _value_and_gradient(target, prediction, fft_size, overlap, mag_weight, logmag_weight)
    return _with_gradient(prediction, value, grad)


def scale_loss_autodiff(target, prediction, fft_size: int, overlap: float = DEFAULT_OVERLAP, mag_weight: float = 1.0,
                        logmag_weight: float = 1.0):  # fmt: skip
    """:func:`scale_loss` written the obvious way: ``tf.abs`` of ``tf.signal.stft``, differentiated by TF."""
    import tensorflow as tf

    hop = hop_size(fft_size, overlap)
    s_t = tf.abs(tf.signal.stft(target, fft_size, hop, fft_length=fft_size, pad_end=True))
    s_p = tf.abs(tf.signal.stft(prediction, fft_size, hop, fft_length=fft_size, pad_end=True))
    return mag_weight * tf.reduce_mean(tf.abs(s_t - s_p)) + logmag_weight * tf.reduce_mean(
        tf.abs(tf.math.log(s_t + LOG_EPS) - tf.math.log(s_p + LOG_EPS))
    )


def _as_batches(target, prediction):
    """Both signals as [B, N] float32 tensors."""
    import tensorflow as tf

    target = tf.convert_to_tensor(target, tf.float32)
    prediction = tf.convert_to_tensor(prediction, tf.float32)
    return (target[None], prediction[None]) if target.shape.rank == 1 else (target, prediction)


def _over_scales(scale_fn, target, prediction, fft_sizes, mag_weight, logmag_weight, overlap):
    import tensorflow as tf

    target, prediction = _as_batches(target, prediction)
    total = tf.constant(0.0)
    for size in fft_sizes:
        total += scale_fn(target, prediction, size, overlap, mag_weight, logmag_weight)
    return total


def spectral_loss(
    target,
    prediction,
    fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
    mag_weight: float = 1.0,
    logmag_weight: float = 1.0,
    overlap: float = DEFAULT_OVERLAP,
    compiled: bool | None = None,
):
    """Sum over scales of mean |S_t - S_p| * mag_weight + mean |log S_t - log S_p| * logmag_weight.

    ``target`` and ``prediction`` are [B, N] (or [N]) float32 tensors or arrays; returns a scalar tensor
    whose gradient flows to ``prediction``. ``compiled``: see :func:`_value_and_gradient`.
    """
    import tensorflow as tf

    target, prediction = _as_batches(target, prediction)
    if not fft_sizes:
        return tf.constant(0.0)
    # The scales' gradients summed before one attachment: one product with the prediction, not one per scale.
    parts = [_value_and_gradient(target, prediction, size, overlap, mag_weight, logmag_weight, compiled)
             for size in fft_sizes]  # fmt: skip
    return _with_gradient(prediction, tf.add_n([v for v, _ in parts]), tf.add_n([g for _, g in parts]))


def spectral_loss_autodiff(
    target,
    prediction,
    fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
    mag_weight: float = 1.0,
    logmag_weight: float = 1.0,
    overlap: float = DEFAULT_OVERLAP,
):
    """:func:`spectral_loss` written the obvious way and differentiated by TF (the reference its
    gradient is tested against, and the training benchmark's baseline loss)."""
    return _over_scales(scale_loss_autodiff, target, prediction, fft_sizes, mag_weight, logmag_weight, overlap)


def spectral_loss_np(target: np.ndarray, prediction: np.ndarray, **kwargs) -> float:
    """:func:`spectral_loss` for numpy arrays of equal length, as a float (evaluation: no gradient is
    wanted, so the plain form, which skips the written-out gradient, 1.8x faster here)."""
    n = min(np.shape(target)[-1], np.shape(prediction)[-1])
    t = np.asarray(target, np.float32)[..., :n]
    p = np.asarray(prediction, np.float32)[..., :n]
    return float(spectral_loss_autodiff(t, p, **kwargs))
