"""Frame features of a voice or instrument: f0 (YIN dips + a pitch path), voicing confidence, A-weighted loudness.

One definition, written down in docs/design.md ("Features"), implemented here in numpy and in
``widgets/src/dsp/features.js`` in plain JS; ``widgets/test/vectors/features.json`` holds the
Python output that the JS must reproduce. Frame ``i`` is centred on sample ``i * HOP_SIZE`` of a
zero-padded signal, so a clip of ``n`` samples has ``conventions.n_frames(n)`` frames.

All arithmetic is float64 (inputs are first cast to float32, as the browser receives them);
outputs are float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sounds_kit.conventions import (
    F0_MAX_HZ,
    F0_MIN_HZ,
    FRAME_RATE,
    HOP_SIZE,
    LOUDNESS_FLOOR_DB,
    LOUDNESS_N_FFT,
    PITCH_TRACKER,
    SAMPLE_RATE,
    VOICED_CONFIDENCE,
    VOICED_LOUDNESS_DB,
    YIN_WINDOW,
    n_frames,
)
from sounds_kit.dsp.pitch_tracker import PATH_LAG, Candidates, PitchPath, find_dips, score_dips
from sounds_kit.errors import AudioError

# Lags searched: every period in F0_MIN_HZ..F0_MAX_HZ. One extra lag beyond TAU_MAX lets the
# parabola around a minimum at TAU_MAX see its right neighbour; YIN_GUARD more lags keep the
# difference function exact a little further, so its interpolant is accurate up to TAU_MAX + 1
# (without them a 65 Hz sine read ~0.6 cents off, with them < 0.1).
TAU_MIN = int(np.floor(SAMPLE_RATE / F0_MAX_HZ))
TAU_MAX = int(np.ceil(SAMPLE_RATE / F0_MIN_HZ))
YIN_GUARD = 16
YIN_LENGTH = YIN_WINDOW + TAU_MAX + 1 + YIN_GUARD
"""Samples one YIN frame reads: window plus largest lag, + 1 + YIN_GUARD."""
YIN_N_FFT = 1 << int(np.ceil(np.log2(YIN_LENGTH)))
"""FFT size for the correlation; >= YIN_LENGTH so lags up to TAU_MAX + 1 never wrap."""
YIN_LEFT = YIN_LENGTH // 2
"""A YIN frame starts this many samples before its centre."""
LOUDNESS_LEFT = LOUDNESS_N_FFT // 2
"""A loudness window starts this many samples before its centre."""
CONTEXT_LEFT = max(YIN_LEFT, LOUDNESS_LEFT)
CONTEXT_RIGHT = max(YIN_LENGTH - YIN_LEFT, LOUDNESS_N_FFT - LOUDNESS_LEFT)
"""Samples at and after a frame's centre that the frame reads."""
STREAM_LATENCY = CONTEXT_RIGHT + PATH_LAG * HOP_SIZE
"""Samples after a frame's centre before a stream can emit it: its own look-ahead, then the pitch path
waits PATH_LAG more frames (452 samples, 28.25 ms)."""

_CHUNK_FRAMES = 1024  # ~8 MB per complex [frames, bins] buffer: hour-long input stays small


# ---------------------------------------------------------------------------------------------
# A-weighting


def _a_weighting_gain(freqs: np.ndarray) -> np.ndarray:
    """IEC 61672 A-weighting as a linear amplitude gain, exactly 1 at 1 kHz."""

    def r_a(f: np.ndarray) -> np.ndarray:
        f2 = f * f
        return (12194.0**2 * f2 * f2) / (
            (f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2)) * (f2 + 12194.0**2)
        )

    return r_a(np.asarray(freqs, dtype=np.float64)) / r_a(np.float64(1000.0))


def a_weighting_db(freqs: np.ndarray | float) -> np.ndarray:
    """IEC 61672 A-weighting in dB (0 dB at 1 kHz; -inf at 0 Hz)."""
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(_a_weighting_gain(np.abs(np.asarray(freqs, dtype=np.float64))))


# Window and per-bin weights for the loudness, built once.
_HANN = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(LOUDNESS_N_FFT) / LOUDNESS_N_FFT)  # periodic
_LOUDNESS_WEIGHTS = (
    2.0
    * _a_weighting_gain(np.arange(LOUDNESS_N_FFT // 2 + 1) * SAMPLE_RATE / LOUDNESS_N_FFT) ** 2
    / (LOUDNESS_N_FFT * np.sum(_HANN**2))
)
_POWER_FLOOR = 10.0 ** (LOUDNESS_FLOOR_DB / 10.0)

# Lag-domain constants for YIN: FFT of the W-sample box, and for the trigonometric interpolant
# p(tau) = sum_k w_k Re(D_k exp(i omega_k tau)) / N the bin frequencies and one-sided weights.
ZERO_DIFF = 1e-12  # relative level below which d(tau) is rounding noise (see _difference_rows)
NEWTON_STEPS = 2  # converged: a third step changed no float32 output on test tones
_BOX = np.fft.rfft(np.ones(YIN_WINDOW), n=YIN_N_FFT)
_OMEGA = 2.0 * np.pi * np.arange(YIN_N_FFT // 2 + 1) / YIN_N_FFT
_TRIG_WEIGHTS = np.full(YIN_N_FFT // 2 + 1, 2.0 / YIN_N_FFT)
_TRIG_WEIGHTS[[0, -1]] = 1.0 / YIN_N_FFT


# ---------------------------------------------------------------------------------------------
# Per-chunk kernels (rows are frames)


def _loudness_rows(frames: np.ndarray) -> np.ndarray:
    spec = np.fft.rfft(frames * _HANN, axis=-1)
    power = (spec.real**2 + spec.imag**2) @ _LOUDNESS_WEIGHTS
    return 10.0 * np.log10(np.maximum(power, _POWER_FLOOR))


def _lag_spectrum(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energies of the first window and of the frame, and the lag spectrum of d(tau) - E0.

    With a = x[0:W] and b = the whole frame, d(tau) = sum_{j<W} (a_j - b_{j+tau})^2
    = E0 + sum_{j<W} b_{j+tau}^2 - 2 sum_{j<W} a_j b_{j+tau}; both sums are correlations, so
    d(tau) - E0 is the inverse FFT of conj(BOX) * FFT(b^2) - 2 conj(FFT(a)) * FFT(b), with BOX the
    FFT of W ones. YIN_N_FFT >= YIN_LENGTH keeps every needed lag free of wrap-around.
    """
    squares = frames * frames
    head = np.fft.rfft(frames[:, :YIN_WINDOW], n=YIN_N_FFT, axis=-1)
    whole = np.fft.rfft(frames, n=YIN_N_FFT, axis=-1)
    power = np.fft.rfft(squares, n=YIN_N_FFT, axis=-1)
    spec = np.conj(_BOX) * power - 2.0 * np.conj(head) * whole
    return np.sum(squares[:, :YIN_WINDOW], axis=-1), np.sum(squares, axis=-1), spec


def _difference_rows(energy0: np.ndarray, energy: np.ndarray, spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Difference function and its cumulative-mean normalisation for lags 0..TAU_MAX + 1.

    Values under ZERO_DIFF x the frame's energy are FFT rounding noise (true zeros where both
    windows are silent, e.g. at a note onset after digital silence): they become exact zeros, so
    0/0 lags read cmnd = 1 in Python and JS alike instead of noise-driven values.
    """
    lags = TAU_MAX + 2
    diff = np.fft.irfft(spec, n=YIN_N_FFT, axis=-1)[:, :lags] + energy0[:, None]
    diff = np.where(diff > ZERO_DIFF * energy[:, None], diff, 0.0)
    diff[:, 0] = 0.0
    running = np.cumsum(diff[:, 1:], axis=-1)
    tau = np.arange(1, lags, dtype=np.float64)
    cmnd = np.ones_like(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmnd[:, 1:] = np.where(running > 0.0, diff[:, 1:] * tau / running, 1.0)
    return diff, cmnd


def _refine_lags(diff: np.ndarray, spec: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Sub-sample lag of the difference-function minimum next to each integer pick.

    A parabola through d(pick - 1..pick + 1) starts the search (abscissa from the raw d, as in the
    YIN paper: cmnd's tau factor biases it). Parabolas misjudge the sharp dips of high, harmonic-rich
    notes by up to ~10 cents, so NEWTON_STEPS Newton steps then polish the minimum of d's exact
    band-limited (trigonometric) interpolant, whose derivatives come from the same lag spectrum.
    """
    rows = np.arange(len(pick))
    left, mid, right = diff[rows, pick - 1], diff[rows, pick], diff[rows, pick + 1]
    curve = left - 2.0 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curve > 0.0, 0.5 * (left - right) / curve, 0.0)
    tau = pick + np.clip(shift, -0.5, 0.5)
    lo, hi = pick - 1.0, pick + 1.0
    for _ in range(NEWTON_STEPS):
        phase = np.exp(1j * _OMEGA[None, :] * tau[:, None])
        terms = spec * phase
        slope = -(terms.imag @ (_TRIG_WEIGHTS * _OMEGA))
        curv = -(terms.real @ (_TRIG_WEIGHTS * _OMEGA**2))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(curv > 0.0, slope / curv, 0.0)
        tau = np.clip(tau - step, lo, hi)
    return tau


# ---------------------------------------------------------------------------------------------
# Framing


def _as_signal(audio: np.ndarray) -> np.ndarray:
    from sounds_kit.data.audio_io import to_mono

    audio = to_mono(audio)
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio: contains NaN or infinite samples")
    return audio


def _region(audio: np.ndarray, start: int, stop: int) -> np.ndarray:
    """audio[start:stop] as float64, zeros outside the clip."""
    out = np.zeros(stop - start, dtype=np.float64)
    lo, hi = max(start, 0), min(stop, len(audio))
    if hi > lo:
        out[lo - start : hi - start] = audio[lo:hi]
    return out


def _settle(decided: list[tuple[int, int]], pending: dict, out: dict[str, np.ndarray]) -> None:
    """Write f0 and confidence of frames the pitch path has decided (see pitch_tracker)."""
    margin = PITCH_TRACKER["confidence_margin"]
    voiced = []
    for frame, state in decided:
        diff_row, spec_row, cands = pending.pop(frame)
        if out["loudness_db"][frame] < VOICED_LOUDNESS_DB:
            continue  # nothing to track in near-silence: f0 0, confidence 0
        if state == 0:
            periodicity = min(max(1.0 - cands.min_cmnd, 0.0), 1.0)
            out["f0_confidence"][frame] = min(periodicity, VOICED_CONFIDENCE - margin)
        else:
            periodicity = min(max(1.0 - cands.cmnd[state - 1], 0.0), 1.0)
            out["f0_confidence"][frame] = max(periodicity, VOICED_CONFIDENCE + margin)
            voiced.append((frame, diff_row, spec_row, cands.lags[state - 1]))
    if voiced:
        frames, diffs, specs, lags = zip(*voiced, strict=True)
        tau = _refine_lags(np.stack(diffs), np.stack(specs), np.asarray(lags))
        out["f0_hz"][list(frames)] = np.clip(SAMPLE_RATE / tau, F0_MIN_HZ, F0_MAX_HZ)


def _analyse(audio: np.ndarray, with_f0: bool) -> dict[str, np.ndarray]:
    audio = _as_signal(audio)
    total = n_frames(len(audio))
    out = {"f0_hz": np.zeros(total), "f0_confidence": np.zeros(total), "loudness_db": np.empty(total)}
    loud = out["loudness_db"]
    path = PitchPath()
    pending: dict[int, tuple] = {}  # frame -> (diff row, lag-spectrum row, candidates) until decided
    for i0 in range(0, total, _CHUNK_FRAMES):
        i1 = min(i0 + _CHUNK_FRAMES, total)
        start = i0 * HOP_SIZE - CONTEXT_LEFT
        region = _region(audio, start, (i1 - 1) * HOP_SIZE + CONTEXT_RIGHT)
        off = CONTEXT_LEFT - LOUDNESS_LEFT
        loud[i0:i1] = _loudness_rows(sliding_window_view(region[off:], LOUDNESS_N_FFT)[::HOP_SIZE][: i1 - i0])
        if not with_f0:
            continue
        off = CONTEXT_LEFT - YIN_LEFT
        rows = sliding_window_view(region[off:], YIN_LENGTH)[::HOP_SIZE][: i1 - i0]
        energy0, energy, spec = _lag_spectrum(rows)
        diff, cmnd = _difference_rows(energy0, energy, spec)
        decided = []
        dips = find_dips(cmnd, diff, TAU_MIN, TAU_MAX)
        for k, frame in enumerate(range(i0, i1)):
            quiet = loud[frame] < VOICED_LOUDNESS_DB
            cands = Candidates() if quiet else score_dips(*dips[k])
            pending[frame] = (diff[k], spec[k], cands)
            decision = path.step(cands, float(loud[frame]))
            if decision is not None:
                decided.append(decision)
        _settle(decided, pending, out)
    if with_f0:
        _settle(path.finish(), pending, out)
    return out


# ---------------------------------------------------------------------------------------------
# Public API


def compute_loudness(audio: np.ndarray) -> np.ndarray:
    """A-weighted loudness (dB re full scale, floored at LOUDNESS_FLOOR_DB) per frame, float32."""
    return _analyse(audio, with_f0=False)["loudness_db"].astype(np.float32)


def compute_f0(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz, 0 where unvoiced) and voicing confidence in [0, 1] (voiced iff >= VOICED_CONFIDENCE) per frame."""
    out = _analyse(audio, with_f0=True)
    return out["f0_hz"].astype(np.float32), out["f0_confidence"].astype(np.float32)


def compute_features(audio: np.ndarray) -> dict[str, np.ndarray]:
    """f0_hz, f0_confidence and loudness_db (float32, n_frames(len(audio)) each) of 16 kHz mono audio."""
    return {k: v.astype(np.float32) for k, v in _analyse(audio, with_f0=True).items()}


def features_from_file(path: str | Path) -> dict[str, np.ndarray]:
    """Features of any audio file (any format, rate, channels), read through audio_io.load_audio."""
    from sounds_kit.data.audio_io import load_audio

    return compute_features(load_audio(path))


def features_to_json(features: dict[str, np.ndarray]) -> dict:
    """JSON-ready dict: frame_rate plus f0_hz, f0_confidence, loudness_db as lists of floats."""
    out: dict = {"frame_rate": FRAME_RATE}
    for key in ("f0_hz", "f0_confidence", "loudness_db"):
        out[key] = [float(v) for v in np.asarray(features[key], dtype=np.float32)]
    return out
