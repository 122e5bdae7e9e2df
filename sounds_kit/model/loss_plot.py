"""The training loss per stage, as a matplotlib Figure (no pyplot, so saving never switches a
notebook's backend): the run's ``loss.png`` and the notebooks' live plot are this one figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _moving_average(values: np.ndarray, width: int) -> np.ndarray:
    if values.size < width or width <= 1:
        return values
    return np.convolve(values, np.ones(width) / width, mode="valid")


def loss_figure(history: Sequence[dict], budget_minutes: float | None = None, title: str | None = None) -> Figure:
    """Training loss per stage (raw and smoothed) from a run's ``history.json`` entries."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    names = {1: "stage 1: decoder vs analysis targets (log L1)", 2: "stage 2: end to end (spectral loss)"}
    for ax, stage in zip(axes, (1, 2), strict=True):
        rows = [h for h in history if h["stage"] == stage]
        ax.set_title(names[stage], fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if not rows:
            ax.text(0.5, 0.5, "not started yet", ha="center", va="center", transform=ax.transAxes, color="0.5")
            continue
        steps = np.array([h["step"] for h in rows])
        losses = np.array([h["loss"] for h in rows])
        ax.plot(steps, losses, color="tab:blue", alpha=0.25, lw=0.8)
        width = max(1, min(50, losses.size // 10))
        smooth = _moving_average(losses, width)
        ax.plot(steps[len(steps) - len(smooth) :], smooth, color="tab:blue", lw=1.8)
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:.3g}")  # 0.6, not 6 x 10^-1
        ax.yaxis.set_major_formatter(plain)
        if losses.max() < 10 * losses.min():  # less than a decade: label the minor ticks too
            ax.yaxis.set_minor_formatter(plain)
    elapsed = history[-1].get("elapsed", 0.0) / 60 if history else 0.0
    budget = f" of {budget_minutes:g}" if budget_minutes else ""
    step = history[-1]["step"] if history else 0
    fig.suptitle(f"{title + ': ' if title else ''}step {step}, {elapsed:.1f}{budget} min trained", fontsize=11)
    return fig
