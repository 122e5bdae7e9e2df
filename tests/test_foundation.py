"""The kit installs, its CLI answers, and Python and JS read the same conventions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sounds_kit import conventions
from sounds_kit.cli import COMMANDS, available_commands, main

REPO = Path(__file__).resolve().parents[1]


def test_cli_help_lists_commands():
    assert main([]) == 0  # no command: prints help, succeeds
    out = subprocess.run([sys.executable, "-m", "sounds_kit.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for name in available_commands():
        assert name in out.stdout


def test_cli_version():
    from sounds_kit import __version__

    out = subprocess.run([sys.executable, "-m", "sounds_kit.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


def test_import_does_not_load_tensorflow():
    code = "import sys, sounds_kit, sounds_kit.cli; sounds_kit.cli.build_parser(); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_listed_command_module_has_the_interface():
    from importlib import import_module

    for name, (module, _help) in available_commands().items():
        mod = import_module(module)
        assert callable(mod.add_arguments) and callable(mod.run), name
    assert set(available_commands()) <= set(COMMANDS)


def test_js_conventions_match_python():
    committed = json.loads((REPO / "widgets" / "src" / "conventions.json").read_text())
    assert committed == conventions.as_dict()
    assert conventions.FRAME_RATE * conventions.HOP_SIZE == conventions.SAMPLE_RATE


def test_widget_bundle_is_built_and_shipped():
    from sounds_kit.widgets.base import bundle_path

    bundle = bundle_path()
    assert bundle.stat().st_size > 1000
    assert "sounds-kit" in bundle.read_text()


def test_sing_command_starts_jupyterlab_and_prints_url(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "sounds_kit.cli", "sing", "--check", "--port", "18888", "--dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "JupyterLab is up at http://127.0.0.1:" in out.stdout
    assert "/lab/tree/05_sing.ipynb?token=" in out.stdout  # the sing notebook itself, not the launcher
    assert (tmp_path / "05_sing.ipynb").is_file()  # a working copy, not the committed notebook


def test_beam_pipeline_options_pass_through_prepare():
    # prepare is a Beam pipeline: unknown --flags go to Beam. The sweep is not one any more (Optuna
    # schedules its trials on processes or Dask), so it takes no Beam options.
    from sounds_kit.cli import build_parser

    extra = ["--runner=FlinkRunner", "--flink_master=host:8081"]
    args = build_parser("prepare").parse_args(["prepare", "in.wav", "-o", "ds", *extra])
    assert args.beam_args == extra
