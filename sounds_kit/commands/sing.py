"""`sounds-kit sing`: JupyterLab opened on the sing notebook (the main experience).

It opens working copies of the notebooks (``notebook.working_copy``: ``work/notebooks/`` in a checkout),
never the kit's own, so running them never leaves outputs in the committed notebooks. The URL it prints
opens the sing notebook itself, with the server's token, on 127.0.0.1 (a secure context, so the browser
allows the microphone).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

NOTEBOOK = "05_sing.ipynb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8888, help="port (default 8888, or the next free one)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (127.0.0.1: the mic works)")
    parser.add_argument("--notebook", default=NOTEBOOK, help=f"workshop notebook to open (default {NOTEBOOK})")
    parser.add_argument("--dir", metavar="FOLDER",
                        help="where the working copies of the notebooks live (default: work/notebooks in a "
                        "checkout, else ./sounds-kit-notebooks)")  # fmt: skip
    parser.add_argument("--no-browser", action="store_true", help="only print the URL (default without a display)")
    parser.add_argument(
        "--check", action="store_true", help="start the server, print its URL once the notebook answers, then stop"
    )


def free_port(ip: str, wanted: int) -> int:
    """``wanted`` if nothing listens there, else the first free port after it."""
    for port in range(wanted, wanted + 100):
        with socket.socket() as s:
            try:
                s.bind((ip, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {wanted}..{wanted + 99} on {ip}")


def run(args: argparse.Namespace) -> int:
    from sounds_kit.errors import UserFacingError
    from sounds_kit.notebook.working_copy import sync_notebooks

    folder, notes = sync_notebooks(args.dir)
    for note in notes:
        print(f"sounds-kit: {note}")
    if not (folder / args.notebook).is_file():
        raise UserFacingError(f"no notebook {args.notebook!r} in {folder}")
    port, token = free_port(args.ip, args.port), secrets.token_hex(16)
    url = f"http://{args.ip}:{port}/lab/tree/{args.notebook}?token={token}"
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={folder}",
        f"--IdentityProvider.token={token}", "--Application.log_level=WARN",  # our URL is the one to open
    ]  # fmt: skip
    if os.name == "posix" and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
    print(f"sounds-kit: starting JupyterLab in {folder} (the notebooks there are your copies)", flush=True)
    proc = subprocess.Popen(cmd, cwd=folder)
    if threading.current_thread() is threading.main_thread():
        # A plain SIGTERM (a service manager, a test, `kill`) would end this process without its
        # finally and leave JupyterLab running on the port: make it stop the server too.
        signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        if not _wait_until_up(proc, url):
            print("sounds-kit: JupyterLab did not start (its messages are above)", file=sys.stderr)
            return 1
        print(f"sounds-kit: JupyterLab is up at {url}", flush=True)
        if args.check:
            return 0
        print("sounds-kit: open that address in your browser (Ctrl+C stops the server)", flush=True)
        headless = not os.environ.get("DISPLAY") and sys.platform.startswith("linux")
        if not (args.no_browser or headless):
            import webbrowser

            webbrowser.open(url)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def _wait_until_up(proc: subprocess.Popen, url: str, timeout_s: float = 120.0) -> bool:
    """True once the notebook's URL answers (so the printed address works when it is printed)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False

