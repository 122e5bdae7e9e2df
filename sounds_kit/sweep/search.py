"""Architecture sweep: the smallest model (real browser download) that still sounds right.

A sweep trains trials (decoder type, width, depth, harmonics, noise bands) for the same budget,
exports each one as the browser would get it (float16 TF.js) and measures its download, scores the
exported model on the dataset's eval split (``metrics``), and picks the smallest trial whose
quality is within a relative tolerance of the best. docs/sweep.md describes the outputs and the
engines (local processes, or Apache Beam: ``sweep.beam``); one trial is ``sweep.trial``.

SWEEP_DIR layout: ``sweep.json`` (the settings that must not change between reruns),
``trials/<id>/{run,model,result.json}``, ``results.jsonl`` (one line per finished trial, appended),
``results.csv``, ``pareto.png``, ``chosen.json``. A rerun skips trials with an ``ok`` line.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sounds_kit.atomic import write_json_atomic
from sounds_kit.errors import UserFacingError
from sounds_kit.model.decoders import DecoderConfig
from sounds_kit.sweep.trial import (  # noqa: F401 - trial helpers are part of the sweep's API
    DEFAULT_LOADER,
    QUALITY_WEIGHTS,
    RESULTS,
    append_result,
    limit_threads,
    quality,
    resolve_loader,
    run_trial,
    worker_env,
)

# Per decoder type, the values each field takes; a trial is one point of the grid.
SPACES: dict[str, dict[str, dict[str, list]]] = {
    "small": {
        "cnn": {"width": [16, 32, 64], "depth": [3, 4, 6], "n_harmonics": [32, 48], "n_noise_bands": [16, 32]},
        "gru": {"width": [16, 32, 64], "depth": [1, 2], "n_harmonics": [32, 48], "n_noise_bands": [16, 32]},
    },
    "default": {
        "cnn": {
            "width": [16, 24, 32, 48, 64, 96, 128],
            "depth": [3, 4, 5, 6, 8],
            "n_harmonics": [24, 32, 48, 64, 96],
            "n_noise_bands": [16, 32, 64],
        },
        "gru": {
            "width": [16, 24, 32, 48, 64, 96, 128],
            "depth": [1, 2, 3],
            "n_harmonics": [24, 32, 48, 64, 96],
            "n_noise_bands": [16, 32, 64],
        },
    },
}

CSV_COLUMNS = (
    "id", "type", "width", "depth", "n_harmonics", "n_noise_bands", "parameters", "download_bytes",
    "quality", "spectral_distance", "loudness_l1_db", "f0_median_cents", "f0_mean_cents", "f0_outlier_ratio",
    "steps", "train_seconds", "export_seconds", "eval_seconds", "trial_seconds", "pareto", "chosen",
)  # fmt: skip


@dataclass
class SweepConfig:
    """A sweep's settings. ``train`` holds TrainConfig fields (budget included) shared by every trial."""

    trials: int = 8
    steps_per_trial: int | None = None
    minutes_per_trial: float | None = None  # used when steps_per_trial is None (default 10)
    space: str | dict = "small"
    tolerance: float = 0.05
    workers: int = 0  # 0: one per core
    engine: str = "local"  # "local" | "beam"
    beam_args: list[str] = field(default_factory=list)
    seed: int = 0
    eval_clips: int = 32
    train: dict = field(default_factory=dict)
    loader: str = DEFAULT_LOADER  # "module:function" with dataset.load_dataset's (dir, split) signature

    def __post_init__(self) -> None:
        if self.engine not in ("local", "beam"):
            raise UserFacingError(f"engine must be local or beam, got {self.engine!r}")
        if self.trials < 1:
            raise UserFacingError(f"--trials must be at least 1, got {self.trials}")
        if self.tolerance < 0:
            raise UserFacingError(f"--tolerance must be >= 0, got {self.tolerance}")
        if self.steps_per_trial is not None and self.minutes_per_trial is not None:
            raise UserFacingError("give --steps-per-trial or --minutes-per-trial, not both")


# ---------------------------------------------------------------------------------------------
# Search space


def resolve_space(space: str | dict) -> dict:
    """A named space, a JSON file of the same shape, or a dict -> {type: {field: [values]}}."""
    if isinstance(space, dict):
        data = space
    elif space in SPACES:
        data = SPACES[space]
    elif Path(space).is_file():
        data = json.loads(Path(space).read_text())
    else:
        raise UserFacingError(f"unknown search space {space!r}: use {' or '.join(SPACES)} or a JSON file")
    for kind, axes in data.items():
        try:
            DecoderConfig.from_dict({"type": kind, **{k: v[0] for k, v in axes.items()}})
        except (ValueError, TypeError, IndexError) as err:
            raise UserFacingError(f"search space for {kind!r} is not valid: {err}") from err
    return data


def trial_id(decoder: dict) -> str:
    """A readable, stable id: the same model always maps to the same trial dir."""
    base = DecoderConfig(type=decoder["type"])
    d = decoder
    tid = f"{d['type']}-w{d['width']}-d{d['depth']}-h{d['n_harmonics']}-n{d['n_noise_bands']}"
    core = {"type", "width", "depth", "n_harmonics", "n_noise_bands", "dilations"}
    extra = [f"{k}{v}" for k, v in sorted(decoder.items()) if k not in core and v != getattr(base, k)]
    return "-".join([tid, *extra])


def grid(space: dict) -> list[dict]:
    """Every decoder config of the space (full DecoderConfig dicts)."""
    out = []
    for kind, axes in space.items():
        names = sorted(axes)
        for values in itertools.product(*(axes[n] for n in names)):
            out.append(DecoderConfig.from_dict({"type": kind, **dict(zip(names, values, strict=True))}).to_dict())
    return out


def choose_trials(space: dict, n: int, seed: int = 0) -> list[dict]:
    """``n`` trial specs: a seeded shuffle of the grid, alternating decoder types, the kit's default
    decoder first when the space contains it. A larger ``n`` extends the same list (reruns resume)."""
    rng = np.random.default_rng(seed)
    default = DecoderConfig().to_dict()
    configs = grid(space)
    queues = {}
    for kind in space:
        mine = [c for c in configs if c["type"] == kind]
        # The default leaves its queue before the zip, so the types still alternate after it.
        queues[kind] = [c for c in (mine[i] for i in rng.permutation(len(mine))) if c != default]
    ordered = [c for c in configs if c == default]
    for row in itertools.zip_longest(*queues.values()):
        ordered += [c for c in row if c is not None]
    return [{"id": trial_id(c), "decoder": c} for c in ordered[:n]]


# ---------------------------------------------------------------------------------------------
# Results


def read_results(sweep_dir: str | Path, ok_only: bool = True) -> list[dict]:
    """The latest line per trial id from results.jsonl (a torn last line after a crash is ignored)."""
    path = Path(sweep_dir) / RESULTS
    latest: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("status") == "ok" or rec["id"] not in latest or latest[rec["id"]].get("status") != "ok":
                latest[rec["id"]] = rec
    rows = list(latest.values())
    return [r for r in rows if r.get("status") == "ok"] if ok_only else rows


def pareto_front(results: list[dict], x: str = "download_bytes", y: str = "quality") -> list[bool]:
    """True for each trial no other trial beats on both size and quality (lower is better in both)."""
    pts = [(float(r[x]), float(r[y])) for r in results]
    return [
        not any(a <= px and b <= py and (a < px or b < py) for a, b in pts)
        for px, py in pts
    ]  # fmt: skip


def _train_flags(decoder: dict | None) -> str | None:
    """The `sounds-kit train` options that build this decoder (to train the chosen one for longer)."""
    if not decoder:
        return None
    return (
        f"--decoder {decoder['type']} --width {decoder['width']} --depth {decoder['depth']} "
        f"--kernel {decoder['kernel']} --harmonics {decoder['n_harmonics']} --noise-bands {decoder['n_noise_bands']}"
        + (" --reverb" if decoder.get("reverb") else "")
    )


def choose(results: list[dict], tolerance: float) -> dict:
    """The smallest download among trials whose quality <= (1 + tolerance) x the best quality."""
    if not results:
        raise UserFacingError("no finished trial to choose from")
    best = min(results, key=lambda r: r["quality"])
    threshold = best["quality"] * (1.0 + tolerance)
    candidates = [r for r in results if r["quality"] <= threshold]
    chosen = min(candidates, key=lambda r: (r["download_bytes"], r["quality"]))
    return {
        "rule": (
            f"smallest download_bytes among trials with quality <= (1 + {tolerance:g}) x best quality "
            f"({best['quality']:.4g} -> threshold {threshold:.4g}); quality (lower is better) = "
            + " + ".join(f"{w:g} x {k}" for k, w in QUALITY_WEIGHTS.items())
            + " on the eval split, measured on the exported float16 model"
        ),
        "tolerance": tolerance,
        "best": {"id": best["id"], "quality": best["quality"], "download_bytes": best["download_bytes"]},
        "threshold": threshold,
        "candidates": sorted(r["id"] for r in candidates),
        "chosen": chosen,
        "decoder": chosen.get("decoder"),
        "train_flags": _train_flags(chosen.get("decoder")),
        "size_vs_best": chosen["download_bytes"] / best["download_bytes"],
    }


def plot_pareto(results: list[dict], tolerance: float | None = None, chosen_id: str | None = None):
    """Download size vs quality of every trial with the Pareto front highlighted (a matplotlib Figure)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    front = pareto_front(results) if results else []
    for kind, marker, color in (("cnn", "o", "tab:blue"), ("gru", "s", "tab:orange")):
        pts = [(r["download_bytes"] / 1024, r["quality"]) for r in results if r["type"] == kind]
        if pts:
            ax.scatter(*zip(*pts, strict=True), marker=marker, color=color, alpha=0.8, label=kind, zorder=2)
    on = sorted((r["download_bytes"] / 1024, r["quality"], r["id"]) for r, f in zip(results, front, strict=True) if f)
    if on:
        xs, ys, ids = zip(*on, strict=True)
        ax.step(xs, ys, where="post", color="tab:red", lw=1.2, zorder=1)
        ax.scatter(xs, ys, s=140, facecolors="none", edgecolors="tab:red", lw=1.5, zorder=3, label="Pareto front")
        for x, y, tid in on:  # only the front is labelled: the rest would clutter a big sweep
            ax.annotate(tid, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=7, color="tab:red")
    if results and tolerance is not None:
        best = min(r["quality"] for r in results)
        ax.axhline(best * (1 + tolerance), color="0.4", ls="--", lw=1, label=f"best + {tolerance:.0%}")
    for r in results:
        if r["id"] == chosen_id:
            ax.scatter([r["download_bytes"] / 1024], [r["quality"]], marker="*", s=260, color="gold",
                       edgecolor="k", zorder=5, label="chosen")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("browser download (KB, float16)")
    ax.set_ylabel("quality (lower is better)")
    ax.set_title(f"sweep: {len(results)} trials")
    ax.grid(True, which="both", alpha=0.3)
    if results:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def table(results: list[dict]) -> str:
    """A plain-text table of the trials, smallest download first."""
    head = f"{'trial':<28} {'params':>8} {'KB':>8} {'quality':>8} {'spectral':>9} {'loud dB':>8} "
    head += f"{'f0 med':>7} {'f0 >50c':>8} {'train s':>8}"
    lines = [head]
    for r in sorted(results, key=lambda r: r["download_bytes"]):
        mark = ("*" if r.get("chosen") else "") + ("p" if r.get("pareto") else "")
        lines.append(
            f"{r['id']:<28} {r['parameters']:>8} {r['download_bytes'] / 1024:>8.1f} {r['quality']:>8.4f} "
            f"{r['spectral_distance']:>9.4f} {r['loudness_l1_db']:>8.2f} {r['f0_median_cents']:>7.1f} "
            f"{r['f0_outlier_ratio']:>8.3f} {r['train_seconds']:>8.1f} {mark}"
        )
    return "\n".join(lines) + "\n(p: on the Pareto front, *: chosen)"


def finalize(sweep_dir: str | Path, tolerance: float) -> dict:
    """results.csv, pareto.png and chosen.json from every finished trial; returns chosen.json's content."""
    sweep_dir = Path(sweep_dir)
    results = read_results(sweep_dir)
    choice = choose(results, tolerance)
    for r, on in zip(results, pareto_front(results), strict=True):
        r["pareto"], r["chosen"] = on, r["id"] == choice["chosen"]["id"]
    results.sort(key=lambda r: (r["download_bytes"], r["quality"]))
    tmp = sweep_dir / ".results.csv.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(results)
    os.replace(tmp, sweep_dir / "results.csv")
    fig = plot_pareto(results, tolerance, choice["chosen"]["id"])
    fig.savefig(sweep_dir / ".pareto.tmp.png", dpi=100)
    os.replace(sweep_dir / ".pareto.tmp.png", sweep_dir / "pareto.png")
    write_json_atomic(sweep_dir / "chosen.json", choice)
    return {**choice, "results": results}


# ---------------------------------------------------------------------------------------------
# Running


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def plan(n_workers: int) -> tuple[int, int]:
    """(workers, TF threads per worker): workers share the cores evenly, at least one thread each."""
    cores = _cores()
    workers = n_workers if n_workers > 0 else cores
    return workers, max(1, cores // workers)


def run_local(specs: list[dict], setup: dict, workers: int, threads: int, on_done: Callable[[dict], None]) -> None:
    """Trials in ``workers`` spawned processes (fresh TF in each, thread-capped)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")  # fork after TF/threads is unsafe
    with worker_env(threads):
        pool = ProcessPoolExecutor(min(workers, len(specs)), mp_context=ctx, initializer=limit_threads,
                                   initargs=(threads,))  # fmt: skip
        try:
            futures = [pool.submit(run_trial, s, setup) for s in specs]
            for fut in as_completed(futures):
                on_done(fut.result())
        except BrokenProcessPool as err:
            pool.shutdown(wait=False, cancel_futures=True)
            raise UserFacingError(
                "a trial's worker process died (out of memory? try fewer --workers); rerun to resume"
            ) from err
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()


def _watch(path: Path, ids: set[str], on_done: Callable[[dict], None], stop: threading.Event) -> None:
    """Report trials as their lines appear in results.jsonl (Beam workers write it, not this process)."""
    seen = path.stat().st_size if path.exists() else 0
    buffer = b""
    while True:
        last = stop.wait(1.0)  # after the pipeline ends, one more read catches the final lines
        if not path.exists():
            if last:
                return
            continue
        with open(path, "rb") as f:
            f.seek(seen)
            chunk = f.read()
        seen += len(chunk)
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("id") in ids:
                on_done(rec)
        if last:
            return


def _settings(config: SweepConfig, dataset_dir: Path) -> dict:
    """What makes trials comparable: fixed at a sweep's first run."""
    budget = {"steps": config.steps_per_trial, "minutes": None}
    if config.steps_per_trial is None:
        budget["minutes"] = config.minutes_per_trial if config.minutes_per_trial is not None else 10.0
    train = {"checkpoint_seconds": 60.0, "n_audio_examples": 1, "seed": config.seed, **config.train, **budget}
    settings = {"dataset_dir": str(dataset_dir.resolve()), "train": train, "eval_clips": config.eval_clips,
                "loader": config.loader}  # fmt: skip
    return json.loads(json.dumps(settings))  # as stored (tuples -> lists), so reruns compare equal


def _check_settings(sweep_dir: Path, settings: dict) -> None:
    path = sweep_dir / "sweep.json"
    if path.exists():
        stored = json.loads(path.read_text())
        changed = sorted(k for k in settings if stored.get(k) != settings[k] and k != "dataset_dir")
        if changed:
            raise UserFacingError(
                f"{sweep_dir} was started with other settings ({', '.join(changed)}: "
                f"{ {k: stored.get(k) for k in changed} }); trials are only comparable with the same budget "
                "and data - use a new SWEEP_DIR"
            )
    else:
        write_json_atomic(path, settings)


def _dataset_stats(dataset_dir: Path, loader: str) -> dict:
    """The dataset's stats + fit profile, as ``sounds-kit export`` puts them in metadata.json."""
    if loader != DEFAULT_LOADER:
        return {}
    try:
        from sounds_kit.data.dataset import read_stats
        from sounds_kit.dsp.tone_fit import fit_profile_from_dataset_stats

        stats = read_stats(dataset_dir)
    except Exception:  # stats only add metadata bytes; the sweep works without them
        return {}
    return {**stats, "fit": fit_profile_from_dataset_stats(stats)}


def sweep(dataset_dir: str | Path, sweep_dir: str | Path, config: SweepConfig, progress: bool = True) -> dict:
    """Run (or resume) a sweep; returns chosen.json's content plus ``results`` (every finished trial)."""
    from tqdm.auto import tqdm

    dataset_dir, sweep_dir = Path(dataset_dir), Path(sweep_dir)
    if not dataset_dir.is_dir():
        raise UserFacingError(f"{dataset_dir}: no such dataset folder")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    settings = _settings(config, dataset_dir)
    _check_settings(sweep_dir, settings)
    specs = choose_trials(resolve_space(config.space), config.trials, config.seed)
    if len(specs) < config.trials:
        print(f"note: the space has only {len(specs)} models; running those")
    finished = {r["id"] for r in read_results(sweep_dir)}
    todo = [s for s in specs if s["id"] not in finished]
    if finished & {s["id"] for s in specs}:
        print(f"{len(specs) - len(todo)} of {len(specs)} trials already finished: skipped")
    setup = {**settings, "sweep_dir": str(sweep_dir.resolve()), "stats": _dataset_stats(dataset_dir, config.loader)}
    workers, threads = plan(config.workers)
    failed: list[dict] = []
    if todo:
        bar = tqdm(total=len(todo), desc=f"sweep ({config.engine}, {workers} workers)", unit="trial",
                   disable=not progress)  # fmt: skip
        lock = threading.Lock()

        def on_done(rec: dict) -> None:
            with lock:
                bar.update(1)
                if rec["status"] == "ok":
                    bar.write(f"{rec['id']}: quality {rec['quality']:.4f}, {rec['download_bytes'] / 1024:.1f} KB, "
                              f"{rec['trial_seconds']:.0f} s")  # fmt: skip
                else:
                    failed.append(rec)
                    bar.write(f"{rec['id']}: FAILED {rec['error']}")

        if config.engine == "local":
            run_local(todo, setup, workers, threads, on_done)
        else:
            from sounds_kit.sweep.beam import run_beam

            stop = threading.Event()
            watcher = threading.Thread(
                target=_watch, args=(sweep_dir / RESULTS, {s["id"] for s in todo}, on_done, stop), daemon=True
            )
            watcher.start()
            try:
                run_beam(todo, setup, workers, threads, config.beam_args)
            finally:
                stop.set()
                watcher.join()
        bar.close()
    if failed:
        print(f"{len(failed)} trial(s) failed (rerun to retry): {', '.join(r['id'] for r in failed)}")
    return finalize(sweep_dir, config.tolerance)
