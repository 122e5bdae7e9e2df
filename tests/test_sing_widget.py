"""SingWidget's Python side without a browser: instrument lookup, model bytes, the message protocol."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import soundfile as sf
import traitlets

from sounds_kit.conventions import DEFAULTS
from sounds_kit.errors import ModelFileError
from sounds_kit.widgets.sing import (
    SHIPPED_INSTRUMENTS,
    SingWidget,
    describe_instrument,
    note_to_hz,
    read_instrument_files,
    resolve_instrument,
)


def fake_instrument(folder, name="flute", reverb=False):
    """A folder shaped like an export (metadata lists every browser file with its sha256)."""
    folder.mkdir(parents=True)
    payload = {"model.json": json.dumps({"weightsManifest": [{"paths": ["group1-shard1of1.bin"]}]}).encode(),
               "group1-shard1of1.bin": bytes(range(256)) * 4}  # fmt: skip
    if reverb:
        payload["reverb.f32"] = np.ones(16, "<f4").tobytes()
    for fname, data in payload.items():
        (folder / fname).write_bytes(data)
    (folder / "decoder.npz").write_bytes(b"python only, never sent")
    meta = {"format": "sounds-kit-instrument", "format_version": 1, "name": name, "conventions": DEFAULTS,
            "files": {fname: hashlib.sha256(data).hexdigest() for fname, data in payload.items()}}  # fmt: skip
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


class Sent:
    """Stands in for the comm: records what the widget sends to the browser."""

    def __init__(self, widget):
        self.messages = []
        widget.send = lambda content, buffers=None: self.messages.append((content, [bytes(b) for b in buffers or []]))

    def of(self, kind):
        return [(c, b) for c, b in self.messages if c["type"] == kind]


def browser_says(widget, content, buffers=()):
    widget._on_frontend_message(widget, content, [memoryview(b) for b in buffers])


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    fake_instrument(root / "bansuri", "bansuri")
    monkeypatch.setenv("SOUNDS_KIT_MODELS", str(root))
    return root


def test_sa_accepts_note_names_and_hertz():
    assert note_to_hz("A4") == pytest.approx(440.0)
    assert note_to_hz("C#3") == pytest.approx(138.59, abs=0.01)
    assert note_to_hz("Db3") == pytest.approx(note_to_hz("C#3"))
    assert note_to_hz(146.8) == 146.8
    for bad in ("H2", "C#", "loud", 5000.0, 10):
        with pytest.raises(ValueError):
            note_to_hz(bad)


def test_instruments_resolve_by_name_or_path_and_say_where_they_looked(models, tmp_path):
    assert resolve_instrument("bansuri") == models / "bansuri"
    mine = fake_instrument(tmp_path / "exports" / "my_flute")
    assert resolve_instrument(str(mine)) == mine
    with pytest.raises(ModelFileError, match="'tabla' was not found.*sounds-kit export"):
        resolve_instrument("tabla")
    assert describe_instrument("bansuri") == {"key": "bansuri", "label": "Bansuri", "available": True}
    assert describe_instrument("tabla") == {"key": "tabla", "label": "Tabla", "available": False}


def test_model_files_are_the_browser_files_and_are_checked(models):
    meta, files = read_instrument_files(models / "bansuri")
    assert meta["name"] == "bansuri"
    assert set(files) == {"metadata.json", "model.json", "group1-shard1of1.bin"}  # not decoder.npz
    (models / "bansuri" / "group1-shard1of1.bin").write_bytes(b"tampered")
    with pytest.raises(ModelFileError, match="hash"):
        read_instrument_files(models / "bansuri")


def test_picker_lists_shipped_and_given_instruments(models, tmp_path):
    w = SingWidget(instrument="bansuri")
    assert [c["key"] for c in w.instrument_choices] == list(SHIPPED_INSTRUMENTS)
    mine = fake_instrument(tmp_path / "exports" / "my_flute", name="my flute")
    w = SingWidget(instrument=str(mine), instruments=["bansuri"], raga="Kafi", sa="G#3")
    assert [c["key"] for c in w.instrument_choices] == [str(mine), "bansuri"]
    assert w.instrument_choices[0]["label"] == "My flute" and w.raga == "kafi"
    assert w.sa_hz == pytest.approx(207.65, abs=0.01)


def test_settings_are_validated():
    w = SingWidget()
    w.octave_shift = -2
    w.gain_db = 6
    for name, bad in (("octave_shift", 3), ("gain_db", 40.0), ("gain_db", math.nan), ("raga", "todi")):
        with pytest.raises(traitlets.TraitError):
            setattr(w, name, bad)


def test_model_bytes_go_out_only_after_the_front_end_is_ready(models):
    w = SingWidget(instrument="bansuri")
    sent = Sent(w)
    assert sent.messages == []  # nothing binary in the initial state (Colab drops it)
    browser_says(w, {"type": "ready"})
    [(content, buffers)] = sent.of("model")
    assert content["key"] == "bansuri" and content["name"] == "bansuri"
    assert [len(b) for b in buffers] == [len((models / "bansuri" / n).read_bytes()) for n in content["files"]]
    assert w.frontend_ready
    # Choosing another instrument sends its files (or says why it cannot).
    w.instrument = "tabla"
    [(error, _)] = sent.of("model_error")
    assert error["key"] == "tabla" and "not found" in error["message"]
    assert w.model_state == "error" and w.status_level == "error" and "tabla" in w.status


def test_takes_and_outputs_arrive_as_float32_arrays(models, tmp_path):
    w = SingWidget()
    takes, outputs = [], []
    w.on_take(takes.append)
    w.on_output(outputs.append)
    voice = np.sin(np.linspace(0, 100, 8000)).astype("<f4")
    browser_says(w, {"type": "take", "id": "take-1", "sample_rate": 16000}, [voice.tobytes()])
    browser_says(w, {"type": "output", "id": "take-1", "sample_rate": 16000}, [(voice * 0.5).tobytes()])
    assert w.last_take.dtype == np.float32 and np.array_equal(w.last_take, voice)
    assert np.allclose(w.last_output, voice * 0.5)
    assert (len(takes), len(outputs), w.takes_received, w.outputs_received) == (1, 1, 1, 1)
    paths = w.save(tmp_path / "lesson1")
    assert [p.name for p in paths] == ["lesson1-voice.wav", "lesson1-bansuri.wav"]
    assert sf.info(str(paths[0])).samplerate == 16000
    w.on_output(outputs.append, remove=True)
    browser_says(w, {"type": "output", "id": "take-2", "sample_rate": 16000}, [voice.tobytes()])
    assert len(outputs) == 1


def test_bad_audio_or_a_broken_callback_becomes_a_status_message():
    w = SingWidget()
    browser_says(w, {"type": "take", "id": "take-1", "sample_rate": 44100}, [np.zeros(10, "<f4").tobytes()])
    assert w.status_level == "error" and "44100" in w.status and w.last_take is None

    def broken(audio):
        raise RuntimeError("oops")

    w.on_take(broken)
    browser_says(w, {"type": "take", "id": "take-1", "sample_rate": 16000}, [np.ones(10, "<f4").tobytes()])
    assert w.last_take is not None and "broken" in w.status and "oops" in w.status


def test_transform_returns_at_once_and_is_resent_to_a_late_view(models, tmp_path):
    w = SingWidget()
    sent = Sent(w)
    clip = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    sf.write(str(tmp_path / "clip.wav"), clip, 16000)
    request = w.transform(tmp_path / "clip.wav")
    [(content, [buf])] = sent.of("transform")
    assert content == {"type": "transform", "id": request, "sample_rate": 16000}
    assert np.allclose(np.frombuffer(buf, "<f4"), clip, atol=1e-4)
    assert w.last_take is not None and w.last_output is None
    # A view that opens later still receives the pending request after the model.
    browser_says(w, {"type": "ready"})
    assert [c["type"] for c, _ in sent.messages] == ["transform", "model", "transform"]
    browser_says(w, {"type": "output", "id": request, "sample_rate": 16000}, [clip.tobytes()])
    browser_says(w, {"type": "ready"})
    assert [c["type"] for c, _ in sent.messages][-1] == "model"  # answered: not sent again
    # Arrays at another rate are resampled; silence is refused with a clear error.
    second = w.transform(np.tile(clip, 3)[:44100], sample_rate=44100)
    assert second == request + 1 and len(np.frombuffer(sent.of("transform")[-1][1][0], "<f4")) == 16000
    with pytest.raises(Exception, match="silent"):
        w.transform(np.zeros(16000, np.float32))
    # When the browser cannot run it (no instrument), the request is dropped and the reason shown.
    browser_says(w, {"type": "transform_error", "id": second, "message": "no instrument is loaded"})
    assert w._pending_transform is None and "no instrument is loaded" in w.status


def test_save_needs_a_take():
    with pytest.raises(ValueError, match="nothing to save"):
        SingWidget().save("x")
