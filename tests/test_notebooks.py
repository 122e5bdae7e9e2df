"""The workshop notebooks: committed clean, and they run top to bottom, 01 -> 05, with small settings.

The run uses a kernel from this environment (``python3``), ``CI=true`` (each notebook's ``settings``
shrinks its small settings further; nothing waits for a person: the microphone cells have a
non-interactive path) and a temporary workshop folder (``SOUNDS_KIT_WORKSHOP``), so each notebook
reads what the previous one wrote, as in a workshop, without touching ``work/workshop``. Run times
per notebook are printed and written to ``artifacts/notebook_timings.json``, the executed notebooks
(with their outputs) to ``artifacts/notebooks/``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ORDER = (
    "01_prepare_data.ipynb",
    "02_train.ipynb",
    "03_find_the_smallest_model.ipynb",
    "04_export_to_tfjs.ipynb",
    "05_sing.ipynb",
)
# What each notebook leaves in the workshop folder for the next one.
LEAVES = {
    "01_prepare_data.ipynb": ["dataset/manifest.json", "dataset/stats.json", "workshop.json"],
    "02_train.ipynb": ["run/config.json", "run/history.json", "run/eval.json", "run/dataset_stats.json"],
    "03_find_the_smallest_model.ipynb": ["sweep/small/chosen.json", "sweep/small/pareto.png", "chosen_run/eval.json"],
    "04_export_to_tfjs.ipynb": ["model/metadata.json", "model/model_card.md", "export/none", "export/uint8"],
    "05_sing.ipynb": [],
}
ARTIFACTS = Path(os.environ.get("SOUNDS_KIT_ARTIFACTS", REPO / "artifacts"))
CELL_TIMEOUT_S = 600


def read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_the_workshop_is_complete():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(ORDER)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state: clear it before committing"


@pytest.mark.parametrize("name", ORDER)
def test_notebook_conventions(name):
    """A Colab install cell first (by name, one KIT variable for a wheel or git URL, optional Drive), every shell
    or magic line inside its Colab-only block, no placeholder, and a FULL switch defaulting to small settings."""
    nb = read(name)
    first_code = next(c.source for c in nb.cells if c.cell_type == "code")
    assert 'if "google.colab" in sys.modules:' in first_code and "%pip install" in first_code
    assert '\nKIT = ""' in first_code and "\nUSE_DRIVE = False" in first_code
    extra = "" if name == "05_sing.ipynb" else "[train]"  # the sing notebook needs the light core only
    assert f'"sounds-kit{extra}"' in first_code
    for line in first_code.splitlines():
        if line.lstrip().startswith(("!", "%")):
            assert line.startswith("    "), f"{name}: {line!r} would run outside Colab"
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "\nFULL = False" in sources


def test_no_placeholder_for_where_the_kit_is_published():
    """Colab cells install by name; nothing waits for someone to fill in an organisation."""
    placeholder = "YOUR" + "_ORG"  # spelled apart so this file does not match itself
    skip = {".git", ".venv", "node_modules", "work", "artifacts", "dist", "build"}
    suffixes = {".md", ".py", ".ipynb", ".toml", ".yml", ".yaml", ".sh", ".json", ".cfg", ".txt"}
    found = [
        str(p.relative_to(REPO))
        for p in REPO.rglob("*")
        if p.suffix in suffixes and p.is_file() and not skip & set(p.relative_to(REPO).parts)
        and placeholder in p.read_text(errors="replace")
    ]  # fmt: skip
    assert not found, found


# ------------------------------------------------------------------------------------------- running

_run: dict = {"failed": None, "timings": {}}


@pytest.fixture(scope="module")
def workshop_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("workshop")


@pytest.mark.slow
@pytest.mark.parametrize("name", ORDER)
def test_notebook_runs_top_to_bottom(name, workshop_dir, monkeypatch):
    from nbclient import NotebookClient

    if _run["failed"]:
        pytest.skip(f"{_run['failed']} failed; this notebook needs what it writes")
    earlier = ORDER[: ORDER.index(name)]
    if any(n not in _run["timings"] for n in earlier):
        pytest.skip(f"{name} reads what {', '.join(earlier)} write: run them in the same session")
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SOUNDS_KIT_WORKSHOP", str(workshop_dir))
    nb = read(name)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception:
        _run["failed"] = name
        raise
    finally:
        _run["timings"][name] = round(time.perf_counter() - t0, 1)
        executed = ARTIFACTS / "notebooks"
        executed.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed / name)  # with outputs, to look at (artifacts/ is not committed)
        (ARTIFACTS / "notebook_timings.json").write_text(json.dumps(_run["timings"], indent=1) + "\n")
        print(f"{name}: {_run['timings'][name]:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    for relative in LEAVES[name]:
        assert (workshop_dir / relative).exists(), f"{name} did not leave {relative} in the workshop folder"
    if name == "05_sing.ipynb":
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        # the widget was shown, and the stand-in singer was played through an instrument
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
        assert any("<audio" in o.get("data", {}).get("text/html", "") for o in outputs)
