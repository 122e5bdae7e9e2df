"""Per-instrument recipes for demo data: which soundfont and GM program, range, Sa, style.

The choices (and the candidates they beat) are explained in docs/demo-data.md.
Ranges and Sa follow the real instruments where the samples allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sounds_kit.atomic import staging_dir
from sounds_kit.data.demo_music import Passage, Style
from sounds_kit.errors import UserFacingError


@dataclass(frozen=True)
class InstrumentRecipe:
    """How to render one demo instrument or stand-in singer."""

    name: str
    soundfont: str  # a name for fluid.find_soundfont
    program: int  # General MIDI program, 0-based
    sa: int  # MIDI note of the tonic
    low: int  # lowest and highest MIDI note the melodies use
    high: int
    style: Style
    gain: float = 1.0  # applied after rendering so phrases peak around -6 dBFS
    release_timecents: int | None = -1800  # shorter release: legato notes do not ring into each other
    bend_range: int = 12
    description: str = ""


RECIPES: dict[str, InstrumentRecipe] = {
    r.name: r
    for r in (
        InstrumentRecipe(
            name="bansuri",
            soundfont="fluidr3",
            program=77,  # Shakuhachi: breathy bamboo flute
            sa=64,  # E4: a medium E bansuri, the common concert size
            low=59,  # mandra Pa (all holes closed)
            high=86,  # taar Re
            style=Style(meend_prob=0.3, meend_max=5, kan_prob=0.25, gamak_prob=0.05, vibrato_depth=(0.08, 0.25)),
            gain=3.5,
            description="bamboo flute: breathy tone, kan and meend, gentle vibrato",
        ),
        InstrumentRecipe(
            name="shehnai",
            soundfont="fluidr3",
            program=111,  # Shanai
            sa=62,  # D4
            low=57,  # mandra Pa
            high=81,  # taar Pa
            style=Style(meend_prob=0.45, meend_max=7, kan_prob=0.15, gamak_prob=0.15, vibrato_depth=(0.15, 0.4)),
            gain=6.0,
            description="double reed: bright and nasal, long meend and wide vibrato",
        ),
        InstrumentRecipe(
            name="sarangi",
            soundfont="musescore",
            program=40,  # Violin: MuseScore's recording keeps the bow noise
            sa=60,  # C4
            low=55,  # mandra Pa (violin's lowest string)
            high=84,  # taar Sa
            style=Style(meend_prob=0.55, meend_max=9, kan_prob=0.1, gamak_prob=0.2, vibrato_depth=(0.1, 0.35)),
            gain=6.5,
            description="bowed: continuous meend and gamak, vocal phrasing",
        ),
        InstrumentRecipe(
            name="voice_male",
            soundfont="fluidr3",
            program=53,  # Voice Oohs
            sa=49,  # C#3, a common male tonic
            low=44,
            high=68,
            style=Style(meend_prob=0.4, meend_max=5, kan_prob=0.1, gamak_prob=0.1, vibrato_depth=(0.15, 0.4)),
            gain=5.5,
            description="stand-in male singer",
        ),
        InstrumentRecipe(
            name="voice_female",
            soundfont="fluidr3",
            program=53,  # Voice Oohs: Choir Aahs is an ensemble that pitch trackers cannot follow
            sa=56,  # G#3, a common female tonic
            low=51,
            high=76,
            style=Style(meend_prob=0.4, meend_max=5, kan_prob=0.1, gamak_prob=0.1, vibrato_depth=(0.15, 0.4)),
            gain=4.5,
            description="stand-in female singer",
        ),
    )
}

INSTRUMENTS = tuple(RECIPES)


def get_recipe(name: str) -> InstrumentRecipe:
    """The recipe for ``name`` (bansuri, shehnai, sarangi, voice_male, voice_female)."""
    try:
        return RECIPES[name.lower().replace("-", "_")]
    except KeyError:
        raise UserFacingError(f"unknown instrument {name!r}; choose one of {', '.join(INSTRUMENTS)}") from None


# ---------------------------------------------------------------------------------------------
# Rendering a demo data set

BATCH_SECONDS = 300.0  # passages rendered per fluidsynth call: amortises soundfont loading
TAIL_S = 1.0  # ring-out after each passage's last note
PEAK_LIMIT = 0.95  # a file that would peak above this is scaled down (and says so in notes.json)


def _batches(passages: list[Passage]) -> list[list[int]]:
    out: list[list[int]] = [[]]
    total = 0.0
    for i, p in enumerate(passages):
        if out[-1] and total + p.end_s > BATCH_SECONDS:
            out.append([])
            total = 0.0
        out[-1].append(i)
        total += p.end_s + TAIL_S
    return out


def render_passages(recipe: InstrumentRecipe, passages: list[Passage], progress: bool = True) -> list[np.ndarray]:
    """Audio (16 kHz mono float32) of each passage, each lasting its end + TAIL_S seconds.

    Passages are laid end to end on whole-second offsets (whole ticks and samples),
    rendered in a few fluidsynth calls and cut apart again.
    """
    from tqdm.auto import tqdm

    from sounds_kit.conventions import SAMPLE_RATE
    from sounds_kit.data.fluid import render_tracks
    from sounds_kit.data.midi import Track

    out: list[np.ndarray] = [np.zeros(0, np.float32)] * len(passages)
    batches = _batches(passages)
    bar = tqdm(
        total=sum(p.end_s + TAIL_S for p in passages),
        unit="s",
        desc=f"render {recipe.name}",
        disable=not progress,
        bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]",
    )
    for batch in batches:
        offsets, t = [], 0.0
        for i in batch:
            offsets.append(t)
            t = float(np.ceil(t + passages[i].end_s + TAIL_S))
        laid = [passages[i].shifted(off) for i, off in zip(batch, offsets, strict=True)]
        track = Track(
            notes=[n for p in laid for n in p.notes],
            program=recipe.program,
            bend_range=recipe.bend_range,
            bends=[b for p in laid for b in p.bends],
            expression=[e for p in laid for e in p.expression],
            release_timecents=recipe.release_timecents,
            name=recipe.name,
        )
        audio = render_tracks(track, soundfont=recipe.soundfont, tail_s=TAIL_S)
        for i, off in zip(batch, offsets, strict=True):
            start, length = round(off * SAMPLE_RATE), round((passages[i].end_s + TAIL_S) * SAMPLE_RATE)
            piece = audio[start : start + length]
            out[i] = np.pad(piece, (0, length - len(piece))).astype(np.float32)
            bar.update(passages[i].end_s + TAIL_S)
    bar.close()
    return out


def _passage_json(p: Passage, file: str, audio: np.ndarray, gain: float) -> dict:
    from sounds_kit.conventions import SAMPLE_RATE

    return {
        "file": file,
        "source": p.source,
        "duration_s": round(len(audio) / SAMPLE_RATE, 4),
        "gain": round(gain, 4),
        "notes": [{"start_s": n.start_s, "dur_s": n.dur_s, "pitch": n.pitch, "velocity": n.velocity} for n in p.notes],
        "bends": [[t, v] for t, v in p.bends],
        "expression": [[t, v] for t, v in p.expression],
    }


def render_demo_data(
    instrument: str,
    out_dir: str | Path,
    minutes: float = 15.0,
    seed: int = 0,
    file_seconds: float = 45.0,
    source: str = "all",
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Render ``minutes`` of demo audio for ``instrument`` into ``out_dir``; returns notes.json's content.

    Writes ``<instrument>_NNN.wav`` (16 kHz mono 16-bit, one per passage) and
    ``notes.json`` (the ground truth: per file the notes, pitch bends in semitones
    and CC11 curve). Everything is built in a temporary folder and renamed into
    place, so an interrupted run leaves nothing half-written.
    """
    import json
    import os
    import shutil

    from sounds_kit._version import __version__
    from sounds_kit.conventions import SAMPLE_RATE
    from sounds_kit.data.audio_io import save_audio
    from sounds_kit.data.demo_music import compose
    from sounds_kit.data.fluid import find_soundfont

    recipe = get_recipe(instrument)
    if minutes <= 0:
        raise UserFacingError(f"--minutes must be positive, got {minutes}")
    if seed < 0:
        raise UserFacingError(f"--seed must be >= 0, got {seed}")
    if file_seconds < 5:
        raise UserFacingError(f"file length must be at least 5 s, got {file_seconds}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserFacingError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise UserFacingError(f"{out_dir} is not empty; choose another folder or pass --overwrite")
    soundfont = find_soundfont(recipe.soundfont)
    passages = compose(
        recipe.name,
        recipe.sa,
        recipe.low,
        recipe.high,
        minutes * 60.0,
        seed=seed,
        file_seconds=file_seconds,
        style=recipe.style,
        source=source,
        tail_s=TAIL_S,
    )
    audios = render_passages(recipe, passages, progress=progress)
    tmp = staging_dir(out_dir)
    try:
        files = []
        for i, (p, audio) in enumerate(zip(passages, audios, strict=True)):
            peak = float(np.max(np.abs(audio))) * recipe.gain
            gain = recipe.gain * min(1.0, PEAK_LIMIT / peak) if peak > 0 else recipe.gain
            name = f"{recipe.name}_{i:03d}.wav"
            save_audio(tmp / name, audio * gain, SAMPLE_RATE)
            files.append(_passage_json(p, name, audio, gain))
        meta = {
            "instrument": recipe.name,
            "soundfont": soundfont.name,
            "program": recipe.program,
            "sa_midi": recipe.sa,
            "range_midi": [recipe.low, recipe.high],
            "bend_range": recipe.bend_range,
            "seed": seed,
            "minutes": minutes,
            "sample_rate": SAMPLE_RATE,
            "kit_version": __version__,
            "pitch": "sounding MIDI pitch = note pitch + last bend (semitones) at or before t; "
            "silent outside notes (see sounds_kit.data.demo_music.sounding_midi)",
            "files": files,
        }
        (tmp / "notes.json").write_text(json.dumps(meta, indent=1))
        if out_dir.exists():
            shutil.rmtree(out_dir)  # empty, or --overwrite
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta
