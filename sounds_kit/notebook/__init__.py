"""Helpers for the workshop notebooks (``notebooks/*.ipynb``), one module per job: where a notebook runs
(``environment``), the shared workshop folder (``workshop``) and what a notebook makes when the one before
it has not run (``fallbacks``), the CLI from a cell (``cli``), players and tables (``display``), plots
(``figures``), the Python-vs-browser check (``browser_check``) and the working copies ``sounds-kit sing``
opens (``working_copy``).

Nothing here imports TensorFlow at module load, so a notebook's first cells stay fast.
"""

from sounds_kit.notebook.browser_check import browser_parity, browser_render, browser_unavailable, snr_db, table_html
from sounds_kit.notebook.cli import cli
from sounds_kit.notebook.display import play, play_side_by_side
from sounds_kit.notebook.environment import WORKSHOP_ENV, in_colab, is_ci, quiet_tensorflow, settings
from sounds_kit.notebook.fallbacks import ensure_dataset, ensure_run
from sounds_kit.notebook.figures import (
    LiveLoss,
    browser_download,
    ddsp_diagram,
    figure_image,
    loss_figure,
    plot_download_sizes,
    plot_pitch_follow,
    plot_spectrograms,
    show,
)
from sounds_kit.notebook.workshop import Workshop, repo_root, workshop

__all__ = [
    "LiveLoss",
    "WORKSHOP_ENV",
    "Workshop",
    "browser_download",
    "browser_parity",
    "browser_render",
    "browser_unavailable",
    "cli",
    "ddsp_diagram",
    "ensure_dataset",
    "ensure_run",
    "figure_image",
    "in_colab",
    "is_ci",
    "loss_figure",
    "play",
    "play_side_by_side",
    "plot_download_sizes",
    "plot_pitch_follow",
    "plot_spectrograms",
    "quiet_tensorflow",
    "repo_root",
    "settings",
    "show",
    "snr_db",
    "table_html",
    "workshop",
]
