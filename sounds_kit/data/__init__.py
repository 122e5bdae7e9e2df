"""Audio in and training sets out: audio files, demo data rendered from MIDI, the Beam prepare
pipeline and the dataset format."""
