"""The synth in TensorFlow: differentiable, batched twin of ``synth.py`` for training.

Shapes: controls are [B, T, C] at the frame rate; audio is [B, (T - 1) * HOP_SIZE]. Values are
float32 except the phase, which is accumulated in float64 and wrapped before it is cast.

Speed: the synth never materialises audio-rate amplitudes. Linear interpolation between frames i and
i + 1 is ``(1 - w_h) * x_i + w_h * x_{i+1}`` for the h-th sample of the hop, so ``sum_k a_k[n] s_k[n]``
becomes (in the chunked TF form) one batched product per hop, both ends' amplitudes [2, K]
against the bank [K, HOP] (the noise the same, against a constant basis). The sine bank depends only
on f0 (data, not parameters), so it is built without a gradient, and only for the harmonics a hop can
sound: those below Nyquist at either end (at the instruments' pitch about a third of 48). Hops are
sorted by that count and cut into HOP_CHUNKS equal chunks, each with a bank as wide as its largest
count: every chunk has the same number of hops, so oneDNN, which compiles a kernel per matrix shape,
meets at most K bank shapes in all (BENCHMARKS.md, stage-2 speed). Frames are taken apart with
``tf.split`` rather than slices: TF's gradient of a strided slice costs as much here as the product
it feeds. On CPUs where the kit's compiled ops build (``kernels``), the same per-hop sum runs there
instead, with no bank in memory at all; the chunked form is what runs elsewhere.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import tensorflow as tf

from sounds_kit.conventions import F0_MIDI_SCALE, HOP_SIZE, LOUDNESS_SCALE_DB, SAMPLE_RATE
from sounds_kit.dsp import controls as C
from sounds_kit.dsp import synth as np_synth

_W = np.arange(HOP_SIZE, dtype=np.float64) / HOP_SIZE  # interpolation weight of frame i + 1


def exp_sigmoid(x: tf.Tensor) -> tf.Tensor:
    """``2 * sigmoid(x) ** ln(10) + 1e-7`` (the decoder's output nonlinearity)."""
    return C.EXP_SIGMOID_MAX * tf.exp(C.EXP_SIGMOID_EXPONENT * tf.math.log_sigmoid(x)) + C.EXP_SIGMOID_FLOOR


def scale_f0(f0_hz: tf.Tensor) -> tf.Tensor:
    """``midi(f0) / F0_MIDI_SCALE`` (f0 already filled where unvoiced)."""
    f0 = tf.maximum(tf.cast(f0_hz, tf.float32), 1e-3)
    return (69.0 + 12.0 * tf.math.log(f0 / 440.0) / np.log(2.0)) / F0_MIDI_SCALE


def scale_loudness(loudness_db: tf.Tensor) -> tf.Tensor:
    return tf.cast(loudness_db, tf.float32) / LOUDNESS_SCALE_DB + 1.0


def below_nyquist(f0_hz: tf.Tensor, n_harmonics: int | tf.Tensor) -> tf.Tensor:
    """[B, T, K] bool: harmonic k = 1..K of f0 lies below Nyquist (the synth's one mask)."""
    k = tf.range(1, n_harmonics + 1, dtype=tf.float32)
    return _frames(f0_hz) * k < SAMPLE_RATE / 2.0


def harmonic_amplitudes(f0_hz: tf.Tensor, amplitude: tf.Tensor, distribution: tf.Tensor) -> tf.Tensor:
    """[B, T, K]: amplitude * distribution with harmonics at or above Nyquist zeroed, renormalised."""
    dist = tf.where(below_nyquist(f0_hz, tf.shape(distribution)[-1]), distribution, 0.0)
    total = tf.reduce_sum(dist, axis=-1, keepdims=True)
    dist = tf.math.divide_no_nan(dist, total)
    return _frames(amplitude) * dist


def _frames(x: tf.Tensor) -> tf.Tensor:
    """[B, T] -> [B, T, 1]; [B, T, C] unchanged; always float32."""
    x = tf.convert_to_tensor(x)
    x = tf.cast(x, tf.float32) if x.dtype != tf.float32 else x
    return x[..., None] if x.shape.rank == 2 else x


def upsample(frames: tf.Tensor) -> tf.Tensor:
    """[B, T, C] -> [B, (T - 1) * HOP_SIZE, C], linear between frame positions (as synth.upsample)."""
    x = _frames(frames)
    w = tf.constant(_W, x.dtype)[None, None, :, None]
    seg = x[:, :-1, None, :] * (1.0 - w) + x[:, 1:, None, :] * w
    return tf.reshape(seg, [tf.shape(x)[0], -1, tf.shape(x)[-1]])


def hop_phases(f0_hz: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Each hop's wrapped start phase in cycles and f0 at its two ends, [B, T - 1] float64 each (no
    gradient): what :func:`phase_cycles` and the compiled kernel build every sample's phase from."""
    f0 = tf.cast(tf.stop_gradient(_frames(f0_hz))[..., 0], tf.float64)
    a, b = f0[:, :-1], f0[:, 1:]
    hop_cycles = (a * HOP_SIZE + (b - a) * ((HOP_SIZE - 1) / 2.0)) / SAMPLE_RATE
    start = tf.cumsum(hop_cycles, axis=1, exclusive=True)
    return start - tf.floor(start), a, b


def phase_cycles(f0_hz: tf.Tensor) -> tf.Tensor:
    """Wrapped harmonic phase in cycles [B, T - 1, HOP] (no gradient): ``synth.harmonic_phase`` of the
    upsampled f0, without a running sum over every sample.

    f0 is linear within a hop (a at its start, b at its end), so the running sum of f0 / SAMPLE_RATE
    before sample h of the hop is ``(a h + (b - a) h (h - 1) / (2 HOP)) / SAMPLE_RATE``, and a hop
    starts where the whole hops before it end: a running sum over frames. Float64, wrapped.
    """
    start, a, b = hop_phases(f0_hz)
    h = tf.constant(_W * HOP_SIZE, tf.float64)
    ramp = tf.constant(_W * HOP_SIZE * (_W * HOP_SIZE - 1.0) / (2.0 * HOP_SIZE), tf.float64)
    cycles = start[..., None] + (a[..., None] * h + (b - a)[..., None] * ramp) / SAMPLE_RATE
    return cycles - tf.floor(cycles)


def sine_bank(cycles: tf.Tensor, n_harmonics: int | tf.Tensor, outer_product: bool | None = None) -> tf.Tensor:
    """``sin(2*pi*k*cycles)`` for k = 1..K: [..., HOP] -> [..., HOP, K] float32.

    ``cycles`` is wrapped to [0, 1), so the angle stays below 2 pi K and float32 rounds it by at most
    ~5e-5 rad (-86 dB). Wrapping k * cycles again cost three more passes over the largest tensor of
    a training step for no audible difference (BENCHMARKS.md, stage-2 speed).

    ``outer_product``: the angles as a matrix product [N, 1] x [1, K], 2.6x faster on CPU than the
    broadcast multiply (Eigen indexes both broadcast operands element by element), and the same
    float32 products. Not where TF may use TF32 (GPUs, by default): its 10-bit inputs would put
    harmonic 48's phase out by ~0.1 rad. None: the product unless a GPU may run it in TF32.
    """
    radians_per_cycle = tf.range(1, n_harmonics + 1, dtype=tf.float32) * (2.0 * np.pi)
    cycles = tf.cast(cycles, tf.float32)
    if outer_product is None:
        outer_product = not (
            tf.config.experimental.tensor_float_32_execution_enabled() and tf.config.list_logical_devices("GPU")
        )
    if not outer_product:
        return tf.sin(cycles[..., None] * radians_per_cycle)
    angles = tf.linalg.matmul(tf.reshape(cycles, [-1, 1]), radians_per_cycle[None, :])
    return tf.sin(tf.reshape(angles, tf.concat([tf.shape(cycles), [-1]], axis=0)))


def _ends(frames: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(frames[:, :-1], frames[:, 1:]): the two ends of every hop, as splits (cheap gradients)."""
    return tf.split(frames, [-1, 1], axis=1)[0], tf.split(frames, [1, -1], axis=1)[1]


def _interp_contract(frames: tf.Tensor, basis: tf.Tensor, equation: str) -> tf.Tensor:
    """``sum_c upsample(frames)[n, c] * basis[n, c]`` without upsampling ``frames``; returns [B, N]."""
    w = tf.constant(_W, tf.float32)
    left, right = _ends(frames)
    out = tf.einsum(equation, left, basis) * (1.0 - w) + tf.einsum(equation, right, basis) * w
    return tf.reshape(out, [tf.shape(out)[0], -1])


# Hops are sorted by the harmonics they sound and cut into this many equal chunks, each with a bank as
# wide as its largest count (8: 14% more bank than each hop's own count on the bansuri crops; 4, 31%).
HOP_CHUNKS = 8


def harmonics_below_nyquist(f0_hz: tf.Tensor, n_harmonics: int) -> tf.Tensor:
    """[B, T] int32: how many of harmonics 1..K lie below Nyquist (the mask of harmonic_amplitudes)."""
    return tf.reduce_sum(tf.cast(below_nyquist(f0_hz, n_harmonics), tf.int32), axis=-1)


def use_compiled_kernel() -> bool:
    """Whether the grouped synth runs as the kit's compiled op (``kernels``): where the kernels run
    (``kernels.use_kernels``) and the kit's hop is the kernel's."""
    from sounds_kit.model import kernels

    return HOP_SIZE == kernels.HOP and kernels.use_kernels()


def harmonic_synth(
    f0_hz: tf.Tensor, amplitudes: tf.Tensor, grouped: bool = True, compiled: bool | None = None
) -> tf.Tensor:
    """Audio [B, N] from per-harmonic amplitudes [B, T, K] as ``harmonic_amplitudes`` gives them.

    ``grouped``: harmonics at or above Nyquist at both ends of a hop are not rendered there (their
    amplitudes are 0 after the mask, so the sum is the same). The widths depend on the data, which XLA
    cannot compile: ``grouped=False`` renders every harmonic everywhere, for ``jit_compile``.

    ``compiled`` (grouped only): True sums each hop's harmonics in the kit's compiled op, with no bank
    in memory; False in TensorFlow, hops sorted into chunks each with a bank of its own width; None:
    compiled where :func:`use_compiled_kernel`. The same sum either way (tests/test_synth.py).
    """
    n_harm = int(amplitudes.shape[-1])
    f0 = tf.stop_gradient(_frames(f0_hz))
    if not grouped:
        return _interp_contract(amplitudes, tf.stop_gradient(sine_bank(phase_cycles(f0), n_harm)), "bik,bihk->bih")
    hop_counts = tf.reshape(tf.maximum(*_ends(harmonics_below_nyquist(f0, n_harm)[..., None])), [-1])
    if compiled or (compiled is None and use_compiled_kernel()):
        from sounds_kit.model import kernels

        if HOP_SIZE != kernels.HOP:
            raise ValueError(f"the compiled harmonic kernel renders hops of {kernels.HOP} samples, not {HOP_SIZE}")

        left, right = (tf.reshape(x, [-1, n_harm]) for x in _ends(amplitudes))
        start, f0_a, f0_b = (tf.reshape(x, [-1]) for x in hop_phases(f0))
        audio = kernels.harmonic_hops(start, f0_a, f0_b, left, right, hop_counts, SAMPLE_RATE)
        return _hops_to_audio(audio, amplitudes)
    cycles = tf.reshape(tf.cast(phase_cycles(f0), tf.float32), [-1, HOP_SIZE])
    ends = tf.stack([tf.reshape(x, [-1, n_harm]) for x in _ends(amplitudes)], axis=1)  # [B * (T - 1), 2, K]
    # Silent hops (no amplitude, their output dropped) make the count a multiple of HOP_CHUNKS.
    n_hops = tf.shape(cycles)[0]
    n_pad = tf.where(n_hops > 0, -n_hops % HOP_CHUNKS, HOP_CHUNKS)  # a single frame has no hop: all silent
    cycles = tf.concat([cycles, tf.zeros([n_pad, HOP_SIZE])], axis=0)
    ends = tf.concat([ends, tf.zeros([n_pad, 2, n_harm])], axis=0)
    hop_counts = tf.concat([hop_counts, tf.zeros([n_pad], tf.int32)], axis=0)
    chunks = tf.split(tf.argsort(hop_counts, direction="DESCENDING", stable=True), HOP_CHUNKS)
    w = tf.constant(_W, tf.float32)
    parts = []
    for idx in chunks:
        # The chunk's first hop has its largest count (at least 1: hops at f0 >= 8 kHz have none).
        width = tf.maximum(tf.gather(hop_counts, idx[0]), 1)
        bank = tf.stop_gradient(sine_bank(tf.gather(cycles, idx), width))  # [n, HOP, width]
        hop_ends = tf.split(tf.gather(ends, idx), tf.stack([width, n_harm - width]), axis=2, num=2)[0]
        # Both ends of every hop against the bank in one product: the bank is read once, not twice.
        left, right = tf.unstack(tf.linalg.matmul(hop_ends, bank, transpose_b=True), axis=1)  # [n, HOP] each
        parts.append(left * (1.0 - w) + right * w)
    # The silent hops dropped with a split: a slice's gradient costs as much as the matmuls here.
    audio = tf.split(tf.dynamic_stitch(chunks, parts), tf.stack([n_hops, -1]), num=2)[0]  # [B * (T - 1), HOP]
    return _hops_to_audio(audio, amplitudes)


def _hops_to_audio(audio: tf.Tensor, amplitudes: tf.Tensor) -> tf.Tensor:
    """[B * (T - 1), HOP] -> [B, (T - 1) * HOP], with static sizes where known: the loss takes its fast
    path only for fully known shapes."""
    batch, n_frames = amplitudes.shape[0], amplitudes.shape[1]
    return tf.reshape(
        audio,
        [tf.shape(amplitudes)[0] if batch is None else batch, -1 if n_frames is None else (n_frames - 1) * HOP_SIZE],
    )


@lru_cache(maxsize=8)
def _noise_basis(n_bands: int, n_samples: int, offset: int) -> np.ndarray:
    """[hops, 2 * Bn, HOP]: the numpy synth's segmented, crossfaded noise read (np_synth.noise_read),
    each band's row once weighted for the hop's first frame and once for its last (the interpolation)."""
    table = np_synth.noise_table(n_bands)
    idx_a, w_a, idx_b, w_b = np_synth.noise_read(np.arange(n_samples, dtype=np.int64) + offset)
    rows = (table[:, idx_a].T * w_a[:, None] + table[:, idx_b].T * w_b[:, None]).reshape(-1, HOP_SIZE, n_bands)
    ends = np.concatenate([rows * (1.0 - _W)[None, :, None], rows * _W[None, :, None]], axis=-1)
    return np.ascontiguousarray(ends.transpose(0, 2, 1).astype(np.float32))


def noise_synth(magnitudes: tf.Tensor, offset: int = 0) -> tf.Tensor:
    """Band noise [B, N] from magnitudes [B, T, Bn] (the table is read from sample ``offset``)."""
    n_frames, n_bands = magnitudes.shape[1], magnitudes.shape[-1]
    basis = tf.constant(_noise_basis(int(n_bands), (int(n_frames) - 1) * HOP_SIZE, int(offset)))
    # One product per hop, [B, 2 Bn] x [2 Bn, HOP], with both ends' magnitudes side by side.
    ends = tf.transpose(tf.concat(_ends(_frames(magnitudes)), axis=-1), [1, 0, 2])  # [T - 1, B, 2 Bn]
    out = tf.transpose(tf.linalg.matmul(ends, basis), [1, 0, 2])  # [B, T - 1, HOP]
    return tf.reshape(out, [tf.shape(out)[0], -1])


def fft_convolve(audio: tf.Tensor, ir: tf.Tensor) -> tf.Tensor:
    """Linear convolution of [B, N] audio with an [L] or [B, L] impulse response, truncated to N."""
    n = int(audio.shape[-1])
    ir = ir if ir.shape.rank == 2 else ir[None, :]
    n_fft = int(2 ** np.ceil(np.log2(n + int(ir.shape[-1]) - 1)))
    spec = tf.signal.rfft(audio, [n_fft]) * tf.signal.rfft(ir, [n_fft])
    return tf.signal.irfft(spec, [n_fft])[:, :n]


def synthesize(
    f0_hz: tf.Tensor,
    amplitude: tf.Tensor,
    harmonic_distribution: tf.Tensor,
    noise_magnitudes: tf.Tensor | None = None,
    reverb_ir: tf.Tensor | None = None,
    grouped: bool = True,
    compiled: bool | None = None,
) -> tf.Tensor:
    """Controls [B, T, .] -> audio [B, (T - 1) * HOP_SIZE] float32; same maths as ``synth.synthesize``
    (``grouped``, ``compiled``: see :func:`harmonic_synth`)."""
    amps = harmonic_amplitudes(f0_hz, amplitude, harmonic_distribution)
    audio = harmonic_synth(f0_hz, amps, grouped, compiled)
    if noise_magnitudes is not None:
        audio = audio + noise_synth(_frames(noise_magnitudes))
    if reverb_ir is not None:
        audio = audio + fft_convolve(audio, reverb_ir)
    return audio


class Reverb(tf.Module):
    """A learned impulse response, applied as ``dry + dry * ir`` (FFT convolution).

    Initialised as exponentially decaying Gaussian noise at about -20 dB wet energy. Sample 0 of the
    response is held at 0 so the dry path keeps unit gain and the wet path cannot cancel it.
    """

    def __init__(self, seconds: float = 0.5, decay_seconds: float = 0.1, seed: int = 0, name: str = "reverb"):
        super().__init__(name=name)
        n = int(round(seconds * SAMPLE_RATE))
        rng = np.random.default_rng(seed)
        ir = rng.standard_normal(n) * np.exp(-np.arange(n) / (decay_seconds * SAMPLE_RATE))
        ir[0] = 0.0
        ir *= np.sqrt(0.01 / np.sum(ir**2))
        self.ir = tf.Variable(ir.astype(np.float32), name="ir")
        self._mask = tf.constant(np.r_[0.0, np.ones(n - 1)].astype(np.float32))

    def impulse_response(self) -> tf.Tensor:
        return self.ir * self._mask

    def __call__(self, audio: tf.Tensor) -> tf.Tensor:
        return audio + fft_convolve(audio, self.impulse_response())
