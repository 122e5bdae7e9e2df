"""Install time and venv size: the light core (`pip install sounds-kit`) next to the [train] extra.

    .venv/bin/python benchmarks/install_size.py [WHEEL]    (default: builds one with `python -m build`)

For each variant: a fresh venv, then `pip install WHEEL[extra]` twice, each time into a new venv: first
with an empty pip cache of its own (cold: every package downloaded from PyPI), then with that cache filled
(warm: what a second install, or CI with a cache, costs). Reports wall time of each pip command and the
size of the venv on disk. Variants run one after the other in the same session, so they share the
machine's load; the core is the peer of [train].
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {"core": "", "train": "[train]"}


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return next(out.glob("sounds_kit-*.whl"))


def install(python: str, wheel: Path, extra: str, venv: Path, cache: Path) -> float:
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PIP_CACHE_DIR=str(cache))
    t0 = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"{wheel}{extra}"], check=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sk-install-"))
    wheel = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else build_wheel(work / "dist")
    python = shutil.which("python3.11") or sys.executable
    rows = []
    for name, extra in VARIANTS.items():
        cache = work / f"cache-{name}"
        cold = install(python, wheel, extra, work / f"{name}-cold", cache)
        warm = install(python, wheel, extra, work / f"{name}-warm", cache)
        venv = work / f"{name}-warm"
        packages = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=json"], capture_output=True,
                                  text=True, check=True).stdout  # fmt: skip
        rows.append({"variant": name, "cold_s": round(cold, 1), "warm_s": round(warm, 1),
                     "venv_mb": round(du_mb(venv)), "packages": len(json.loads(packages)),
                     "cache_mb": round(du_mb(cache))})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
        for d in (work / f"{name}-cold", venv, cache):
            shutil.rmtree(d, ignore_errors=True)
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB; python {python}; load {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
