"""An instrument: the exported format (``files``), how a trained run becomes one (``export``), how Python
loads and plays one (``load``) and its model card (``card``)."""

from sounds_kit.instrument.load import (
    MODELS_DIR,
    SHIPPED,
    Instrument,
    load_instrument,
    model_search_path,
    resolve_model_dir,
)

__all__ = ["MODELS_DIR", "SHIPPED", "Instrument", "load_instrument", "model_search_path", "resolve_model_dir"]
