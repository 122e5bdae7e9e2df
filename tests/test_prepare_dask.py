"""`sounds-kit prepare --engine dask`: Beam's Dask runner on a real dask.distributed cluster of worker
processes gives the same dataset as the DirectRunner, bad files included."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

pytest.importorskip("apache_beam")
pytest.importorskip("distributed")

from test_prepare import EXAMPLE_S, HOP_S, SEGMENT_S, _prepare, inputs  # noqa: E402, F401 - the shared fixture

from sounds_kit.errors import UserFacingError  # noqa: E402

# Fields of a run that say how and when it ran, not what it made.
RUN_ONLY = ("created", "engine", "beam_args")


def _same_dataset(a: Path, b: Path) -> None:
    """Byte-identical shards and stats; manifests equal but for when and how each run ran."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        if name != "manifest.json":
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    for m in (ma, mb):
        for run in m["runs"]:
            for key in RUN_ONLY:
                run.pop(key, None)
    assert ma == mb


@pytest.fixture(scope="module")
def direct(inputs, tmp_path_factory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("direct") / "set"
    _prepare([str(inputs)], out)
    return out


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_on_a_running_cluster_same_as_direct(inputs, direct, cluster, tmp_path):  # noqa: F811
    from distributed import Client, get_task_stream

    from sounds_kit.data.dataset import read_manifest

    out = tmp_path / "set"
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        with get_task_stream(client) as stream:
            _prepare([str(inputs)], out, engine="dask", dask_address=cluster.scheduler_address)
        workers = set(client.scheduler_info()["workers"])
    # The work ran in the cluster's worker processes, not in this one.
    assert {t["worker"] for t in stream.data} and {t["worker"] for t in stream.data} <= workers
    _same_dataset(direct, out)
    m = read_manifest(out)
    bad = {Path(e["path"]).name for e in m["bad_files"]}
    assert {"c_corrupt.wav", "d_empty.wav", "e_silent.wav", "f_short.ogg"} <= bad  # reported, not fatal
    assert m["runs"][-1]["engine"] == "dask" and m["examples"]["train"] > 0


def test_cli_starts_its_own_local_cluster(inputs, tmp_path, capsys):  # noqa: F811
    from sounds_kit.cli import main

    common = ["--example-seconds", str(EXAMPLE_S), "--hop-seconds", str(HOP_S), "--eval-fraction", "0.3", "--quiet"]
    assert main(["prepare", str(inputs), "-o", str(tmp_path / "direct"), *common]) == 0
    dask = ["--engine", "dask", "--workers", "2"]
    assert main(["prepare", str(inputs), "-o", str(tmp_path / "dask"), *common, *dask]) == 0
    assert "4 bad input(s)" in capsys.readouterr().out
    _same_dataset(tmp_path / "direct", tmp_path / "dask")


def test_unreachable_scheduler_is_a_clear_error(inputs, tmp_path, monkeypatch):  # noqa: F811
    from sounds_kit import cluster
    from sounds_kit.cli import main

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2.0)
    with pytest.raises(UserFacingError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        _prepare([str(inputs)], tmp_path / "x", engine="dask", dask_address=f"tcp://127.0.0.1:{port}")
    assert not (tmp_path / "x").exists()
    with pytest.raises(UserFacingError, match="tcp://HOST:PORT"):
        _prepare([str(inputs)], tmp_path / "x", engine="dask", dask_address="localhost")
    with pytest.raises(UserFacingError, match="needs --engine dask"):
        _prepare([str(inputs)], tmp_path / "x", dask_address=f"tcp://127.0.0.1:{port}")
    assert main(["prepare", str(inputs), "-o", str(tmp_path / "y"), "--engine", "dask",
                 f"--dask-address=tcp://127.0.0.1:{port}", "--quiet"]) == 2  # fmt: skip
