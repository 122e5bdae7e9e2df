"""One sweep job, run in a worker (a local process or a Dask worker): train a trial to a step, then score it.

A trial lives in ``SWEEP_DIR/trials/<id>/`` (``run/`` a normal run dir, ``model/`` its float16 export,
``rungs.jsonl`` its rung scores, ``result.json``). A job trains the trial's run up to a *rung* (a step
of the budget) and scores it there; the scheduler (``sweep.search``) decides whether it goes on. The last
rung exports the model as the browser gets it (float16 TF.js), scores **the exported model** and appends
the trial's line to ``SWEEP_DIR/results.jsonl``. Intermediate rungs score the run's own float32 decoder
in process (no export: a pruned trial never pays for one); float16 rounding moves the score by far less
than the differences that pruning acts on.

Jobs are idempotent: a job whose rung is already scored (or whose trial is finished) returns the stored
result, and a lock on the trial folder keeps two jobs (a rerun beside a job orphaned by ``kill -9``) from
training one run at once. This module imports nothing from the code that schedules jobs.
"""

from __future__ import annotations

import fcntl
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

# quality = sum of weight x metric (lower is better). Spectral distance is the full spectral loss on the
# eval split; the loudness term costs 0.1 per dB of L1, the pitch term 0.02 per percent of voiced
# frames more than 50 cents off, so a model that gets level or pitch wrong loses its place.
QUALITY_WEIGHTS = {"spectral_distance": 1.0, "loudness_l1_db": 0.1, "f0_outlier_ratio": 2.0}
DEFAULT_LOADER = "sounds_kit.data.dataset:load_dataset"
RESULTS = "results.jsonl"
RUNGS = "rungs.jsonl"
METRIC_KEYS = ("spectral_distance", "loudness_l1_db", "f0_median_cents", "f0_mean_cents", "f0_outlier_ratio")


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
        pass  # TF already running in this process: keep its pools


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


def read_lines(path: Path) -> list[dict]:
    """The JSON lines of a file (a torn last line after a crash is skipped)."""
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


@contextmanager
def trial_lock(trial_dir: Path) -> Iterator[None]:
    """An exclusive lock on a trial folder for the length of one job (waits for a job that holds it)."""
    trial_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(trial_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# Per worker process: the data and eval clips, loaded once and reused by every job the worker runs.
_DATA: dict[tuple, object] = {}


def _cached(key: tuple, make: Callable):
    if key not in _DATA:
        _DATA[key] = make()
    return _DATA[key]


def _train_data(setup: dict) -> dict:
    from sounds_kit.model.train import collect_examples

    def make():
        load = resolve_loader(setup["loader"])
        return collect_examples(load(setup["dataset_dir"], "train"), setup["train"].get("max_examples"))

    return _cached(("train", setup["loader"], setup["dataset_dir"], setup["train"].get("max_examples")), make)


def _eval_clips(setup: dict, limit: int | None = None) -> list[dict]:
    """The first ``eval_clips`` examples of the eval split (the first ``limit`` of them when given)."""
    from sounds_kit.evaluate.metrics import dataset_clips

    def make():
        load = resolve_loader(setup["loader"])
        return dataset_clips(load(setup["dataset_dir"], "eval"), setup.get("eval_clips"))

    clips = _cached(("eval", setup["loader"], setup["dataset_dir"], setup.get("eval_clips")), make)
    return clips[:limit] if limit else clips


def train_config(spec: dict, setup: dict):
    """The trial's TrainConfig: the sweep's shared settings, the spec's recipe and seed."""
    from sounds_kit.model.config import TrainConfig

    train = {**setup["train"], **spec.get("recipe", {})}
    train["seed"] = train.get("seed", 0) + spec.get("seed", 0)
    return TrainConfig(decoder=DecoderConfig.from_dict(spec["decoder"]), **train)


def _analysis_cache(setup: dict, config) -> Path:
    """One stage-1 target cache per harmonics/bands in the sweep (its content is keyed by the data too)."""
    d = config.decoder
    name = f"analysis-h{d.n_harmonics}-n{d.n_noise_bands}-m{config.max_examples}.npz"
    path = Path(setup["sweep_dir"]) / "cache" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _base_record(spec: dict) -> dict:
    d = spec["decoder"]
    record = {"id": spec["id"], "decoder": d, "recipe": spec.get("recipe", {}), "seed": spec.get("seed", 0)}
    record.update(type=d["type"], width=d["width"], depth=d["depth"], kernel=d["kernel"])
    record.update(n_harmonics=d["n_harmonics"], n_noise_bands=d["n_noise_bands"])
    return record


def run_job(job: dict, setup: dict) -> dict:
    """Train ``job["spec"]`` to ``job["until"]`` steps (None: the whole budget) and score it there.

    ``job["final"]``: export (float16), score the export and record the trial (status ok or failed);
    otherwise score the float32 run in process and return ``{"status": "rung", "step", "quality", ...}``.
    ``setup`` (JSON-ready, the same for every job): dataset_dir, sweep_dir, loader, train (TrainConfig
    fields), eval_clips, rung_clips (clips scored at intermediate rungs; None: all), stats (the
    export's metadata), threads (0: leave the worker's TF as it is).
    """
    if setup.get("threads"):
        limit_threads(setup["threads"])
    spec = job["spec"]
    trial_dir = Path(setup["sweep_dir"]) / "trials" / spec["id"]
    t0 = time.perf_counter()
    with trial_lock(trial_dir):
        done = _stored(trial_dir, job)
        if done is not None:
            return done
        try:
            return _run_locked(job, setup, trial_dir, t0)
        except Exception as err:  # one bad trial must not sink the sweep; a rerun retries it
            record = {**_base_record(spec), "status": "failed", "error": f"{type(err).__name__}: {err}"[:2000]}
            record["trial_seconds"] = round(time.perf_counter() - t0, 2)
            if job.get("final"):
                write_json_atomic(trial_dir / "result.json", record)
                append_result(Path(setup["sweep_dir"]) / RESULTS, record)
            return record


def _stored(trial_dir: Path, job: dict) -> dict | None:
    """The result this job already has on disk (a rerun, or a job that outlived a killed sweep)."""
    if job.get("final"):
        path = trial_dir / "result.json"
        if path.exists():
            rec = json.loads(path.read_text())
            if rec.get("status") == "ok" and rec.get("decoder") == job["spec"]["decoder"]:
                return rec
        return None
    for rec in read_lines(trial_dir / RUNGS):
        if rec["step"] == job["until"]:
            return rec
    return None


def _run_locked(job: dict, setup: dict, trial_dir: Path, t0: float) -> dict:
    from sounds_kit.model.train import train

    spec = job["spec"]
    config = train_config(spec, setup)
    summary = train(_train_data(setup), trial_dir / "run", config, progress=False, until_step=job.get("until"),
                    analysis_cache=_analysis_cache(setup, config))  # fmt: skip
    t1 = time.perf_counter()
    if not job.get("final"):
        # A rung only ranks trials against each other: fewer clips (``rung_clips``) are enough for that.
        metrics = _score(trial_dir / "run", setup, setup.get("rung_clips"))
        rec = {"id": spec["id"], "status": "rung", "step": summary["step"], "quality": quality(metrics),
               **{k: metrics[k] for k in METRIC_KEYS}, "train_seconds": round(summary["elapsed_seconds"], 2),
               "job_seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
        rec["step"] = job["until"] if job.get("until") is not None else rec["step"]
        append_result(trial_dir / RUNGS, rec)
        return rec
    return _finish(spec, setup, trial_dir, summary, t0, t1)


def _score(model_dir: Path, setup: dict, clips: int | None = None) -> dict:
    from sounds_kit.evaluate.metrics import evaluate_model
    from sounds_kit.instrument.load import load_instrument

    return evaluate_model(load_instrument(model_dir), _eval_clips(setup, clips))


def _finish(spec: dict, setup: dict, trial_dir: Path, summary: dict, t0: float, t1: float) -> dict:
    from sounds_kit.instrument.export import export_decoder
    from sounds_kit.instrument.files import download_bytes
    from sounds_kit.model.decoders import parameter_count
    from sounds_kit.model.run import load_run

    run = load_run(trial_dir / "run")
    export_decoder(
        run.decoder, run.config.decoder, trial_dir / "model", name=spec["id"], quantize="float16",
        stats=setup.get("stats") or {}, reverb_ir=run.reverb_ir, extra_metadata={"training_step": run.step},
    )  # fmt: skip
    t2 = time.perf_counter()
    # Score the exported float16 model: what the browser will actually play.
    metrics = _score(trial_dir / "model", setup)
    t3 = time.perf_counter()
    earlier = sum(r.get("job_seconds", 0.0) for r in read_lines(trial_dir / RUNGS))
    record = {
        **_base_record(spec),
        "status": "ok",
        "parameters": parameter_count(run.decoder),
        "download_bytes": download_bytes(trial_dir / "model"),
        "quality": quality(metrics),
        **{k: metrics[k] for k in METRIC_KEYS},
        "eval_clips": metrics["clips"],
        "steps": summary["step"],
        "train_seconds": round(summary["elapsed_seconds"], 2),
        "export_seconds": round(t2 - t1, 2),
        "eval_seconds": round(t3 - t2, 2),
        # every job of the trial: rungs, then this one (data loading, analysis and tracing included)
        "trial_seconds": round(earlier + time.perf_counter() - t0, 2),
    }
    write_json_atomic(trial_dir / "result.json", record)
    append_result(Path(setup["sweep_dir"]) / RESULTS, record)
    return record


def run_trial(spec: dict, setup: dict) -> dict:
    """Train, export and score one trial on the whole budget (no rungs); returns its result record."""
    return run_job({"spec": spec, "until": None, "final": True}, setup)


@contextmanager
def worker_env(threads: int) -> Iterator[None]:
    """Thread caps in os.environ while workers are spawned (they read them before importing numpy/TF).

    TQDM_DISABLE silences the trainer's progress bars in the workers: N of them would garble the
    sweep's own bar (tqdm reads it when a process first imports tqdm, so this process keeps its bar).
    """
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS", "TF_CPP_MIN_LOG_LEVEL", "TQDM_DISABLE")  # fmt: skip
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(worker_environ(threads))
    try:
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def worker_environ(threads: int) -> dict[str, str]:
    """The environment of a sweep worker process: thread caps, no progress bars, quiet TF."""
    env = {n: str(threads) for n in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "TF_NUM_INTRAOP_THREADS")}  # fmt: skip
    env.update(TF_NUM_INTEROP_THREADS="1", TQDM_DISABLE="1")
    env["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")
    return env
