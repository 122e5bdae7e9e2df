"""Analysis targets: the synth controls measured directly in target audio (the fast training path).

For each harmonic k the audio is heterodyned down with the tracked phase, ``x[n] * exp(-i k phi[n])``,
which moves harmonic k to 0 Hz and every other harmonic to a multiple of f0 >= F0_MIN_HZ. A Hann
window of ``ANALYSIS_WINDOW`` samples (first zero at 2 * SAMPLE_RATE / 512 = 62.5 Hz < F0_MIN_HZ)
centred on each frame low-passes and decimates to the frame rate in one step; twice the magnitude is
the harmonic's amplitude. The harmonics are then resynthesised *with* their measured phases and
subtracted; the residual's band powers give the noise magnitudes in the synth's own units (band b
at magnitude m has the per-bin power of unit white noise times m**2).

``synth.synthesize(targets)`` therefore reproduces the target's magnitude spectrum (not its phases).
"""

from __future__ import annotations

import numpy as np

from sounds_kit.conventions import F0_MIN_HZ, HOP_SIZE, SAMPLE_RATE
from sounds_kit.dsp import controls as C
from sounds_kit.dsp import synth

ANALYSIS_WINDOW = 512
"""Harmonic low-pass window (samples); its Hann main lobe ends below F0_MIN_HZ."""

NOISE_N_FFT = 512
"""STFT size for the residual's band powers."""

ABSORBED_BANDWIDTH_HZ = 78.0
"""Noise bandwidth that one harmonic's estimate absorbs: measured (white noise in, 78-80 Hz at f0 100-200 Hz)
for this window and linear interpolation; the Hann window's ENBW alone (47 Hz) underestimates it."""

MAX_NOISE_SHARE = 0.75
"""Cap on the noise-share correction, for bands crowded with harmonics."""

FLOOR = C.EXP_SIGMOID_FLOOR
CEILING = C.EXP_SIGMOID_MAX

assert 2 * SAMPLE_RATE / ANALYSIS_WINDOW < F0_MIN_HZ, "window too short to separate harmonics at F0_MIN_HZ"


def _hann(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)  # periodic


def _fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float64).reshape(-1)[:n]
    return np.pad(x, (0, n - x.shape[0]))


def _extended_cycles(f0_hz: np.ndarray, n: int, pad: int) -> np.ndarray:
    """Phase in cycles for samples -pad .. n + pad - 1 (f0 held outside the clip), 0 at sample 0."""
    f0_up = synth.upsample(f0_hz, n + pad)
    f0_ext = np.concatenate([np.full(pad, f0_up[0]), f0_up])
    cycles = np.concatenate(([0.0], np.cumsum(f0_ext[:-1]))) / SAMPLE_RATE
    return cycles - cycles[pad]


def heterodyne(audio: np.ndarray, f0_hz: np.ndarray, n_harmonics: int) -> tuple[np.ndarray, np.ndarray]:
    """Complex harmonic estimates D [T, K] (``x ~ sum_k Re(2 D_k e^{i k phi})``) and the demodulators.

    ``audio`` is cut or zero-padded to N = (T - 1) * HOP_SIZE samples. Also returns ``exp(-i k phi[n])``
    [K, N + W] for samples -W/2 .. N + W/2 - 1 (W = ANALYSIS_WINDOW), reused by the resynthesis.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64)
    t = f0.shape[0]
    n = synth.default_n_samples(t)
    half = ANALYSIS_WINDOW // 2
    x = np.pad(_fit_length(audio, n), (half, half))
    # The phase is accumulated in float64; the demodulators are complex64 (half the memory traffic;
    # the recurrence below drifts by ~K * 6e-8, far below the estimates' noise).
    step = np.exp(-2j * np.pi * _extended_cycles(f0, n, half)).astype(np.complex64)
    # exp(-i k phi) for k = 1..K by repeated multiplication, harmonic-major so that every operation
    # below runs over contiguous samples.
    demod = np.empty((n_harmonics, step.shape[0]), np.complex64)
    demod[0] = step
    for k in range(1, n_harmonics):
        np.multiply(demod[k - 1], step, out=demod[k])
    z = (demod * x.astype(np.float32)).reshape(-1, HOP_SIZE)  # [K * (T + W/HOP - 1), HOP]
    window = _hann(ANALYSIS_WINDOW).reshape(-1, HOP_SIZE)  # [W/HOP, HOP]
    # Partial sums of every hop block against every window segment (one 2-D matmul: numpy's stacked
    # 3-D matmul is ~15x slower here), then frame i adds blocks i .. i + W/HOP - 1.
    part = (z @ window.T.astype(np.complex64)).reshape(n_harmonics, -1, window.shape[0])  # [K, blocks, W/HOP]
    d = sum(part[:, j : j + t, j] for j in range(window.shape[0])).T.astype(np.complex128)
    # Normalise by the window mass inside the clip, so edge frames are not biased low.
    inside = np.pad(np.ones(n), (half, half)).reshape(-1, HOP_SIZE)
    mass = sum((inside[j : j + t] * window[j]).sum(axis=1) for j in range(window.shape[0]))
    return d / mass[:, None], demod


def harmonic_resynthesis(d: np.ndarray, demod: np.ndarray, f0_hz: np.ndarray) -> np.ndarray:
    """``sum_k Re(2 D_k[n] e^{i k phi[n]})`` over samples 0..N-1, D linear between frames, Nyquist-masked."""
    t, k = d.shape
    n = synth.default_n_samples(t)
    half = (demod.shape[1] - n) // 2
    d = (d * C.remove_above_nyquist(f0_hz, np.ones((t, k)))).T  # [K, T]
    mod = np.conj(demod[:, half : half + n]).reshape(k, t - 1, HOP_SIZE)
    # Linear interpolation of D within each hop, without building D at the audio rate.
    w = np.arange(HOP_SIZE) / HOP_SIZE
    d = d.astype(np.complex64)
    left = np.zeros((t - 1, HOP_SIZE), np.complex64)
    right = np.zeros((t - 1, HOP_SIZE), np.complex64)
    for j in range(k):  # a loop over harmonics of contiguous [T-1, HOP] products beats einsum ~5x here
        left += d[j, :-1, None] * mod[j]
        right += d[j, 1:, None] * mod[j]
    return 2.0 * (left * (1.0 - w) + right * w).real.reshape(-1)


def harmonic_noise_share(f0_hz: np.ndarray, n_harmonics: int, n_bands: int) -> np.ndarray:
    """Fraction [T, B] of each band's noise that the harmonic estimates absorb (and subtraction removes).

    Each harmonic's estimate takes about ``ABSORBED_BANDWIDTH_HZ`` of the noise around it.
    """
    f0 = np.asarray(f0_hz, np.float64)
    freqs = f0[:, None] * np.arange(1, n_harmonics + 1)
    band = np.minimum((2 * n_bands * freqs / SAMPLE_RATE).astype(np.int64), n_bands - 1)
    hits = (freqs < SAMPLE_RATE / 2)[..., None] & (band[..., None] == np.arange(n_bands))
    return np.minimum(hits.sum(axis=1) * ABSORBED_BANDWIDTH_HZ / (SAMPLE_RATE / 2 / n_bands), MAX_NOISE_SHARE)


def noise_magnitudes(residual: np.ndarray, n_frames: int, n_bands: int, share: np.ndarray | None = None) -> np.ndarray:
    """Band magnitudes [T, B] of ``residual`` in synth units: ``m_b**2 = mean_{j in b} |X_j|**2 / sum(w**2)``.

    ``share`` [T, B] (see :func:`harmonic_noise_share`) undoes the noise removed with the harmonics.
    """
    n_fft = max(NOISE_N_FFT, 4 * n_bands)  # at least two bins per band
    window = _hann(n_fft)
    x = np.pad(np.asarray(residual, np.float64), (n_fft // 2, n_fft // 2 + HOP_SIZE * n_frames))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::HOP_SIZE][:n_frames]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    bands = synth.band_of_bins(n_fft // 2 + 1, n_fft, n_bands)
    interior = np.arange(n_fft // 2 + 1)
    interior = (interior > 0) & (interior < n_fft // 2)  # as in the noise table: no DC, no Nyquist
    counts = np.bincount(bands[interior], minlength=n_bands)
    sums = np.stack([power[:, interior & (bands == b)].sum(axis=1) for b in range(n_bands)], axis=1)
    power = sums / np.maximum(counts, 1) / np.sum(window**2)
    if share is not None:
        power = power / (1.0 - share)
    return np.sqrt(power)


def analyze(
    audio: np.ndarray,
    f0_hz: np.ndarray,
    f0_confidence: np.ndarray | None,
    n_harmonics: int,
    n_noise_bands: int,
    threshold: float = C.CONFIDENCE_THRESHOLD,
) -> dict:
    """Synth controls that reproduce ``audio`` (one clip) with the kit's synth.

    Returns float32 arrays: ``f0_hz`` [T] (unvoiced frames filled), ``amplitude`` [T, 1],
    ``harmonic_distribution`` [T, K], ``harmonic_amplitudes`` [T, K] (amplitude * distribution,
    Nyquist-masked; the stage-1 regression target) and ``noise_magnitudes`` [T, B].
    Amplitudes are clipped to the decoder's output range [1e-7, 2].
    """
    f0_raw = np.asarray(f0_hz, np.float64)
    conf = np.ones_like(f0_raw) if f0_confidence is None else np.asarray(f0_confidence)
    f0 = C.fill_unvoiced(f0_raw, conf, threshold)
    t = f0.shape[0]
    d, demod = heterodyne(audio, f0, n_harmonics)
    amps = C.remove_above_nyquist(f0, 2.0 * np.abs(d))
    residual = _fit_length(audio, synth.default_n_samples(t)) - harmonic_resynthesis(d, demod, f0)
    noise = noise_magnitudes(residual, t, n_noise_bands, harmonic_noise_share(f0, n_harmonics, n_noise_bands))
    amplitude = np.clip(amps.sum(axis=1, keepdims=True), FLOOR, CEILING)
    dist = np.maximum(amps / np.maximum(amps.sum(axis=1, keepdims=True), FLOOR), FLOOR)
    return {
        "f0_hz": f0.astype(np.float32),
        "amplitude": amplitude.astype(np.float32),
        "harmonic_distribution": dist.astype(np.float32),
        "harmonic_amplitudes": C.harmonic_amplitudes(f0, amplitude, dist).astype(np.float32),
        "noise_magnitudes": np.clip(noise, FLOOR, CEILING).astype(np.float32),
    }
