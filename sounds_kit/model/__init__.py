"""The model in TensorFlow: decoders, the differentiable synth, the loss, training and its settings, restoring a run."""
