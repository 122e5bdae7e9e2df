"""Small helpers for the workshop notebooks (``notebooks/*.ipynb``): where they run, their settings,
the shared workshop folder, listening and plotting.

Nothing here imports TensorFlow at module load, so a notebook's first cells stay fast. Plots are
built as ``matplotlib.figure.Figure`` objects and shown with :func:`show`, which works whatever
pyplot backend is active (the trainer switches pyplot to Agg when it saves ``loss.png``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from .conventions import FRAME_RATE, SAMPLE_RATE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WORKSHOP_ENV = "SOUNDS_KIT_WORKSHOP"
"""Environment variable naming the workshop folder (the tests point it at a temporary folder)."""

VOICED = 0.5  # f0 confidence above which a frame counts as pitched, as everywhere in the kit


# ---------------------------------------------------------------------------------------------
# Where the notebook runs


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def is_ci() -> bool:
    """True when the ``CI`` environment variable is set (tests, CI services): nobody is listening."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def settings(use_full: bool, *, small: dict, full: dict, ci: dict | None = None) -> SimpleNamespace:
    """The notebook's knobs: ``full`` when ``use_full``, else ``small`` (with ``ci`` on top under CI).

    ``small`` and ``full`` must name the same knobs; ``ci`` may override some of them to keep the
    automated run of every notebook short. Prints what was chosen and returns it as attributes
    (``S.minutes``), plus ``S.mode``.
    """
    if set(small) != set(full):
        raise ValueError(f"small and full settings differ in their names: {sorted(set(small) ^ set(full))}")
    unknown = set(ci or {}) - set(small)
    if unknown:
        raise ValueError(f"ci settings name knobs that small does not have: {sorted(unknown)}")
    if use_full:
        chosen, mode = dict(full), "full"
    elif ci and is_ci():
        chosen, mode = {**small, **ci}, "small, shrunk further for CI"
    else:
        chosen, mode = dict(small), "small"
    print(f"Settings ({mode}; set FULL = {not use_full} for the {'small' if use_full else 'full'} ones):")
    width = max(len(k) for k in chosen) if chosen else 0
    for key, value in chosen.items():
        print(f"  {key:<{width}} = {value!r}")
    return SimpleNamespace(**chosen, mode=mode)


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up chatter.

    On a machine without a GPU, importing TensorFlow logs a dozen lines of failed CUDA probing to the
    process's stderr, which Jupyter shows under the cell. This imports it once with that stream
    silenced (errors still raise), keeps TensorFlow's C++ log to what ``TF_CPP_MIN_LOG_LEVEL`` allows
    (default here: nothing below fatal) and its Python log to errors. Later imports cost nothing.
    """
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
                import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


# ---------------------------------------------------------------------------------------------
# The workshop folder: what each notebook leaves for the next one


def repo_root() -> Path | None:
    """The sounds-kit checkout this code runs from (or the one the working folder is in), if any."""
    here = Path(__file__).resolve().parents[1]
    candidates = [here, *(p for p in (Path.cwd(), *Path.cwd().parents))]
    for base in candidates:
        if (base / "pyproject.toml").is_file() and (base / "sounds_kit").is_dir():
            return base
    return None


@dataclass(frozen=True)
class Workshop:
    """The shared folder of the notebooks: 01 writes ``data`` and ``dataset``, 02 ``run``, 03 ``sweep``
    and ``chosen_run``, 04 ``model`` (plus ``export/``), 05 ``takes``. ``workshop.json`` keeps a few
    facts between notebooks (which instrument, where the data came from)."""

    root: Path
    repo: Path | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def dataset(self) -> Path:
        return self.root / "dataset"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def sweep(self) -> Path:
        return self.root / "sweep"

    @property
    def chosen_run(self) -> Path:
        return self.root / "chosen_run"

    @property
    def model(self) -> Path:
        return self.root / "model"

    def export(self, quantize: str) -> Path:
        return self.root / "export" / quantize

    @property
    def takes(self) -> Path:
        return self.root / "takes"

    @property
    def singers(self) -> list[Path]:
        """The stand-in singer clips shipped with the kit (empty outside a checkout)."""
        folder = (self.repo / "assets" / "singers") if self.repo else None
        return sorted(folder.glob("*.wav")) if folder and folder.is_dir() else []

    @property
    def state_file(self) -> Path:
        return self.root / "workshop.json"

    def recall(self, key: str, default: Any = None) -> Any:
        """A fact an earlier notebook remembered (or ``default``)."""
        if not self.state_file.exists():
            return default
        return json.loads(self.state_file.read_text()).get(key, default)

    def remember(self, **facts: Any) -> None:
        """Keep facts for the next notebooks (JSON values)."""
        state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        state.update(facts)
        tmp = self.state_file.with_name(f".{self.state_file.name}.tmp")
        tmp.write_text(json.dumps(state, indent=1) + "\n")
        os.replace(tmp, self.state_file)

    def require(self, path: Path, made_by: str) -> Path:
        """``path`` if it exists, else a clear error naming the notebook that makes it."""
        if not Path(path).exists():
            raise FileNotFoundError(f"{path} is missing: run {made_by} first (it writes it into {self.root})")
        return Path(path)


def workshop(root: str | Path | None = None) -> Workshop:
    """The workshop folder: ``root``, else ``$SOUNDS_KIT_WORKSHOP``, else ``work/workshop`` in the
    checkout (git-ignored), else ``./sounds-kit-workshop``. Created if missing."""
    repo = repo_root()
    if root is None:
        root = os.environ.get(WORKSHOP_ENV) or (repo / "work" / "workshop" if repo else Path("sounds-kit-workshop"))
    ws = Workshop(Path(root).expanduser().resolve(), repo)
    ws.root.mkdir(parents=True, exist_ok=True)
    return ws


# ---------------------------------------------------------------------------------------------
# Running the command line from a notebook


# TensorFlow's start-up chatter on stderr (CUDA probing, absl), dropped from a subprocess's output.
_STARTUP_NOISE = re.compile(
    r"^[EWI]0000 |external/local_xla|absl::InitializeLog|cpu_feature_guard|To enable the following instructions"
    r"|oneDNN custom operations|Could not find cuda drivers|cuInit|TF-TRT Warning",
    re.MULTILINE,
)


def cli(*args: Any, separate_process: bool = False) -> None:
    """Run ``sounds-kit ARGS...`` and print the command first, so it can be copied to a terminal.

    By default it runs in this kernel (the same code as the terminal command, no second TensorFlow
    start-up); ``separate_process`` runs it as its own process, streaming its output here. Raises
    if the command fails.
    """
    argv = [str(a) for a in args]
    print("$ sounds-kit " + " ".join(shlex.quote(a) for a in argv), flush=True)
    if separate_process:
        import subprocess

        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        cmd = [sys.executable, "-m", "sounds_kit.cli", *argv]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env) as proc:
            assert proc.stdout is not None
            pending = ""
            for chunk in iter(lambda: proc.stdout.read1(4096), b""):
                pieces = re.split(r"(?<=[\r\n])", pending + chunk.decode("utf-8", "replace"))
                pending = pieces.pop()  # not ended by \r or \n yet
                sys.stdout.write("".join(p for p in pieces if not _STARTUP_NOISE.search(p)))
                sys.stdout.flush()
            if pending and not _STARTUP_NOISE.search(pending):
                print(pending)
        code = proc.returncode
    else:
        from .cli import main

        code = main(argv)
        sys.stdout.flush()
    if code:
        raise RuntimeError(f"`sounds-kit {argv[0]}` failed with exit code {code} (the message is above)")


# ---------------------------------------------------------------------------------------------
# Listening


def _audio_html(audio: np.ndarray, normalize: bool) -> str:
    from IPython.display import Audio

    a = np.asarray(audio, np.float32).reshape(-1)
    if not normalize:
        a = np.clip(a, -1.0, 1.0)
    if not np.any(a):
        return "<i>(silence)</i>"
    return Audio(a, rate=SAMPLE_RATE, normalize=normalize)._repr_html_()


def play(audio: np.ndarray, label: str | None = None, normalize: bool = True) -> None:
    """A player for 16 kHz mono audio, with an optional label. ``normalize`` scales it to full volume
    (handy for quiet model outputs; turn it off to hear true levels)."""
    from IPython.display import HTML, display

    title = f"<b>{html.escape(label)}</b> " if label else ""
    seconds = len(np.asarray(audio).reshape(-1)) / SAMPLE_RATE
    display(HTML(f"<div>{title}<small>{seconds:.1f} s</small><br>{_audio_html(audio, normalize)}</div>"))


def play_side_by_side(clips: Mapping[str, np.ndarray], normalize: bool = True) -> None:
    """Players in one row, one per labelled clip (e.g. target vs resynthesis)."""
    from IPython.display import HTML, display

    cells = "".join(
        f"<td style='padding:4px 12px; text-align:left'><b>{html.escape(k)}</b><br>{_audio_html(v, normalize)}</td>"
        for k, v in clips.items()
    )
    display(HTML(f"<table><tr>{cells}</tr></table>"))


# ---------------------------------------------------------------------------------------------
# Plots


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

    from .features import hz_to_midi

    def midi(feats: Mapping[str, np.ndarray], shift: int = 0) -> np.ndarray:
        f0 = np.asarray(feats["f0_hz"], np.float64)
        ok = (np.asarray(feats["f0_confidence"]) > VOICED) & (f0 > 0)
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
    from .export import browser_files

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


# ---------------------------------------------------------------------------------------------
# Python vs the browser engine


def browser_unavailable() -> str | None:
    """Why the browser parity check cannot run here (None if it can): it needs this checkout's test
    helpers, Playwright's Python package, Debian chromium and the built widget bundle."""
    import importlib.util

    repo = repo_root()
    if repo is None or not (repo / "tests" / "engine_page.py").is_file():
        return "it needs a sounds-kit checkout (tests/engine_page.py)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python package is not installed (pip install -e '.[dev]')"
    if not any(Path(p).exists() for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")):
        return "Debian chromium is not installed (scripts/install-system-deps.sh installs it)"
    if not (Path(__file__).parent / "static" / "widget.js").is_file():
        return "the widget bundle is not built (make widget)"
    return None


def _in_browser(jobs: Sequence[tuple[str | Path, str]], audio: np.ndarray) -> list[dict]:
    """Render ``audio`` in headless chromium for each (MODEL_DIR, backend) job, on one page."""
    import base64
    from concurrent.futures import ThreadPoolExecutor

    from .export import browser_files

    reason = browser_unavailable()
    if reason:
        raise RuntimeError(f"no browser here: {reason}")
    payload_audio = base64.b64encode(np.ascontiguousarray(audio, dtype="<f4").tobytes()).decode("ascii")
    tests = str(repo_root() / "tests")

    def run() -> list[dict]:
        # Playwright's sync API refuses to run on a thread that has an asyncio loop (the kernel's main
        # thread has one), so the browser is driven from a worker thread.
        if tests not in sys.path:
            sys.path.insert(0, tests)
        from engine_page import RENDER_JS, EnginePage, instrument_payload

        page = EnginePage(Path(tempfile.mkdtemp(prefix="sounds-kit-chromium-")))
        try:
            out = []
            for model_dir, backend in jobs:
                args = {"backend": backend, "files": instrument_payload(browser_files(model_dir)),
                        "audio": payload_audio, "opts": {}}  # fmt: skip
                out.append(page.evaluate(RENDER_JS, args))
            return out
        finally:
            page.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def browser_render(model_dirs: Mapping[str, str | Path], audio: np.ndarray, backend: str = "wasm") -> dict:
    """What the browser engine plays for ``audio`` with each labelled instrument (auto-fit on):
    ``{label: float32 audio}``. Needs what :func:`browser_unavailable` checks."""
    results = _in_browser([(path, backend) for path in model_dirs.values()], audio)
    return {label: np.asarray(r["audio"], np.float32) for label, r in zip(model_dirs, results, strict=True)}


def snr_db(reference: np.ndarray, other: np.ndarray) -> float:
    """Signal-to-noise ratio of ``other`` against ``reference`` in dB (inf when identical)."""
    ref, out = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    if ref.shape != out.shape:
        return float("-inf")
    err = float(np.sum((ref - out) ** 2))
    return float("inf") if err == 0 else float(10 * np.log10(float(np.sum(ref**2)) / err))


def browser_parity(
    model_dir: str | Path, audio: np.ndarray, backends: Sequence[str] = ("wasm", "webgl", "cpu")
) -> dict:
    """Render ``audio`` (a voice, 16 kHz) with the instrument in Python and in the browser engine.

    The browser is headless Debian chromium driven by Playwright, on a local page serving the very
    bundle the widget uses (``tests/engine_page.py``); both sides use auto-fit. Returns ``table``: one
    row per backend (the backend that actually ran, SNR of browser vs Python audio in dB, the largest
    f0 and loudness differences of the browser's own feature analysis, render time), ``python``: the
    Python audio and ``browser``: the audio per backend.
    """
    from .features import compute_features
    from .instrument import load_instrument

    audio = np.ascontiguousarray(audio, dtype=np.float32)
    feats = compute_features(audio)
    expected = load_instrument(model_dir).transfer(audio, features=feats)
    results = _in_browser([(model_dir, b) for b in backends], audio)
    voiced = feats["f0_confidence"] > VOICED
    rows, rendered = [], {}
    for asked, got in zip(backends, results, strict=True):
        out = np.asarray(got["audio"], np.float32)
        f0 = np.asarray(got["f0Hz"], np.float64)[voiced]
        loud = np.asarray(got["loudnessDb"], np.float64)
        cents = 1200 * np.abs(np.log2(np.maximum(f0, 1e-9) / feats["f0_hz"][voiced])) if voiced.any() else [0.0]
        rows.append({
            "backend asked": asked,
            "backend used": got["backend"],
            "SNR vs Python (dB)": round(snr_db(expected, out), 1),
            "max f0 diff (cents)": round(float(np.max(cents)), 3),
            "max loudness diff (dB)": round(float(np.max(np.abs(loud - feats["loudness_db"]))), 3),
            "render (ms)": round(float(got["ms"])),
        })  # fmt: skip
        rendered[asked] = out
    return {"table": rows, "python": expected, "browser": rendered}


def table_html(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """A small HTML table (no pandas needed) for a list of dicts."""
    from IPython.display import HTML

    columns = list(columns or rows[0].keys()) if rows else []

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape(str(v))

    head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{fmt(r.get(c, ''))}</td>" for c in columns) + "</tr>"
                   for r in rows)  # fmt: skip
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
