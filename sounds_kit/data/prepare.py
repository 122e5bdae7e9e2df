"""``sounds-kit prepare`` as an Apache Beam pipeline: recordings -> TFRecord examples + stats.

Plan (on the driver, headers only): every input file is cut into ~60 s *source segments*
(whole seconds, so segment starts fall on whole samples at any rate); each segment is put in
the train or eval split by a hash of file path + segment index, so no audio is shared between
the splits. The pipeline then, per segment and in parallel: reads the segment plus 1 s of
context on each side (so features at the edges see the real neighbours; an hour-long file is
never loaded whole), resamples to 16 kHz mono, computes features, cuts fixed-length examples
with the chosen hop, and writes them as one TFRecord shard. In parallel it hashes each file
(sha256). Per-file results (examples per split, errors, pitch/loudness histograms) come back
to the driver as JSON lines, which writes manifest.json and stats.json.

Runs on the embedded DirectRunner unless standard Beam options say otherwise (``--runner``,
``--direct_num_workers``, ``--direct_running_mode``, ...), or with ``engine="dask"`` on Beam's Dask
runner against a dask.distributed cluster (``sounds_kit.cluster``: worker processes started for the
run, or a running scheduler's address). Runners other than the embedded one need the inputs and the
output folder at the same paths on every worker (one machine, or a shared mount).
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from sounds_kit.atomic import staging_dir
from sounds_kit.conventions import (
    SAMPLE_RATE,
)
from sounds_kit.data import dataset as ds
from sounds_kit.data.audio_io import AUDIO_EXTENSIONS, audio_info
from sounds_kit.data.prepare_beam import dask_runner_args, run_beam
from sounds_kit.data.prepare_settings import SEGMENT_SECONDS, SILENT_PEAK, Settings
from sounds_kit.errors import AudioError, UserFacingError

# ---------------------------------------------------------------------------------------------
# Inputs and the plan


def expand_inputs(inputs: Sequence[str]) -> tuple[list[str], list[dict]]:
    """Audio files named by paths, folders (searched recursively) and globs.

    Returns (sorted absolute paths, bad entries for names that match nothing).
    """
    found: set[str] = set()
    bad: list[dict] = []
    for name in inputs:
        path = Path(name).expanduser()
        if path.is_dir():
            matches = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
        elif path.exists():
            matches = [path]
        else:
            matches = [Path(p) for p in glob.glob(str(path), recursive=True)]
            matches = [p for p in matches if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
            if not matches:
                bad.append({"path": str(path), "reason": "no such file, or a pattern that matches no audio"})
        found.update(str(p.resolve()) for p in matches)
    return sorted(found), bad


def segment_split(path: str, index: int, eval_fraction: float) -> tuple[str, float]:
    """(split, hash value in [0, 1)) of one source segment: stable for a path and index."""
    h = int(hashlib.sha256(f"{path}|{index}".encode()).hexdigest()[:12], 16) / 16.0**12
    return ("eval" if h < eval_fraction else "train"), h


def plan_file(path: str, settings: Settings) -> tuple[dict, list[dict]]:
    """Header facts and the segments of one file; raises AudioError for unreadable/empty/too short."""
    info = audio_info(path)
    if info["frames"] == 0:
        raise AudioError(f"{path}: no samples (empty audio)")
    seconds = info["seconds"]
    if seconds * SAMPLE_RATE < settings.example_samples:
        raise AudioError(f"{path}: {seconds:.2f} s is shorter than one example ({settings.example_seconds:g} s)")
    seg = settings.segment_seconds
    starts = list(range(0, max(1, math.ceil(seconds / seg)) * seg, seg))
    # a last piece too short for one example joins the segment before it
    if len(starts) > 1 and (seconds - starts[-1]) * SAMPLE_RATE < settings.example_samples:
        starts.pop()
    segments = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else None
        split, h = segment_split(path, i, settings.eval_fraction)
        planned = (end if end is not None else seconds) - start
        segments.append(
            {
                "path": path,
                "segment": i,
                "start_s": start,
                "end_s": end,
                "split": split,
                "hash": h,
                "planned_s": planned,
            }
        )
    facts = {k: info[k] for k in ("sample_rate", "channels", "format")}
    return {"path": path, "name": Path(path).name, "seconds": round(seconds, 3), **facts}, segments


def balance_parts(parts: list[dict], eval_fraction: float, staging: Path) -> None:
    """Give each split at least one segment when the hash left one empty (small datasets).

    Examples do not depend on their split, so moving a segment is renaming its shard.
    """
    used = [p for p in parts if p["shard"]]
    if eval_fraction <= 0 or len(used) < 2:
        return
    for empty, pick in (("eval", min), ("train", max)):
        if not any(p["split"] == empty for p in used):
            part = pick(used, key=lambda p: p["hash"])
            new = empty + part["shard"][part["shard"].index("-") :]
            os.replace(staging / part["shard"], staging / new)
            part.update(split=empty, shard=new)


def _file_totals(parts: list[dict]) -> dict:
    return {
        "segments": len(parts),
        "examples": {sp: sum(p["examples"] for p in parts if p["split"] == sp) for sp in ds.SPLITS},
        "seconds_by_split": {sp: round(sum(p["seconds"] for p in parts if p["split"] == sp), 3) for sp in ds.SPLITS},
        "shards": {sp: [p["shard"] for p in parts if p["shard"] and p["split"] == sp] for sp in ds.SPLITS},
    }


# ---------------------------------------------------------------------------------------------
# The driver


def _check_target(dataset_dir: Path, resume: bool, overwrite: bool) -> dict | None:
    """The existing manifest when resuming; refuses to touch a non-empty folder otherwise."""
    if resume and overwrite:
        raise UserFacingError("choose one of --resume and --overwrite")
    if dataset_dir.exists() and not dataset_dir.is_dir():
        raise UserFacingError(f"{dataset_dir} exists and is not a folder")
    if not dataset_dir.is_dir() or not any(dataset_dir.iterdir()):
        return None
    if overwrite:
        return None
    if not resume:
        raise UserFacingError(
            f"{dataset_dir} is not empty: pass --resume to add inputs not yet in it, or --overwrite to rebuild it"
        )
    if not (dataset_dir / ds.MANIFEST).is_file():
        raise UserFacingError(f"{dataset_dir} has no {ds.MANIFEST}: it is not a dataset that can be resumed")
    return ds.read_manifest(dataset_dir)


def _resolve_settings(settings: Settings, given: dict, previous: dict | None) -> Settings:
    """On --resume the stored settings win; an explicitly different value is an error."""
    if previous is None:
        return settings
    stored = previous["settings"]
    for key, value in given.items():
        if value is not None and abs(float(stored[key]) - float(value)) > 1e-9:
            raise UserFacingError(
                f"--resume: this dataset was made with {key.replace('_', '-')}={stored[key]}, not {value}"
            )
    return Settings(
        example_seconds=stored["example_seconds"],
        hop_seconds=stored["hop_seconds"],
        eval_fraction=stored["eval_fraction"],
        segment_seconds=stored["segment_seconds"],
        context_seconds=stored["context_seconds"],
    )


def _reason(path: str, message: str) -> str:
    """An error message without the file name in front (the manifest names the file already)."""
    return message[len(path) + 2 :] if message.startswith(f"{path}: ") else message


def _check_engine(engine: str, dask_address: str | None, beam_args: Sequence[str]) -> None:
    if engine not in ("direct", "dask"):
        raise UserFacingError(f"--engine must be direct or dask, got {engine!r}")
    if engine == "direct" and dask_address:
        raise UserFacingError("--dask-address needs --engine dask")
    if engine == "dask" and any(a.startswith("--runner") for a in beam_args):
        raise UserFacingError("--engine dask chooses Beam's Dask runner itself: drop --runner")


def _run(segments: list[dict], paths: list[str], settings: Settings, staging: Path, beam_args: Sequence[str],
         progress: bool, engine: str, dask_address: str | None, workers: int) -> list[dict]:
    """The pipeline under a progress bar over seconds of audio, on the engine asked for."""
    from contextlib import nullcontext

    from tqdm.auto import tqdm

    from sounds_kit.cluster import dask_cluster

    total = sum(s["planned_s"] for s in segments)
    bar = tqdm(total=round(total, 1), unit="s", desc=f"prepare ({engine})", disable=not progress,
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]")  # fmt: skip
    cluster = dask_cluster(dask_address, workers) if engine == "dask" else nullcontext(None)
    try:
        with cluster as address:
            args = dask_runner_args(address, beam_args) if address else list(beam_args)
            return run_beam(segments, paths, settings, staging, staging / "_work", args, on_progress=bar.update)
    finally:
        bar.close()


def _report(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


def prepare(
    inputs: Sequence[str],
    dataset_dir: str | Path,
    example_seconds: float | None = None,
    hop_seconds: float | None = None,
    eval_fraction: float | None = None,
    segment_seconds: int = SEGMENT_SECONDS,
    resume: bool = False,
    overwrite: bool = False,
    beam_args: Sequence[str] = (),
    progress: bool = True,
    quiet: bool = False,
    engine: str = "direct",
    dask_address: str | None = None,
    workers: int = 0,
) -> dict:
    """Build (or extend, with ``resume``) a dataset from audio files; returns the manifest.

    Bad inputs (unreadable, empty, silent, too short, damaged partway) are skipped, named
    in the manifest's ``bad_files`` and on stderr; they never stop the run. ``segment_seconds``
    (whole seconds) sets the source segments that are split between train and eval.
    ``engine``: ``"direct"`` (Beam's DirectRunner, or whatever ``beam_args`` name) or ``"dask"`` (Beam's
    Dask runner on the scheduler at ``dask_address``, or on ``workers`` local processes started for the run).
    """
    from sounds_kit._version import __version__

    _check_engine(engine, dask_address, beam_args)
    t_start = time.perf_counter()
    dataset_dir = Path(dataset_dir).expanduser().absolute()
    previous = _check_target(dataset_dir, resume, overwrite)
    given = {"example_seconds": example_seconds, "hop_seconds": hop_seconds, "eval_fraction": eval_fraction}
    defaults = Settings()
    settings = Settings(
        example_seconds=defaults.example_seconds if example_seconds is None else example_seconds,
        hop_seconds=defaults.hop_seconds if hop_seconds is None else hop_seconds,
        eval_fraction=defaults.eval_fraction if eval_fraction is None else eval_fraction,
        segment_seconds=int(segment_seconds),
    )
    settings = _resolve_settings(settings, given, previous).check()

    paths, bad = expand_inputs(inputs)
    done = {entry["path"] for entry in (previous or {}).get("inputs", [])}
    skipped_known = [p for p in paths if p in done]
    paths = [p for p in paths if p not in done]
    if not paths and not bad:
        if previous is not None:
            _report(f"nothing new: all {len(skipped_known)} inputs are already in {dataset_dir}", quiet)
            return previous
        raise UserFacingError("no audio files found in the inputs given")

    facts, segments = {}, []
    for path in paths:
        try:
            info, segs = plan_file(path, settings)
        except AudioError as err:
            bad.append({"path": path, "reason": _reason(path, str(err))})
            continue
        facts[path] = info
        segments += segs

    staging = staging_dir(dataset_dir)
    try:
        records: list[dict] = []
        if segments:
            records = _run(segments, sorted(facts), settings, staging, beam_args, progress, engine, dask_address,
                           workers)  # fmt: skip
        previous_stats = ds.read_stats(dataset_dir) if previous is not None else None
        manifest = _assemble(previous, previous_stats, records, facts, bad, settings, staging,
                             {"engine": engine, "beam_args": list(beam_args)}, __version__)  # fmt: skip
        shutil.rmtree(staging / "_work", ignore_errors=True)
        if previous is None and not sum(manifest["examples"].values()):
            reasons = "; ".join(f"{e['path']}: {e['reason']}" for e in manifest["bad_files"])
            raise UserFacingError(f"none of the inputs gave a training example: {reasons}")
        for entry in manifest["bad_files"]:
            if entry.get("run") == manifest["runs"][-1]["run"]:
                _report(f"skipped {entry['path']}: {entry['reason']}", quiet)
        _finish(staging, dataset_dir, manifest, previous is not None)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    run = manifest["runs"][-1]
    if settings.eval_fraction > 0 and not manifest["examples"]["eval"]:
        _report("note: the eval split is empty (too few ~60 s source segments to hold one out)", quiet)
    _report(
        f"{dataset_dir}: +{run['examples']['train']} train / +{run['examples']['eval']} eval examples "
        f"from {run['inputs_ok']} files ({run['seconds']:.0f} s of audio) in {time.perf_counter() - t_start:.1f} s; "
        f"{run['inputs_bad']} bad input(s)",
        quiet,
    )
    return manifest


def _assemble(
    previous: dict | None,
    previous_stats: dict | None,
    records: list[dict],
    facts: dict,
    bad: list[dict],
    settings: Settings,
    staging: Path,
    how: dict,
    version: str,
) -> dict:
    """The new manifest and stats (written into ``staging``); drops the shards of bad files."""
    previous = previous or {}
    run_id = len(previous.get("runs", [])) + 1
    stats_acc = ds.stats_from_summary(previous_stats) if previous_stats else ds.empty_stats()
    inputs = list(previous.get("inputs", []))
    # a bad file of an earlier run that was tried again gets this run's verdict instead
    retried = set(facts) | {e["path"] for e in bad}
    bad_files = [e for e in previous.get("bad_files", []) if e["path"] not in retried]
    new_bad = [{**e, "run": run_id} for e in bad]
    shards = {sp: list(previous.get("shards", {}).get(sp, [])) for sp in ds.SPLITS}
    run_examples = {sp: 0 for sp in ds.SPLITS}
    run_seconds, ok = 0.0, 0
    by_path = {r["path"]: r for r in records}
    good: dict[str, dict] = {}
    for path in sorted(facts):
        r = by_path.get(path)
        reason = None
        if r is None:
            reason = "not processed (the pipeline returned nothing for it)"
        elif r["error"]:
            reason = _reason(path, r["error"])
        elif r["peak"] < SILENT_PEAK:
            reason = "the audio is silent (peak below -100 dBFS)"
        elif not any(p["examples"] for p in r["parts"]):
            reason = f"no usable examples (every {settings.example_seconds:g} s window is silent)"
        if reason:
            new_bad.append({"path": path, "reason": reason, "run": run_id})
            for part in (r or {}).get("parts", []):
                if part["shard"]:
                    (staging / part["shard"]).unlink(missing_ok=True)
        else:
            good[path] = r
    if not all(previous.get("examples", {}).get(sp) for sp in ds.SPLITS):
        balance_parts([p for r in good.values() for p in r["parts"]], settings.eval_fraction, staging)
    for path, r in good.items():
        totals = _file_totals(r["parts"])
        ok += 1
        stats_acc = ds.merge_stats(stats_acc, ds.stats_from_json(r["stats"]))
        for sp in ds.SPLITS:
            shards[sp] += totals["shards"][sp]
            run_examples[sp] += totals["examples"][sp]
        run_seconds += facts[path]["seconds"]
        inputs.append(
            {
                **facts[path],
                "sha256": r["sha256"],
                **totals,
                "silent_examples": r["silent_examples"],
                "run": run_id,
            }
        )
    totals = {sp: sum(e["examples"][sp] for e in inputs) for sp in ds.SPLITS}
    summary = ds.summarize_stats(stats_acc)
    summary["examples"] = totals
    ds.write_json_atomic(staging / ds.STATS, summary)
    runs = [
        *previous.get("runs", []),
        {
            "run": run_id,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "kit_version": version,
            **how,
            "inputs_ok": ok,
            "inputs_bad": len(new_bad),
            "examples": run_examples,
            "seconds": round(run_seconds, 3),
        },
    ]
    manifest = {
        "format": "sounds-kit-dataset/1",
        "kit_version": version,
        "settings": settings.to_json(),
        "examples": totals,
        "seconds": {sp: round(sum(e["seconds_by_split"][sp] for e in inputs), 3) for sp in ds.SPLITS},
        "inputs": inputs,
        "bad_files": bad_files + new_bad,
        "shards": shards,
        "runs": runs,
    }
    ds.write_json_atomic(staging / ds.MANIFEST, manifest)
    return manifest


def _finish(staging: Path, dataset_dir: Path, manifest: dict, resuming: bool) -> None:
    """Move the staged dataset into place without ever leaving a half-written manifest."""
    if resuming:
        # new shards first: until the manifest is replaced they are ignored by readers
        for name in [n for sp in ds.SPLITS for n in manifest["shards"][sp]]:
            if (staging / name).exists():
                os.replace(staging / name, dataset_dir / name)
        os.replace(staging / ds.STATS, dataset_dir / ds.STATS)
        os.replace(staging / ds.MANIFEST, dataset_dir / ds.MANIFEST)
        shutil.rmtree(staging, ignore_errors=True)
        return
    if dataset_dir.exists():
        trash = dataset_dir.with_name(f".{dataset_dir.name}.old-{os.getpid()}")
        os.replace(dataset_dir, trash)
        os.replace(staging, dataset_dir)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, dataset_dir)


def iter_bad_files(manifest: dict) -> Iterable[tuple[str, str]]:
    """(path, reason) of every input the dataset skipped."""
    return ((e["path"], e["reason"]) for e in manifest.get("bad_files", []))
