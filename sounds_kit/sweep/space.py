"""What a sweep searches: decoder types and their fields, and the training recipe.

A space is ``{decoder type: {DecoderConfig field: [values]}, "recipe": {TrainConfig field: [values]}}``
(the ``recipe`` part is optional). A trial *spec* is one point of it: ``{"id", "decoder", "recipe",
"seed"}``; its id names the trial's folder, so the same model, recipe and seed always map to the same
folder (a rerun resumes it, a repeated suggestion reuses it).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from sounds_kit.errors import UserFacingError
from sounds_kit.model.decoders import DecoderConfig

RECIPE = "recipe"
# TrainConfig fields a space may vary per trial, with the short names used in trial ids.
RECIPE_FIELDS = {
    "learning_rate": "lr",
    "stage2_learning_rate": "lr2",
    "pretrain_fraction": "pf",
    "batch_size": "b",
    "stage2_batch_size": "b2",
    "crop_seconds": "crop",
}

_DEFAULT_AXES = {
    "cnn": {
        "width": [16, 24, 32, 48, 64],
        "depth": [3, 4, 5, 6],
        "kernel": [3, 5],
        "n_harmonics": [32, 48, 64],
        "n_noise_bands": [16, 32],
    },
    "gru": {"width": [16, 32, 48, 64], "depth": [1, 2], "n_harmonics": [32, 48, 64], "n_noise_bands": [16, 32]},
    RECIPE: {"learning_rate": [3e-4, 1e-3, 3e-3], "pretrain_fraction": [0.8, 0.9]},
}

SPACES: dict[str, dict[str, dict[str, list]]] = {
    "small": {
        "cnn": {"width": [16, 32, 64], "depth": [3, 4, 6], "n_harmonics": [32, 48], "n_noise_bands": [16, 32]},
        "gru": {"width": [16, 32, 64], "depth": [1, 2], "n_harmonics": [32, 48], "n_noise_bands": [16, 32]},
    },
    # 288 decoders x 6 recipes = 1,728 configurations: a search, not a grid (pruned, see docs/sweep.md).
    "default": _DEFAULT_AXES,
}

# Tried first when the space holds them: the kit's default decoder and the shipped instruments' model.
ANCHORS = ({}, {"width": 32, "depth": 4})


def resolve_space(space: str | dict) -> dict:
    """A named space, a JSON file of the same shape, or a dict -> the checked space."""
    if isinstance(space, dict):
        data = space
    elif space in SPACES:
        data = SPACES[space]
    elif Path(space).is_file():
        data = json.loads(Path(space).read_text())
    else:
        raise UserFacingError(f"unknown search space {space!r}: use {' or '.join(SPACES)} or a JSON file")
    if not any(k != RECIPE for k in data):
        raise UserFacingError("a search space needs at least one decoder type")
    for kind, axes in data.items():
        if kind == RECIPE:
            unknown = sorted(set(axes) - set(RECIPE_FIELDS))
            if unknown:
                raise UserFacingError(f"recipe fields {unknown} cannot be searched; use {sorted(RECIPE_FIELDS)}")
            continue
        try:
            DecoderConfig.from_dict({"type": kind, **{k: v[0] for k, v in axes.items()}})
        except (ValueError, TypeError, IndexError) as err:
            raise UserFacingError(f"search space for {kind!r} is not valid: {err}") from err
    return data


def trial_id(decoder: dict, recipe: dict | None = None, seed: int = 0) -> str:
    """A readable, stable id: the same model, recipe and seed always map to the same trial dir."""
    base = DecoderConfig(type=decoder["type"])
    d = decoder
    tid = f"{d['type']}-w{d['width']}-d{d['depth']}-h{d['n_harmonics']}-n{d['n_noise_bands']}"
    core = {"type", "width", "depth", "n_harmonics", "n_noise_bands", "dilations"}
    extra = [f"{k}{v}" for k, v in sorted(decoder.items()) if k not in core and v != getattr(base, k)]
    extra += [f"{RECIPE_FIELDS[k]}{v:g}" for k, v in sorted((recipe or {}).items())]
    extra += [f"s{seed}"] if seed else []
    return "-".join([tid, *extra])


def make_spec(decoder: dict, recipe: dict | None = None, seed: int = 0) -> dict:
    full = DecoderConfig.from_dict(decoder).to_dict()
    recipe = dict(sorted((recipe or {}).items()))
    return {"id": trial_id(full, recipe, seed), "decoder": full, "recipe": recipe, "seed": seed}


def config_id(spec: dict) -> str:
    """The id of a spec's model and recipe, whatever its seed (seeds of one configuration are averaged)."""
    return trial_id(spec["decoder"], spec.get("recipe"), 0)


def grid(space: dict) -> list[dict]:
    """Every decoder config of the space (full DecoderConfig dicts; the recipe axes are not expanded)."""
    out = []
    for kind, axes in space.items():
        if kind == RECIPE:
            continue
        names = sorted(axes)
        for values in itertools.product(*(axes[n] for n in names)):
            out.append(DecoderConfig.from_dict({"type": kind, **dict(zip(names, values, strict=True))}).to_dict())
    return out


def size(space: dict) -> int:
    """How many configurations (decoders x recipes) the space holds."""
    recipes = int(np.prod([len(v) for v in space.get(RECIPE, {}).values()])) if space.get(RECIPE) else 1
    return len(grid(space)) * recipes


def choose_trials(space: dict, n: int, seed: int = 0) -> list[dict]:
    """``n`` trial specs without search: a seeded shuffle of the decoders, alternating decoder types, the
    kit's default decoder first when the space contains it (recipe: each axis' first value). A larger
    ``n`` extends the same list. The sweep itself samples with Optuna; this is the plain list."""
    rng = np.random.default_rng(seed)
    default = DecoderConfig().to_dict()
    configs = grid(space)
    queues = {}
    for kind in (k for k in space if k != RECIPE):
        mine = [c for c in configs if c["type"] == kind]
        # The default leaves its queue before the zip, so the types still alternate after it.
        queues[kind] = [c for c in (mine[i] for i in rng.permutation(len(mine))) if c != default]
    ordered = [c for c in configs if c == default]
    for row in itertools.zip_longest(*queues.values()):
        ordered += [c for c in row if c is not None]
    recipe = {k: v[0] for k, v in space.get(RECIPE, {}).items()}
    return [make_spec(c, recipe) for c in ordered[:n]]


# ---------------------------------------------------------------------------------------------- Optuna


def suggest(trial, space: dict) -> dict:
    """The spec an Optuna trial samples from ``space`` (decoder type first, then its own fields)."""
    kinds = [k for k in space if k != RECIPE]
    kind = trial.suggest_categorical("type", kinds)
    decoder = {"type": kind}
    for name, values in sorted(space[kind].items()):
        decoder[name] = trial.suggest_categorical(f"{kind}.{name}", list(values))
    recipe = {name: trial.suggest_categorical(f"{RECIPE}.{name}", list(values))
              for name, values in sorted(space.get(RECIPE, {}).items())}  # fmt: skip
    return make_spec(decoder, recipe)


def anchor_params(space: dict) -> list[dict]:
    """Optuna params of the anchor models (kit default, shipped) that the space holds, to try first."""
    out = []
    for change in ANCHORS:
        d = {**DecoderConfig().to_dict(), **change}
        axes = space.get(d["type"])
        if not axes or any(d[k] not in v for k, v in axes.items()):
            continue
        params = {"type": d["type"], **{f"{d['type']}.{k}": d[k] for k in axes}}
        for name, values in space.get(RECIPE, {}).items():
            default = _train_default(name)
            params[f"{RECIPE}.{name}"] = default if default in values else values[0]
        out.append(params)
    return out


def _train_default(name: str):
    from sounds_kit.model.config import TrainConfig

    return getattr(TrainConfig(steps=1), name)
