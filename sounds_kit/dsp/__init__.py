"""The signal path in numpy (twins in widgets/src/dsp): features -> controls -> tone fit -> synth,
plus the analysis targets of fast training."""
