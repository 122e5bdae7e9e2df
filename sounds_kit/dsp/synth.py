"""The reference synth: controls -> audio in numpy float64 (design.md, "Synth").

This is what Python inference renders with and what the JS port is checked
against, so every step is spelled out exactly:

* upsampling: linear interpolation between frame positions ``i * HOP_SIZE``, hold after the last frame;
* harmonics: ``phi[n] = 2*pi * sum_{m<n} f0[m] / SAMPLE_RATE`` in float64, wrapped mod 2*pi,
  ``harmonic[n] = sum_k a_k[n] * sin(k * phi[n])``;
* noise: ``noise[n] = sum_b m_b[n] * band_b(n + offset)``, reading each band's table in segments that
  start at pseudo-random positions, crossfaded (:func:`noise_read`);
* reverb (optional): ``out = dry + (dry * ir)[:N]`` (linear convolution, truncated).

The noise table (see :func:`noise_table`) comes from the mulberry32 generator, implemented here with
exact uint32 arithmetic so JS can reproduce it bit for bit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sounds_kit.conventions import HOP_SIZE, NOISE_CROSSFADE, NOISE_SEED, NOISE_TABLE_SIZE, SAMPLE_RATE
from sounds_kit.dsp import controls as C

CHUNK_SAMPLES = 16 * 1024
"""Long clips are rendered in chunks of this many samples so memory stays ~[chunk, K]."""

_MULBERRY_INCREMENT = np.uint32(0x6D2B79F5)


# --------------------------------------------------------------------------------------------- PRNG


def mulberry32(seed: int, count: int) -> np.ndarray:
    """The first ``count`` outputs of mulberry32(seed), as uint32 (divide by 2**32 for [0, 1)).

    Draw i (0-based) is exactly the JS reference::

        a = (seed + (i + 1) * 0x6D2B79F5) mod 2**32        // the state after i + 1 calls
        t = imul(a ^ (a >>> 15), a | 1)
        t = (t + imul(t ^ (t >>> 7), t | 61)) ^ t           // all mod 2**32
        out = (t ^ (t >>> 14)) >>> 0
    """
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        # uint64 wraps mod 2**64, a multiple of 2**32, so masking afterwards is exact.
        a = ((np.uint64(seed & 0xFFFFFFFF) + i * np.uint64(_MULBERRY_INCREMENT)) & np.uint64(0xFFFFFFFF)).astype(
            np.uint32
        )
        t = (a ^ (a >> np.uint32(15))) * (a | np.uint32(1))
        t = (t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))) ^ t
        return (t ^ (t >> np.uint32(14))).astype(np.uint32)


def mulberry32_uniform(seed: int, count: int) -> np.ndarray:
    """mulberry32 draws as float64 in [0, 1): ``out / 4294967296`` (exact in float64)."""
    return mulberry32(seed, count).astype(np.float64) / 4294967296.0


# ------------------------------------------------------------------------------------- noise table


def band_of_bins(n_bins: int, n_fft: int, n_bands: int) -> np.ndarray:
    """Band index of rfft bins 0..n_bins-1 for an ``n_fft``-point FFT: ``floor(2 * B * j / n_fft)``.

    Bands split [0, SAMPLE_RATE/2] evenly; the Nyquist bin is clamped into the last band.
    """
    j = np.arange(n_bins, dtype=np.int64)
    return np.minimum((2 * n_bands * j) // n_fft, n_bands - 1)


@lru_cache(maxsize=8)
def _noise_table(n_bands: int, size: int, seed: int) -> np.ndarray:
    half = size // 2
    # One draw per interior bin j = 1 .. size/2 - 1, in ascending order: phase = 2*pi*u.
    # DC and Nyquist stay 0 (they cannot carry a random phase), so the table has zero mean.
    phase = 2.0 * np.pi * mulberry32_uniform(seed, half - 1)
    spectrum = np.zeros(half + 1, dtype=np.complex128)
    spectrum[1:half] = np.exp(1j * phase)
    bands = band_of_bins(half + 1, size, n_bands)
    # Every bin has magnitude 1, so the sum over bands has variance (size - 2) / size**2 before scaling.
    scale = size / np.sqrt(size - 2.0)
    table = np.empty((n_bands, size), dtype=np.float64)
    for b in range(n_bands):
        table[b] = np.fft.irfft(np.where(bands == b, spectrum, 0.0), n=size) * scale
    table.setflags(write=False)
    return table


def noise_table(n_bands: int, size: int = NOISE_TABLE_SIZE, seed: int = NOISE_SEED) -> np.ndarray:
    """The fixed band-noise table [n_bands, size] (float64, read-only, cached).

    Construction: ``u = mulberry32_uniform(seed, size/2 - 1)``; rfft bin j (1 <= j < size/2) gets
    ``exp(i * 2*pi * u[j-1])``, DC and Nyquist 0; band b keeps the bins with ``floor(2*B*j/size) == b``;
    ``table_b = irfft(band b's bins, size) * size / sqrt(size - 2)`` (numpy's irfft: 1/size normalisation).
    All bands summed are then exactly unit-variance, zero-mean white noise.
    """
    if n_bands < 1:
        raise ValueError(f"need at least one noise band, got {n_bands}")
    if 2 * n_bands > size // 2:
        raise ValueError(f"{n_bands} noise bands is too many for a {size}-sample table")
    return _noise_table(int(n_bands), int(size), int(seed))


# -------------------------------------------------------------------------------------- upsampling


def _interp_range(frames: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Samples start..stop-1 of the linear upsampling of ``frames`` [T, C] -> [stop-start, C].

    Sample ``i * HOP_SIZE + h`` is ``a + (b - a) * (h / HOP_SIZE)`` with a = frame i, b = frame i + 1
    (the JS port uses the same expression); past the last frame a == b, which holds it.
    """
    if stop <= start:
        return np.zeros((0, frames.shape[1]), frames.dtype)
    last = frames.shape[0] - 1
    blocks = np.arange(start // HOP_SIZE, (stop - 1) // HOP_SIZE + 1)
    a = frames[np.minimum(blocks, last)]
    b = frames[np.minimum(blocks + 1, last)]
    # Whole hops at once: gathers happen at the frame rate, the audio-rate work is one fused expression.
    up = (a[:, None, :] + (b - a)[:, None, :] * _HOP_WEIGHTS[None, :, None]).reshape(-1, frames.shape[1])
    first = start - blocks[0] * HOP_SIZE
    return up[first : first + stop - start]


_HOP_WEIGHTS = np.arange(HOP_SIZE, dtype=np.float64) / HOP_SIZE


def upsample(frames: np.ndarray, n_samples: int | None = None) -> np.ndarray:
    """Frame-rate [T] or [T, C] -> audio-rate [n] or [n, C] (default n = (T - 1) * HOP_SIZE)."""
    x = np.asarray(frames)
    x = x if np.iscomplexobj(x) else x.astype(np.float64)  # complex frames are used by analysis.py
    squeeze = x.ndim == 1
    x2 = x[:, None] if squeeze else x
    n = (x2.shape[0] - 1) * HOP_SIZE if n_samples is None else int(n_samples)
    out = _interp_range(x2, 0, n)
    return out[:, 0] if squeeze else out


# --------------------------------------------------------------------------------------- synthesis


def default_n_samples(n_frames: int) -> int:
    """Samples rendered for ``n_frames`` frames: the position of the last frame, (T - 1) * HOP_SIZE."""
    return (int(n_frames) - 1) * HOP_SIZE


def harmonic_phase(f0_up: np.ndarray, initial_cycles: float = 0.0) -> tuple[np.ndarray, float]:
    """Wrapped phase in cycles [0, 1) of audio-rate f0, and the carry for the next chunk.

    ``cycles[n] = frac(initial + sum_{m<n} f0[m] / SAMPLE_RATE)``; multiply by 2*pi for radians.
    """
    inc = np.asarray(f0_up, dtype=np.float64) / SAMPLE_RATE
    csum = np.cumsum(inc)
    cycles = initial_cycles + np.concatenate(([0.0], csum[:-1]))
    carry = initial_cycles + csum[-1] if csum.size else initial_cycles
    return cycles - np.floor(cycles), float(carry - np.floor(carry))


def harmonic_bank(cycles: np.ndarray, amps_up: np.ndarray) -> np.ndarray:
    """``sum_k a_k[n] sin(2*pi*k*cycles[n])`` for audio-rate amplitudes [n, K] (silent harmonics skipped)."""
    active = np.flatnonzero(np.any(amps_up != 0.0, axis=0))
    if active.size == 0:
        return np.zeros(cycles.shape[0])
    k_max = int(active[-1]) + 1
    k = np.arange(1, k_max + 1, dtype=np.float64)
    sines = np.sin((2.0 * np.pi * cycles)[:, None] * k)
    return np.einsum("nk,nk->n", sines, amps_up[:, :k_max])


def segment_start(k: np.ndarray | int, size: int = NOISE_TABLE_SIZE) -> np.ndarray:
    """Table position where noise segment ``k`` starts: ``floor(size * mulberry32(NOISE_SEED + 1 + k)[0] / 2**32)``.

    One generator per segment (not one long sequence) so a stream can start at any segment.
    """
    ks = np.atleast_1d(np.asarray(k, dtype=np.int64))
    starts = np.array([int(mulberry32((NOISE_SEED + 1 + int(j)) & 0xFFFFFFFF, 1)[0]) for j in ks], dtype=np.int64)
    return (starts * size) >> 32


def noise_read(positions: np.ndarray, size: int = NOISE_TABLE_SIZE, fade: int = NOISE_CROSSFADE):
    """Where the noise at absolute positions p reads the table: ``(idx_a, w_a, idx_b, w_b)``.

    Segment ``k = p // size`` reads ``table[(p - k*size + start_k) mod size]`` with weight 1, except in
    its last ``fade`` samples, where segment k+1 (read the same way, so it continues seamlessly into its
    own first sample) fades in: ``t = (q - (size - fade) + 1) / (fade + 1)``, ``w_a = cos(pi/2 t)``,
    ``w_b = sin(pi/2 t)`` (equal power: the two reads are uncorrelated noise).
    """
    p = np.asarray(positions, dtype=np.int64)
    k = p // size
    q = p - k * size
    ks = np.unique(np.concatenate([k, k + 1]))
    starts = segment_start(ks, size)
    s_a, s_b = starts[np.searchsorted(ks, k)], starts[np.searchsorted(ks, k + 1)]
    idx_a = (q + s_a) % size
    idx_b = (q - size + s_b) % size
    t = np.clip((q - (size - fade) + 1) / (fade + 1.0), 0.0, 1.0)
    return idx_a, np.cos(0.5 * np.pi * t), idx_b, np.sin(0.5 * np.pi * t)


def filtered_noise(mags_up: np.ndarray, start: int, offset: int = 0) -> np.ndarray:
    """``sum_b m_b[n] band_b(n + offset)`` for samples start.. of audio-rate magnitudes [n, B] (:func:`noise_read`)."""
    table_t = _table_transposed(mags_up.shape[1])
    idx_a, w_a, idx_b, w_b = noise_read(np.arange(start, start + mags_up.shape[0], dtype=np.int64) + offset)
    out = np.einsum("nb,nb->n", mags_up, table_t[idx_a]) * w_a
    fading = w_b > 0
    if fading.any():
        out[fading] += np.einsum("nb,nb->n", mags_up[fading], table_t[idx_b[fading]]) * w_b[fading]
    return out


@lru_cache(maxsize=8)
def _table_transposed(n_bands: int) -> np.ndarray:
    # [L, B] so that gathering sample indices reads contiguous rows.
    return np.ascontiguousarray(noise_table(n_bands).T)


def apply_reverb(dry: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``dry + (dry * ir)[:len(dry)]``: the impulse response adds the wet signal, the dry passes as is."""
    from scipy.signal import oaconvolve

    dry = np.asarray(dry, dtype=np.float64)
    ir = np.asarray(ir, dtype=np.float64).reshape(-1)
    if ir.size == 0 or dry.size == 0:
        return dry.copy()
    return dry + oaconvolve(dry, ir)[: dry.shape[0]]


def _as_frames(x: np.ndarray, name: str, n_frames: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[0] != n_frames:
        raise ValueError(f"{name} must be [T] or [T, C] with T = {n_frames}, got shape {x.shape}")
    return x


def render(
    controls: dict, f0_hz: np.ndarray, n_samples: int | None = None, reverb_ir: np.ndarray | None = None,
    gain_db: float = 0.0,
) -> np.ndarray:
    """Decoder outputs [T, .] at filled f0 [T] -> float32 audio (reverb when ``reverb_ir`` is given)."""
    full = {k: controls[k] for k in ("amplitude", "harmonic_distribution", "noise_magnitudes") if k in controls}
    full["f0_hz"] = np.asarray(f0_hz, np.float64)
    if reverb_ir is not None:
        full["reverb_ir"] = reverb_ir
    audio = synthesize(full, n_samples=n_samples, reverb=reverb_ir is not None)
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def synthesize(
    controls: dict,
    offset: int = 0,
    n_samples: int | None = None,
    initial_phase: float = 0.0,
    reverb: bool = True,
) -> np.ndarray:
    """Render controls to float64 audio.

    ``controls``: ``f0_hz`` [T], ``amplitude`` [T] or [T, 1], ``harmonic_distribution`` [T, K],
    ``noise_magnitudes`` [T, B] (optional), ``reverb_ir`` [L] (optional, used when ``reverb``).
    ``offset`` is the noise-table position of sample 0 (for streaming), ``initial_phase`` the harmonic
    phase of sample 0 in cycles. Renders ``n_samples`` (default (T - 1) * HOP_SIZE) samples.
    """
    f0 = _as_frames(controls["f0_hz"], "f0_hz", np.asarray(controls["f0_hz"]).shape[0])
    t = f0.shape[0]
    amps = C.harmonic_amplitudes(
        f0[:, 0],
        _as_frames(controls["amplitude"], "amplitude", t),
        _as_frames(controls["harmonic_distribution"], "harmonic_distribution", t),
    )
    mags = controls.get("noise_magnitudes")
    mags = None if mags is None else _as_frames(mags, "noise_magnitudes", t)
    n = default_n_samples(t) if n_samples is None else int(n_samples)
    out = np.zeros(max(n, 0), dtype=np.float64)
    cycles0 = float(initial_phase)
    for start in range(0, n, CHUNK_SAMPLES):
        stop = min(start + CHUNK_SAMPLES, n)
        cycles, cycles0 = harmonic_phase(_interp_range(f0, start, stop)[:, 0], cycles0)
        out[start:stop] = harmonic_bank(cycles, _interp_range(amps, start, stop))
        if mags is not None:
            out[start:stop] += filtered_noise(_interp_range(mags, start, stop), start, offset)
    ir = controls.get("reverb_ir")
    if reverb and ir is not None:
        out = apply_reverb(out, ir)
    return out
