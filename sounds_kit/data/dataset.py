"""A prepared training set on disk: TFRecord shards + manifest.json + stats.json.

Written by ``sounds-kit prepare`` (:mod:`sounds_kit.data.prepare`), read by training.

Each TFRecord holds ``tf.train.Example`` records with these features:

=================  ========  =====================================================
``audio``          float32   [example_samples] mono, ``SAMPLE_RATE``
``f0_hz``          float32   [n_frames(example_samples)] (0 where too quiet)
``f0_confidence``  float32   [n_frames(example_samples)] in [0, 1]
``loudness_db``    float32   [n_frames(example_samples)] A-weighted, dB re full scale
``source``         bytes     the input file's path
``start_sample``   int64     where the example starts in that file (at SAMPLE_RATE)
=================  ========  =====================================================

Frame i of an example is centred on its sample ``i * HOP_SIZE`` (so the last frame is centred on
the sample just after the example); features were computed on the continuous recording, so frames
at the edges see the real neighbouring audio rather than zero padding.

``manifest.json`` lists the shards of each split (only listed shards belong to the dataset),
the inputs with sha256, the bad inputs with the reason, and the settings. ``stats.json`` holds
pitch and loudness statistics over voiced frames, with the histograms they came from.

TensorFlow is imported only inside the functions that need it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sounds_kit.atomic import write_json_atomic  # noqa: F401 - part of this module's API
from sounds_kit.conventions import FIT_PROBS, HOP_SIZE, SAMPLE_RATE, VOICED_CONFIDENCE, is_voiced, midi_to_hz, n_frames
from sounds_kit.errors import UserFacingError

if TYPE_CHECKING:  # annotations only: TensorFlow loads when a reader runs
    import tensorflow as tf

MANIFEST = "manifest.json"
STATS = "stats.json"
FEATURE_KEYS = ("audio", "f0_hz", "f0_confidence", "loudness_db")
FRAME_KEYS = ("f0_hz", "f0_confidence", "loudness_db")
SPLITS = ("train", "eval")

QUANTILE_PROBS = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)

# Fixed histogram grids, so accumulators from any worker merge by adding counts.
MIDI_GRID = (12.0, 120.0, 0.05)  # lo, hi, bin width (semitones)
LOUDNESS_GRID = (-80.0, 10.0, 0.1)  # dB


def example_frames(example_samples: int) -> int:
    """Feature frames of one example."""
    return n_frames(example_samples)


def seconds_to_samples(seconds: float, what: str) -> int:
    """Samples at SAMPLE_RATE for a length that must fall on whole feature frames."""
    samples = round(seconds * SAMPLE_RATE)
    if samples <= 0 or samples % HOP_SIZE or abs(samples - seconds * SAMPLE_RATE) > 1e-6:
        raise UserFacingError(
            f"{what} must be a positive multiple of {HOP_SIZE / SAMPLE_RATE * 1000:g} ms "
            f"(one feature frame), got {seconds}"
        )
    return samples


# ---------------------------------------------------------------------------------------------
# Writing


def make_example(audio: np.ndarray, features: dict[str, np.ndarray], source: str = "", start_sample: int = 0) -> bytes:
    """One serialized ``tf.train.Example`` (see the module docstring for the schema)."""
    import tensorflow as tf

    def floats(x: np.ndarray) -> tf.train.Feature:
        return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(x, np.float32).ravel()))

    audio = np.asarray(audio, np.float32)
    frames = example_frames(len(audio))
    for key in FRAME_KEYS:
        if len(features[key]) != frames:
            raise ValueError(f"{key} has {len(features[key])} frames, expected {frames} for {len(audio)} samples")
    feature = {"audio": floats(audio), **{k: floats(features[k]) for k in FRAME_KEYS}}
    feature["source"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[source.encode("utf-8")]))
    feature["start_sample"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(start_sample)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_shard(path: str | Path, records: Iterable[bytes]) -> int:
    """Write serialized examples to a TFRecord file atomically (temp name, then rename); returns the count."""
    import tensorflow as tf

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    count = 0
    with tf.io.TFRecordWriter(str(tmp)) as writer:
        for record in records:
            writer.write(record)
            count += 1
    os.replace(tmp, path)
    return count




# ---------------------------------------------------------------------------------------------
# Statistics over voiced frames (mergeable accumulators)


def _grid(grid: tuple[float, float, float]) -> int:
    lo, hi, width = grid
    return int(round((hi - lo) / width))


def _hist(values: np.ndarray, grid: tuple[float, float, float]) -> np.ndarray:
    lo, _, width = grid
    idx = np.clip(np.floor((values - lo) / width).astype(np.int64), 0, _grid(grid) - 1)
    return np.bincount(idx, minlength=_grid(grid))


def empty_stats() -> dict:
    """An accumulator: frame counts and pitch/loudness histograms of voiced frames."""
    return {
        "frames": 0,
        "voiced_frames": 0,
        "midi_counts": np.zeros(_grid(MIDI_GRID), np.int64),
        "loudness_counts": np.zeros(_grid(LOUDNESS_GRID), np.int64),
    }


def accumulate_stats(acc: dict, f0_hz: np.ndarray, f0_confidence: np.ndarray, loudness_db: np.ndarray) -> dict:
    """``acc`` plus the frames given (a new dict)."""
    from sounds_kit.conventions import hz_to_midi

    f0 = np.asarray(f0_hz, np.float64)
    voiced = is_voiced(f0_confidence) & (f0 > 0)
    return merge_stats(
        acc,
        {
            "frames": int(len(f0)),
            "voiced_frames": int(voiced.sum()),
            "midi_counts": _hist(hz_to_midi(f0[voiced]), MIDI_GRID),
            "loudness_counts": _hist(np.asarray(loudness_db, np.float64)[voiced], LOUDNESS_GRID),
        },
    )


def merge_stats(a: dict, b: dict) -> dict:
    return {k: a[k] + np.asarray(b[k]) if isinstance(a[k], np.ndarray) else a[k] + b[k] for k in a}


def stats_to_json(acc: dict) -> dict:
    """A JSON-ready accumulator (lists instead of arrays)."""
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in acc.items()}


def stats_from_json(data: dict) -> dict:
    acc = empty_stats()
    return {k: np.asarray(data[k], np.int64) if isinstance(acc[k], np.ndarray) else int(data[k]) for k in acc}


def _quantiles(counts: np.ndarray, grid: tuple[float, float, float], probs: Iterable[float]) -> list[float]:
    """Quantiles from a histogram, interpolating linearly inside the bin."""
    lo, _, width = grid
    total = counts.sum()
    cum = np.concatenate([[0], np.cumsum(counts)])
    out = []
    for p in probs:
        target = p * total
        i = int(np.clip(np.searchsorted(cum, target, side="left") - 1, 0, len(counts) - 1))
        inside = (target - cum[i]) / counts[i] if counts[i] else 0.5
        out.append(round(float(lo + (i + inside) * width), 3))
    return out


def _moments(counts: np.ndarray, grid: tuple[float, float, float]) -> tuple[float, float]:
    lo, _, width = grid
    centres = lo + (np.arange(len(counts)) + 0.5) * width
    total = counts.sum()
    mean = float((counts * centres).sum() / total)
    return mean, float(np.sqrt(max((counts * (centres - mean) ** 2).sum() / total, 0.0)))


def summarize_stats(acc: dict) -> dict:
    """stats.json content from an accumulator.

    Keys: frames, voiced_frames, voiced_fraction, voiced_confidence, frame_rate;
    pitch {mean_midi, std_midi, mean_hz, quantile_probs, quantiles_midi};
    loudness {mean_db, std_db, quantile_probs, quantiles_db};
    fit {meanMidi, loudness {probs, db}} (what tone fitting reads);
    histograms {midi, loudness_db: {lo, hi, width, counts}}. pitch/loudness/fit are None
    when no frame is voiced. Quantiles are read from the histograms (0.05 semitone / 0.1 dB bins).
    """
    out: dict = {
        "frames": int(acc["frames"]),
        "voiced_frames": int(acc["voiced_frames"]),
        "voiced_fraction": round(acc["voiced_frames"] / acc["frames"], 4) if acc["frames"] else 0.0,
        "voiced_confidence": VOICED_CONFIDENCE,
        "frame_rate": SAMPLE_RATE / HOP_SIZE,
    }
    if acc["voiced_frames"]:
        midi, loud = np.asarray(acc["midi_counts"]), np.asarray(acc["loudness_counts"])
        mean_midi, std_midi = _moments(midi, MIDI_GRID)
        mean_db, std_db = _moments(loud, LOUDNESS_GRID)
        fit_db = _quantiles(loud, LOUDNESS_GRID, FIT_PROBS)
        out["pitch"] = {
            "mean_midi": round(mean_midi, 3),
            "std_midi": round(std_midi, 3),
            "mean_hz": round(float(midi_to_hz(mean_midi)), 2),
            "quantile_probs": list(QUANTILE_PROBS),
            "quantiles_midi": _quantiles(midi, MIDI_GRID, QUANTILE_PROBS),
        }
        out["loudness"] = {
            "mean_db": round(mean_db, 3),
            "std_db": round(std_db, 3),
            "quantile_probs": list(QUANTILE_PROBS),
            "quantiles_db": _quantiles(loud, LOUDNESS_GRID, QUANTILE_PROBS),
        }
        # what tone fitting (sounds_kit.dsp.tone_fit) reads
        out["fit"] = {"meanMidi": round(mean_midi, 3), "loudness": {"probs": list(FIT_PROBS), "db": fit_db}}
    else:
        out["pitch"] = out["loudness"] = out["fit"] = None
    out["histograms"] = {
        "midi": {
            "lo": MIDI_GRID[0],
            "hi": MIDI_GRID[1],
            "width": MIDI_GRID[2],
            "counts": list(map(int, acc["midi_counts"])),
        },
        "loudness_db": {
            "lo": LOUDNESS_GRID[0],
            "hi": LOUDNESS_GRID[1],
            "width": LOUDNESS_GRID[2],
            "counts": list(map(int, acc["loudness_counts"])),
        },
    }
    return out


def stats_from_summary(summary: dict) -> dict:
    """The accumulator back from a stats.json (so --resume can add to it)."""
    h = summary["histograms"]
    return {
        "frames": int(summary["frames"]),
        "voiced_frames": int(summary["voiced_frames"]),
        "midi_counts": np.asarray(h["midi"]["counts"], np.int64),
        "loudness_counts": np.asarray(h["loudness_db"]["counts"], np.int64),
    }


# ---------------------------------------------------------------------------------------------
# Reading


def _read_json(dataset_dir: str | Path, name: str) -> dict:
    path = Path(dataset_dir) / name
    if not path.is_file():
        raise UserFacingError(f"{dataset_dir}: no {name} (not a dataset made by `sounds-kit prepare`?)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UserFacingError(f"{path}: not valid JSON ({err})") from err


def read_manifest(dataset_dir: str | Path) -> dict:
    """The dataset's manifest.json (inputs, bad files, shards, settings)."""
    return _read_json(dataset_dir, MANIFEST)


def read_stats(dataset_dir: str | Path) -> dict:
    """The dataset's stats.json (pitch/loudness statistics over voiced frames)."""
    return _read_json(dataset_dir, STATS)


def shard_paths(dataset_dir: str | Path, split: str = "train") -> list[Path]:
    """The TFRecord files of a split, as listed in the manifest."""
    if split not in SPLITS:
        raise UserFacingError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    manifest = read_manifest(dataset_dir)
    return [Path(dataset_dir) / name for name in manifest["shards"][split]]


def load_dataset(
    dataset_dir: str | Path,
    split: str = "train",
    shuffle: bool = False,
    seed: int = 0,
    with_metadata: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of dicts: ``audio`` float32 [example_samples] and ``f0_hz``,
    ``f0_confidence``, ``loudness_db`` float32 [n_frames(example_samples)].

    ``shuffle`` shuffles shard order and examples (buffer of 256); ``with_metadata`` adds
    ``source`` (string) and ``start_sample`` (int64).
    """
    import tensorflow as tf

    manifest = read_manifest(dataset_dir)
    files = [str(p) for p in shard_paths(dataset_dir, split)]
    if not files:
        raise UserFacingError(f"{dataset_dir}: the {split} split has no examples")
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise UserFacingError(
            f"{dataset_dir}: {len(missing)} shard(s) listed in the manifest are missing, e.g. {missing[0]}"
        )
    samples = int(manifest["settings"]["example_samples"])
    frames = example_frames(samples)
    spec = {"audio": tf.io.FixedLenFeature([samples], tf.float32)}
    spec.update({k: tf.io.FixedLenFeature([frames], tf.float32) for k in FRAME_KEYS})
    if with_metadata:
        spec["source"] = tf.io.FixedLenFeature([], tf.string)
        spec["start_sample"] = tf.io.FixedLenFeature([], tf.int64)
    if shuffle:
        files = list(np.random.default_rng(seed).permutation(files))
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=min(4, len(files)) if shuffle else None)
    if shuffle:
        ds = ds.shuffle(256, seed=seed)
    return ds.map(lambda rec: tf.io.parse_single_example(rec, spec), num_parallel_calls=tf.data.AUTOTUNE)
