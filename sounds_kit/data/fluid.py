"""Render MIDI to audio with the fluidsynth command-line synthesizer.

fluidsynth renders at 44.1 kHz (rendering at 16 kHz loses ~12 dB in 6-8 kHz),
with chorus and reverb off so the audio is the dry instrument; the stereo output
is averaged to mono and resampled to the kit's rate with soxr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from sounds_kit.conventions import SAMPLE_RATE
from sounds_kit.data.midi import Note, Track, track_end_s, write_midi
from sounds_kit.errors import UserFacingError

RENDER_RATE = 44_100
DEFAULT_GAIN = 0.5  # fluidsynth's default 0.2 leaves a solo instrument ~20 dB below full scale

# name -> candidate file names, best first; sf2 before sf3 because the lossy sf3
# has to be decoded on load.
SOUNDFONTS: dict[str, tuple[str, ...]] = {
    "fluidr3": ("FluidR3_GM.sf2", "FluidR3_GM.sf3"),
    "musescore": ("MuseScore_General.sf2", "MuseScore_General_Full.sf3", "MuseScore_General.sf3"),
}
SOUNDFONT_DIRS = (
    "/usr/share/sounds/sf2",
    "/usr/share/sounds/sf3",
    "/usr/share/soundfonts",
    "/usr/local/share/soundfonts",
    "~/.local/share/soundfonts",
)
_INSTALL_HINT = {
    "fluidr3": "apt-get install fluid-soundfont-gm",
    "musescore": "apt-get install musescore-general-soundfont",
}


def _search_dirs() -> list[Path]:
    extra = os.environ.get("SOUNDS_KIT_SOUNDFONT_DIR")
    dirs = ([extra] if extra else []) + list(SOUNDFONT_DIRS)
    return [Path(d).expanduser() for d in dirs]


def find_soundfont(name: str = "fluidr3") -> Path:
    """Path of a named soundfont (``fluidr3`` or ``musescore``) or of an existing .sf2/.sf3 file.

    Looks in ``$SOUNDS_KIT_SOUNDFONT_DIR`` first, then the usual system folders.
    """
    as_path = Path(name).expanduser()
    if as_path.suffix.lower() in (".sf2", ".sf3"):
        if as_path.is_file():
            return as_path
        raise UserFacingError(f"soundfont {as_path} does not exist")
    key = name.lower().replace("-", "").replace("_", "")
    if key not in SOUNDFONTS:
        choices = ", ".join(SOUNDFONTS)
        raise UserFacingError(f"unknown soundfont {name!r}; choose one of {choices} or a file path")
    for filename in SOUNDFONTS[key]:
        for folder in _search_dirs():
            if (folder / filename).is_file():
                return folder / filename
    raise UserFacingError(
        f"soundfont {name!r} not found in {', '.join(str(d) for d in _search_dirs())}; "
        f"install it ({_INSTALL_HINT[key]}) or set SOUNDS_KIT_SOUNDFONT_DIR"
    )


def fluidsynth_path() -> str:
    """The fluidsynth executable, or a clear error saying how to install it."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise UserFacingError(
            "fluidsynth is not installed (needed to render demo audio): "
            "apt-get install fluidsynth, brew install fluid-synth, or conda install -c conda-forge fluidsynth"
        )
    return exe


def _run_fluidsynth(midi_paths: Sequence[Path], soundfont: Path, wav_path: Path, gain: float) -> None:
    # -C 0 -R 0: dry sound, no chorus or reverb; float output cannot clip (the caller sets the level)
    opts = ["-ni", "-q", "-C", "0", "-R", "0", "-g", str(gain), "-r", str(RENDER_RATE), "-O", "float"]
    # dynamic sample loading reads only the presets the MIDI uses: the sf3 loads in ~1 s instead of ~6
    opts += ["-T", "wav", "-o", "synth.cpu-cores=1", "-o", "synth.dynamic-sample-loading=1", "-F", str(wav_path)]
    cmd = [fluidsynth_path(), *opts, str(soundfont), *map(str, midi_paths)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not wav_path.exists():
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UserFacingError(f"fluidsynth failed (exit {proc.returncode}): {' | '.join(detail)}")


def render_midi(
    midi_path: str | Path,
    soundfont: str | Path | None = None,
    sr: int = SAMPLE_RATE,
    gain: float = DEFAULT_GAIN,
    duration_s: float | None = None,
) -> np.ndarray:
    """Render a MIDI file to mono float32 audio at ``sr`` (default 16 kHz).

    ``soundfont`` is a name for :func:`find_soundfont` or a path; default FluidR3.
    fluidsynth runs ~2 s past the end of the file; ``duration_s`` cuts (or
    zero-pads) the result to an exact length.
    """
    import soundfile as sf

    from sounds_kit.data.audio_io import resample, to_mono

    midi_path = Path(midi_path)
    if not midi_path.is_file():
        raise UserFacingError(f"{midi_path}: no such MIDI file")
    sf_path = find_soundfont(str(soundfont) if soundfont is not None else "fluidr3")
    with tempfile.TemporaryDirectory(prefix="sounds-kit-fluid-") as tmp:
        wav = Path(tmp) / "render.wav"
        _run_fluidsynth([midi_path], sf_path, wav, gain)
        audio, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    audio = resample(to_mono(audio), rate, sr)
    if duration_s is not None:
        n = round(duration_s * sr)
        audio = np.pad(audio[:n], (0, max(0, n - len(audio))))
    return audio


def render_tracks(
    tracks: Track | Iterable[Track],
    soundfont: str | Path | None = None,
    sr: int = SAMPLE_RATE,
    gain: float = DEFAULT_GAIN,
    tail_s: float = 1.0,
) -> np.ndarray:
    """Render ``tracks`` through a temporary MIDI file (see :func:`render_midi`).

    The result lasts exactly until the last event plus ``tail_s`` seconds.
    """
    tracks = [tracks] if isinstance(tracks, Track) else list(tracks)
    duration = max((track_end_s(t) for t in tracks), default=0.0) + tail_s
    with tempfile.TemporaryDirectory(prefix="sounds-kit-midi-") as tmp:
        midi = write_midi(Path(tmp) / "tracks.mid", tracks, tail_s=tail_s)
        return render_midi(midi, soundfont=soundfont, sr=sr, gain=gain, duration_s=duration)


def render_notes(
    notes: Sequence[Note],
    program: int,
    soundfont: str | Path | None = None,
    sr: int = SAMPLE_RATE,
    bends: Sequence[tuple[float, float]] = (),
    bend_range: int = 2,
    expression: Sequence[tuple[float, int]] = (),
    release_timecents: int | None = None,
    gain: float = DEFAULT_GAIN,
    tail_s: float = 1.0,
) -> np.ndarray:
    """Render notes on one GM ``program`` (0-based) to mono float32 audio at ``sr``."""
    track = Track(
        notes=list(notes),
        program=program,
        bend_range=bend_range,
        bends=list(bends),
        expression=list(expression),
        release_timecents=release_timecents,
    )
    return render_tracks(track, soundfont=soundfont, sr=sr, gain=gain, tail_s=tail_s)
