"""The Beam side of ``prepare``: the work on one segment of one file, and the pipeline that runs it.

Everything here runs inside Beam workers (or is the pipeline itself); the driver in ``prepare.py``
plans the segments, calls :func:`run_beam` and assembles the dataset from the shards it leaves.
"""


from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Sequence
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


_PROGRESS = None  # a tqdm bar when the pipeline runs in this process (the embedded DirectRunner)


def process_segment(item: dict, settings: dict, shard_dir: str) -> dict:
    """Features and examples of one source segment, written as one shard; returns a summary.

    Never raises for bad audio: the error goes into the summary, so one bad file cannot stop
    the pipeline.
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
    if _PROGRESS is not None:
        _PROGRESS.update(item.get("planned_s", 0.0))
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


def run_beam(
    segments: list[dict],
    paths: list[str],
    settings: Settings,
    shard_dir: Path,
    work_dir: Path,
    beam_args: Sequence[str],
) -> list[dict]:
    """Run the pipeline; returns the per-file records."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(list(beam_args))
    conf = settings.to_json()
    out = work_dir / "files"
    with beam.Pipeline(options=options) as p:
        summaries = (
            p
            | "plan" >> beam.Create(segments)
            | "spread segments" >> beam.Reshuffle()
            | "segment -> shard" >> beam.Map(process_segment, settings=conf, shard_dir=str(shard_dir))
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
    records = []
    for name in sorted(glob.glob(str(out) + "*.jsonl")):
        records += [json.loads(line) for line in Path(name).read_text().splitlines() if line.strip()]
    return records


