"""The synth vectors the JS tests read are what the Python synth renders today."""

import json

import make_synth_vectors as synth_vectors


def test_committed_synth_vectors_are_current():
    committed = json.loads(synth_vectors.DEFAULT_PATH.read_text())
    fresh = json.loads(json.dumps(synth_vectors.build(), separators=(",", ":")))
    assert committed == fresh, "run `python tests/make_synth_vectors.py` and commit widgets/test/vectors/synth.json"
