"""Where sweep jobs run: local worker processes, or the workers of a dask.distributed cluster.

Both give the scheduler the same two calls, ``submit(job) -> future`` and ``wait_any(futures) -> done``,
so the search (``sweep.search``) does not care which one runs its jobs. Jobs are
:func:`sounds_kit.sweep.trial.run_job` with the sweep's setup.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sounds_kit.errors import UserFacingError
from sounds_kit.sweep.trial import limit_threads, run_job, worker_env, worker_environ


def _init_worker(threads: int, parent: int) -> None:
    """Thread caps, and an exit when the sweep that started this worker is gone.

    A pool worker whose parent was killed (``kill -9``) would otherwise finish its job and then wait
    for work forever; the rerun resumes the trial from its checkpoint instead.
    """
    limit_threads(threads)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(70)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class LocalExecutor:
    """``workers`` spawned processes (a fresh TF in each, thread-capped), kept for the whole sweep."""

    def __init__(self, setup: dict, workers: int, threads: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.setup = setup
        self.workers = workers
        ctx = multiprocessing.get_context("spawn")  # fork after TF/threads is unsafe
        # Workers start at the first submit: the caps stay in this process's environment until close().
        self._env = worker_env(threads)
        self._env.__enter__()
        self.pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                        initargs=(threads, os.getpid()))  # fmt: skip

    def submit(self, job: dict):
        return self.pool.submit(run_job, job, self.setup)

    @staticmethod
    def wait_any(futures) -> set:
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(futures, return_when=FIRST_COMPLETED).done

    @staticmethod
    def result(future) -> dict:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool as err:
            raise UserFacingError(
                "a trial's worker process died (out of memory? try fewer --workers); rerun to resume"
            ) from err

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._env.__exit__(None, None, None)


class DaskExecutor:
    """The workers of a dask.distributed scheduler; jobs are Dask futures."""

    def __init__(self, setup: dict, address: str):
        import distributed

        self.setup = setup
        self.client = distributed.Client(address, set_as_default=False)
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def submit(self, job: dict):
        # pure=False: a job writes files; never let Dask reuse a result instead of running it.
        key = f"sweep-{job['spec']['id']}-{job['until']}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(run_job, job, self.setup, pure=False, key=key)

    @staticmethod
    def wait_any(futures) -> set:
        # Polling the futures' states needs no default client (distributed.wait does).
        while True:
            done = {f for f in futures if f.done()}
            if done:
                return done
            time.sleep(0.2)

    @staticmethod
    def result(future) -> dict:
        return future.result()

    def close(self) -> None:
        self.client.close()


@contextmanager
def executor(engine: str, setup: dict, workers: int, threads: int, dask_address: str | None) -> Iterator:
    """The executor of ``engine`` ("local" or "dask") for the length of a sweep."""
    if engine == "local":
        ex = LocalExecutor(setup, workers, threads)
        try:
            yield ex
        finally:
            ex.close()
        return
    from sounds_kit.cluster import dask_cluster

    # A local cluster's workers get the same thread caps as local processes; a running cluster's
    # workers keep theirs (each job then caps TF to the worker's own thread count).
    with dask_cluster(dask_address, workers, env=worker_environ(threads)) as address:
        ex = DaskExecutor({**setup, "threads": 0 if dask_address else threads}, address)
        try:
            yield ex
        finally:
            ex.close()
