"""A training run's settings (saved as the run's ``config.json``); the decoder's own are ``DecoderConfig``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from sounds_kit.dsp import controls as C
from sounds_kit.model.decoders import DecoderConfig
from sounds_kit.model.loss import DEFAULT_OVERLAP, TRAINING_FFT_SIZES, TRAINING_OVERLAP


@dataclass
class TrainConfig:
    """Everything about a run except the data; saved as the run's ``config.json``."""

    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    steps: int | None = None  # total steps; or
    minutes: float | None = None  # total training minutes (summed over resumed sessions)
    pretrain_fraction: float = 0.8  # share of steps / minutes spent in stage 1
    batch_size: int = 16
    learning_rate: float = 1e-3
    stage2_batch_size: int = 8
    stage2_learning_rate: float = 3e-4
    crop_seconds: float = 1.0  # stage 2 renders crops this long
    fft_sizes: list[int] = field(default_factory=lambda: list(TRAINING_FFT_SIZES))  # stage-2 loss
    loss_overlap: float = TRAINING_OVERLAP  # of the stage-2 loss's frames; evaluation uses the full loss
    log_eps: float = 1e-4  # floor of the stage-1 log-amplitude regression (-80 dB)
    confidence_threshold: float = C.CONFIDENCE_THRESHOLD
    seed: int = 0
    checkpoint_seconds: float = 60.0
    checkpoint_steps: int = 0  # also save every N steps when > 0 (tests)
    jit: bool = False  # XLA measured slower here: stage 1 0.5-0.8x, stage 2 0.5-0.6x (BENCHMARKS.md)
    max_examples: int | None = None
    n_audio_examples: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.decoder, dict):
            self.decoder = DecoderConfig.from_dict(self.decoder)
        if self.steps is None and self.minutes is None:
            raise ValueError("give a budget: steps or minutes")
        if not 0.0 <= self.loss_overlap < 1.0:
            raise ValueError(f"loss_overlap must be in [0, 1), got {self.loss_overlap}")
        if not 0.0 <= self.pretrain_fraction <= 1.0:
            raise ValueError(f"pretrain_fraction must be in [0, 1], got {self.pretrain_fraction}")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["decoder"] = self.decoder.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "fft_sizes" in values and "loss_overlap" not in values:
            values["loss_overlap"] = DEFAULT_OVERLAP  # a run saved before the setting: it trained (and resumes) at 75%
        return cls(**values)
