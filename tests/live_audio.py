"""Reading recordings of live play: delays, gaps and dropouts, measured from the audio alone.

Used by benchmarks/live_latency.py and tests/test_sing_widget_browser.py on recordings made in the
audio graph itself (microphone and instrument side by side, sounds_kit.browser.live_page), so the
offsets below are delays inside the graph; what the sound card adds is reported by the browser apart.
"""

from __future__ import annotations

import base64

import numpy as np

SR = 16000
FLOOR_DB = -70.0


def f32(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32).copy()


def envelope_db(x: np.ndarray, sr: int = SR, smooth_ms: int = 8) -> np.ndarray:
    """Mean-square level per 1 ms, averaged over ``smooth_ms`` (trailing), in dB (floored)."""
    hop = sr // 1000
    ms = (x[: len(x) // hop * hop].astype(np.float64).reshape(-1, hop) ** 2).mean(axis=1)
    smooth = np.convolve(ms, np.ones(smooth_ms) / smooth_ms)[: len(ms)]
    return np.maximum(FLOOR_DB, 10 * np.log10(smooth + 1e-12))


def _best_lag(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, float]:
    """Lag (samples of a/b, sub-sample by a parabola) where b best matches a delayed, and the
    normalised correlation there."""
    n = len(a) - max_lag
    a0 = a[:n] - a[:n].mean()
    corr = np.empty(max_lag + 1)
    ea = np.sqrt(np.dot(a0, a0))
    for lag in range(max_lag + 1):
        seg = b[lag : lag + n] - b[lag : lag + n].mean()
        corr[lag] = np.dot(a0, seg) / max(ea * np.sqrt(np.dot(seg, seg)), 1e-30)
    k = int(np.argmax(corr))
    shift = 0.0
    if 0 < k < max_lag:
        c0, c1, c2 = corr[k - 1], corr[k], corr[k + 1]
        if c0 - 2 * c1 + c2 < 0:
            shift = float(np.clip(0.5 * (c0 - c2) / (c0 - 2 * c1 + c2), -0.5, 0.5))
    return k + shift, float(corr[k])


def contour_delay_ms(inp: np.ndarray, out: np.ndarray, max_ms: int = 300, sr: int = SR) -> tuple[float, float]:
    """How late the instrument's loudness contour follows the voice's (dB envelopes, 1 ms steps):
    includes the instrument's attack. Returns (ms, correlation)."""
    return _best_lag(envelope_db(inp, sr), envelope_db(out, sr), max_ms)


def system_delay_ms(out: np.ndarray, reference: np.ndarray, max_ms: int = 400, sr: int = SR) -> tuple[float, float]:
    """Delay of the recorded instrument against a zero-latency render of the recorded voice (the same
    instrument offline: its output sample n answers input sample n). Both carry the same attack, so
    aligning their loudness contours (1 ms, sub-millisecond by a parabola) leaves only the delay the
    live chain adds. (Waveforms cannot be aligned: the two renders start their phases at different
    moments, which shifts every harmonic differently.) Returns (ms, correlation)."""
    return _best_lag(envelope_db(reference, sr, smooth_ms=2), envelope_db(out, sr, smooth_ms=2), max_ms)


def windowed_system_delays_ms(
    out: np.ndarray, reference: np.ndarray, window_s: float = 5.0, sr: int = SR
) -> list[float]:
    """system_delay_ms per window: shows a delay that changes during a run (a growing cushion)."""
    w = int(window_s * sr)
    delays = []
    for start in range(0, len(out) - w + 1, w):
        seg_out, seg_ref = out[start : start + w], reference[start : start + w]
        if np.sqrt(np.mean(seg_ref**2)) < 1e-3 or np.sqrt(np.mean(seg_out**2)) < 1e-3:
            continue
        d, corr = system_delay_ms(seg_out, seg_ref, sr=sr)
        if corr > 0.8:
            delays.append(d)
    return delays


def notes(inp: np.ndarray, sr: int = SR, on_db: float = -40.0, min_rest_ms: int = 100) -> list[tuple[int, int]]:
    """(onset, offset) in ms of the voice's notes: a note starts above on_db after at least
    min_rest_ms at or below it, and ends when the level falls under on_db - 15."""
    env = envelope_db(inp, sr, smooth_ms=4)
    out, quiet, start = [], min_rest_ms, None
    for t, v in enumerate(env):
        if start is None:
            if v > on_db:
                if quiet >= min_rest_ms:
                    start = t
                quiet = 0
            else:
                quiet += 1
        elif v < on_db - 15:
            out.append((start, t))
            start, quiet = None, 1
    return [(a, b) for a, b in out if b - a > 150]


def onset_delays_ms(inp: np.ndarray, out: np.ndarray, rel_db: float = -20.0, sr: int = SR) -> list[float]:
    """Per note: ms from the voice's onset until the instrument is within rel_db of its level in that
    note (its median over the note's middle). Includes the instrument's attack."""
    env = envelope_db(out, sr, smooth_ms=4)
    delays = []
    for a, b in notes(inp, sr):
        level = np.median(env[a + 100 : b]) if b > a + 150 else None
        if level is None or level < FLOOR_DB + 20:
            continue
        above = np.nonzero(env[a : a + 300] > level + rel_db)[0]
        if above.size:
            delays.append(float(above[0]))
    return delays


def output_gaps(inp: np.ndarray, out: np.ndarray, delay_ms: float, sr: int = SR, drop_db: float = 25.0) -> int:
    """Dropouts of the instrument inside the voice's notes: stretches of >= 5 ms where its level falls
    drop_db below its median in that note (the note's first 100 ms and last 60 ms left out)."""
    env = envelope_db(out, sr, smooth_ms=2)
    d = int(round(delay_ms))
    gaps = 0
    for a, b in notes(inp, sr):
        seg = env[a + d + 100 : b + d - 60]
        if seg.size < 50:
            continue
        low = seg < np.median(seg) - drop_db
        run = 0
        for v in low:
            run = run + 1 if v else 0
            if run == 5:
                gaps += 1
    return gaps


def input_dropouts(inp: np.ndarray, sr: int = SR, min_samples: int = 32) -> int:
    """Runs of exact zeros inside the voice's notes: samples the browser never delivered."""
    count = 0
    for a, b in notes(inp, sr):
        seg = inp[(a + 20) * sr // 1000 : (b - 20) * sr // 1000]
        zero = np.concatenate([[0], (seg == 0).astype(np.int8), [0]])
        edges = np.diff(zero)
        starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        count += int(np.sum(ends - starts >= min_samples))
    return count
