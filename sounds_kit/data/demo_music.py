"""Deterministic Hindustani-flavoured melodies for rendering demo data.

Each :class:`Passage` is one monophonic stretch of music (30-60 s) in one raga, or
the national anthem: MIDI notes plus pitch-bend and CC11 curves. The sounding
pitch at any time is ``note.pitch + bend(t)`` (bends hold their last value), which
:func:`sounding_midi` evaluates - that is the ground truth the renders are checked
against.

Ornaments, all drawn with pitch bends so the held part of each note plays an
unbent sample:
- meend: a glide of several semitones from the previous swara into the note;
- kan: a brief touch of the neighbouring swara before the note;
- andolan/gamak: slow or fast oscillation of a held note;
- vibrato: a small, delayed periodic wobble on long notes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sounds_kit import conventions
from sounds_kit.data.midi import Note

BEND_STEP_S = 0.01  # bend curves are sent at 100 Hz
EXPRESSION_STEP_S = 0.025


@dataclass(frozen=True)
class Raga:
    """Swaras as semitones above Sa (12 = upper Sa); vadi/samvadi are the focal swaras."""

    name: str
    aroha: tuple[int, ...]
    avaroha: tuple[int, ...]
    vadi: int
    samvadi: int


RAGAS: dict[str, Raga] = {
    # The melodic ragas of the one table in conventions.py (the widget draws the same swaras).
    key: Raga(key, tuple(r["aroha"]), tuple(r["avaroha"]), vadi=r["vadi"], samvadi=r["samvadi"])
    for key, r in conventions.RAGAS.items()
    if key != "chromatic"
}


@dataclass(frozen=True)
class Style:
    """How an instrument ornaments: probabilities per note and depths in semitones."""

    meend_prob: float = 0.3
    meend_max: int = 7
    kan_prob: float = 0.15
    gamak_prob: float = 0.1
    vibrato_depth: tuple[float, float] = (0.1, 0.3)
    vibrato_rate: tuple[float, float] = (4.5, 6.5)
    legato: bool = True
    tempo: tuple[float, float] = (0.85, 1.25)  # multiplies note durations


@dataclass
class Passage:
    """One rendered file's worth of music (times in seconds from the passage start)."""

    source: str
    notes: list[Note] = field(default_factory=list)
    bends: list[tuple[float, float]] = field(default_factory=list)
    expression: list[tuple[float, int]] = field(default_factory=list)

    @property
    def end_s(self) -> float:
        return max((n.start_s + n.dur_s for n in self.notes), default=0.0)

    def shifted(self, offset_s: float) -> Passage:
        """The same passage starting ``offset_s`` later."""
        return Passage(
            self.source,
            [Note(n.start_s + offset_s, n.dur_s, n.pitch, n.velocity) for n in self.notes],
            [(t + offset_s, v) for t, v in self.bends],
            [(t + offset_s, v) for t, v in self.expression],
        )


# ---------------------------------------------------------------------------------------------
# Ornament curves (relative bend in semitones over a note's own time axis)


def _times(dur_s: float) -> np.ndarray:
    return np.arange(0.0, dur_s, BEND_STEP_S)


def _vibrato(t: np.ndarray, depth: float, rate: float, delay: float) -> np.ndarray:
    # a delayed, faded-in sine, as players start a long note straight and then let it sing
    fade = np.clip((t - delay) / 0.4, 0.0, 1.0)
    return depth * fade * np.sin(2 * np.pi * rate * np.maximum(t - delay, 0.0))


def _note_bend_curve(
    rng: np.random.Generator, dur_s: float, start_offset: float, kan: float, style: Style, long_note: bool
) -> np.ndarray:
    """Bend (semitones) at 100 Hz over one note: meend/kan approach, then gamak or vibrato."""
    t = _times(dur_s)
    curve = np.zeros_like(t)
    approach = 0.0
    if start_offset:
        # meend: an eased glide from the previous swara, taking ~40% of the note at most
        glide = min(dur_s * 0.45, rng.uniform(0.15, 0.5) + 0.04 * abs(start_offset))
        x = np.clip(t / glide, 0.0, 1.0)
        curve += start_offset * (1 - (3 * x**2 - 2 * x**3))
        approach = glide
    elif kan:
        touch = rng.uniform(0.04, 0.08)
        curve += np.where(t < touch, kan, 0.0)
        approach = touch
    if long_note:
        if rng.random() < style.gamak_prob * 2:
            # gamak/andolan: wide oscillation for part of the held note
            depth = rng.uniform(0.3, 1.0)
            rate = rng.uniform(1.5, 5.0)
            span = (t > approach + 0.2) & (t < approach + 0.2 + rng.uniform(0.8, 2.0))
            curve += np.where(span, depth * np.sin(2 * np.pi * rate * (t - approach - 0.2)), 0.0)
        else:
            depth = rng.uniform(*style.vibrato_depth)
            curve += _vibrato(t, depth, rng.uniform(*style.vibrato_rate), approach + rng.uniform(0.25, 0.6))
    return curve


def _expression_curve(rng: np.random.Generator, dur_s: float, level: float, long_note: bool) -> np.ndarray:
    """CC11 values at 40 Hz: swells and fades on long notes, near-flat on short ones."""
    t = np.arange(0.0, dur_s, EXPRESSION_STEP_S)
    x = t / max(dur_s, 1e-6)
    if long_note:
        shape = rng.choice(["swell", "fade", "grow"])
        if shape == "swell":
            env = 0.7 + 0.3 * np.sin(np.pi * x)
        elif shape == "fade":
            env = 1.0 - 0.55 * x
        else:
            env = 0.6 + 0.4 * x
    else:
        env = np.full_like(t, rng.uniform(0.85, 1.0))
    return np.clip(level * env, 20, 127)


# ---------------------------------------------------------------------------------------------
# Melody


def _scale_pitches(swaras: Sequence[int], sa: int, low: int, high: int) -> np.ndarray:
    classes = {s % 12 for s in swaras}
    return np.array([p for p in range(low, high + 1) if (p - sa) % 12 in classes])


def _walk(rng: np.random.Generator, raga: Raga, sa: int, low: int, high: int, start: int, n: int) -> list[int]:
    """n pitches moving stepwise (aroha going up, avaroha going down) with a pull to the middle."""
    up, down = _scale_pitches(raga.aroha, sa, low, high), _scale_pitches(raga.avaroha, sa, low, high)
    mid = (low + high) / 2
    pitches, p = [], start
    for _ in range(n):
        pull = np.clip((mid - p) / (high - low), -0.35, 0.35)
        going_up = rng.random() < 0.5 + pull
        steps = int(rng.choice([1, 1, 1, 2, 2, 3]))
        pool = up[up > p] if going_up else down[down < p][::-1]
        if len(pool) == 0:
            pool = down[down < p][::-1] if going_up else up[up > p]
        if len(pool):
            p = int(pool[min(steps, len(pool)) - 1])
        pitches.append(p)
    return pitches


def _nyas(rng: np.random.Generator, raga: Raga, sa: int, low: int, high: int, near: int) -> int:
    """A resting swara (Sa, Pa, vadi or samvadi) in the octave closest to ``near``."""
    focal = [0, raga.vadi, raga.samvadi] + ([7] if 7 in raga.aroha else [])
    degree = int(rng.choice(focal))
    options = [p for p in range(low, high + 1) if (p - sa) % 12 == degree % 12]
    return min(options, key=lambda p: abs(p - near)) if options else near


def _add_note(
    passage: Passage,
    rng: np.random.Generator,
    start: float,
    dur: float,
    pitch: int,
    velocity: int,
    level: float,
    start_offset: float,
    kan: float,
    style: Style,
) -> None:
    long_note = dur >= 1.0
    # round the end, not the duration, so abutting legato notes never overlap after rounding
    start_r = round(start, 4)
    passage.notes.append(Note(start_r, round(round(start + dur, 4) - start_r, 4), int(pitch), int(velocity)))
    bend = _note_bend_curve(rng, dur, start_offset, kan, style, long_note)
    # one bend at the onset resets the channel; afterwards send only changes
    t = _times(dur)
    keep = np.ones(len(bend), bool)
    keep[1:] = np.abs(np.diff(bend)) > 1e-4
    passage.bends += [
        (round(start + float(ti), 4), round(float(b), 4)) for ti, b in zip(t[keep], bend[keep], strict=True)
    ]
    expr = _expression_curve(rng, dur, level, long_note)
    te = np.arange(0.0, dur, EXPRESSION_STEP_S)
    vals = np.round(expr).astype(int)
    keep = np.ones(len(vals), bool)
    keep[1:] = np.diff(vals) != 0
    passage.expression += [(round(start + float(ti), 4), int(v)) for ti, v in zip(te[keep], vals[keep], strict=True)]


def raga_passage(
    rng: np.random.Generator,
    raga: Raga,
    sa: int,
    low: int,
    high: int,
    seconds: float,
    style: Style = Style(),
    bend_limit: float = 12.0,
) -> Passage:
    """Phrases in ``raga`` within [low, high] (MIDI) filling about ``seconds``.

    A phrase moves through 4-11 swaras, lands on a long-held resting swara and
    ends in a breath (rest). Velocity and CC11 level change from phrase to phrase.
    """
    passage = Passage(source=f"raga:{raga.name}")
    t = float(rng.uniform(0.1, 0.4))
    prev = _nyas(rng, raga, sa, low, high, sa + 5)
    while t < seconds - 2.0:
        tempo = rng.uniform(*style.tempo)
        level = rng.uniform(60, 120)  # phrase dynamics: pp..ff via CC11
        base_vel = int(rng.integers(55, 120))
        pitches = _walk(rng, raga, sa, low, high, prev, int(rng.integers(3, 11)))
        pitches.append(_nyas(rng, raga, sa, low, high, pitches[-1]))
        for i, p in enumerate(pitches):
            last = i == len(pitches) - 1
            short = float(rng.choice([0.2, 0.25, 0.35, 0.5, 0.7, 1.2])) * tempo
            dur = rng.uniform(1.5, 4.0) if last else short
            dur = min(dur, max(0.2, seconds - t))
            interval = prev - p
            offset = 0.0
            if interval and abs(interval) <= min(style.meend_max, bend_limit - 1) and dur >= 0.3:
                if rng.random() < style.meend_prob * (2.0 if last else 1.0):
                    offset = float(interval)
            kan = 0.0
            if not offset and rng.random() < style.kan_prob:
                kan = float(rng.choice([1, 2, -1, -2]))
            gap = 0.0 if style.legato and rng.random() < 0.85 else rng.uniform(0.03, 0.12)
            vel = int(np.clip(base_vel + rng.integers(-12, 13), 1, 127))
            _add_note(passage, rng, t, dur, p, vel, level, offset, kan, style)
            t += dur + gap
            prev = p
            if t >= seconds - 0.2:
                break
        t += rng.uniform(0.4, 2.0)  # breath between phrases
    return passage


# ---------------------------------------------------------------------------------------------
# Jana Gana Mana (public domain), written as sargam: swara[:beats]; "." lower octave,
# "'" upper octave; "|" ends a line with a short breath.

_SWARA = {"S": 0, "R": 2, "G": 4, "M": 5, "P": 7, "D": 9, "N": 11}

JANA_GANA_MANA = """
S R G G G G G G G G G R G M:2 |
G G G R R R N.:.5 R:.5 S:2 |
S S P P P P P P P M P M:2 |
M M M M G R M G:2 |
G G G G G R P P P M M:2 |
M M M G G R R N.:.5 R:.5 S:2 |
S R G G G G R:.5 G:.5 M:2 |
G M P P P M G R:.5 M:.5 G:2 |
G G R R R R N.:.5 R:.5 S:2 |
S S P P P P P P P M P M M:2 |
M M M M G R M G:2 |
N S' S':2 | D N N:2 | P D D:2 |
S S R R G G R G M:4 |
"""


def parse_sargam(text: str) -> list[tuple[int | None, float]]:
    """(semitones above Sa or None for a breath, beats) from the sargam notation above."""
    out: list[tuple[int | None, float]] = []
    for token in text.split():
        if token == "|":
            out.append((None, 0.5))
            continue
        name, _, beats = token.partition(":")
        semis = _SWARA[name[0]] + 12 * name.count("'") - 12 * name.count(".")
        out.append((semis, float(beats) if beats else 1.0))
    return out


def anthem_passage(rng: np.random.Generator, sa: int, beat_s: float = 0.35, style: Style = Style()) -> Passage:
    """Jana Gana Mana on Sa = ``sa`` (MIDI): ~53 s (the official 52 s), vibrato on held notes, some meend."""
    passage = Passage(source="jana_gana_mana")
    t, prev = 0.2, None
    for semis, beats in parse_sargam(JANA_GANA_MANA):
        dur = beats * beat_s
        if semis is None:
            t += dur
            prev = None
            continue
        pitch = sa + semis
        offset = 0.0
        if prev is not None and 2 <= abs(prev - pitch) <= 5 and rng.random() < 0.5:
            offset = float(prev - pitch)
        level = 95 + 20 * (beats >= 2)
        vel = int(rng.integers(80, 110))
        # repeated syllables on one swara are re-articulated with a tiny gap
        _add_note(passage, rng, t, dur * 0.94, pitch, vel, level, offset, 0.0, style)
        t += dur
        prev = pitch
    return passage


# ---------------------------------------------------------------------------------------------
# Ground truth


def sounding_midi(
    notes: Sequence[Note] | Sequence[dict],
    bends: Sequence[Sequence[float]],
    times_s: np.ndarray,
) -> np.ndarray:
    """Sounding pitch (fractional MIDI) at each time; NaN where no note is held.

    Notes may be :class:`Note` or dicts with start_s/dur_s/pitch (as in notes.json);
    a bend holds its value until the next one, as a MIDI synth does.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    rows = [
        (n["start_s"], n["dur_s"], n["pitch"]) if isinstance(n, dict) else (n.start_s, n.dur_s, n.pitch) for n in notes
    ]
    out = np.full(times_s.shape, np.nan)
    if not rows:
        return out
    arr = np.array(sorted(rows), dtype=np.float64)
    idx = np.searchsorted(arr[:, 0], times_s, side="right") - 1
    valid = idx >= 0
    held = valid & (times_s < arr[np.maximum(idx, 0), 0] + arr[np.maximum(idx, 0), 1])
    out[held] = arr[idx[held], 2]
    if len(bends):
        b = np.asarray(bends, dtype=np.float64)
        b = b[np.argsort(b[:, 0], kind="stable")]
        j = np.searchsorted(b[:, 0], times_s, side="right") - 1
        out = out + np.where(j >= 0, b[np.maximum(j, 0), 1], 0.0)
    return out


# ---------------------------------------------------------------------------------------------
# A whole session


def passage_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator of passage ``index``: the same music for a seed whatever the total length."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode()), int(index)])


def compose(
    name: str,
    sa: int,
    low: int,
    high: int,
    seconds: float,
    seed: int = 0,
    file_seconds: float = 45.0,
    style: Style = Style(),
    source: str = "all",
    tail_s: float = 1.0,
) -> list[Passage]:
    """Passages (one per output file) filling about ``seconds`` of audio, deterministic from ``seed``.

    ``source``: "ragas" (raga improvisations only), "anthem" (Jana Gana Mana only) or
    "all" (ragas, with the anthem as the second passage when there are at least two).
    Each passage lasts at most ``file_seconds`` including a ``tail_s`` ring-out,
    except the anthem (~60 s), which is never cut.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if source not in ("all", "ragas", "anthem"):
        raise ValueError(f"source must be all, ragas or anthem, got {source!r}")
    n = max(1, int(np.ceil(seconds / file_seconds - 1e-9)))
    order = list(RAGAS)
    np.random.default_rng([int(seed), zlib.crc32(name.encode())]).shuffle(order)
    passages: list[Passage] = []
    for i in range(n):
        rng = passage_rng(seed, name, i)
        length = min(file_seconds, seconds - i * file_seconds) - tail_s
        if source == "anthem" or (source == "all" and i == 1):
            passages.append(anthem_passage(rng, sa, style=style))
        else:
            raga = RAGAS[order[i % len(order)]]
            passages.append(raga_passage(rng, raga, sa, low, high, max(length, 2.5), style))
    return passages
