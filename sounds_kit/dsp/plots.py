"""Plots of frame features (f0 and loudness) for notebooks and ``sounds-kit features --plot``."""

from __future__ import annotations

from typing import Any

import numpy as np

from sounds_kit.conventions import FRAME_RATE, SAMPLE_RATE, VOICED_CONFIDENCE, is_voiced


def plot_features(features: dict[str, Any], audio: np.ndarray | None = None, ax: Any = None) -> Any:
    """Plot f0 (voiced frames, log-frequency axis) over loudness; returns the matplotlib Figure.

    ``features`` is what :func:`sounds_kit.dsp.features.compute_features` returns (or its JSON form).
    With ``audio``, a spectrogram goes under the f0 track. With ``ax``, only f0 (and loudness on
    a twin axis) is drawn there; otherwise a new two-panel figure is made.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    f0 = np.asarray(features["f0_hz"], dtype=np.float64)
    conf = np.asarray(features["f0_confidence"], dtype=np.float64)
    loud = np.asarray(features["loudness_db"], dtype=np.float64)
    t = np.arange(len(f0)) / FRAME_RATE
    pitched = np.where(is_voiced(conf), f0, np.nan)  # gaps where unvoiced

    if ax is None:
        fig, (ax_f0, ax_loud) = plt.subplots(2, 1, sharex=True, figsize=(10, 5), height_ratios=(2, 1))
    else:
        fig, ax_f0, ax_loud = ax.figure, ax, ax.twinx()

    if audio is not None and len(audio) > 0:
        a = np.asarray(audio, dtype=np.float32)
        ax_f0.specgram(a, NFFT=1024, Fs=SAMPLE_RATE, noverlap=1024 - 128, cmap="Greys", vmin=-120)
    ax_f0.plot(t, pitched, color="tab:orange", lw=1.5, label="f0")
    ax_f0.set_yscale("log")
    ax_f0.yaxis.set_major_formatter(ScalarFormatter())  # 200, not 2 x 10^2
    ax_f0.yaxis.set_minor_formatter(NullFormatter())
    voiced = pitched[np.isfinite(pitched)]
    lo, hi = (np.min(voiced) / 1.5, np.max(voiced) * 1.5) if voiced.size else (60.0, 2100.0)
    ax_f0.set_ylim(max(lo, 30.0), min(hi, SAMPLE_RATE / 2))
    ax_f0.set_ylabel("f0 (Hz)")
    ax_loud.plot(t, loud, color="tab:blue", lw=1.0)
    ax_loud.set_ylabel("loudness (dB)")
    ax_loud.set_ylim(min(-80.0, float(np.min(loud, initial=-80.0))) - 2.0, 2.0)
    ax_loud.set_xlabel("time (s)")
    if len(t):
        ax_f0.set_xlim(0.0, t[-1])
    ax_f0.set_title(f"f0 (confidence >= {VOICED_CONFIDENCE}) and A-weighted loudness")
    if ax is None:  # leave a caller's layout alone
        fig.tight_layout()
    return fig
