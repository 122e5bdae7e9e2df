"""`sounds-kit sing`: JupyterLab opened on the sing notebook (the main experience)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

NOTEBOOK = Path("notebooks") / "05_sing.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8888, help="port for JupyterLab (default 8888)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (127.0.0.1: the mic works)")
    parser.add_argument("--notebook", default=str(NOTEBOOK), help="notebook to open")
    parser.add_argument(
        "--check", action="store_true", help="start the server, print its URL once it answers, then stop"
    )


def _find_root(notebook: Path) -> Path:
    here = Path.cwd()
    for base in (here, *here.parents):
        if (base / notebook).exists():
            return base
    return here


def run(args: argparse.Namespace) -> int:
    root = _find_root(Path(args.notebook))
    target = Path(args.notebook) if (root / args.notebook).exists() else Path("notebooks")
    headless = not os.environ.get("DISPLAY") and sys.platform.startswith("linux")
    cmd = [
        sys.executable, "-m", "jupyter", "lab", str(target), f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={args.port}", f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    if headless or args.check:
        cmd.append("--no-browser")  # jupyter prints the URL to open
    if os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
    print(f"sounds-kit: starting JupyterLab on {target} (Ctrl+C stops it)", flush=True)
    if not args.check:
        return subprocess.call(cmd, cwd=root)
    return _check(cmd, root, args)


def _check(cmd: list[str], root: Path, args: argparse.Namespace) -> int:
    """Start, wait until the server answers, print the URL, stop: proves the main command works."""
    token = "sounds-kit-check"
    proc = subprocess.Popen([*cmd, f"--IdentityProvider.token={token}", "--ServerApp.port_retries=50"], cwd=root)
    try:
        for _ in range(240):
            if proc.poll() is not None:
                print("sounds-kit: JupyterLab exited early", file=sys.stderr)
                return 1
            for port in range(args.port, args.port + 51):
                url = f"http://{args.ip}:{port}/lab/tree/{args.notebook}?token={token}"
                try:
                    with urllib.request.urlopen(url, timeout=1) as r:
                        if r.status == 200:
                            print(f"sounds-kit: JupyterLab is up at {url}", flush=True)
                            return 0
                except OSError:
                    continue
            time.sleep(0.5)
        return 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


