"""Test plumbing for test_packaging.py: build the kit's wheel and sdist, install them into fresh venvs.

Everything runs outside the checkout and with no Node on PATH (only the Python's own bin folder), as a
person installing from PyPI would. pip's cache is used where the machine allows it (on the project machine
it stays empty, so every venv downloads its packages).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIP_TIMEOUT_S = 900


def path_without_node(*bins: Path) -> str:
    """A PATH of just these folders; fails loudly if node or npm would still be found on it."""
    path = os.pathsep.join(str(b) for b in bins)
    for tool in ("node", "npm"):
        assert shutil.which(tool, path=path) is None, f"{tool} is on the install PATH {path}"
    return path


def clean_env(*bins: Path, **extra: str) -> dict[str, str]:
    """The environment of an install or a run: no node, nothing pointing back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "SOUNDS_KIT_MODELS")}
    env.update(PATH=path_without_node(*bins), PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def build_dists(out: Path) -> tuple[Path, Path]:
    """(wheel, sdist) built by `python -m build`: the sdist first, then the wheel from the sdist."""
    python_bin = Path(sys.executable).parent
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], capture_output=True,
                          text=True, env=clean_env(python_bin), timeout=PIP_TIMEOUT_S)  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return next(out.glob("sounds_kit-*.whl")), next(out.glob("sounds_kit-*.tar.gz"))


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` ("3.12"): one pyenv installed, or one on PATH.

    pyenv's shims are skipped: a shim answers only for the versions the current pyenv setting selects.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(pyenv_root.glob(f"{version}.*"), reverse=True):
        if (candidate / "bin" / "python").exists():
            return str(candidate / "bin" / "python")
    found = shutil.which(f"python{version}")
    return found if found and "/shims/" not in found else None


@dataclass
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def run(self, *args: str, cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
        """A command of this venv (``sounds-kit``, ``python``...), run in ``cwd`` with PATH = the venv only."""
        exe = args[0] if "/" in args[0] else str(self.bin / args[0])
        return subprocess.run([exe, *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=clean_env(self.bin, **env))  # fmt: skip


def make_venv(python: str, root: Path, requirement: str) -> Venv:
    """A fresh venv at ``root`` with ``requirement`` (a wheel or sdist path, with extras) pip-installed."""
    subprocess.run([python, "-m", "venv", str(root)], check=True, timeout=300)
    venv = Venv(root)
    # --no-compile: Python compiles what it imports anyway; skipping pip's upfront pass saves test time.
    cmd = [str(venv.python), "-m", "pip", "install", "--quiet", "--no-compile", requirement]
    done = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(venv.bin), timeout=PIP_TIMEOUT_S, cwd=root)
    assert done.returncode == 0, f"pip install {requirement} failed:\n{(done.stdout + done.stderr)[-4000:]}"
    return venv


def wheel_names(wheel: Path) -> dict[str, int]:
    """Files in a wheel and their sizes."""
    with zipfile.ZipFile(wheel) as z:
        return {i.filename: i.file_size for i in z.infolist()}
