"""The sing widget: sing (or hand over a clip) and hear it played by a DDSP instrument in the browser.

Python's side of the conversation is small on purpose. It finds an instrument's files (a shipped
``models/<name>`` or any exported MODEL_DIR), sends their bytes to the front end once it says it is
ready (Colab drops binary *initial* state, so nothing binary goes into traits), and receives takes
back as float32 buffers. Everything audio happens in the browser.

Message protocol (anywidget custom messages; JSON content + binary buffers):

Python -> browser
  {"type": "model", "key", "name", "files": [names]}      buffers: one per file, same order
  {"type": "model_error", "key", "message"}                no buffers
  {"type": "transform", "id", "sample_rate": 16000}       buffers: [float32 mono audio]
Browser -> Python
  {"type": "ready"}                                        the view is listening: send the model
  {"type": "take", "id", "sample_rate", "source"}         buffers: [float32 take]
  {"type": "output", "id", "sample_rate", "instrument"}   buffers: [float32 rendered take]
  {"type": "transform_error", "id", "message"}            a transform request could not run
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import traitlets

from sounds_kit import conventions
from sounds_kit.conventions import SAMPLE_RATE
from sounds_kit.errors import ModelFileError
from sounds_kit.instrument.load import SHIPPED as SHIPPED_INSTRUMENTS
from sounds_kit.instrument.load import model_search_path  # noqa: F401 - re-exported for callers of this module
from sounds_kit.instrument.load import resolve_model_dir as resolve_instrument
from sounds_kit.widgets.base import KitWidget

if TYPE_CHECKING:
    from sounds_kit.publish import SiteReport

RAGAS = tuple(conventions.RAGAS)  # the one raga table (conventions.py), also drawn by the widget
OCTAVE_RANGE = (-2, 2)
GAIN_RANGE_DB = (-24.0, 12.0)
# What a published page (``publish``) takes over from the widget; the rest starts at its default.
PAGE_SETTINGS = ("raga", "sa_hz", "auto_fit", "octave_shift", "gain_db", "room", "tanpura", "tanpura_gain_db")
MAX_TRANSFORM_SECONDS = 120.0  # a browser-side render of longer clips would freeze the page for long

_NOTE_RE = re.compile(r"^\s*([A-Ga-g])([#b]?)(-?\d)\s*$")
_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_to_hz(note: str | float) -> float:
    """'C#3' / 'Db3' / 138.6 -> Hz (A4 = 440 Hz). Numbers pass through."""
    if isinstance(note, (int, float)) and not isinstance(note, bool):
        hz = float(note)
    else:
        m = _NOTE_RE.match(str(note))
        if not m:
            raise ValueError(f"Sa must be a note like 'C#3' or a frequency in Hz, got {note!r}")
        letter, accidental, octave = m.groups()
        semis = _SEMITONES[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]
        midi = 12 * (int(octave) + 1) + semis
        hz = float(conventions.midi_to_hz(midi))
    if not 40.0 <= hz <= 1000.0:
        raise ValueError(f"Sa = {hz:.1f} Hz is outside the sung range (40..1000 Hz)")
    return hz


def read_instrument_files(model_dir: str | Path) -> tuple[dict, dict[str, bytes]]:
    """metadata.json and every file it lists (model.json, weight shards, reverb...), as bytes.

    ``sounds_kit.instrument.export.browser_files`` checks each file against its hash here too, so a damaged
    folder fails in Python with its path in the message before anything is sent.
    """
    from sounds_kit.instrument.files import browser_files

    files = browser_files(model_dir)
    return json.loads(files["metadata.json"]), files


def describe_instrument(key: str) -> dict:
    """A picker entry: what to call it and whether its files are here."""
    try:
        model_dir = resolve_instrument(key)
        meta = json.loads((model_dir / "metadata.json").read_text())
        label = str(meta.get("display_name") or meta.get("name") or model_dir.name)
        return {"key": key, "label": label.capitalize() if label.islower() else label, "available": True}
    except (ModelFileError, OSError, ValueError):
        label = Path(key).name or key
        return {"key": key, "label": label.capitalize() if label.islower() else label, "available": False}


class SingWidget(KitWidget):
    """Sing into the notebook and hear a bansuri, shehnai or sarangi (or your own exported instrument).

    ``SingWidget(instrument="bansuri")`` shows a picker, a record button with a level meter, a live
    pitch trace over the swaras of a raga, an optional tanpura, playback of both takes and a Live
    switch. After a take, ``last_take`` (your voice) and ``last_output`` (the instrument) are float32
    numpy arrays at 16 kHz. Without a microphone (VS Code, plain http on a remote host) use
    :meth:`transform` with an array or a file; the result arrives in ``last_output`` and
    :meth:`on_output` callbacks.
    """

    _view = traitlets.Unicode("sing").tag(sync=True)

    instrument = traitlets.Unicode("bansuri").tag(sync=True)
    instrument_choices = traitlets.List(traitlets.Dict()).tag(sync=True)
    raga = traitlets.Enum(RAGAS, default_value=conventions.DEFAULT_RAGA).tag(sync=True)
    sa_hz = traitlets.Float(note_to_hz("C#3")).tag(sync=True)
    auto_fit = traitlets.Bool(True).tag(sync=True)
    octave_shift = traitlets.Int(0).tag(sync=True)
    gain_db = traitlets.Float(0.0).tag(sync=True)
    room = traitlets.Bool(True).tag(sync=True)  # the kit's default room (dsp/room); False: dry
    tanpura = traitlets.Bool(False).tag(sync=True)
    tanpura_gain_db = traitlets.Float(-12.0).tag(sync=True)
    live = traitlets.Bool(False).tag(sync=True)

    # Reported by the browser.
    status = traitlets.Unicode("Starting...").tag(sync=True)
    status_level = traitlets.Enum(("info", "warning", "error"), default_value="info").tag(sync=True)
    mic_state = traitlets.Unicode("unknown").tag(sync=True)
    model_state = traitlets.Unicode("none").tag(sync=True)
    backend = traitlets.Unicode("").tag(sync=True)
    engine_notes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    recording = traitlets.Bool(False).tag(sync=True)
    live_underruns = traitlets.Int(0).tag(sync=True)  # times the audio thread missed its deadline during Live
    live_latency_ms = traitlets.Float(0.0).tag(sync=True)  # voice in -> instrument out, measured in the page
    # measured_delay_ms, algorithm_ms, base_latency_ms and output_latency_ms (the sound card's side, as
    # the browser reports it), max_late_ms (how far the audio thread fell behind), seconds
    live_stats = traitlets.Dict({}).tag(sync=True)
    takes_received = traitlets.Int(0).tag(sync=True)
    outputs_received = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        instrument: str = "bansuri",
        instruments: Sequence[str] | None = None,
        raga: str = "yaman",
        sa: str | float = "C#3",
        **kwargs,
    ) -> None:
        keys = [str(k) for k in (instruments if instruments is not None else SHIPPED_INSTRUMENTS)]
        if instrument and str(instrument) not in keys:
            keys.insert(0, str(instrument))
        super().__init__(
            instrument=str(instrument or keys[0]),
            instrument_choices=[describe_instrument(k) for k in keys],
            raga=raga.lower(),
            sa_hz=note_to_hz(sa),
            **kwargs,
        )
        self._last_take: np.ndarray | None = None
        self._last_output: np.ndarray | None = None
        self._take_callbacks: list[Callable[[np.ndarray], None]] = []
        self._output_callbacks: list[Callable[[np.ndarray], None]] = []
        self._pending_transform: tuple[int, np.ndarray] | None = None
        self._next_id = 1
        self.on_msg(self._on_frontend_message)

    # --- what a person uses -------------------------------------------------------------------

    @property
    def last_take(self) -> np.ndarray | None:
        """The latest take (your voice, or the clip given to :meth:`transform`): float32, 16 kHz."""
        return self._last_take

    @property
    def last_output(self) -> np.ndarray | None:
        """The latest take as played by the instrument: float32, 16 kHz (arrives asynchronously)."""
        return self._last_output

    def on_take(self, callback: Callable[[np.ndarray], None], remove: bool = False) -> None:
        """Call ``callback(audio)`` whenever a new take reaches Python."""
        self._register(self._take_callbacks, callback, remove)

    def on_output(self, callback: Callable[[np.ndarray], None], remove: bool = False) -> None:
        """Call ``callback(audio)`` whenever the instrument's rendering of a take reaches Python."""
        self._register(self._output_callbacks, callback, remove)

    def transform(self, audio: np.ndarray | str | Path, sample_rate: int | None = None) -> int:
        """Send audio (array or file) to the browser to be played by the instrument; returns at once.

        The kernel cannot wait for the browser (its reply is handled only after this cell ends), so the
        result arrives later in :attr:`last_output` and the :meth:`on_output` callbacks. Returns the
        request id, which the browser echoes back.
        """
        from sounds_kit.data.audio_io import load_audio

        clip = load_audio(audio, source_sr=sample_rate, max_seconds=MAX_TRANSFORM_SECONDS)
        if clip.size > MAX_TRANSFORM_SECONDS * SAMPLE_RATE:
            raise ValueError(f"clips longer than {MAX_TRANSFORM_SECONDS:.0f} s are too long for the browser")
        request_id = self._next_id
        self._next_id += 1
        self._last_take = clip
        # Kept until an answer comes, so a view that opens later still gets the request.
        self._pending_transform = (request_id, clip)
        self._send_transform(request_id, clip)
        return request_id

    def save(self, path_prefix: str | Path) -> list[Path]:
        """Write ``<prefix>-voice.wav`` and ``<prefix>-<instrument>.wav`` (whichever exist); returns the paths."""
        from sounds_kit.data.audio_io import save_audio

        prefix = Path(path_prefix)
        written = []
        if self._last_take is not None:
            written.append(save_audio(prefix.with_name(f"{prefix.name}-voice.wav"), self._last_take))
        if self._last_output is not None:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(self.instrument).name) or "instrument"
            written.append(save_audio(prefix.with_name(f"{prefix.name}-{name}.wav"), self._last_output))
        if not written:
            raise ValueError("nothing to save yet: record a take or call transform() first")
        return written

    def page_traits(self) -> dict:
        """The traits a published page starts with: this widget's settings, every status at its default."""
        own = {**KitWidget.class_own_traits(sync=True), **SingWidget.class_own_traits(sync=True)}
        traits = {name: t.default() for name, t in own.items() if not name.startswith("_")}
        traits.update({name: getattr(self, name) for name in PAGE_SETTINGS}, _view="sing")
        return traits

    def publish(
        self, site_dir: str | Path, instruments: Sequence[str] | None = None, title: str = "Sing with sounds-kit"
    ) -> SiteReport:
        """Write a static page that runs this experience on a phone (see ``sounds-kit publish``).

        ``instruments``: names or MODEL_DIRs (default: this widget's available choices, the current one
        first). Returns the site's report (``.lines()`` says what a phone downloads).
        """
        from sounds_kit.publish import build_site

        keys = list(instruments) if instruments is not None else [
            c["key"] for c in self.instrument_choices if c.get("available")
        ]  # fmt: skip
        if self.instrument in keys:
            keys.insert(0, keys.pop(keys.index(self.instrument)))
        return build_site(keys, site_dir, traits=self.page_traits(), title=title)

    # --- validation -----------------------------------------------------------------------------

    @traitlets.validate("octave_shift")
    def _check_octave(self, proposal: dict) -> int:
        lo, hi = OCTAVE_RANGE
        if not lo <= proposal["value"] <= hi:
            raise traitlets.TraitError(f"octave_shift must be in {lo}..{hi}")
        return proposal["value"]

    @traitlets.validate("gain_db")
    def _check_gain(self, proposal: dict) -> float:
        lo, hi = GAIN_RANGE_DB
        value = float(proposal["value"])
        if not (math.isfinite(value) and lo <= value <= hi):
            raise traitlets.TraitError(f"gain_db must be in {lo:g}..{hi:g} dB")
        return value

    @traitlets.validate("sa_hz")
    def _check_sa(self, proposal: dict) -> float:
        return note_to_hz(float(proposal["value"]))

    @traitlets.observe("instrument")
    def _instrument_changed(self, change: dict) -> None:
        if not any(c["key"] == change["new"] for c in self.instrument_choices):
            self.instrument_choices = [*self.instrument_choices, describe_instrument(change["new"])]
        if self.frontend_ready:
            self._send_model()

    # --- the conversation with the browser --------------------------------------------------

    @staticmethod
    def _register(callbacks: list, callback: Callable, remove: bool) -> None:
        if remove:
            if callback in callbacks:
                callbacks.remove(callback)
        elif callback not in callbacks:
            callbacks.append(callback)

    def _send_model(self) -> None:
        key = self.instrument
        try:
            meta, files = read_instrument_files(resolve_instrument(key))
        except ModelFileError as err:
            self.model_state = "error"
            self.status_level = "error"
            self.status = f"Cannot load the instrument: {err}"
            self.send({"type": "model_error", "key": key, "message": str(err)})
            return
        names = list(files)
        self.send(
            {"type": "model", "key": key, "name": str(meta.get("name", key)), "files": names},
            buffers=[files[n] for n in names],
        )

    def _send_transform(self, request_id: int, clip: np.ndarray) -> None:
        buf = np.ascontiguousarray(clip, dtype="<f4")
        self.send({"type": "transform", "id": request_id, "sample_rate": SAMPLE_RATE}, buffers=[buf.tobytes()])

    @staticmethod
    def _audio_from(buffers: Iterable, content: dict) -> np.ndarray:
        buffers = list(buffers or [])
        if not buffers:
            raise ValueError(f"{content.get('type')} message without audio")
        if int(content.get("sample_rate", SAMPLE_RATE)) != SAMPLE_RATE:
            raise ValueError(f"audio at {content.get('sample_rate')} Hz; the kit works at {SAMPLE_RATE} Hz")
        # memoryview -> owned float32 array (the comm's buffer is reused after the handler).
        return np.frombuffer(bytes(buffers[0]), dtype="<f4").astype(np.float32)

    def _on_frontend_message(self, _widget: object, content: dict, buffers: list) -> None:
        try:
            self._handle(content, buffers)
        except ValueError as err:  # raising inside a comm handler would only reach the kernel log
            self.status_level = "error"
            self.status = f"The browser sent audio Python cannot use: {err}"

    def _handle(self, content: dict, buffers: list) -> None:
        kind = content.get("type")
        if kind == "ready":
            self.frontend_ready = True
            self._send_model()
            if self._pending_transform is not None:
                self._send_transform(*self._pending_transform)
        elif kind == "take":
            self._last_take = self._audio_from(buffers, content)
            self.takes_received += 1
            self._notify(self._take_callbacks, self._last_take)
        elif kind == "output":
            self._last_output = self._audio_from(buffers, content)
            if self._pending_transform is not None and content.get("id") == self._pending_transform[0]:
                self._pending_transform = None
            self.outputs_received += 1
            self._notify(self._output_callbacks, self._last_output)
        elif kind == "transform_error":
            if self._pending_transform is not None and content.get("id") == self._pending_transform[0]:
                self._pending_transform = None
            self.status_level = "error"
            self.status = f"transform() could not run: {content.get('message', 'unknown error')}"

    def _notify(self, callbacks: list, audio: np.ndarray) -> None:
        for cb in list(callbacks):
            try:
                cb(audio)
            except Exception as err:  # a broken callback must not break the widget's comm handler
                self.status_level = "error"
                self.status = f"Your callback {getattr(cb, '__name__', cb)!r} raised {type(err).__name__}: {err}"
