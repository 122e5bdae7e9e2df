"""Listening and looking in a notebook: audio players, figures as images, small tables."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from sounds_kit.conventions import SAMPLE_RATE

if TYPE_CHECKING:
    pass


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
