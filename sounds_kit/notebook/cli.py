"""Running the ``sounds-kit`` command line from a notebook cell."""

from __future__ import annotations

import os
import re
import shlex
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


# TensorFlow's start-up chatter on stderr (CUDA probing, absl), dropped from a subprocess's output.
_STARTUP_NOISE = re.compile(
    r"^[EWI]0000 |external/local_xla|absl::InitializeLog|cpu_feature_guard|To enable the following instructions"
    r"|oneDNN custom operations|Could not find cuda drivers|cuInit|TF-TRT Warning",
    re.MULTILINE,
)


def cli(*args: Any, separate_process: bool = False) -> None:
    """Run ``sounds-kit ARGS...`` and print the command first, so it can be copied to a terminal.

    By default it runs in this kernel (the same code as the terminal command, no second TensorFlow
    start-up); ``separate_process`` runs it as its own process, streaming its output here. Raises
    if the command fails.
    """
    argv = [str(a) for a in args]
    print("$ sounds-kit " + " ".join(shlex.quote(a) for a in argv), flush=True)
    if separate_process:
        import subprocess

        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        cmd = [sys.executable, "-m", "sounds_kit.cli", *argv]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env) as proc:
            assert proc.stdout is not None
            pending = ""
            for chunk in iter(lambda: proc.stdout.read1(4096), b""):
                pieces = re.split(r"(?<=[\r\n])", pending + chunk.decode("utf-8", "replace"))
                pending = pieces.pop()  # not ended by \r or \n yet
                sys.stdout.write("".join(p for p in pieces if not _STARTUP_NOISE.search(p)))
                sys.stdout.flush()
            if pending and not _STARTUP_NOISE.search(pending):
                print(pending)
        code = proc.returncode
    else:
        from sounds_kit.cli import main

        code = main(argv)
        sys.stdout.flush()
    if code:
        raise RuntimeError(f"`sounds-kit {argv[0]}` failed with exit code {code} (the message is above)")
