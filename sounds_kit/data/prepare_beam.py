"""The Beam side of ``prepare``: the work on one segment of one file, and the pipeline that runs it.

Everything here runs inside Beam workers (or is the pipeline itself); the driver in ``prepare.py``
plans the segments, calls :func:`run_beam` and assembles the dataset from the shards it leaves.
"""


from __future__ import annotations

import glob
import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from sounds_kit.conventions import (
    HOP_SIZE,
    SAMPLE_RATE,
    VOICED_LOUDNESS_DB,
)
from sounds_kit.data import dataset as ds
from sounds_kit.data.audio_io import resample, to_mono
from sounds_kit.data.prepare_settings import SILENT_PEAK, Settings
from sounds_kit.errors import AudioError


def read_segment(path: str, start_s: int, end_s: int | None, context_s: int) -> tuple[np.ndarray, int, int]:
    """16 kHz mono audio of a segment with context; returns (audio, segment offset, segment length).

    Reading starts on a whole second, so sample 0 of the result is exactly ``max(0, start_s -
    context_s)`` seconds into the file at any input rate.
    """
    import soundfile as sf

    t0 = max(0, start_s - context_s)
    try:
        with sf.SoundFile(path) as f:
            sr = f.samplerate
            stop = f.frames if end_s is None else min(f.frames, (end_s + context_s) * sr)
            f.seek(t0 * sr)
            data = f.read(max(0, stop - t0 * sr), dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile errors have several types
        raise AudioError(f"{path}: cannot read {start_s}-{end_s or 'end'} s ({err})") from err
    mono = to_mono(data)
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{path}: contains NaN or infinite samples near {start_s} s")
    audio = resample(mono, sr, SAMPLE_RATE)
    offset = (start_s - t0) * SAMPLE_RATE
    if end_s is None:
        length = len(audio) - offset
    else:
        length = min((end_s - start_s) * SAMPLE_RATE, len(audio) - offset)
    return audio, offset, max(0, length)


def shard_name(split: str, path: str, segment: int) -> str:
    return f"{split}-{hashlib.sha1(path.encode()).hexdigest()[:12]}-{segment:05d}.tfrecord"


DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def dask_runner_args(address: str, beam_args: Sequence[str]) -> list[str]:
    """Beam options that run the pipeline on the Dask scheduler at ``address``.

    Beam's Dask runner replaces Reshuffle with nothing and puts up to 128 elements of a Create in one
    Dask partition (one task), so a whole dataset's segments would run one after another on one
    worker; one segment per partition spreads them over the workers, as Reshuffle does elsewhere.
    """
    args = [f"--runner={DASK_RUNNER}", f"--dask_client_address={address}", *beam_args]
    if not any(a.startswith(("--dask_npartitions", "--dask_partition_size")) for a in beam_args):
        args.append("--dask_partition_size=1")
    return args


def _progress_mark(path: str, segment: int) -> str:
    return f"{hashlib.sha1(path.encode()).hexdigest()[:12]}-{segment:05d}"


def process_segment(item: dict, settings: dict, shard_dir: str, progress_dir: str | None = None) -> dict:
    """Features and examples of one source segment, written as one shard; returns a summary.

    Never raises for bad audio: the error goes into the summary, so one bad file cannot stop
    the pipeline. When ``progress_dir`` is given, an empty file named after the segment is left there
    when it is done: the driver counts them, whichever runner and machine did the work.
    """
    from sounds_kit.dsp.features import compute_features

    path, split = item["path"], item["split"]
    summary = {
        "path": path,
        "segment": item["segment"],
        "split": split,
        "hash": item["hash"],
        "examples": 0,
        "silent_examples": 0,
        "seconds": 0.0,
        "peak": 0.0,
        "error": None,
        "shard": None,
        "stats": ds.stats_to_json(ds.empty_stats()),
    }
    try:
        audio, offset, length = read_segment(path, item["start_s"], item["end_s"], settings["context_seconds"])
        summary["seconds"] = round(length / SAMPLE_RATE, 4)
        segment_audio = audio[offset : offset + length]
        summary["peak"] = float(np.max(np.abs(segment_audio))) if length else 0.0
        if summary["peak"] >= SILENT_PEAK:
            feats = compute_features(audio)
            first, last = offset // HOP_SIZE, (offset + length) // HOP_SIZE
            acc = ds.accumulate_stats(ds.empty_stats(), *(feats[k][first:last] for k in ds.FRAME_KEYS))
            summary["stats"] = ds.stats_to_json(acc)
            records = []
            n, hop = settings["example_samples"], settings["hop_samples"]
            frames = ds.example_frames(n)
            for start in range(offset, offset + length - n + 1, hop):
                f0 = start // HOP_SIZE
                ex = {k: feats[k][f0 : f0 + frames] for k in ds.FRAME_KEYS}
                if float(np.max(ex["loudness_db"])) < VOICED_LOUDNESS_DB:
                    summary["silent_examples"] += 1
                    continue
                absolute = item["start_s"] * SAMPLE_RATE + (start - offset)
                records.append(ds.make_example(audio[start : start + n], ex, path, absolute))
            if records:
                name = shard_name(split, path, item["segment"])
                summary["examples"] = ds.write_shard(Path(shard_dir) / name, records)
                summary["shard"] = name
    except AudioError as err:
        summary["error"] = str(err)
    except Exception as err:  # a damaged file can fail deep inside a decoder
        summary["error"] = f"{path}: {type(err).__name__}: {err}"
    if progress_dir is not None:
        Path(progress_dir, _progress_mark(path, item["segment"])).touch()
    return summary


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as err:
        return f"error: {err}"
    return h.hexdigest()


def merge_file(path: str, grouped: dict) -> dict:
    """One file's record from its segment summaries and its hash."""
    segs = sorted(grouped["segments"], key=lambda s: s["segment"])
    acc = ds.empty_stats()
    for s in segs:
        acc = ds.merge_stats(acc, ds.stats_from_json(s["stats"]))
    errors = [s["error"] for s in segs if s["error"]]
    keep = ("segment", "split", "hash", "examples", "shard", "seconds")
    return {
        "path": path,
        "sha256": (list(grouped["sha256"]) or [""])[0],
        "parts": [{k: s[k] for k in keep} for s in segs],
        "silent_examples": sum(s["silent_examples"] for s in segs),
        "peak": max((s["peak"] for s in segs), default=0.0),
        "error": errors[0] if errors else None,
        "stats": ds.stats_to_json(acc),
    }


def _key_by_path(summary: dict) -> tuple[str, dict]:
    return summary["path"], summary


def _path_and_hash(path: str) -> tuple[str, str]:
    return path, file_sha256(path)


def _merge_item(kv: tuple[str, dict]) -> str:
    return json.dumps(merge_file(kv[0], kv[1]))


def _watch_progress(progress_dir: Path, segments: list[dict], on_progress: Callable[[float], None],
                    stop: threading.Event) -> None:
    """Calls ``on_progress(planned seconds)`` for each segment whose mark appears, until ``stop``."""
    planned = {_progress_mark(s["path"], s["segment"]): s.get("planned_s", 0.0) for s in segments}
    seen: set[str] = set()
    while True:
        last = stop.wait(0.5)
        new = set(os.listdir(progress_dir)) - seen if progress_dir.is_dir() else set()
        for name in new:
            on_progress(planned.get(name, 0.0))
        seen |= new
        if last:
            return


def run_beam(
    segments: list[dict],
    paths: list[str],
    settings: Settings,
    shard_dir: Path,
    work_dir: Path,
    beam_args: Sequence[str],
    on_progress: Callable[[float], None] | None = None,
) -> list[dict]:
    """Run the pipeline; returns the per-file records. ``on_progress(seconds)``: a segment is done."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(list(beam_args))
    conf = settings.to_json()
    out = work_dir / "files"
    progress_dir = work_dir / "progress"
    progress_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    watcher = None
    if on_progress is not None:
        watcher = threading.Thread(target=_watch_progress, args=(progress_dir, segments, on_progress, stop),
                                   daemon=True)  # fmt: skip
        watcher.start()
    try:
        _run_pipeline(beam, options, segments, paths, conf, shard_dir, progress_dir, out)
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    records = []
    for name in sorted(glob.glob(str(out) + "*.jsonl")):
        records += [json.loads(line) for line in Path(name).read_text().splitlines() if line.strip()]
    return records


def _run_pipeline(beam, options, segments, paths, conf, shard_dir, progress_dir, out) -> None:
    with beam.Pipeline(options=options) as p:
        summaries = (
            p
            | "plan" >> beam.Create(segments)
            | "spread segments" >> beam.Reshuffle()
            | "segment -> shard"
            >> beam.Map(process_segment, settings=conf, shard_dir=str(shard_dir), progress_dir=str(progress_dir))
            | "by file" >> beam.Map(_key_by_path)
        )
        hashes = (
            p
            | "files" >> beam.Create(paths)
            | "spread files" >> beam.Reshuffle()
            | "sha256" >> beam.Map(_path_and_hash)
        )
        (
            {"segments": summaries, "sha256": hashes}
            | "join" >> beam.CoGroupByKey()
            | "per file" >> beam.Map(_merge_item)
            | "write" >> beam.io.WriteToText(str(out), file_name_suffix=".jsonl", shard_name_template="", num_shards=1)
        )


