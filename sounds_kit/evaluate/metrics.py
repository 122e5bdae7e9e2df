"""How good a model sounds: resynthesis and tone-transfer metrics (defined below; summary in docs/sweep.md).

The frame-level metric functions are pure numpy on top of the kit's own analysis (``features.py``), so
notebooks and benchmarks can call them on any pair of signals. The bottom of the module runs a model
(an ``Instrument``: an exported model or a training run, both from ``load_instrument``) over clips and
summarises; TensorFlow is imported only there and in :func:`spectral_distance` (the full spectral loss).

Resynthesis: the model is driven by a clip's own features and should give that clip back.
Tone transfer: the model is driven by a voice (fitted to the instrument) and should follow its pitch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sounds_kit.instrument.load import Instrument

from sounds_kit.conventions import LOUDNESS_FLOOR_DB, SAMPLE_RATE, is_voiced

OUTLIER_CENTS = 50.0
"""An f0 error above this (a quarter tone) counts as an outlier."""

CENTS_CAP = 1200.0
"""Per-frame errors are capped at an octave, and a voiced input frame the output leaves silent scores
this, so one wild frame cannot dominate a mean."""

RESYNTHESIS_KEYS = (
    "spectral_distance",
    "loudness_l1_db",
    "f0_median_cents",
    "f0_mean_cents",
    "f0_outlier_ratio",
)
TRANSFER_KEYS = (
    "transfer_pitch_median_cents",
    "transfer_pitch_mean_cents",
    "transfer_pitch_outlier_ratio",
    "transfer_voiced_ratio",
    "transfer_octave_jump_ratio",
    "transfer_octave_shift",
)


# ---------------------------------------------------------------------------------------------
# Frame-level metrics (numpy)


def cents(f_hz: np.ndarray, ref_hz: np.ndarray) -> np.ndarray:
    """Signed pitch difference ``1200 * log2(f / ref)``; NaN where either is not positive."""
    f, ref = np.asarray(f_hz, np.float64), np.asarray(ref_hz, np.float64)
    ok = (f > 0) & (ref > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, 1200.0 * np.log2(np.where(ok, f, 1.0) / np.where(ok, ref, 1.0)), np.nan)


def voiced(f0_hz: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """The kit's voicing decision per frame."""
    return is_voiced(confidence) & (np.asarray(f0_hz) > 0)


def _same_frames(*arrays: np.ndarray) -> list[np.ndarray]:
    # Features of an n-sample clip and of an output rendered to n samples have the same frame count;
    # trimming covers callers that hand in slightly different lengths.
    n = min(len(a) for a in arrays)
    return [np.asarray(a)[:n] for a in arrays]


def loudness_errors(reference: np.ndarray, output: np.ndarray, floor_db: float = LOUDNESS_FLOOR_DB) -> np.ndarray:
    """``|L_out - L_ref|`` (dB, kit loudness of both signals) on frames where either is above ``floor_db``.

    Counting frames where only the output is loud penalises sound where the reference is silent.
    """
    from sounds_kit.dsp.features import compute_loudness

    ref, out = _same_frames(compute_loudness(reference), compute_loudness(output))
    keep = np.maximum(ref, out) > floor_db
    return np.abs(out[keep].astype(np.float64) - ref[keep])


def f0_errors(ref_f0_hz: np.ndarray, ref_confidence: np.ndarray, output: np.ndarray) -> np.ndarray:
    """``min(|cents(f0_out / f0_ref)|, CENTS_CAP)`` on frames voiced in the reference.

    ``f0_out`` is the kit's tracker on the output; a frame the output leaves too quiet to track
    (f0_out = 0) scores ``CENTS_CAP``.
    """
    from sounds_kit.dsp.features import compute_f0

    out_f0, _ = compute_f0(output)
    ref_f0, ref_conf, out_f0 = _same_frames(ref_f0_hz, ref_confidence, out_f0)
    err = np.abs(cents(out_f0, ref_f0))[voiced(ref_f0, ref_conf)]
    return np.minimum(np.nan_to_num(err, nan=CENTS_CAP), CENTS_CAP)


def pyin_f0(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An independent pitch reference: librosa.pyin (a dev/eval dependency, never a runtime one) on the
    kit's frame grid (frame i centred on sample i * HOP_SIZE). Returns (f0_hz, voiced)."""
    try:
        import librosa
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("the pyin reference needs librosa: pip install 'sounds-kit[dev]'") from err
    from sounds_kit.conventions import F0_MAX_HZ, F0_MIN_HZ, HOP_SIZE, n_frames

    audio = np.asarray(audio, np.float32)
    f0, flag, _ = librosa.pyin(audio, fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=SAMPLE_RATE, frame_length=1024,
                               hop_length=HOP_SIZE, center=True)  # fmt: skip
    n = n_frames(len(audio))
    f0, flag = np.nan_to_num(f0[:n], nan=0.0), flag[:n]
    # pyin keeps "notes" going into digital silence; a frame nobody can hear is not a note.
    from sounds_kit.dsp.features import compute_loudness

    audible = compute_loudness(audio)[: len(flag)] > -60.0
    return f0, flag & audible & (f0 > 0)


def pitch_follow(
    voice_f0_hz: np.ndarray,
    voice_confidence: np.ndarray,
    output: np.ndarray,
    octave_shift: int = 0,
    voice_audio: np.ndarray | None = None,
    reference: str = "kit",
) -> dict[str, np.ndarray]:
    """Pitch error of an output against the voice that drove it, moved by the fit's own octave shift.

    ``reference="kit"``: the voice's features and the kit's tracker on the output; ``"pyin"``: librosa.pyin
    on both the voice audio and the output (independent of the tracker under test). On frames voiced in
    both, ``error = cents(f0_out, f0_voice * 2**octave_shift)`` - signed and never folded, so an
    instrument that jumps an octave scores about 1200 cents there. Returns ``error``, the count of
    voice-voiced frames and the reference used.
    """
    if reference == "pyin":
        if voice_audio is None:
            raise ValueError("the pyin reference needs the voice audio")
        f0, in_voiced = pyin_f0(voice_audio)
        out_f0, out_voiced = pyin_f0(output)
        f0, in_voiced, out_f0, out_voiced = _same_frames(f0, in_voiced, out_f0, out_voiced)
    elif reference == "kit":
        from sounds_kit.dsp.features import compute_f0

        out_f0, out_conf = compute_f0(output)
        f0, conf, out_f0, out_conf = _same_frames(voice_f0_hz, voice_confidence, out_f0, out_conf)
        in_voiced, out_voiced = voiced(f0, conf), voiced(out_f0, out_conf)
    else:
        raise ValueError(f"reference must be 'kit' or 'pyin', got {reference!r}")
    both = in_voiced & out_voiced
    error = cents(out_f0[both], f0[both] * 2.0 ** int(octave_shift))
    return {"error": error, "voice_voiced": int(in_voiced.sum()), "reference": reference}


def spectral_distance(reference: np.ndarray, output: np.ndarray, fft_sizes: Sequence[int] | None = None) -> float:
    """The full spectral loss (loss.spectral_loss over six FFT sizes at 75% overlap: sum of mean |S| L1 +
    mean |log S| L1); stage 2 trains on a cheaper form of it."""
    from sounds_kit.model.loss import DEFAULT_FFT_SIZES, spectral_loss_np

    return spectral_loss_np(reference, output, fft_sizes=tuple(fft_sizes or DEFAULT_FFT_SIZES))


# ---------------------------------------------------------------------------------------------
# Per clip and summaries


def resynthesis_clip(reference: np.ndarray, features: dict, output: np.ndarray) -> dict:
    """Per-frame errors and the spectral distance of one resynthesised clip (feed to summarize_resynthesis)."""
    return {
        "seconds": len(reference) / SAMPLE_RATE,
        "spectral_distance": spectral_distance(reference, output),
        "loudness_errors": loudness_errors(reference, output),
        "f0_errors": f0_errors(features["f0_hz"], features["f0_confidence"], output),
    }


def transfer_clip(
    features: dict, output: np.ndarray, octave_shift: int = 0, voice_audio: np.ndarray | None = None,
    reference: str = "kit",
) -> dict:
    """Pitch following of one tone-transferred clip (feed to summarize_transfer)."""
    follow = pitch_follow(features["f0_hz"], features["f0_confidence"], output, octave_shift, voice_audio, reference)
    return {"seconds": len(output) / SAMPLE_RATE, "octave_shift": int(octave_shift), **follow}


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    return float(np.median(values)), float(np.mean(values)), float(np.mean(values > OUTLIER_CENTS))


def summarize_resynthesis(clips: Sequence[dict]) -> dict:
    """Frames pooled over clips; spectral distance averaged weighted by clip duration."""
    seconds = np.array([c["seconds"] for c in clips])
    loud = np.concatenate([c["loudness_errors"] for c in clips]) if clips else np.zeros(0)
    f0 = np.concatenate([c["f0_errors"] for c in clips]) if clips else np.zeros(0)
    median, mean, outliers = _stats(f0)
    return {
        "clips": len(clips),
        "seconds": float(seconds.sum()),
        "spectral_distance": float(np.average([c["spectral_distance"] for c in clips], weights=seconds)),
        "loudness_l1_db": float(np.mean(loud)) if loud.size else float("nan"),
        "f0_median_cents": median,
        "f0_mean_cents": mean,
        "f0_outlier_ratio": outliers,
        "voiced_frames": int(f0.size),
    }


def summarize_transfer(clips: Sequence[dict]) -> dict:
    """Frames pooled over clips. Errors are against the voice moved by the fit's own shift, never folded:
    ``transfer_octave_jump_ratio`` is the share of frames voiced in both more than 600 cents off (the
    instrument jumped an octave on its own), and those frames count in the median and outliers too."""
    err = np.abs(np.concatenate([c["error"] for c in clips])) if clips else np.zeros(0)
    jumps = err > 600.0
    median, mean, outliers = _stats(err)
    voice_voiced = sum(c["voice_voiced"] for c in clips)
    shifts = [c["octave_shift"] for c in clips]
    return {
        "transfer_clips": len(clips),
        "transfer_seconds": float(sum(c["seconds"] for c in clips)),
        "transfer_pitch_median_cents": median,
        "transfer_pitch_mean_cents": mean,
        "transfer_pitch_outlier_ratio": outliers,
        "transfer_voiced_ratio": float(err.size / voice_voiced) if voice_voiced else float("nan"),
        "transfer_octave_jump_ratio": float(np.mean(jumps)) if jumps.size else float("nan"),
        "transfer_octave_shift": int(max(set(shifts), key=shifts.count)) if shifts else 0,  # the usual one
    }


def resynthesis_metrics(reference: np.ndarray, output: np.ndarray, features: dict | None = None) -> dict:
    """All resynthesis metrics of one clip (features of the reference computed when not given)."""
    from sounds_kit.dsp.features import compute_features

    features = features if features is not None else compute_features(reference)
    return summarize_resynthesis([resynthesis_clip(reference, features, output)])


def transfer_metrics(
    voice: np.ndarray, output: np.ndarray, octave_shift: int = 0, features: dict | None = None,
    reference: str = "kit",
) -> dict:
    """All tone-transfer metrics of one clip (voice features computed when not given); ``reference``
    as in :func:`pitch_follow` ("pyin": independent of the kit's tracker)."""
    from sounds_kit.dsp.features import compute_features

    features = features if features is not None else compute_features(voice)
    return summarize_transfer([transfer_clip(features, output, octave_shift, voice, reference)])


# ---------------------------------------------------------------------------------------------
# Models


def render(model: Instrument, features: dict, n_samples: int, transfer: bool = False) -> tuple[np.ndarray, int]:
    """(audio, octave shift): resynthesis from the clip's own features, or tone transfer with auto-fit."""
    ctl = model.controls(features, auto_fit=transfer, gate=transfer)
    return model.render_controls(ctl, n_samples), int(ctl["octaves"])


def clip_features(clip: dict) -> dict:
    """A clip's features: the given ones (a dataset example) or the kit's analysis of its audio."""
    if all(k in clip for k in ("f0_hz", "f0_confidence", "loudness_db")):
        return {k: np.asarray(clip[k]) for k in ("f0_hz", "f0_confidence", "loudness_db")}
    from sounds_kit.dsp.features import compute_features

    return compute_features(clip["audio"])


def evaluate_clip(model: Instrument, clip: dict, transfer: bool = False, reference: str = "kit") -> dict:
    """Render one clip (dict with ``audio`` and optionally its features) and measure it (``reference``: the
    pitch reference of tone transfer, see :func:`pitch_follow`)."""
    audio = np.asarray(clip["audio"], np.float32)
    features = clip_features(clip)
    output, octaves = render(model, features, len(audio), transfer)
    if transfer:
        return transfer_clip(features, output, octaves, audio, reference)
    return resynthesis_clip(audio, features, output)


def evaluate_model(model: Instrument, clips: Iterable[dict], transfer: bool = False, progress: bool = False) -> dict:
    """Summary metrics of a model over clips (flat dict; see RESYNTHESIS_KEYS / TRANSFER_KEYS)."""
    from tqdm.auto import tqdm

    per_clip = [evaluate_clip(model, c, transfer) for c in tqdm(clips, desc="evaluate", disable=not progress)]
    if not per_clip:
        raise ValueError("no clips to evaluate")
    return summarize_transfer(per_clip) if transfer else summarize_resynthesis(per_clip)


def dataset_clips(examples: Iterable, limit: int | None = None) -> list[dict]:
    """Dataset examples (a tf.data.Dataset or any iterable of dicts) as clips, at most ``limit``."""
    if hasattr(examples, "as_numpy_iterator"):
        examples = examples.as_numpy_iterator()
    clips = []
    for ex in examples:
        if limit is not None and len(clips) >= limit:
            break
        clips.append({k: np.asarray(ex[k]) for k in ("audio", "f0_hz", "f0_confidence", "loudness_db")})
    return clips
