"""A dask.distributed cluster for one run: worker processes started here, or a scheduler already running.

``prepare --engine dask`` (through Beam's Dask runner) and ``sweep --engine dask`` (trials as Dask
futures) both use :func:`dask_cluster`. Given an address (``--dask-address tcp://host:8786``), the run
joins that scheduler, so clusters started by dask-jobqueue (SLURM, PBS), dask-kubernetes or by hand
work unchanged; the workers must have sounds-kit installed and see the data and output folders at the
same paths. Without one, a LocalCluster of ``workers`` processes (one thread each: the kit's work is
numpy/TF that takes a core by itself) lives for the run and is closed after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sounds_kit.errors import UserFacingError
from sounds_kit.model.threads import available_cores

CONNECT_TIMEOUT_S = 10.0  # an unreachable scheduler fails fast with a clear message, not after dask's 30 s


def _require_distributed():
    try:
        import distributed
    except ImportError as err:  # the [scale] extra is not installed
        raise UserFacingError(
            "the dask engine needs dask.distributed: pip install 'sounds-kit[scale]' "
            "(or 'apache-beam[dask]==2.76.*')"
        ) from err
    return distributed


def check_address(address: str, timeout: float | None = None) -> int:
    """Connects to the scheduler at ``address`` once; returns its worker count, or raises a clear error."""
    distributed = _require_distributed()
    if "://" not in address:
        raise UserFacingError(f"--dask-address {address!r}: give the scheduler as tcp://HOST:PORT")
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise UserFacingError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({type(err).__name__}: {err}); "
            "is it running, and is the address (host, port, tcp://) right?"
        ) from err
    try:
        return len(client.scheduler_info().get("workers", {}))
    finally:
        client.close()


@contextmanager
def dask_cluster(address: str | None = None, workers: int = 0, env: dict | None = None) -> Iterator[str]:
    """Yields a scheduler address: ``address`` (checked), or a LocalCluster's started for the block.

    ``workers`` (0: one per core) and ``env`` (environment variables of the worker processes, e.g. thread
    caps) apply to a local cluster only; a running cluster's workers are what they are.
    """
    distributed = _require_distributed()
    if address:
        n = check_address(address)
        if n == 0:
            logging.getLogger(__name__).warning("the scheduler at %s has no workers yet; tasks wait for them", address)
        try:
            yield address
        finally:
            close_clients_of(address)
        return
    n_workers = workers if workers > 0 else available_cores()
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,  # no web server on a shared machine
        silence_logs=logging.ERROR,
        env={k: str(v) for k, v in (env or {}).items()},
    )
    try:
        yield cluster.scheduler_address
    finally:
        close_clients_of(cluster.scheduler_address)
        cluster.close()


def close_clients_of(address: str) -> None:
    """Closes this process's default Dask client when it talks to ``address``.

    Beam's Dask runner makes a Client for the pipeline and leaves it open; closed before its cluster,
    it does not try (and log) reconnecting to a scheduler that is gone.
    """
    distributed = _require_distributed()
    try:
        client = distributed.default_client()
    except ValueError:  # no default client in this process
        return
    if client.scheduler is not None and client.scheduler.address == address:
        client.close()
