"""The workshop folder: what each notebook leaves for the next one."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sounds_kit.atomic import write_json_atomic
from sounds_kit.notebook.environment import WORKSHOP_ENV


def repo_root() -> Path | None:
    """The sounds-kit checkout this code runs from (or the one the working folder is in), if any."""
    here = Path(__file__).resolve().parents[2]
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
        """The stand-in singer clips shipped with the kit (in the package, or assets/singers in a checkout)."""
        from sounds_kit.shipped import singer_clips

        return singer_clips()

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
        write_json_atomic(self.state_file, state)

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
