"""A small Standard MIDI File writer for rendering demo data with fluidsynth.

Times are in seconds; the writer turns them into ticks at a fixed tempo. One
:class:`Track` is one instrument on one MIDI channel: notes, a program, pitch
bends (for meend/gamak) over a range set with RPN 0, CC11 expression curves and
an optional shorter release (fluidsynth's NRPN for the release generator).

    >>> track = Track(notes=[Note(0.0, 1.0, 62, 90)], program=73, bend_range=12,
    ...               bends=[(0.5, 2.0)], expression=[(0.0, 100), (1.0, 60)])
    >>> write_midi("/tmp/phrase.mid", track)  # doctest: +SKIP
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sounds_kit.errors import UserFacingError

MAX_BEND_RANGE = 24
"""Semitones fluidsynth honours through RPN 0 (measured +23.7/-23.9)."""

TICKS_PER_BEAT = 960
DEFAULT_TEMPO_BPM = 120.0  # with 960 ticks per beat one tick is ~0.52 ms

# fluidsynth maps NRPN MSB 120 + LSB n to SoundFont generator n; 38 is volEnvRelease,
# whose NRPN unit is 2 timecents around a centre of 8192.
_NRPN_SF_GENERATOR = 120
_GEN_VOL_ENV_RELEASE = 38

# Events at the same tick sort by this rank: a note off first (so a repeated pitch
# restarts cleanly), then setup, then controllers/bends, then note ons, so each new
# note starts with the bend and expression meant for it.
_RANK_NOTE_OFF, _RANK_SETUP, _RANK_CONTROL, _RANK_NOTE_ON, _RANK_END = range(5)


@dataclass(frozen=True)
class Note:
    """One note: start and duration in seconds, MIDI pitch 0-127, velocity 1-127."""

    start_s: float
    dur_s: float
    pitch: int
    velocity: int = 100


@dataclass(frozen=True)
class Track:
    """One instrument on one channel.

    ``bends`` are (time_s, semitones) points sent as 14-bit pitch-bend messages,
    within +-``bend_range`` semitones; ``expression`` are (time_s, 0-127) CC11
    values; ``controls`` are extra (time_s, cc_number, value) messages.
    ``release_timecents`` (negative = shorter) shifts the release time of every
    new voice, so legato notes do not ring into each other.
    """

    notes: Sequence[Note] = ()
    program: int = 0
    channel: int = 0
    bend_range: int = 2
    bends: Sequence[tuple[float, float]] = ()
    expression: Sequence[tuple[float, int]] = ()
    controls: Sequence[tuple[float, int, int]] = ()
    release_timecents: int | None = None
    name: str = ""
    volume: int = 100


def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    if value < 0:
        raise ValueError("delta time must be non-negative")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _check(track: Track) -> None:
    if not 0 <= track.channel <= 15:
        raise UserFacingError(f"MIDI channel must be 0-15, got {track.channel}")
    if not 0 <= track.program <= 127:
        raise UserFacingError(f"MIDI program must be 0-127, got {track.program}")
    if not 1 <= track.bend_range <= MAX_BEND_RANGE:
        raise UserFacingError(f"pitch-bend range must be 1-{MAX_BEND_RANGE} semitones, got {track.bend_range}")
    for n in track.notes:
        if not 0 <= n.pitch <= 127:
            raise UserFacingError(f"MIDI pitch must be 0-127, got {n.pitch}")
        if n.start_s < 0 or n.dur_s <= 0:
            raise UserFacingError(f"note at {n.start_s:.3f} s needs start >= 0 and duration > 0")
    for t, semis in track.bends:
        if abs(semis) > track.bend_range + 1e-9:
            raise UserFacingError(
                f"bend of {semis:+.2f} semitones at {t:.3f} s exceeds the range of {track.bend_range}"
            )


def bend_value(semitones: float, bend_range: int) -> int:
    """14-bit pitch-bend value (0..16383, centre 8192) for a bend in semitones."""
    value = 8192 + round(semitones / bend_range * 8192)
    return max(0, min(16383, value))


def _cc(ch: int, cc: int, value: int) -> bytes:
    return bytes([0xB0 | ch, cc & 0x7F, max(0, min(127, int(value)))])


def _setup_messages(track: Track) -> list[bytes]:
    ch = track.channel
    msgs = [
        bytes([0xC0 | ch, track.program]),
        _cc(ch, 7, track.volume),
        # RPN 0 (pitch-bend sensitivity): semitones in data entry MSB, cents in LSB;
        # then the null RPN so later data entry messages change nothing by accident.
        _cc(ch, 101, 0),
        _cc(ch, 100, 0),
        _cc(ch, 6, track.bend_range),
        _cc(ch, 38, 0),
        _cc(ch, 101, 127),
        _cc(ch, 100, 127),
    ]
    if track.release_timecents is not None:
        data = max(0, min(16383, 8192 + round(track.release_timecents / 2)))
        msgs += [
            _cc(ch, 99, _NRPN_SF_GENERATOR),
            _cc(ch, 98, _GEN_VOL_ENV_RELEASE),
            _cc(ch, 6, data >> 7),
            _cc(ch, 38, data & 0x7F),
            _cc(ch, 99, 127),
            _cc(ch, 98, 127),
        ]
    return msgs


def _track_events(track: Track, seconds_to_ticks) -> list[tuple[int, int, bytes]]:
    """(tick, rank, message bytes) for one track."""
    ch = track.channel
    events: list[tuple[int, int, bytes]] = [(0, _RANK_SETUP, m) for m in _setup_messages(track)]
    if track.name:
        name = track.name.encode("utf-8")[:127]
        events.insert(0, (0, _RANK_SETUP - 1, b"\xff\x03" + _vlq(len(name)) + name))
    for t, semis in track.bends:
        v = bend_value(semis, track.bend_range)
        events.append((seconds_to_ticks(t), _RANK_CONTROL, bytes([0xE0 | ch, v & 0x7F, v >> 7])))
    for t, value in track.expression:
        events.append((seconds_to_ticks(t), _RANK_CONTROL, _cc(ch, 11, value)))
    for t, cc, value in track.controls:
        events.append((seconds_to_ticks(t), _RANK_CONTROL, _cc(ch, cc, value)))
    for n in track.notes:
        vel = max(1, min(127, int(n.velocity)))
        on, off = seconds_to_ticks(n.start_s), seconds_to_ticks(n.start_s + n.dur_s)
        events.append((on, _RANK_NOTE_ON, bytes([0x90 | ch, n.pitch, vel])))
        events.append((max(off, on + 1), _RANK_NOTE_OFF, bytes([0x80 | ch, n.pitch, 0])))
    return events


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body)) + body


def _encode_track(events: list[tuple[int, int, bytes]]) -> bytes:
    body = bytearray()
    now = 0
    for tick, _rank, msg in sorted(events, key=lambda e: (e[0], e[1])):
        body += _vlq(tick - now) + msg
        now = tick
    return _chunk(b"MTrk", bytes(body))


def track_end_s(track: Track) -> float:
    """Time of the last event of a track, in seconds."""
    times = [n.start_s + n.dur_s for n in track.notes]
    times += [t for t, _ in track.bends] + [t for t, _ in track.expression] + [t for t, *_ in track.controls]
    return max(times, default=0.0)


def midi_bytes(
    tracks: Track | Iterable[Track],
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    ticks_per_beat: int = TICKS_PER_BEAT,
    tail_s: float = 1.0,
) -> bytes:
    """The bytes of a format-1 Standard MIDI File (a tempo track, then one track each).

    ``tail_s`` of silence after the last event lets release tails ring out before
    a renderer stops at the end of the file.
    """
    tracks = [tracks] if isinstance(tracks, Track) else list(tracks)
    for t in tracks:
        _check(t)
    ticks_per_s = ticks_per_beat * tempo_bpm / 60.0

    def seconds_to_ticks(t: float) -> int:
        return max(0, round(float(t) * ticks_per_s))

    end_tick = seconds_to_ticks(max((track_end_s(t) for t in tracks), default=0.0) + tail_s)
    end = (end_tick, _RANK_END, b"\xff\x2f\x00")
    usec_per_beat = round(60_000_000 / tempo_bpm)
    tempo = [(0, _RANK_SETUP, b"\xff\x51\x03" + usec_per_beat.to_bytes(3, "big")), end]
    chunks = [_encode_track(tempo)]
    chunks += [_encode_track(_track_events(t, seconds_to_ticks) + [end]) for t in tracks]
    header = _chunk(b"MThd", struct.pack(">HHH", 1, len(chunks), ticks_per_beat))
    return header + b"".join(chunks)


def write_midi(
    path: str | Path,
    tracks: Track | Iterable[Track],
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    ticks_per_beat: int = TICKS_PER_BEAT,
    tail_s: float = 1.0,
) -> Path:
    """Write ``tracks`` as a Standard MIDI File at ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(midi_bytes(tracks, tempo_bpm=tempo_bpm, ticks_per_beat=ticks_per_beat, tail_s=tail_s))
    return path
