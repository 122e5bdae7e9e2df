"""Plots of a prepared dataset's statistics (pitch and loudness of voiced frames)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _centres(h: dict) -> np.ndarray:
    return h["lo"] + (np.arange(len(h["counts"])) + 0.5) * h["width"]


def _regroup(h: dict, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Coarser bins for display: ``factor`` stored bins per drawn bar."""
    counts = np.asarray(h["counts"], np.float64)
    counts = np.pad(counts, (0, -len(counts) % factor)).reshape(-1, factor).sum(axis=1)
    edges = h["lo"] + np.arange(len(counts) + 1) * h["width"] * factor
    return counts, edges


def plot_dataset_stats(dataset_dir: str | Path, title: str | None = None) -> Figure:
    """Histograms of pitch (MIDI, with note names) and A-weighted loudness over voiced frames.

    Returns a matplotlib Figure (two axes) built from the dataset's stats.json.
    """
    from matplotlib.figure import Figure

    from sounds_kit.data.dataset import read_stats

    stats = read_stats(dataset_dir)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_p, ax_l = fig.subplots(1, 2)
    hist = stats["histograms"]
    voiced = stats.get("voiced_frames", 0)
    for ax, key, factor, unit in ((ax_p, "midi", 4, "MIDI note"), (ax_l, "loudness_db", 10, "dB (A-weighted)")):
        counts, edges = _regroup(hist[key], factor)
        seconds = counts / stats.get("frame_rate", 250.0)
        ax.stairs(seconds, edges, fill=True, alpha=0.8)
        if counts.sum():
            # show the central 99.8%: a few octave-error frames should not stretch the axis
            cum = np.cumsum(counts) / counts.sum()
            first, last = np.searchsorted(cum, 0.001), np.searchsorted(cum, 0.999)
            pad = 3 * (edges[1] - edges[0])
            ax.set_xlim(edges[first] - pad, edges[min(last + 1, len(edges) - 1)] + pad)
        ax.set_xlabel(unit)
        ax.set_ylabel("seconds")
    if stats.get("pitch"):
        p, lo = stats["pitch"], stats["loudness"]
        ax_p.axvline(p["mean_midi"], color="k", lw=1)
        ax_p.set_title(f"pitch: mean {p['mean_midi']:.1f} ({p['mean_hz']:.0f} Hz), sd {p['std_midi']:.1f} semitones")
        for q in lo["quantiles_db"][1::3]:
            ax_l.axvline(q, color="k", lw=0.8, ls=":")
        ax_l.set_title(
            f"loudness: median {lo['quantiles_db'][4]:.1f} dB, {voiced / stats['frame_rate'] / 60:.1f} min voiced"
        )
    else:
        ax_p.set_title("pitch: no voiced frames")
        ax_l.set_title("loudness: no voiced frames")
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    lo_x, hi_x = ax_p.get_xlim()
    ticks = [m for m in range(int(lo_x), int(hi_x) + 1) if m % 12 in (0, 7)]
    ax_p.set_xticks(ticks, [f"{names[m % 12]}{m // 12 - 1}" for m in ticks])
    if title:
        fig.suptitle(title)
    return fig
