"""Reading and writing audio at the kit's rate.

Every entry point that takes audio from a person goes through :func:`load_audio`,
so bad input fails here, once, with a message that names the file and the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sounds_kit.conventions import SAMPLE_RATE
from sounds_kit.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
BLOCK_SECONDS = 30.0  # blocks for streaming long files; small enough for hour-long inputs


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average channels; accepts [n] or [n, channels]."""
    audio = np.asarray(audio)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    elif audio.ndim != 1:
        raise AudioError(f"audio must be 1-D or [samples, channels], got shape {audio.shape}")
    return audio.astype(np.float32, copy=False)


def resample(audio: np.ndarray, sr_in: int, sr_out: int = SAMPLE_RATE) -> np.ndarray:
    """High-quality resampling (soxr)."""
    if sr_in == sr_out:
        return np.asarray(audio, dtype=np.float32)
    if sr_in <= 0:
        raise AudioError(f"sample rate must be positive, got {sr_in}")
    import soxr

    return soxr.resample(np.asarray(audio, dtype=np.float32), sr_in, sr_out, quality="HQ").astype(np.float32)


def check_audio(audio: np.ndarray, name: str = "audio", allow_silence: bool = False) -> np.ndarray:
    """Reject empty, non-finite or (unless allowed) silent audio with a clear message."""
    audio = np.asarray(audio)
    if audio.size == 0:
        raise AudioError(f"{name}: no samples (empty audio)")
    if not np.issubdtype(audio.dtype, np.floating) and not np.issubdtype(audio.dtype, np.integer):
        raise AudioError(f"{name}: samples must be numbers, got dtype {audio.dtype}")
    if not np.all(np.isfinite(audio)):
        bad = int(np.size(audio) - np.count_nonzero(np.isfinite(audio)))
        raise AudioError(f"{name}: {bad} samples are NaN or infinite")
    if not allow_silence and float(np.max(np.abs(audio))) < 1e-5:
        raise AudioError(f"{name}: the audio is silent (peak below -100 dBFS)")
    return audio


def _open(path: Path):
    import soundfile as sf

    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes)")
    try:
        return sf.SoundFile(str(path))
    except Exception as err:  # soundfile raises LibsndfileError/RuntimeError/TypeError
        raise AudioError(f"{path}: not a readable audio file ({err})") from err


def audio_info(path: str | Path) -> dict:
    """Duration, native rate and channels of a file, without reading its samples."""
    path = Path(path)
    with _open(path) as f:
        frames = f.frames
        return {
            "path": str(path),
            "sample_rate": f.samplerate,
            "channels": f.channels,
            "frames": frames,
            "seconds": frames / f.samplerate if f.samplerate else 0.0,
            "format": f.format,
        }


def iter_audio_blocks(
    path: str | Path, block_seconds: float = BLOCK_SECONDS, sr: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Yield a long file as consecutive mono blocks at ``sr`` without loading it whole.

    Resampling is streamed through one soxr state so block seams are seamless.
    """
    import soxr

    path = Path(path)
    with _open(path) as f:
        sr_in = f.samplerate
        stream = None if sr_in == sr else soxr.ResampleStream(sr_in, sr, 1, dtype="float32", quality="HQ")
        block = max(1, int(block_seconds * sr_in))
        try:
            while True:
                data = f.read(block, dtype="float32", always_2d=True)
                last = len(data) < block
                mono = to_mono(data)
                if not np.all(np.isfinite(mono)):
                    raise AudioError(f"{path}: contains NaN or infinite samples")
                out = mono if stream is None else stream.resample_chunk(mono, last=last)
                if len(out):
                    yield out
                if last:
                    break
        except AudioError:
            raise
        except Exception as err:
            raise AudioError(f"{path}: the file is damaged partway through ({err})") from err


def load_audio(
    source: str | Path | np.ndarray,
    sr: int = SAMPLE_RATE,
    source_sr: int | None = None,
    allow_silence: bool = False,
    max_seconds: float | None = None,
) -> np.ndarray:
    """Mono float32 audio at ``sr`` from a path or an array.

    Arrays may be [n] or [n, channels] and need ``source_sr`` when it differs from ``sr``.
    Raises :class:`AudioError` for corrupt, empty, silent or non-finite input.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        info = audio_info(path)
        if info["frames"] == 0:
            raise AudioError(f"{path}: no samples (empty audio)")
        if max_seconds is not None and info["seconds"] > max_seconds:
            raise AudioError(
                f"{path}: {info['seconds']:.0f} s is longer than the {max_seconds:.0f} s this step accepts; "
                "use `sounds-kit prepare` for long recordings"
            )
        audio = np.concatenate(list(iter_audio_blocks(path, sr=sr)) or [np.zeros(0, np.float32)])
        name = str(path)
    else:
        audio = to_mono(check_audio(source, allow_silence=True))
        audio = resample(audio, source_sr or sr, sr)
        name = "audio"
    return check_audio(audio.astype(np.float32), name=name, allow_silence=allow_silence)


def save_audio(path: str | Path, audio: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write 16-bit PCM WAV atomically (a temp file renamed into place)."""
    import os

    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), np.clip(np.asarray(audio, np.float32), -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)
    return path
