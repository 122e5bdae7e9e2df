"""The house rules of docs/architecture.md: no import cycles, the library never imports tests, small files,
and one definition of the shared constants."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from sounds_kit import conventions

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sounds_kit"
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every module this file imports, at any depth (function-level imports count: they still couple)."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.add(mod)
            # ``from pkg import sub`` imports the submodule when it is one.
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path, name) if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_import_graph_has_no_cycles():
    graph = _graph()
    assert len(graph) > 30, "the walk found too few modules"
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_sees_a_cycle():
    # The checker itself can fail: a two-module loop and a self-consistent chain.
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_library_never_imports_tests():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        imports = _imports(path, _module_name(path))
        if any(m.split(".")[0] in {"tests", "conftest", "jupyter_browser", "engine_page"} for m in imports):
            offenders.append(str(path.relative_to(ROOT)))
        if re.search(r"sys\.path\.(insert|append)\([^)]*tests", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"library modules reaching into tests/: {offenders}"


def _sources() -> list[Path]:
    py = [p for p in PACKAGE.rglob("*.py")]
    js = [p for p in (ROOT / "widgets" / "src").rglob("*.js")]
    return py + js


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_source_files_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (split it: one job per module)"


def test_emitted_conventions_match_python():
    committed = json.loads((ROOT / "widgets" / "src" / "conventions.json").read_text())
    assert committed == json.loads(json.dumps(conventions.as_dict())), (
        "stale widgets/src/conventions.json: run `python -m sounds_kit.conventions widgets/src/conventions.json`"
    )


def test_shared_constants_are_defined_once_in_python():
    # Literal copies of the shared cuts and tables outside conventions.py are what drifted before.
    patterns = {
        "voiced cut": re.compile(r"(VOICED\w*|CONFIDENCE\w*)\s*=\s*0\.5\b"),
        "fit quantiles": re.compile(r"\(0\.05,\s*0\.25,\s*0\.5,\s*0\.75,\s*0\.95\)"),
        "A4 formula": re.compile(r"440(\.0)?\s*\*\s*2(\.0)?\s*\*\*"),
        "raga table": re.compile(r"\"(yaman|bhupali)\"\s*[,:]\s*[\[({\"]"),
    }
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "conventions.py":
            continue
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {what}" for what, rx in patterns.items() if rx.search(text)]
    assert not found, f"constants redefined outside sounds_kit/conventions.py: {found}"


def test_demo_music_and_widget_share_the_raga_list():
    from sounds_kit.data.demo_music import RAGAS as MUSIC_RAGAS
    from sounds_kit.widgets.sing import RAGAS as WIDGET_RAGAS

    assert set(MUSIC_RAGAS) | {"chromatic"} == set(WIDGET_RAGAS) == set(conventions.RAGAS)


def _kit_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every `import sounds_kit...` / `from sounds_kit... import name` in a file."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sounds_kit":
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "sounds_kit"]
    return found


_SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob("tests/make_*.py")])


@pytest.mark.parametrize("path", _SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_benchmarks_and_scripts_import_what_exists(path):
    """Benchmarks are run by hand, not by pytest: a moved module must not break them unnoticed."""
    import importlib

    missing = []
    for module, name in _kit_imports(path):
        mod = importlib.import_module(module)
        if name is not None and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"from {module} import {name}")
    assert not missing, f"{path.name} imports what the package no longer has: {missing}"
