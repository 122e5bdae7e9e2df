"""One sweep trial: train, export (float16, as the browser gets it), measure and record.

Runs in a worker (a local process or a Beam/Dask worker), so it imports nothing from the code that
schedules trials.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import numpy as np

from sounds_kit.atomic import write_json_atomic
from sounds_kit.model.decoders import DecoderConfig

# quality = sum of weight x metric (lower is better). Spectral distance is the training loss on the
# eval split; the loudness term costs 0.1 per dB of L1, the pitch term 0.02 per percent of voiced
# frames more than 50 cents off, so a model that gets level or pitch wrong loses its place.
QUALITY_WEIGHTS = {"spectral_distance": 1.0, "loudness_l1_db": 0.1, "f0_outlier_ratio": 2.0}
DEFAULT_LOADER = "sounds_kit.data.dataset:load_dataset"
RESULTS = "results.jsonl"


def resolve_loader(spec: str) -> Callable:
    module, _, name = spec.partition(":")
    return getattr(import_module(module), name or "load_dataset")


def limit_threads(threads: int) -> None:
    """Cap this process's TF (and BLAS) threads so N workers share the cores instead of fighting."""
    threads = max(1, int(threads))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    # Read by TF at start-up, and inherited by the tfjs converter subprocess of the export.
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TF already running in this process (the Beam in-memory runner): keep its pools


def quality(metrics: dict, weights: dict | None = None) -> float:
    """The sweep's single score (lower is better): ``sum(weight * metric)`` over QUALITY_WEIGHTS.

    A metric with nothing to measure (NaN: e.g. no voiced frame in the eval split) adds nothing.
    """
    return float(sum(w * np.nan_to_num(float(metrics[k])) for k, w in (weights or QUALITY_WEIGHTS).items()))


def append_result(path: Path, record: dict) -> None:
    """One JSON line in one O_APPEND write: concurrent workers never interleave lines."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def run_trial(spec: dict, setup: dict) -> dict:
    """Train, export (float16), measure the download and evaluate one trial; append its result line.

    ``setup`` (JSON-ready, the same for every trial): dataset_dir, sweep_dir, loader, train
    (TrainConfig fields), eval_clips, stats (for the export's metadata). Failures are recorded with
    ``status: failed`` and retried by the next run.
    """
    from sounds_kit.evaluate.metrics import dataset_clips, evaluate_model
    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.instrument.files import download_bytes
    from sounds_kit.instrument.load import load_instrument
    from sounds_kit.model.decoders import parameter_count
    from sounds_kit.model.run import load_run
    from sounds_kit.model.train import TrainConfig, train

    t0 = time.perf_counter()
    sweep_dir = Path(setup["sweep_dir"])
    trial_dir = sweep_dir / "trials" / spec["id"]
    d = spec["decoder"]
    record: dict = {"id": spec["id"], "decoder": d, "type": d["type"], "width": d["width"], "depth": d["depth"]}
    record.update(n_harmonics=d["n_harmonics"], n_noise_bands=d["n_noise_bands"])
    try:
        load = resolve_loader(setup["loader"])
        config = TrainConfig(decoder=DecoderConfig.from_dict(spec["decoder"]), **setup["train"])
        summary = train(load(setup["dataset_dir"], "train"), trial_dir / "run", config, progress=False)
        run = load_run(trial_dir / "run")
        t1 = time.perf_counter()
        export_decoder(
            run.decoder, run.config.decoder, trial_dir / "model", name=spec["id"], quantize="float16",
            stats=setup.get("stats") or {}, reverb_ir=run.reverb_ir, extra_metadata={"training_step": run.step},
        )  # fmt: skip
        t2 = time.perf_counter()
        clips = dataset_clips(load(setup["dataset_dir"], "eval"), setup.get("eval_clips"))
        # Score the exported float16 model: what the browser will actually play.
        metrics = evaluate_model(load_instrument(trial_dir / "model"), clips)
        t3 = time.perf_counter()
        record.update(
            status="ok",
            parameters=parameter_count(run.decoder),
            download_bytes=download_bytes(trial_dir / "model"),
            quality=quality(metrics),
            **{k: metrics[k] for k in ("spectral_distance", "loudness_l1_db", "f0_median_cents", "f0_mean_cents")},
            f0_outlier_ratio=metrics["f0_outlier_ratio"],
            eval_clips=metrics["clips"],
            steps=summary["step"],
            train_seconds=round(summary["elapsed_seconds"], 2),
            export_seconds=round(t2 - t1, 2),
            eval_seconds=round(t3 - t2, 2),
        )
    except Exception as err:  # one bad trial must not sink the sweep; the rerun retries it
        record.update(status="failed", error=f"{type(err).__name__}: {err}"[:2000])
    record["trial_seconds"] = round(time.perf_counter() - t0, 2)
    trial_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(trial_dir / "result.json", record)
    append_result(sweep_dir / RESULTS, record)
    return record



@contextmanager
def worker_env(threads: int) -> Iterator[None]:
    """Thread caps in os.environ while workers are spawned (they read them before importing numpy/TF).

    TQDM_DISABLE silences the trainer's progress bars in the workers: N of them would garble the
    sweep's own bar (tqdm reads it when a process first imports tqdm, so this process keeps its bar).
    """
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS", "TF_CPP_MIN_LOG_LEVEL", "TQDM_DISABLE")  # fmt: skip
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update({n: str(threads) for n in names[:4]}, TF_NUM_INTEROP_THREADS="1", TQDM_DISABLE="1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


