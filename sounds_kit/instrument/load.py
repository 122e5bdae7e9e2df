"""An instrument in Python: the same files the browser loads, same pipeline.

``load_instrument("bansuri")`` (a shipped name), ``load_instrument(MODEL_DIR)`` (an export) or
``load_instrument(RUN_DIR)`` (a training run, decoder restored from its checkpoint; for evaluation
before export); then
``inst.transfer(audio)`` turns a voice into the instrument: features -> fit to the instrument's range
-> controls (decoder) -> numpy synth. An export runs its decoder in numpy (``numpy_decoder``), so it
needs no TensorFlow; the weights come from ``decoder.npz`` (float32), cast through the export's float16
when the browser model was quantised that way, so Python and the browser run the very same numbers. A
training run restores its TensorFlow decoder (the ``train`` extra).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sounds_kit.dsp import controls as C
from sounds_kit.errors import ModelFileError
from sounds_kit.instrument.files import WEIGHTS_FILE, browser_files
from sounds_kit.instrument.numpy_decoder import load_numpy_decoder
from sounds_kit.model.decoders import DecoderConfig
from sounds_kit.shipped import MODELS_DIR

SHIPPED = ("bansuri", "shehnai", "sarangi")
MODELS_ENV = "SOUNDS_KIT_MODELS"


def model_search_path() -> list[Path]:
    """Where instrument names are looked up: $SOUNDS_KIT_MODELS (os.pathsep list), ./models, the shipped ones.

    The shipped instruments come last, so a folder of your own named "bansuri" wins over the kit's.
    """
    dirs = [Path(p).expanduser() for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "models", MODELS_DIR]
    seen: list[Path] = []
    for d in dirs:
        if d.resolve() not in [s.resolve() for s in seen]:
            seen.append(d)
    return seen


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """An instrument name ('bansuri') or a MODEL_DIR path -> the folder holding its metadata.json.

    The one lookup for the CLI, Python and the widget, so a name means the same instrument everywhere.
    """
    key = str(name_or_path)
    given = Path(key).expanduser()
    candidates = [given] if (given.is_absolute() or len(given.parts) > 1) else []
    candidates += [d / key for d in model_search_path()]
    if given.is_dir() and given not in candidates:
        candidates.insert(0, given)
    for c in candidates:
        if (c / "metadata.json").is_file():
            return c
    looked = ", ".join(str(c) for c in candidates)
    raise ModelFileError(
        f"no instrument {key!r}: {key!r} was not found (looked for metadata.json in {looked}). "
        "Export one with `sounds-kit export RUN -o MODEL_DIR` and pass that folder, or use a shipped instrument."
    )


def load_decoder_weights(config: DecoderConfig, path: Path, quantization: str = "none"):
    """The export's decoder as a TensorFlow module (the ``train`` extra): the reference the numpy decoder
    is held to (tests/test_numpy_decoder.py). ``load_instrument`` itself runs the numpy one."""
    from sounds_kit.model.decoders import build_decoder

    decoder = build_decoder(config)
    with np.load(path) as data:
        saved = dict(data)
    names = [v.name.replace("/", "__").replace(":", "_") for v in decoder.variables]
    if sorted(names) != sorted(saved):
        raise ModelFileError(f"{path}: weights do not match the decoder config in metadata.json")
    for v, name in zip(decoder.variables, names, strict=True):
        w = saved[name]
        if w.shape != tuple(v.shape):
            raise ModelFileError(f"{path}: {name} has shape {w.shape}, the decoder expects {tuple(v.shape)}")
        if quantization == "float16":
            w = w.astype(np.float16).astype(np.float32)  # what TF.js dequantises to
        v.assign(w)
    return decoder


@dataclass
class Instrument:
    model_dir: Path
    metadata: dict
    decoder: object
    reverb_ir: np.ndarray | None

    @property
    def name(self) -> str:
        return self.metadata["name"]

    @property
    def stats(self) -> dict:
        return self.metadata.get("stats", {})

    @property
    def kind(self) -> str:
        """"instrument" (an exported MODEL_DIR) or "run" (a training run dir)."""
        return self.metadata.get("kind", "instrument")

    def controls(self, features: dict, auto_fit: bool = True, octaves: int = 0, gate: bool = True) -> dict:
        """Fitted, filled decoder controls for features (``features.compute_features`` output).

        ``gate``: the voice's rests silence the instrument (note on/off, ``dsp/gate.py``); off for
        resynthesis, where the target is the instrument's own audio, breath and all.
        """
        from sounds_kit.dsp.tone_fit import fit_features

        fitted = fit_features(features, self.stats, auto_fit=auto_fit, manual_octaves=octaves)
        f0 = C.fill_unvoiced(fitted["f0_hz"], features["f0_confidence"])
        f0_in = C.scale_f0(f0)[None, :, None].astype(np.float32)
        loud_in = C.scale_loudness(fitted["loudness_db"])[None, :, None].astype(np.float32)
        # np.asarray: numpy arrays from an export's decoder, eager tensors from a training run's.
        out = {k: np.asarray(v)[0].astype(np.float64) for k, v in self.decoder(f0_in, loud_in).items()}
        if gate:
            g = fitted["gate"]
            out["amplitude"] = out["amplitude"] * g.reshape(-1, *([1] * (out["amplitude"].ndim - 1)))
            if "noise_magnitudes" in out:
                out["noise_magnitudes"] = out["noise_magnitudes"] * g[:, None]
        return {**out, "f0_hz": f0, "loudness_db": fitted["loudness_db"], "octaves": fitted["octaves"]}

    def render_controls(
        self, controls: dict, n_samples: int, gain_db: float = 0.0, reverb: bool = True, room: bool = False
    ) -> np.ndarray:
        """Controls -> audio: the synth, the model's own learned reverb (if it has one and ``reverb``), then
        the kit's default room when ``room`` (off here: metrics compare with dry training audio)."""
        from sounds_kit.dsp.room import apply_room
        from sounds_kit.dsp.synth import render

        ir = self.reverb_ir if reverb else None
        audio = render(controls, controls["f0_hz"], n_samples=n_samples, reverb_ir=ir, gain_db=gain_db)
        return apply_room(audio) if room else audio

    def resynthesize(self, features: dict, n_samples: int | None = None) -> np.ndarray:
        """Audio from a clip's own features (no fitting): what the model makes of its training audio."""
        from sounds_kit.dsp.synth import default_n_samples

        n = default_n_samples(len(features["f0_hz"])) if n_samples is None else n_samples
        return self.render_controls(self.controls(features, auto_fit=False, gate=False), n)

    def transfer(
        self,
        audio: np.ndarray,
        auto_fit: bool = True,
        octaves: int = 0,
        gain_db: float = 0.0,
        features: dict | None = None,
        room: bool = True,
    ) -> np.ndarray:
        """Voice (16 kHz mono) -> this instrument, same length, in the kit's room (``room=False``: dry)."""
        from sounds_kit.dsp.features import compute_features

        feats = features if features is not None else compute_features(audio)
        return self.render_controls(self.controls(feats, auto_fit, octaves), len(audio), gain_db, room=room)


def load_instrument(name_or_path: str | Path) -> Instrument:
    """Load a shipped instrument by name, an exported MODEL_DIR (every file's hash checked) or a RUN_DIR."""
    if (Path(name_or_path) / "config.json").exists():
        return _from_run(Path(name_or_path))
    if Path(name_or_path).is_dir() and not (Path(name_or_path) / "metadata.json").exists():
        raise ModelFileError(
            f"{name_or_path}: neither a training run dir (no config.json) nor an exported instrument (no metadata.json)"
        )
    model_dir = resolve_model_dir(name_or_path)
    files = browser_files(model_dir)  # hash checks; raises ModelFileError
    meta = json.loads(files["metadata.json"])
    weights = model_dir / WEIGHTS_FILE
    if not weights.exists():
        raise ModelFileError(f"{model_dir}: {WEIGHTS_FILE} is missing (Python needs it; the browser does not)")
    decoder = load_numpy_decoder(DecoderConfig.from_dict(meta["decoder"]), weights, meta.get("quantization", "none"))
    ir = None
    if meta["synth"].get("reverb"):
        ir = np.frombuffer(files[meta["synth"]["reverb"]], dtype="<f4").astype(np.float64)
    return Instrument(model_dir, meta, decoder, ir)


def _from_run(run_dir: Path) -> Instrument:
    """A training run as an Instrument: its restored decoder, its dataset's fit profile, its reverb."""
    from sounds_kit.extras import require

    require("train", f"playing the training run {run_dir} (export it to play it without TensorFlow)")
    from sounds_kit.dsp.tone_fit import fit_profile_from_dataset_stats
    from sounds_kit.model.run import load_run

    run = load_run(run_dir)
    stats_path = run_dir / "dataset_stats.json"
    dataset_stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    fit = fit_profile_from_dataset_stats(dataset_stats)
    meta = {
        "kind": "run",
        "name": run_dir.name,
        "stats": {"fit": fit} if fit else {},
        "decoder": run.config.decoder.to_dict(),
        "training_step": run.step,
    }
    return Instrument(run_dir, meta, run.decoder, run.reverb_ir)
