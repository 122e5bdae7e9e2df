"""The notebooks' plots: live loss, spectrograms, pitch following, download sizes, the DDSP diagram."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sounds_kit.conventions import FRAME_RATE, SAMPLE_RATE, is_voiced
from sounds_kit.model.loss_plot import loss_figure  # noqa: F401 - part of the notebooks' figures

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_image(fig: Any, dpi: int = 150) -> Any:
    """A matplotlib figure as an IPython PNG image, sharp on high-resolution screens.

    Rendering the PNG here (not through a pyplot backend) works whatever backend is active.
    """
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return Image(data=buf.getvalue(), width=int(fig.get_figwidth() * 96))


def show(fig: Any) -> None:
    """Display a matplotlib figure in the notebook (and let pyplot forget it, so it is not shown twice)."""
    from IPython.display import display

    display(figure_image(fig))
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close(fig)  # a no-op for figures pyplot does not manage


class LiveLoss:
    """A loss plot that redraws in place from ``RUN_DIR/history.json`` each time :meth:`update` runs."""

    def __init__(self, run_dir: str | Path, budget_minutes: float | None = None, title: str | None = None):
        self.run_dir = Path(run_dir)
        self.budget_minutes = budget_minutes
        self.title = title
        self._handle = None

    def history(self) -> list[dict]:
        path = self.run_dir / "history.json"
        return json.loads(path.read_text()) if path.exists() else []

    def update(self) -> None:
        from IPython.display import display

        image = figure_image(loss_figure(self.history(), self.budget_minutes, self.title), dpi=110)
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)


def plot_spectrograms(clips: Mapping[str, np.ndarray], max_hz: float = 8000.0) -> Figure:
    """Spectrograms of labelled clips, one above the other, on one colour scale (dB)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 2.3 * len(clips) + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(clips), 1, sharex=True, sharey=True))
    for ax, (label, audio) in zip(axes, clips.items(), strict=True):
        a = np.asarray(audio, np.float32).reshape(-1)
        ax.specgram(a + 1e-9, NFFT=1024, Fs=SAMPLE_RATE, noverlap=1024 - 128, cmap="magma", vmin=-110, vmax=-20)
        ax.set_ylim(0, max_hz)
        ax.set_ylabel("Hz")
        ax.set_title(label, fontsize=10, loc="left")
    axes[-1].set_xlabel("time (s)")
    return fig


def plot_pitch_follow(
    voice_features: Mapping[str, np.ndarray],
    output_features: Mapping[str, np.ndarray],
    octaves: int = 0,
    title: str | None = None,
) -> Figure:
    """Input vs output pitch (and loudness): does the instrument follow the singer?

    The voice's pitch is drawn as sung and moved by ``octaves`` (what auto-fit did), the output's as
    the kit's tracker hears it.
    """
    from matplotlib.figure import Figure

    from sounds_kit.conventions import hz_to_midi

    def midi(feats: Mapping[str, np.ndarray], shift: int = 0) -> np.ndarray:
        f0 = np.asarray(feats["f0_hz"], np.float64)
        ok = is_voiced(feats["f0_confidence"]) & (f0 > 0)
        return np.where(ok, hz_to_midi(np.where(ok, f0, 1.0)) + 12 * shift, np.nan)

    fig = Figure(figsize=(10, 4.6), layout="constrained")
    ax_p, ax_l = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    sung, moved, played = midi(voice_features), midi(voice_features, octaves), midi(output_features)
    t_in = np.arange(len(sung)) / FRAME_RATE
    t_out = np.arange(len(played)) / FRAME_RATE
    if octaves:
        ax_p.plot(t_in, sung, color="0.6", lw=1, label="voice as sung")
    ax_p.plot(t_in, moved, color="tab:blue", lw=2.2, alpha=0.7,
              label=f"voice{f' moved {octaves:+d} octave(s)' if octaves else ''}")  # fmt: skip
    ax_p.plot(t_out, played, color="tab:orange", lw=1.2, label="instrument (tracked)")
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    finite = np.concatenate([x[np.isfinite(x)] for x in (sung, moved, played)])
    if finite.size:
        lo, hi = int(np.floor(np.nanmin(finite))) - 1, int(np.ceil(np.nanmax(finite))) + 1
        ax_p.set_ylim(lo, hi)
        step = 1 if hi - lo <= 14 else 2 if hi - lo <= 28 else 4
        ticks = list(range(lo, hi + 1, step))
        ax_p.set_yticks(ticks, [f"{names[m % 12]}{m // 12 - 1}" for m in ticks], fontsize=8)
    ax_p.set_ylabel("pitch")
    ax_p.grid(alpha=0.3)
    ax_p.legend(fontsize=8, loc="upper right")
    ax_p.set_title(title or "pitch in and out", fontsize=11)
    ax_l.plot(t_in, voice_features["loudness_db"], color="tab:blue", lw=1, label="voice")
    ax_l.plot(t_out, output_features["loudness_db"], color="tab:orange", lw=1, label="instrument")
    ax_l.set_ylabel("loudness (dB)")
    ax_l.set_xlabel("time (s)")
    ax_l.set_ylim(-82, 2)
    ax_l.grid(alpha=0.3)
    ax_l.legend(fontsize=8, loc="lower right")
    return fig


def browser_download(model_dir: str | Path) -> dict[str, int]:
    """Bytes the browser fetches for an exported instrument, by kind of file."""
    from sounds_kit.instrument.files import browser_files

    kinds = {"graph (model.json)": 0, "weights": 0, "metadata.json": 0, "reverb": 0}
    for name, data in browser_files(model_dir).items():
        if name == "model.json":
            kinds["graph (model.json)"] += len(data)
        elif name == "metadata.json":
            kinds["metadata.json"] += len(data)
        elif name.endswith(".f32"):
            kinds["reverb"] += len(data)
        else:
            kinds["weights"] += len(data)
    return kinds


def plot_download_sizes(model_dirs: Mapping[str, str | Path]) -> Figure:
    """Stacked bars: what the browser downloads for each export (graph, weights, metadata, reverb)."""
    from matplotlib.figure import Figure

    sizes = {label: browser_download(path) for label, path in model_dirs.items()}
    kinds = [k for k in next(iter(sizes.values())) if any(s[k] for s in sizes.values())]
    colors = {"graph (model.json)": "tab:gray", "weights": "tab:blue", "metadata.json": "tab:green",
              "reverb": "tab:purple"}  # fmt: skip
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    labels = list(sizes)
    bottom = np.zeros(len(labels))
    for kind in kinds:
        kb = np.array([sizes[label][kind] / 1024 for label in labels])
        ax.bar(labels, kb, bottom=bottom, label=kind, color=colors.get(kind))
        bottom += kb
    for i, total in enumerate(bottom):
        ax.annotate(f"{total:.1f} KB", (i, total), ha="center", va="bottom", xytext=(0, 3), textcoords="offset points")
    ax.set_ylabel("KB the browser downloads")
    ax.set_xlabel("weight quantisation")
    ax.set_ylim(0, bottom.max() * 1.15)
    ax.legend(fontsize=8)
    ax.set_title("download size by quantisation")
    return fig


def _box(ax: Any, x: float, y: float, w: float, h: float, text: str, color: str, sub: str = "") -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="0.25",
                                lw=1.2))  # fmt: skip
    ax.text(x + w / 2, y + h - 0.17, text, ha="center", va="top", fontsize=10, weight="bold")
    if sub:
        ax.text(x + w / 2, y + 0.1, sub, ha="center", va="bottom", fontsize=7.5, color="0.2", linespacing=1.25)


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], label: str = "", **kw: Any) -> None:
    style = dict(arrowstyle="-|>", color=kw.pop("color", "0.2"), lw=kw.pop("lw", 1.4), **kw)
    ax.annotate("", xy=end, xytext=start, arrowprops=style)
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.08, label, ha="center", va="bottom",
                fontsize=7.5, color="0.25")  # fmt: skip


def ddsp_diagram() -> Figure:
    """The DDSP picture: features -> decoder -> controls -> harmonic + noise synth -> audio, and how
    training closes the loop with a spectral loss. Drawn with matplotlib (also docs/images/ddsp.png)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    fig = Figure(figsize=(12, 5.8))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 5.8)
    ax.axis("off")
    mid = 3.05
    ax.text(0.1, 5.5, "DDSP: Differentiable Digital Signal Processing", fontsize=13, weight="bold", va="center")

    # audio in -> features -> decoder
    _box(ax, 0.1, mid - 0.65, 1.4, 1.3, "voice or\ninstrument", "#f2f2f2", "16 kHz audio")
    _box(ax, 1.95, mid - 0.95, 1.8, 1.9, "features", "#dbe9f6", "f0 (YIN pitch)\nloudness (A-weighted)\n250 frames / s")
    _box(ax, 4.2, mid - 0.95, 1.7, 1.9, "decoder", "#fde3c8", "small causal CNN\n(the only part\nthat learns)")
    _arrow(ax, (1.5, mid), (1.95, mid))
    _arrow(ax, (3.75, mid), (4.2, mid))

    # controls -> the two synths
    harmonic_text = "sum of sines at f0, 2 f0, 3 f0...\nloudness: amplitude\ntimbre: harmonic distribution"
    noise_text = "white noise through\nfixed frequency bands\ngains: noise magnitudes"
    _box(ax, 7.3, 3.3, 2.3, 1.75, "harmonic synth", "#e2f0d9", harmonic_text)
    _box(ax, 7.3, 1.05, 2.3, 1.75, "filtered noise", "#e2f0d9", noise_text)
    _arrow(ax, (5.9, mid + 0.45), (7.3, 4.15))
    ax.text(6.0, 4.05, "amplitude,\nharmonic\ndistribution", fontsize=7.5, color="0.25", va="bottom")
    _arrow(ax, (5.9, mid - 0.45), (7.3, 1.95))
    ax.text(6.0, 2.05, "noise\nmagnitudes", fontsize=7.5, color="0.25", va="top")
    k = np.arange(1, 15)
    harm = ax.inset_axes((7.55, 4.12, 1.8, 0.5), transform=ax.transData)
    harm.bar(k, np.exp(-0.3 * k) * (1 + 0.6 * (k % 2)), color="tab:green", width=0.45)
    noise = ax.inset_axes((7.55, 1.87, 1.8, 0.5), transform=ax.transData)
    noise.bar(np.arange(16), 0.3 + 0.7 * np.exp(-np.arange(16) / 5), color="tab:olive", width=0.85)
    for inset in (harm, noise):
        inset.axis("off")

    # f0 bypasses the decoder: the synth plays exactly the tracked pitch
    blue = dict(color="tab:blue", lw=1.3, ls="--")
    ax.plot([2.85, 2.85, 8.45], [mid + 0.95, 5.2, 5.2], **blue)
    ax.annotate("", xy=(8.45, 5.05), xytext=(8.45, 5.21), arrowprops=dict(arrowstyle="-|>", color="tab:blue", lw=1.3))
    ax.text(3.0, 5.25, "f0 goes straight to the synth: the model never has to learn the pitch", fontsize=8,
            color="tab:blue", va="bottom")  # fmt: skip

    # sum -> the instrument
    ax.add_patch(Circle((10.15, mid), 0.22, fc="white", ec="0.25", lw=1.2))
    ax.text(10.15, mid, "+", ha="center", va="center", fontsize=14)
    _arrow(ax, (9.6, 4.15), (10.02, mid + 0.18))
    _arrow(ax, (9.6, 1.95), (10.02, mid - 0.18))
    _box(ax, 10.6, mid - 0.65, 1.3, 1.3, "instrument", "#f2f2f2", "bansuri, shehnai,\nsarangi (+ reverb)")
    _arrow(ax, (10.37, mid), (10.6, mid))

    # training closes the loop
    red = dict(color="tab:red", lw=1.3, ls="--")
    ax.plot([11.25, 11.25, 5.05], [mid - 0.65, 0.6, 0.6], **red)
    ax.plot([5.05, 5.05], [0.6, mid - 1.3], **red)
    ax.annotate("", xy=(5.05, mid - 0.96), xytext=(5.05, mid - 1.32),
                arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=1.3, mutation_scale=14))  # fmt: skip
    ax.text(8.15, 0.5, "training: compare the output with the recording (multi-scale spectral loss) and nudge the\n"
            "decoder's weights; every step of the synth is differentiable, so the error flows back through it",
            fontsize=8.5, color="tab:red", ha="center", va="top")  # fmt: skip
    return fig
