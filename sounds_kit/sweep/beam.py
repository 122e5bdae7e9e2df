"""The sweep on Apache Beam: a ParDo over trial specs (imported only for ``--engine beam``).

Each element is one trial spec; the DoFn runs :func:`sounds_kit.sweep.trial.run_trial`, which trains, exports and
evaluates the trial and appends its line to SWEEP_DIR/results.jsonl itself, so a pipeline that dies
halfway still leaves every finished trial recorded (the next run skips them). Workers must see
DATASET_DIR and SWEEP_DIR at the same paths (one machine, or a shared mount) and have sounds-kit
installed. Without ``--runner`` the DirectRunner runs ``workers`` local processes.
"""

from __future__ import annotations

import contextlib
import json
import os

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from sounds_kit.sweep.trial import limit_threads, run_trial, worker_env


class TrialFn(beam.DoFn):
    """spec -> the trial's result record as a JSON line."""

    def __init__(self, setup: dict, threads: int):
        self._setup = setup
        self._threads = threads
        self._launcher_pid = os.getpid()

    def setup(self) -> None:
        # Once per worker process, before its first trial; the in-memory runner works in the
        # launching process itself, whose settings are not ours to change.
        if os.getpid() != self._launcher_pid:
            limit_threads(self._threads)

    def process(self, spec: dict):
        yield json.dumps(run_trial(spec, self._setup), sort_keys=True)


def pipeline_options(beam_args: list[str], workers: int) -> PipelineOptions:
    """The given Beam options; with no runner, the DirectRunner on ``workers`` processes."""
    options = PipelineOptions(list(beam_args))
    if options.view_as(StandardOptions).runner in (None, "DirectRunner", "direct"):
        direct = options.view_as(DirectOptions)
        options.view_as(StandardOptions).runner = "DirectRunner"
        if not any(a.startswith("--direct_num_workers") for a in beam_args):
            direct.direct_num_workers = workers
        if not any(a.startswith("--direct_running_mode") for a in beam_args):
            # Separate processes: each gets its own TF with capped threads, like the local engine.
            direct.direct_running_mode = "multi_processing" if workers > 1 else "in_memory"
    return options


def run_beam(specs: list[dict], setup: dict, workers: int, threads: int, beam_args: list[str]) -> None:
    """Run the trials as a Beam pipeline and wait for it."""
    options = pipeline_options(beam_args, workers)
    in_process = (
        options.view_as(StandardOptions).runner == "DirectRunner"
        and options.view_as(DirectOptions).direct_running_mode == "in_memory"
    )
    # Worker processes the DirectRunner starts inherit the thread caps; this process keeps its own.
    with contextlib.nullcontext() if in_process else worker_env(threads):
        with beam.Pipeline(options=options) as p:
            _ = (
                p
                | "trials" >> beam.Create(specs)
                | "spread" >> beam.Reshuffle()  # lets runners hand trials to different workers
                | "train+export+evaluate" >> beam.ParDo(TrialFn(setup, threads))
            )
