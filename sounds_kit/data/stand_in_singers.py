"""A harder stand-in singer set that the kit renders itself, with the MIDI truth of its pitch.

Six clean voice types (GM 52 Choir Aahs, 53 Voice Oohs, 54 Synth Voice, each in a male range around
C3 and a female range around C4-C5) sing raga phrases with meend, vibrato, gamak and rests
(:mod:`sounds_kit.data.demo_music`), rendered by fluidsynth (:mod:`sounds_kit.data.fluid`). Seven harder types
add what real takes have (:mod:`sounds_kit.data.stand_in_effects`): breath, consonant bursts, espeak-ng
consonants and whispers, a room, mains hum, a mic 30 dB too low, and all of them at once. Each of
those is a male half followed by a female half on different programs.

Ground truth: the sounding MIDI pitch (note + pitch bend, :func:`sounding_midi`) at each frame
centre, 250 frames/s as everywhere in the kit; 0 where no note is held. Releases are cut short
(-4800 timecents) so rests fall silent quickly. Two kinds of frames are marked for scores to leave
out, for every tracker alike: ``near_boundary``, within 20 ms of a note start or end, where the
analysis window straddles two states; and ``decay``, rest frames where the last note's own release
(Synth Voice rings ~100 ms even so) or, in a room, its reverberation is still above the kit's
voicing floor (-60 dB with notes at -18 dB), so that its pitch really sounds there.

Nothing here is committed as audio: :func:`render_stand_in` renders in about a second per voice type
and caches the result under ``cache_dir`` (e.g. ``work/stand-ins``, git-ignored).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sounds_kit.conventions import FRAME_RATE, SAMPLE_RATE, VOICED_LOUDNESS_DB, midi_to_hz, n_frames
from sounds_kit.data import stand_in_effects as fx
from sounds_kit.data.demo_music import RAGAS, Style, passage_rng, raga_passage, sounding_midi
from sounds_kit.errors import UserFacingError

RELEASE_TIMECENTS = -4800
BOUNDARY_S = 0.02
TARGET_NOTE_DB = -18.0
"""Each part is scaled so the 90th percentile of its loudness over sounding frames reads this."""
SEED = 1000  # melodies, breaths and bursts of take t come from seed SEED + t
CACHE_VERSION = 2  # bump when the rendering changes: invalidates cached renders

PROGRAMS = {"choir_aahs": 52, "voice_oohs": 53, "synth_voice": 54}
REGISTERS = {
    # register -> (Sa, lowest, highest MIDI note): a male voice around C3, a female around C4-C5
    "male": (48, 43, 62),
    "female": (60, 57, 77),
}
VOICE_STYLE = Style(meend_prob=0.4, meend_max=5, kan_prob=0.1, gamak_prob=0.15, vibrato_depth=(0.15, 0.45))


@dataclass(frozen=True)
class VoiceType:
    """One row of the benchmark: parts (program_register) sung in turn, then effects on the whole."""

    name: str
    parts: tuple[str, ...]
    effects: tuple[str, ...] = ()
    seconds: float = 15.0  # per part

    @property
    def description(self) -> str:
        extra = f" + {', '.join(self.effects)}" if self.effects else ""
        return " then ".join(self.parts) + extra


_CLEAN = [f"{p}_{r}" for p in PROGRAMS for r in REGISTERS]
VOICE_TYPES: dict[str, VoiceType] = {v.name: v for v in [VoiceType(name, (name,)) for name in _CLEAN]}
for _v in (
    VoiceType("breath", ("choir_aahs_male", "synth_voice_female"), ("breath",), 8.0),
    VoiceType("consonants", ("synth_voice_male", "choir_aahs_female"), ("consonants",), 8.0),
    VoiceType("espeak", ("choir_aahs_male", "synth_voice_female"), ("espeak_consonants", "whispers"), 8.0),
    VoiceType("room", ("voice_oohs_male", "choir_aahs_female"), ("room",), 8.0),
    VoiceType("hum", ("choir_aahs_male", "voice_oohs_female"), ("hum",), 8.0),
    VoiceType("low_mic", ("synth_voice_male", "choir_aahs_female"), ("low_mic",), 8.0),
    VoiceType(
        "everything",
        ("synth_voice_male", "choir_aahs_female"),
        ("breath", "consonants", "whispers", "room", "hum", "low_mic"),
        8.0,
    ),
):
    VOICE_TYPES[_v.name] = _v
EFFECTS = ("breath", "consonants", "espeak_consonants", "whispers", "room", "hum", "low_mic")


@dataclass
class StandIn:
    """A rendered stand-in: 16 kHz audio and per-frame truth (f0 in Hz, 0 where silent)."""

    name: str
    audio: np.ndarray
    f0_hz: np.ndarray
    near_boundary: np.ndarray
    decay: np.ndarray

    @property
    def excluded(self) -> np.ndarray:
        """Frames no score counts: note boundaries and the decay of notes into rests."""
        return self.near_boundary | self.decay

    @property
    def voiced(self) -> np.ndarray:
        return self.f0_hz > 0

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def _seed(name: str, index: int, take: int) -> np.random.Generator:
    return passage_rng(SEED + take, name, index)


def _render_part(part: str, seconds: float, rng: np.random.Generator):
    """Audio, notes and bends of one sung part (fluidsynth), scaled to the common note level."""
    from sounds_kit.data.fluid import render_notes
    from sounds_kit.dsp.features import compute_loudness

    program_name, register = part.rsplit("_", 1)
    if program_name not in PROGRAMS or register not in REGISTERS:
        raise UserFacingError(f"unknown stand-in part {part!r}: program_(male|female) with program in {list(PROGRAMS)}")
    sa, low, high = REGISTERS[register]
    raga = RAGAS[str(rng.choice(sorted(RAGAS)))]
    passage = raga_passage(rng, raga, sa, low, high, seconds, VOICE_STYLE)
    audio = render_notes(
        passage.notes,
        PROGRAMS[program_name],
        bends=passage.bends,
        bend_range=12,
        expression=passage.expression,
        release_timecents=RELEASE_TIMECENTS,
        tail_s=0.5,
    ).astype(np.float64)
    n = int(round((seconds + 0.5) * SAMPLE_RATE))
    audio = np.pad(audio[:n], (0, max(0, n - len(audio))))
    times = np.arange(n_frames(n)) / FRAME_RATE
    sounding = np.isfinite(sounding_midi(passage.notes, passage.bends, times))
    loud = compute_loudness(audio.astype(np.float32))
    audio *= fx.db(TARGET_NOTE_DB - float(np.percentile(loud[sounding], 90)))
    return audio, passage.notes, passage.bends


def _truth(notes, bends, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    times = np.arange(n_frames(n_samples)) / FRAME_RATE
    midi = sounding_midi(notes, bends, times)
    f0 = np.where(np.isfinite(midi), midi_to_hz(np.nan_to_num(midi)), 0.0)
    edges = np.array([t for note in notes for t in (note.start_s, note.start_s + note.dur_s)])
    near = np.zeros(len(times), bool)
    if len(edges):
        idx = np.searchsorted(edges, times)
        lo = np.abs(times - edges[np.clip(idx - 1, 0, len(edges) - 1)])
        hi = np.abs(times - edges[np.clip(idx, 0, len(edges) - 1)])
        near = np.minimum(lo, hi) <= BOUNDARY_S + 1e-9
    return f0, near


def _onsets(notes) -> list[tuple[int, bool]]:
    """(sample of each note onset, whether a rest precedes it)."""
    out, prev_end = [], -1.0
    for note in sorted(notes, key=lambda x: x.start_s):
        out.append((int(round(note.start_s * SAMPLE_RATE)), note.start_s - prev_end > 0.02))
        prev_end = note.start_s + note.dur_s
    return out


def _apply_effects(audio: np.ndarray, f0: np.ndarray, notes, effects, rng, room_ir) -> np.ndarray:
    """Sources first (breath, consonants, whispers), then the room they all sound in, then what the
    line adds (hum) and the mic gain: the order a real take is made in."""
    unknown = set(effects) - set(EFFECTS)
    if unknown:
        raise UserFacingError(f"unknown stand-in effect(s) {sorted(unknown)}; choose from {', '.join(EFFECTS)}")
    level = fx.db(TARGET_NOTE_DB + 3.0)  # RMS of a sine at the note loudness, roughly
    sounding = f0 > 0
    onsets = _onsets(notes)
    if "breath" in effects:
        audio = fx.add_breath(audio, sounding, level, rng)
    if "consonants" in effects:
        audio = fx.add_before_onsets(audio, onsets, lambda: fx.consonant_burst(rng, level), rng)
    if "espeak_consonants" in effects:
        audio = fx.add_before_onsets(audio, onsets, lambda: fx.espeak_consonant(rng, level), rng)
    if "whispers" in effects:
        audio = fx.add_whispers(audio, sounding, level, rng)
    if "room" in effects:
        audio = fx.add_room(audio, room_ir)
    if "hum" in effects:
        audio = fx.add_hum(audio, level, rng)
    if "low_mic" in effects:
        audio = fx.low_mic(audio)
    return audio


def _decay_frames(voice_only: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Rest frames where a note's own sound (its release; in a room its reverberation) is still above
    VOICED_LOUDNESS_DB, the level below which the kit never voices: the last note's pitch really
    sounds there, so neither voicing it nor not is an error. Measured on the render with the voice
    alone (no breath, hum or mic gain), whose notes sit at TARGET_NOTE_DB."""
    from sounds_kit.dsp.features import compute_loudness

    loud = compute_loudness(voice_only.astype(np.float32))
    return (f0 <= 0) & (loud > VOICED_LOUDNESS_DB)


def render_voice_type(voice: VoiceType, take: int = 0) -> StandIn:
    """Render one voice type (fluidsynth, plus espeak-ng for the speech effects).

    ``take`` picks other melodies, breaths and bursts from the same recipe: take 0 is the benchmark's,
    others are for tuning without fitting the benchmark.
    """
    from sounds_kit.data.midi import Note

    pieces, notes, bends, offset = [], [], [], 0.0
    for i, part in enumerate(voice.parts):
        audio, part_notes, part_bends = _render_part(part, voice.seconds, _seed(voice.name, i, take))
        pieces.append(audio)
        notes += [Note(n.start_s + offset, n.dur_s, n.pitch, n.velocity) for n in part_notes]
        # a bend at the join returns the channel to 0 for the next part's first note
        bends += [(offset, 0.0)] + [(t + offset, b) for t, b in part_bends]
        offset += len(audio) / SAMPLE_RATE
    dry = np.concatenate(pieces)
    f0, near = _truth(notes, bends, len(dry))
    room_ir = fx.room_impulse_response(_seed(voice.name, 98, take)) if "room" in voice.effects else None
    decay = _decay_frames(dry if room_ir is None else fx.add_room(dry, room_ir), f0)
    audio = _apply_effects(dry, f0, notes, voice.effects, _seed(voice.name, 99, take), room_ir)
    peak = float(np.max(np.abs(audio)))
    if peak > 0.99:  # a room or hum could push a loud note over full scale
        audio *= 0.99 / peak
    return StandIn(voice.name, audio.astype(np.float32), f0.astype(np.float32), near, decay)


def _cache_key(voice: VoiceType, take: int) -> str:
    from sounds_kit.data.fluid import find_soundfont

    soundfont = str(find_soundfont("fluidr3"))
    spec = {"voice": voice.__dict__, "version": CACHE_VERSION, "take": take, "soundfont": soundfont}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def render_stand_in(name: str, cache_dir: str | Path | None = None, take: int = 0) -> StandIn:
    """The stand-in ``name`` (a key of VOICE_TYPES), from ``cache_dir`` when rendered before."""
    if name not in VOICE_TYPES:
        raise UserFacingError(f"unknown stand-in voice type {name!r}; choose from {', '.join(VOICE_TYPES)}")
    voice = VOICE_TYPES[name]
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{name}-{take}-{_cache_key(voice, take)}.npz"
        if path.exists():
            data = np.load(path)
            return StandIn(name, *(data[k] for k in ("audio", "f0_hz", "near_boundary", "decay")))
    stand_in = render_voice_type(voice, take)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        arrays = {k: getattr(stand_in, k) for k in ("audio", "f0_hz", "near_boundary", "decay")}
        np.savez(tmp, **arrays)
        tmp.replace(path)
    return stand_in


def stand_in_set(names: list[str] | None = None, cache_dir: str | Path | None = None, take: int = 0) -> list[StandIn]:
    """Every voice type (or ``names``), rendered or read from the cache."""
    return [render_stand_in(n, cache_dir, take) for n in (names or list(VOICE_TYPES))]
