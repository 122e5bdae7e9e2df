"""The MIDI writer's bytes, and fluidsynth renders of known phrases at the right pitch."""

from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest

from sounds_kit.conventions import SAMPLE_RATE
from sounds_kit.data.midi import Note, Track, bend_value, midi_bytes, write_midi
from sounds_kit.errors import UserFacingError

needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth not installed")


def _read_vlq(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    while True:
        b = data[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, i


def _parse(data: bytes) -> tuple[tuple[int, int, int], list[list[tuple[int, bytes]]]]:
    """(format, ntracks, division) and per track [(absolute tick, message)] - an independent reader."""
    assert data[:4] == b"MThd"
    fmt, ntracks, division = struct.unpack(">HHH", data[8:14])
    i, tracks = 14, []
    for _ in range(ntracks):
        assert data[i : i + 4] == b"MTrk"
        (length,) = struct.unpack(">I", data[i + 4 : i + 8])
        body, i = data[i + 8 : i + 8 + length], i + 8 + length
        j, tick, events = 0, 0, []
        while j < len(body):
            delta, j = _read_vlq(body, j)
            tick += delta
            status = body[j]
            if status == 0xFF:
                meta_len, k = _read_vlq(body, j + 2)
                events.append((tick, body[j : k + meta_len]))
                j = k + meta_len
            else:
                size = 2 if status & 0xF0 in (0xC0, 0xD0) else 3
                events.append((tick, body[j : j + size]))
                j += size
        tracks.append(events)
    return (fmt, ntracks, division), tracks


def test_midi_file_structure_and_messages():
    track = Track(
        notes=[Note(0.5, 1.0, 62, 90), Note(1.5, 0.5, 62, 70)],
        program=111,
        channel=2,
        bend_range=12,
        bends=[(0.5, 0.0), (1.0, -12.0), (1.2, 6.0)],
        expression=[(0.5, 100), (1.4, 40)],
        release_timecents=-2400,
    )
    header, tracks = _parse(midi_bytes(track, tempo_bpm=120, ticks_per_beat=960))
    assert header == (1, 2, 960)
    assert tracks[0][0][1][:3] == b"\xff\x51\x03" and int.from_bytes(tracks[0][0][1][3:], "big") == 500_000
    events = tracks[1]
    msgs = [m for _, m in events]
    assert bytes([0xC2, 111]) in msgs
    # RPN 0 = 12 semitones, then the null RPN
    rpn = [m for m in msgs if m[0] == 0xB2 and m[1] in (101, 100, 6)]
    assert rpn[:3] == [bytes([0xB2, 101, 0]), bytes([0xB2, 100, 0]), bytes([0xB2, 6, 12])]
    # NRPN 120/38 data = 8192 - 1200
    data = [m[2] for m in msgs if m[0] == 0xB2 and m[1] in (6, 38)]
    assert (data[2] << 7) | data[3] == 8192 - 1200
    bends = [(t, m[1] | (m[2] << 7)) for t, m in events if m[0] == 0xE2]
    assert bends == [(960, 8192), (1920, 0), (2304, 8192 + 4096)]
    ons = [(t, m[1], m[2]) for t, m in events if m[0] == 0x92]
    offs = [(t, m[1]) for t, m in events if m[0] == 0x82]
    assert ons == [(960, 62, 90), (2880, 62, 70)]
    assert offs == [(2880, 62), (3840, 62)]
    # the repeated pitch: note off sorts before the next note on at the same tick
    i_off = next(i for i, (t, m) in enumerate(events) if t == 2880 and m[0] == 0x82)
    i_on = next(i for i, (t, m) in enumerate(events) if t == 2880 and m[0] == 0x92)
    assert i_off < i_on
    expression = [m for _, m in events if m[0] == 0xB2 and m[1] == 11]
    assert expression == [bytes([0xB2, 11, 100]), bytes([0xB2, 11, 40])]
    assert events[-1][1] == b"\xff\x2f\x00" and events[-1][0] == round((2.0 + 1.0) * 1920)


def test_bend_value_and_validation():
    assert bend_value(0, 2) == 8192
    assert bend_value(2, 2) == 16383 and bend_value(-2, 2) == 0
    assert bend_value(12, 24) == 8192 + 4096
    with pytest.raises(UserFacingError, match="range"):
        midi_bytes(Track(bend_range=30))
    with pytest.raises(UserFacingError, match="exceeds"):
        midi_bytes(Track(bend_range=2, bends=[(0.0, 3.0)]))
    with pytest.raises(UserFacingError, match="pitch"):
        midi_bytes(Track(notes=[Note(0, 1, 130)]))


def _peak_midi(audio: np.ndarray, start_s: float, dur_s: float = 0.2) -> float:
    """MIDI pitch of the strongest FFT peak in a window (zero-padded, Hann)."""
    seg = audio[int(start_s * SAMPLE_RATE) : int((start_s + dur_s) * SAMPLE_RATE)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 1 << 17))
    k = int(np.argmax(spec[1:])) + 1
    # parabolic interpolation on log magnitude for sub-bin accuracy
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-12)
    k_ref = k + 0.5 * (a - c) / (a - 2 * b + c)
    f = k_ref * SAMPLE_RATE / (1 << 17)
    return 69 + 12 * np.log2(f / 440.0)


@needs_fluidsynth
def test_render_known_phrase_pitches_and_bends(tmp_path):
    from sounds_kit.data.fluid import render_midi, render_notes

    # Flute, A4 then C5 with a +7 semitone bend mid-way through the second note
    notes = [Note(0.1, 0.8, 69, 100), Note(1.0, 1.0, 72, 100)]
    bends = [(0.0, 0.0), (1.5, 7.0)]
    audio = render_notes(notes, program=73, bends=bends, bend_range=12)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == 3 * SAMPLE_RATE  # 2 s of notes + 1 s tail
    assert 0.01 < np.max(np.abs(audio)) < 1.0
    assert abs(_peak_midi(audio, 0.4) - 69) < 0.2
    assert abs(_peak_midi(audio, 1.2) - 72) < 0.2
    assert abs(_peak_midi(audio, 1.7) - 79) < 0.2
    # render_midi reads a written file the same way
    path = write_midi(tmp_path / "a.mid", Track(notes=[Note(0.0, 0.6, 62, 100)], program=73))
    again = render_midi(path)
    assert len(again) > 1.6 * SAMPLE_RATE  # fluidsynth's own end: the file's end plus ring-out
    assert len(render_midi(path, duration_s=0.5)) == SAMPLE_RATE // 2
    assert abs(_peak_midi(again, 0.2) - 62) < 0.2


@needs_fluidsynth
def test_render_with_kit_tracker_if_available():
    features = pytest.importorskip("sounds_kit.dsp.features")
    from sounds_kit.data.fluid import render_notes

    audio = render_notes([Note(0.1, 1.2, 67, 100)], program=73)
    f = features.compute_features(audio)
    t = np.arange(len(f["f0_hz"])) / (SAMPLE_RATE / 64)
    sel = (t > 0.3) & (t < 1.2) & (f["f0_confidence"] > 0.5)
    assert sel.sum() > 100
    cents = 1200 * np.log2(f["f0_hz"][sel] / (440 * 2 ** ((67 - 69) / 12)))
    assert abs(np.median(cents)) < 20


@needs_fluidsynth
def test_short_release_silences_tail():
    from sounds_kit.data.fluid import render_notes

    def tail_rms(release):
        audio = render_notes([Note(0.1, 0.5, 69, 100)], program=40, release_timecents=release)
        return float(np.sqrt(np.mean(audio[int(0.7 * SAMPLE_RATE) : int(0.8 * SAMPLE_RATE)] ** 2)))

    assert tail_rms(-4800) < 0.1 * tail_rms(None)


def test_missing_soundfont_and_fluidsynth_messages(monkeypatch, tmp_path):
    from sounds_kit.data import fluid

    with pytest.raises(UserFacingError, match="unknown soundfont"):
        fluid.find_soundfont("nope")
    with pytest.raises(UserFacingError, match="does not exist"):
        fluid.find_soundfont(str(tmp_path / "x.sf2"))
    monkeypatch.setattr(fluid.shutil, "which", lambda _name: None)
    with pytest.raises(UserFacingError, match="fluidsynth is not installed"):
        fluid.fluidsynth_path()
