"""Architecture sweep: the smallest model (real browser download) that still sounds right.

A sweep searches decoder type, width, depth, kernel, harmonics, noise bands and training recipe
(``sweep.space``) with Optuna, stops weak trials early by successive halving (``sweep.schedule``),
exports each surviving trial as the browser gets it (float16 TF.js), measures its download, scores the
exported model on the dataset's eval split (``sweep.trial``), trains the finalists, the best and the
chosen configuration with more seeds, and picks the smallest configuration whose mean quality is
within a relative tolerance of the best.
Jobs run on local processes or on a dask.distributed cluster (``sweep.executors``). docs/sweep.md
describes the outputs and the engines.

SWEEP_DIR layout: ``sweep.json`` (the settings that must not change between reruns), ``optuna.journal``
(the study), ``trials/<id>/{run,model,rungs.jsonl,result.json}``, ``cache/`` (stage-1 targets shared by
trials), ``results.jsonl`` (one line per finished or pruned trial, appended), ``results.csv``,
``search.csv``, ``pareto.png``, ``chosen.json``. A rerun resumes.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sounds_kit.atomic import write_json_atomic
from sounds_kit.errors import UserFacingError
from sounds_kit.model.loss import TRAINING_FFT_SIZES, TRAINING_OVERLAP, full_loss_form
from sounds_kit.model.threads import available_cores
from sounds_kit.sweep.space import (  # noqa: F401 - the space helpers are part of the sweep's API
    RECIPE,
    SPACES,
    choose_trials,
    config_id,
    grid,
    resolve_space,
    size,
    trial_id,
)
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

DEFAULT_STEPS = 1000

CSV_COLUMNS = (
    "id", "type", "width", "depth", "kernel", "n_harmonics", "n_noise_bands", "recipe", "parameters",
    "download_bytes", "quality", "seeds", "quality_seeds", "spectral_distance", "loudness_l1_db",
    "f0_median_cents", "f0_mean_cents", "f0_outlier_ratio", "steps", "train_seconds", "export_seconds",
    "eval_seconds", "trial_seconds", "pareto", "chosen",
)  # fmt: skip


@dataclass
class SweepConfig:
    """A sweep's settings. ``train`` holds TrainConfig fields shared by every trial.

    Budget: ``steps_per_trial`` (the last rung; with ``prune`` trials are scored at
    ``min_steps`` x ``reduction_factor``^k steps and stopped when weak) or ``minutes_per_trial``
    (equal wall time, no pruning). Neither: 10 minutes, as before rungs existed.
    """

    trials: int = 8
    steps_per_trial: int | None = None
    minutes_per_trial: float | None = None
    space: str | dict = "small"
    tolerance: float = 0.05
    workers: int = 0  # 0: one per core (local) / the cluster's worker threads (dask)
    engine: str = "local"  # "local" | "dask"
    dask_address: str | None = None  # with engine "dask": a running scheduler; None: a LocalCluster
    seed: int = 0
    eval_clips: int = 32
    rung_clips: int = 8  # clips scored at intermediate rungs (they only rank trials); 0: eval_clips
    train: dict = None  # type: ignore[assignment]
    loader: str = DEFAULT_LOADER  # "module:function" with dataset.load_dataset's (dir, split) signature
    prune: bool = True
    min_steps: int | None = None  # first rung; None: steps_per_trial / reduction_factor^2
    reduction_factor: int = 3
    seeds: int = 2  # the finalists, the best and the chosen configuration get this many seeds
    finalists: int = 3
    sampler: str = "tpe"  # "tpe" | "random"
    max_download_kb: float | None = None  # configurations estimated larger are never trained (sweep.budget)

    def __post_init__(self) -> None:
        self.train = dict(self.train or {})
        if self.engine not in ("local", "dask"):
            raise UserFacingError(f"engine must be local or dask, got {self.engine!r}")
        if self.dask_address and self.engine != "dask":
            raise UserFacingError("--dask-address needs --engine dask")
        if self.trials < 1:
            raise UserFacingError(f"--trials must be at least 1, got {self.trials}")
        if self.tolerance < 0:
            raise UserFacingError(f"--tolerance must be >= 0, got {self.tolerance}")
        if self.steps_per_trial is not None and self.minutes_per_trial is not None:
            raise UserFacingError("give --steps-per-trial or --minutes-per-trial, not both")
        if self.seeds < 1:
            raise UserFacingError(f"--seeds must be at least 1, got {self.seeds}")
        if self.max_download_kb is not None and self.max_download_kb <= 0:
            raise UserFacingError(f"--max-download-kb must be > 0, got {self.max_download_kb}")
        if self.sampler not in ("tpe", "random"):
            raise UserFacingError(f"sampler must be tpe or random, got {self.sampler!r}")

    def rungs(self) -> list[int] | None:
        """The steps trials are scored at, or None (one job per trial: no pruning, or a minutes budget)."""
        from sounds_kit.sweep.schedule import rungs

        if self.steps_per_trial is None or not self.prune:
            return None
        first = self.min_steps or max(1, round(self.steps_per_trial / self.reduction_factor**2))
        return rungs(self.steps_per_trial, first, self.reduction_factor)


# ---------------------------------------------------------------------------------------------
# Results


def read_results(sweep_dir: str | Path, ok_only: bool = True) -> list[dict]:
    """The latest line per trial id from results.jsonl (a torn last line after a crash is ignored);
    an ``ok`` line is never replaced by a later one of another status."""
    from sounds_kit.sweep.trial import read_lines

    latest: dict[str, dict] = {}
    for rec in read_lines(Path(sweep_dir) / RESULTS):
        if rec.get("status") == "ok" or rec["id"] not in latest or latest[rec["id"]].get("status") != "ok":
            latest[rec["id"]] = rec
    rows = list(latest.values())
    return [r for r in rows if r.get("status") == "ok"] if ok_only else rows


def by_config(results: list[dict]) -> list[dict]:
    """One row per configuration (model + recipe): its seed-0 record with ``quality`` the mean over its
    seeds (``quality_seeds`` lists them, ``seeds`` counts them)."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(config_id(r), []).append(r)
    rows = []
    for cid, recs in groups.items():
        recs = sorted(recs, key=lambda r: r.get("seed", 0))
        q = [r["quality"] for r in recs]
        rows.append({**recs[0], "id": cid, "quality": float(np.mean(q)), "seeds": len(q),
                     "quality_seeds": [round(v, 5) for v in q]})  # fmt: skip
    return rows


def pareto_front(results: list[dict], x: str = "download_bytes", y: str = "quality") -> list[bool]:
    """True for each trial no other trial beats on both size and quality (lower is better in both)."""
    pts = [(float(r[x]), float(r[y])) for r in results]
    return [
        not any(a <= px and b <= py and (a < px or b < py) for a, b in pts)
        for px, py in pts
    ]  # fmt: skip


def _train_flags(decoder: dict | None, recipe: dict | None = None) -> str | None:
    """The `sounds-kit train` options that build this decoder (to train the chosen one for longer)."""
    if not decoder:
        return None
    flags = (
        f"--decoder {decoder['type']} --width {decoder['width']} --depth {decoder['depth']} "
        f"--kernel {decoder['kernel']} --harmonics {decoder['n_harmonics']} --noise-bands {decoder['n_noise_bands']}"
        + (" --reverb" if decoder.get("reverb") else "")
    )
    names = {"learning_rate": "--learning-rate", "pretrain_fraction": "--pretrain-fraction",
             "batch_size": "--batch-size"}  # fmt: skip
    return flags + "".join(f" {names[k]} {v:g}" for k, v in sorted((recipe or {}).items()) if k in names)


def choose(results: list[dict], tolerance: float, max_download_kb: float | None = None) -> dict:
    """The smallest download among trials whose quality <= (1 + tolerance) x the best quality (of the
    trials whose real download fits ``max_download_kb``, when given)."""
    if max_download_kb is not None:
        results = [r for r in results if r["download_bytes"] <= max_download_kb * 1024]
    if not results:
        raise UserFacingError("no finished trial to choose from"
                              + (f" within --max-download-kb {max_download_kb:g}" if max_download_kb else ""))
    best = min(results, key=lambda r: r["quality"])
    threshold = best["quality"] * (1.0 + tolerance)
    candidates = [r for r in results if r["quality"] <= threshold]
    chosen = min(candidates, key=lambda r: (r["download_bytes"], r["quality"]))
    return {
        "rule": (
            (f"of the trials whose download is <= {max_download_kb:g} KB, " if max_download_kb else "")
            + f"smallest download_bytes among trials with quality <= (1 + {tolerance:g}) x best quality "
            f"({best['quality']:.4g} -> threshold {threshold:.4g}); quality (lower is better) = "
            + " + ".join(f"{w:g} x {k}" for k, w in QUALITY_WEIGHTS.items())
            + " on the eval split, measured on the exported float16 model"
            + (" (mean over seeds where a trial has several)" if any(r.get("seeds", 1) > 1 for r in results) else "")
        ),
        "tolerance": tolerance,
        "max_download_kb": max_download_kb,
        "best": {"id": best["id"], "quality": best["quality"], "download_bytes": best["download_bytes"]},
        "threshold": threshold,
        "candidates": sorted(r["id"] for r in candidates),
        "chosen": chosen,
        "decoder": chosen.get("decoder"),
        "recipe": chosen.get("recipe", {}),
        "train_flags": _train_flags(chosen.get("decoder"), chosen.get("recipe")),
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
    ax.set_title(f"sweep: {len(results)} finished configurations")
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


def finalize(sweep_dir: str | Path, tolerance: float, max_download_kb: float | None = None) -> dict:
    """results.csv, search.csv, pareto.png and chosen.json from every finished trial (seeds of one
    configuration averaged); returns chosen.json's content plus ``results`` (one row per configuration)."""
    from sounds_kit.sweep.schedule import history

    sweep_dir = Path(sweep_dir)
    results = by_config(read_results(sweep_dir))
    choice = choose(results, tolerance, max_download_kb)
    log = history(sweep_dir)
    counted = [h for h in log if not h["repeat"] and not h["over_budget"]]
    choice["search"] = {
        "trials": sum(1 for h in counted if h["state"] in ("COMPLETE", "PRUNED")),
        "completed": sum(1 for h in counted if h["state"] == "COMPLETE"),
        "pruned": sum(1 for h in counted if h["state"] == "PRUNED"),
        # a repeated suggestion of a trial still running is told FAIL; it is a repeat, not a failure
        "failed": sum(1 for h in log if h["state"] == "FAIL" and not h["repeat"]),
        "repeats": sum(1 for h in log if h["repeat"]),
        "over_budget": sum(1 for h in log if h["over_budget"]),
    }
    _write_csv(sweep_dir / "search.csv", log, list(log[0]) if log else ["number"])
    for r, on in zip(results, pareto_front(results), strict=True):
        r["pareto"], r["chosen"] = on, r["id"] == choice["chosen"]["id"]
    results.sort(key=lambda r: (r["download_bytes"], r["quality"]))
    _write_csv(sweep_dir / "results.csv", results, CSV_COLUMNS)
    fig = plot_pareto(results, tolerance, choice["chosen"]["id"])
    fig.savefig(sweep_dir / ".pareto.tmp.png", dpi=100)
    os.replace(sweep_dir / ".pareto.tmp.png", sweep_dir / "pareto.png")
    write_json_atomic(sweep_dir / "chosen.json", choice)
    return {**choice, "results": results}


def _write_csv(path: Path, rows: list[dict], columns) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Running


def plan(n_workers: int) -> tuple[int, int]:
    """(workers, TF threads per worker): workers share the cores evenly, at least one thread each."""
    cores = available_cores()
    workers = n_workers if n_workers > 0 else cores
    return workers, max(1, cores // workers)


def _settings(config: SweepConfig, dataset_dir: Path) -> dict:
    """What makes trials comparable: fixed at a sweep's first run."""
    budget = {"steps": config.steps_per_trial, "minutes": None}
    if config.steps_per_trial is None:
        budget["minutes"] = config.minutes_per_trial if config.minutes_per_trial is not None else 10.0
    # The training loss's form is part of the settings: a sweep keeps the one it started with.
    loss_form = {"fft_sizes": list(TRAINING_FFT_SIZES), "loss_overlap": TRAINING_OVERLAP}
    train = {"checkpoint_seconds": 60.0, "n_audio_examples": 0, "seed": config.seed, **loss_form, **config.train,
             **budget}  # fmt: skip
    settings = {"dataset_dir": str(dataset_dir.resolve()), "train": train, "eval_clips": config.eval_clips,
                "rung_clips": min(config.rung_clips or config.eval_clips, config.eval_clips),
                "loader": config.loader, "rungs": config.rungs(), "space": resolve_space(config.space),
                "max_download_kb": config.max_download_kb}  # fmt: skip
    return json.loads(json.dumps(settings))  # as stored (tuples -> lists), so reruns compare equal


def _check_settings(sweep_dir: Path, settings: dict, given_train: dict) -> None:
    path = sweep_dir / "sweep.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if "train" in stored and "loss_overlap" not in stored["train"]:
            # Started before stage 2 had a cheaper loss: its trials trained on the full one, and so do the
            # rest (unless the rerun names a form itself, which the comparison below then refuses).
            legacy = full_loss_form()
            stored["train"] = {**legacy, **stored["train"]}
            settings["train"].update({k: v for k, v in legacy.items() if k not in given_train})
        changed = sorted(k for k in settings if stored.get(k) != settings[k] and k != "dataset_dir")
        if changed:
            raise UserFacingError(
                f"{sweep_dir} was started with other settings ({', '.join(changed)}: "
                f"{ {k: stored.get(k) for k in changed} }); trials are only comparable with the same budget, "
                "space and data - use a new SWEEP_DIR"
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


def seed_the_choice(sweep_dir: Path, config: SweepConfig, ex, on_done, batch: int = 1) -> None:
    """Give the chosen configuration and the best one every seed, choosing again after each round.

    The finalists are the best by quality (at most ``--finalists``), but the choice is the *smallest*
    within the tolerance, often not among them; its place under the threshold (set by the best's mean)
    must not rest on one seed when seeds differ by as much as the tolerance. A one-seed score is
    biased low (the lucky seed got it chosen), so a reseeded choice often drops out and the next
    smallest candidate takes its place: each round seeds the best and the ``batch`` smallest
    candidates still on one seed (``batch`` = the workers, which run them at once). Ends when both
    have every seed, or when nothing new can be seeded (a configuration whose seeds failed is not tried
    again in this run); costs at most every candidate under the threshold once.
    """
    from sounds_kit.sweep.schedule import reseed_configs

    if config.seeds < 2:
        return
    tried: set[str] = set()
    while True:
        results = read_results(sweep_dir)
        rows = by_config(results)
        try:
            choice = choose(rows, config.tolerance, config.max_download_kb)
        except UserFacingError:
            return  # nothing to choose from: finalize says so, after the failures are listed
        best = next(r for r in rows if r["id"] == choice["best"]["id"])
        if best["seeds"] >= config.seeds and choice["chosen"]["seeds"] >= config.seeds:
            return
        small = sorted((r for r in rows if r["id"] in set(choice["candidates"])),
                       key=lambda r: (r["download_bytes"], r["quality"]))  # fmt: skip
        need = [r for r in [best] + small if r["seeds"] < config.seeds and r["id"] not in tried]
        need = list({r["id"]: r for r in need}.values())
        need = [r for r in need if r is best] + [r for r in need if r is not best][: max(1, batch)]
        if not need:
            return
        tried |= {r["id"] for r in need}
        reseed_configs(need, results, config, ex, on_done)


def sweep(dataset_dir: str | Path, sweep_dir: str | Path, config: SweepConfig, progress: bool = True) -> dict:
    """Run (or resume) a sweep; returns chosen.json's content plus ``results`` (one row per configuration)."""
    from tqdm.auto import tqdm

    from sounds_kit.sweep.budget import DownloadEstimator, smallest_configs
    from sounds_kit.sweep.executors import executor
    from sounds_kit.sweep.schedule import open_study, reseed, search

    dataset_dir, sweep_dir = Path(dataset_dir), Path(sweep_dir)
    if not dataset_dir.is_dir():
        raise UserFacingError(f"{dataset_dir}: no such dataset folder")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    settings = _settings(config, dataset_dir)
    _check_settings(sweep_dir, settings, config.train)
    space = settings["space"]
    if size(space) < config.trials:
        print(f"note: the space has only {size(space)} configurations; running those")
    rung_steps = config.rungs()
    study = open_study(sweep_dir, config, rung_steps[0] if rung_steps and len(rung_steps) > 1 else None)
    setup = {**settings, "sweep_dir": str(sweep_dir.resolve()), "stats": _dataset_stats(dataset_dir, config.loader)}
    estimate = None
    if config.max_download_kb is not None:
        estimate = DownloadEstimator(sweep_dir / "cache", setup["stats"])
        least = min(smallest_configs(space), key=estimate)
        if estimate(least) > config.max_download_kb * 1024:
            raise UserFacingError(
                f"no configuration of the search space fits --max-download-kb {config.max_download_kb:g}: the "
                f"smallest, {trial_id(least)}, downloads {estimate(least) / 1024:.1f} KB"
            )
    workers, threads = plan(config.workers)
    setup["threads"] = threads
    already = sum(1 for r in read_results(sweep_dir, ok_only=False)
                  if r.get("status") in ("ok", "pruned") and r.get("seed", 0) == 0)  # trials, not extra seeds
    if already:
        print(f"{already} trial(s) already finished: resuming")
    bar = tqdm(total=config.trials, initial=min(already, config.trials), unit="trial", disable=not progress,
               desc=f"sweep ({config.engine})")  # fmt: skip
    lock = threading.Lock()
    failed: list[dict] = []

    def on_done(rec: dict) -> None:
        with lock:
            if rec.get("seed", 0) == 0:
                bar.update(1)
            if rec["status"] == "ok":
                bar.write(f"{rec['id']}: quality {rec['quality']:.4f}, {rec['download_bytes'] / 1024:.1f} KB, "
                          f"{rec['trial_seconds']:.0f} s")  # fmt: skip
            elif rec["status"] == "pruned":
                bar.write(f"{rec['id']}: pruned at step {rec['step']} (quality {rec['quality']:.4f})")
            else:
                failed.append(rec)
                bar.write(f"{rec['id']}: FAILED {rec.get('error')}")

    with executor(config.engine, setup, workers, threads, config.dask_address) as ex:
        short = search(study, space, config, ex, rung_steps, sweep_dir, on_done, estimate)
        reseed(read_results(sweep_dir), config, ex, on_done)
        seed_the_choice(sweep_dir, config, ex, on_done, batch=workers)
    bar.close()
    if short:
        print(f"the search stopped before {config.trials} trials: {short}")
    if failed:
        print(f"{len(failed)} trial(s) failed (rerun to retry): {', '.join(r['id'] for r in failed)}")
    return finalize(sweep_dir, config.tolerance, config.max_download_kb)
