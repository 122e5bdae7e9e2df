"""Model cards: what an exported instrument is, what it was trained on, how well and how big."""

from __future__ import annotations

import json


def _fmt_metrics(metrics: dict | None) -> str:
    if not metrics:
        return "Not evaluated yet: run `sounds-kit evaluate MODEL_DIR AUDIO... --json`."
    rows = ["| metric | value |", "| --- | --- |"]
    for key, value in metrics.items():
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 10):
            text = f"{int(value):,}"  # counts read as counts, not 1.06e+05
        elif isinstance(value, float):
            text = "0" if abs(value) < 1e-9 else f"{value:.3g}"  # a median of exactly 0, not 3.84e-13
        else:
            text = str(value)
        rows.append(f"| {key} | {text} |")
    return "\n".join(rows)


def render_card(
    *,
    name: str,
    decoder: dict,
    parameters: int,
    download_bytes: int,
    quantization: str,
    data: dict | None = None,
    metrics: dict | None = None,
    training: dict | None = None,
) -> str:
    """Markdown model card for an exported instrument."""
    data = data or {}
    origin = data.get("origin", "unknown (pass the dataset's manifest to the export to record it)")
    lines = [
        f"# {name}",
        "",
        "A sounds-kit DDSP instrument: a small causal decoder drives a harmonic + filtered-noise synthesizer.",
        "It runs in the browser (the decoder on TF.js for takes, on the kit's own JS interpreter of the same",
        "graph for Live; float64 JS synth) and in Python (`sounds_kit.load_instrument`).",
        "",
        "## Data",
        "",
        f"- Origin: {origin}",
    ]
    for key in ("minutes", "files", "soundfont", "program"):
        if key in data:
            lines.append(f"- {key.capitalize()}: {data[key]}")
    lines += [
        "",
        "## Model",
        "",
        f"- Decoder: `{json.dumps(decoder)}`",
        f"- Parameters: {parameters:,}",
        f"- Download (what the browser loads: model.json, weights, metadata): {download_bytes / 1024:.1f} KB "
        f"({quantization} weights)",
    ]
    if training:
        lines.append(f"- Training: {json.dumps(training)}")
    lines += [
        "",
        "## Metrics",
        "",
        "Resynthesis (`spectral_distance` .. `voiced_frames`): the dataset's held-out eval split, the exported",
        "weights driven by each clip's own features. Transfer (`transfer_*`): singers through the instrument",
        "(auto-fit, note gate), pitch judged by librosa.pyin on voice and output where librosa is installed,",
        "octave jumps counted in full (docs/sweep.md, \"Metric definitions\").",
        "",
        _fmt_metrics(metrics),
        "",
        "## Known limits",
        "",
        "- Monophonic only: it follows one pitch at a time.",
        "- It plays what the decoder learned from its data; outside the data's pitch and loudness range it",
        "  extrapolates (auto-fit moves a voice into range by whole octaves and a loudness map).",
        "- Between notes it is silent: a note gate (40 ms hold, 60 ms release) keeps breath, consonants and",
        "  room noise out of the rests; a consonant inside a note plays at the note's pitch.",
    ]
    if "soundfont" in str(origin).lower() or data.get("soundfont"):
        lines.append(
            "- Trained on sampled soundfont renders (General MIDI), not on recordings of a player: the timbre"
            " is that of the samples, including their loop points and sample-zone jumps."
        )
    return "\n".join(lines) + "\n"
