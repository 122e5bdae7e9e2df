"""What makes a stand-in singer hard: breath, consonants, a room, mains hum, a low mic level.

Each effect takes the clean sung audio (16 kHz, float64) and the per-frame MIDI truth of where notes
sound, and adds one real-world nuisance the way it meets a pitch tracker: breath noise in rests and
under notes, noise bursts before note onsets (synthetic or espeak-ng's unvoiced consonants and
whispered words), a room's reverberation, 50 Hz hum, and a mic set 30 dB too low. None of them adds
pitch of its own, so the MIDI truth stays the truth (the room smears notes into the rests that follow
them: that is part of the test). Used by :mod:`sounds_kit.data.stand_in_singers`.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve, lfilter

from sounds_kit.conventions import FRAME_RATE, HOP_SIZE, SAMPLE_RATE
from sounds_kit.errors import UserFacingError

SR = SAMPLE_RATE
MAINS_HZ = 50.0
LOW_MIC_DB = -30.0


def db(x: float) -> float:
    """Amplitude ratio of a level in dB."""
    return float(10.0 ** (x / 20.0))


def _resonator(x: np.ndarray, freq: float, q: float) -> np.ndarray:
    """Two-pole band-pass at ``freq`` (Hz) with quality ``q``, unit gain at the centre."""
    r = np.exp(-np.pi * freq / (q * SR))
    theta = 2.0 * np.pi * freq / SR
    a = [1.0, -2.0 * r * np.cos(theta), r * r]
    return lfilter([1.0 - r], a, x)


def shaped_noise(
    n: int, rng: np.random.Generator, formants: list[tuple[float, float]], tilt_hz: float = 0.0
) -> np.ndarray:
    """Unit-RMS noise through parallel resonances [(Hz, Q)]: a vocal tract excited by turbulence.

    ``tilt_hz`` > 0 adds a first-order high-pass there (fricatives); the bands are summed with random
    weights so no two breaths sound alike.
    """
    white = rng.standard_normal(n)
    out = np.zeros(n)
    for freq, q in formants:
        out += rng.uniform(0.5, 1.0) * _resonator(white, freq, q)
    if tilt_hz > 0:
        c = np.exp(-2.0 * np.pi * tilt_hz / SR)
        out = lfilter([1.0, -1.0], [1.0, -c], out)
    return out / max(float(np.sqrt(np.mean(out**2))), 1e-12)


def breath_formants(rng: np.random.Generator) -> list[tuple[float, float]]:
    """Resonances of an open-mouthed breath: F1-F3 of a neutral vowel, broad and a little random."""
    return [
        (rng.uniform(500, 900), rng.uniform(2, 4)),
        (rng.uniform(1400, 2200), rng.uniform(4, 9)),
        (rng.uniform(2400, 3200), rng.uniform(4, 9)),
    ]


def envelope(audio: np.ndarray, smooth_s: float = 0.02) -> np.ndarray:
    """Amplitude envelope (RMS over ``smooth_s``), per sample."""
    width = max(1, int(smooth_s * SR))
    power = np.convolve(audio**2, np.ones(width) / width, mode="same")
    return np.sqrt(np.maximum(power, 0.0))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) frame ranges where ``mask`` is true."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def rests(sounding: np.ndarray, min_s: float = 0.25) -> list[tuple[int, int]]:
    """Sample ranges of the rests (no note sounding) at least ``min_s`` long."""
    return [(a * HOP_SIZE, b * HOP_SIZE) for a, b in runs(~sounding) if (b - a) / FRAME_RATE >= min_s]


def _raised_cosine(n: int, attack: float = 0.35) -> np.ndarray:
    """An inhale's envelope: a quick rise, a hold and a slower fall (peak 1)."""
    t = np.linspace(0.0, 1.0, n)
    rise = np.clip(t / attack, 0.0, 1.0)
    fall = np.clip((1.0 - t) / (1.0 - attack), 0.0, 1.0)
    return np.sin(0.5 * np.pi * np.minimum(rise, fall)) ** 2


# ---------------------------------------------------------------------------------------------
# The effects (audio in, audio out; ``level`` is the clip's note level as an RMS amplitude)


def add_breath(
    audio: np.ndarray,
    sounding: np.ndarray,
    level: float,
    rng: np.random.Generator,
    rest_db: tuple[float, float] = (-30.0, -22.0),
    under_db: float = -20.0,
) -> np.ndarray:
    """Inhales in the rests (peaking ``rest_db`` below the note level) and aspiration under notes.

    The aspiration follows the voice's own envelope ``under_db`` below it: a breathy voice.
    """
    out = audio.copy()
    aspiration = shaped_noise(len(audio), rng, breath_formants(rng))
    out += db(under_db) * envelope(audio) * aspiration
    for a, b in rests(sounding):
        # an inhale fills the middle of the rest, ending shortly before the next note
        start = a + int(rng.uniform(0.05, 0.25) * (b - a))
        stop = b - int(rng.uniform(0.03, 0.1) * SR)
        if stop - start < 0.1 * SR:
            continue
        noise = shaped_noise(stop - start, rng, breath_formants(rng))
        out[start:stop] += db(rng.uniform(*rest_db)) * level * _raised_cosine(stop - start) * noise
    return out


FRICATIVES = {  # name -> (resonances, high-pass Hz): turbulence at the teeth or palate
    "s": ([(5500.0, 3.0), (7000.0, 3.0)], 3000.0),
    "sh": ([(2600.0, 3.0), (3800.0, 3.0)], 1500.0),
    "f": ([(3000.0, 1.0), (6500.0, 1.0)], 1000.0),
    "h": ([(700.0, 3.0), (1700.0, 5.0), (2700.0, 5.0)], 0.0),
}


def consonant_burst(rng: np.random.Generator, level: float) -> np.ndarray:
    """One synthetic unvoiced consonant: a fricative (40-120 ms) or a plosive (release + aspiration)."""
    if rng.random() < 0.6:
        name = str(rng.choice(list(FRICATIVES)))
        formants, tilt = FRICATIVES[name]
        n = int(rng.uniform(0.04, 0.12) * SR)
        env = _raised_cosine(n, attack=0.3)
        return db(rng.uniform(-14.0, -6.0)) * level * env * shaped_noise(n, rng, formants, tilt)
    # plosive: a 3-8 ms broadband release, then 20-50 ms of fading aspiration
    burst = int(rng.uniform(0.003, 0.008) * SR)
    asp = int(rng.uniform(0.02, 0.05) * SR)
    release = shaped_noise(burst, rng, [(rng.uniform(1500, 4500), 1.5)], 500.0)
    aspiration = shaped_noise(asp, rng, breath_formants(rng)) * np.linspace(1.0, 0.0, asp) ** 2
    return db(rng.uniform(-10.0, -2.0)) * level * np.concatenate([release, 0.4 * aspiration])


def add_before_onsets(
    audio: np.ndarray,
    onsets: list[tuple[int, bool]],
    make: Callable[[], np.ndarray],
    rng: np.random.Generator,
    every: float = 0.6,
) -> np.ndarray:
    """Place ``make()`` sounds so they end 0-10 ms before note onsets (all onsets after a rest,
    a share ``every`` of the legato ones): the consonant of the sung syllable."""
    out = audio.copy()
    for onset, after_rest in onsets:
        if not after_rest and rng.random() > every:
            continue
        sound = make()
        end = onset - int(rng.uniform(0.0, 0.01) * SR)
        start = max(0, end - len(sound))
        out[start:end] += sound[len(sound) - (end - start) :]
    return out


def room_impulse_response(rng: np.random.Generator, rt60_s: float = 0.45, drr_db: float = 3.0) -> np.ndarray:
    """A small room: exponentially decaying noise (60 dB down after ``rt60_s``, 5 ms pre-delay) whose
    energy is ``drr_db`` below the direct sound's (the direct path itself is not in it)."""
    n = int(1.2 * rt60_s * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60_s)  # ln(1000) = 60 dB of amplitude
    tail = _resonator(tail, 1500.0, 0.4)  # walls absorb the highs and lows first
    ir = np.concatenate([np.zeros(int(0.005 * SR)), tail])
    return ir * db(-drr_db) / np.sqrt(np.sum(ir**2))


def add_room(audio: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """The direct sound plus its reverberation through ``ir`` (:func:`room_impulse_response`)."""
    return audio + fftconvolve(audio, ir)[: len(audio)]


def add_hum(audio: np.ndarray, level: float, rng: np.random.Generator, hum_db: float = -26.0) -> np.ndarray:
    """Mains hum: 50 Hz and its first harmonics (odd ones strongest, as a saturated transformer
    makes them), RMS ``hum_db`` below the note level, on all the time."""
    t = np.arange(len(audio)) / SR
    parts = [(1, 1.0), (2, 0.35), (3, 0.5), (4, 0.1), (5, 0.25), (7, 0.1)]
    hum = sum(a * np.sin(2 * np.pi * k * MAINS_HZ * t + rng.uniform(0, 2 * np.pi)) for k, a in parts)
    hum /= np.sqrt(np.mean(hum**2))
    return audio + db(hum_db) * level * hum


def low_mic(audio: np.ndarray) -> np.ndarray:
    """The whole take 30 dB quieter: a mic gain set far too low."""
    return audio * db(LOW_MIC_DB)


# ---------------------------------------------------------------------------------------------
# espeak-ng: real consonants and whispered words

ESPEAK_CONSONANTS = ("s", "S", "f", "T", "h", "t", "k", "p", "tS")
"""espeak-ng phoneme names (Kirshenbaum) of unvoiced consonants: s, sh, f, th, h, t, k, p, ch."""
ESPEAK_WHISPERS = ("sa re ga", "ha", "take a breath", "shh", "one more time", "okay")


def espeak_path() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise UserFacingError("espeak-ng is not installed (needed for the speech stand-ins): apt-get install espeak-ng")
    return exe


@functools.lru_cache(maxsize=64)
def espeak(text: str, voice: str = "en") -> np.ndarray:
    """espeak-ng's rendering of ``text`` at the kit's rate, trimmed to its sounding part, peak 1."""
    import soundfile as sf

    from sounds_kit.data.audio_io import resample

    with tempfile.TemporaryDirectory(prefix="sounds-kit-espeak-") as tmp:
        wav = Path(tmp) / "speech.wav"
        proc = subprocess.run([espeak_path(), "-v", voice, "-w", str(wav), text], capture_output=True, text=True)
        if proc.returncode != 0 or not wav.exists():
            raise UserFacingError(f"espeak-ng failed on {text!r}: {proc.stderr.strip()}")
        audio, rate = sf.read(str(wav), dtype="float32")
    audio = resample(audio, rate, SR).astype(np.float64)
    active = np.flatnonzero(np.abs(audio) > 0.01 * np.max(np.abs(audio)))
    audio = audio[active[0] : active[-1] + 1]
    return audio / np.max(np.abs(audio))


def espeak_consonant(rng: np.random.Generator, level: float) -> np.ndarray:
    """One unvoiced consonant spoken by espeak-ng ([[s]], [[tS]], ...), 2-12 dB below the note level."""
    sound = espeak(f"[[{rng.choice(ESPEAK_CONSONANTS)}]]")
    rms = np.sqrt(np.mean(sound**2))
    fade = np.minimum(1.0, np.linspace(0.0, 1.0, len(sound)) * 20)[::-1]  # no click into the vowel
    return db(rng.uniform(-12.0, -2.0)) * level * sound * fade / rms


def add_whispers(
    audio: np.ndarray,
    sounding: np.ndarray,
    level: float,
    rng: np.random.Generator,
    whisper_db: tuple[float, float] = (-26.0, -18.0),
) -> np.ndarray:
    """Whispered words (espeak-ng's whisper voice) in rests long enough to hold them."""
    out = audio.copy()
    for a, b in rests(sounding, min_s=0.5):
        words = espeak(str(rng.choice(ESPEAK_WHISPERS)), voice="en+whisper")
        room = (b - a) - int(0.1 * SR)
        if room <= int(0.2 * SR):
            continue
        words = words[:room]
        start = a + int(rng.uniform(0.0, max(1, room - len(words))))
        rms = np.sqrt(np.mean(words**2))
        out[start : start + len(words)] += db(rng.uniform(*whisper_db)) * level * words / rms
    return out
