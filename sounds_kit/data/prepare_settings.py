"""What ``prepare`` was asked to do (saved with the dataset, so a resume keeps the same settings)."""


from __future__ import annotations

from dataclasses import asdict, dataclass

from sounds_kit.conventions import (
    DEFAULT_EXAMPLE_HOP_SECONDS,
    DEFAULT_EXAMPLE_SECONDS,
    HOP_SIZE,
    SAMPLE_RATE,
)
from sounds_kit.data import dataset as ds
from sounds_kit.errors import UserFacingError

SEGMENT_SECONDS = 60
CONTEXT_SECONDS = 1
SILENT_PEAK = 1e-5  # the same -100 dBFS cut as audio_io.check_audio


@dataclass(frozen=True)
class Settings:
    """How examples are cut; stored in the manifest and checked on --resume."""

    example_seconds: float = DEFAULT_EXAMPLE_SECONDS
    hop_seconds: float = DEFAULT_EXAMPLE_HOP_SECONDS
    eval_fraction: float = 0.1
    segment_seconds: int = SEGMENT_SECONDS
    context_seconds: int = CONTEXT_SECONDS

    @property
    def example_samples(self) -> int:
        return ds.seconds_to_samples(self.example_seconds, "--example-seconds")

    @property
    def hop_samples(self) -> int:
        return ds.seconds_to_samples(self.hop_seconds, "--hop-seconds")

    def check(self) -> Settings:
        if not 0.0 <= self.eval_fraction < 1.0:
            raise UserFacingError(f"--eval-fraction must be in [0, 1), got {self.eval_fraction}")
        if int(self.segment_seconds) != self.segment_seconds or self.segment_seconds < 1:
            raise UserFacingError(f"segment length must be whole seconds, got {self.segment_seconds}")
        if self.example_samples > self.segment_seconds * SAMPLE_RATE:
            raise UserFacingError(f"--example-seconds must be at most {self.segment_seconds}")
        _ = self.hop_samples
        return self

    def to_json(self) -> dict:
        return {
            **asdict(self),
            "example_samples": self.example_samples,
            "example_frames": ds.example_frames(self.example_samples),
            "hop_samples": self.hop_samples,
            "sample_rate": SAMPLE_RATE,
            "hop_size": HOP_SIZE,
            "voiced_confidence": ds.VOICED_CONFIDENCE,
        }


