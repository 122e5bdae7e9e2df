"""How good a model sounds: resynthesis and tone-transfer metrics."""
