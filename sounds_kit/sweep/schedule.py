"""The search: Optuna asks for configurations, successive halving stops weak trials early.

The launching process owns the Optuna study (a journal file in SWEEP_DIR, appended by Optuna and safe
to kill at any moment) and talks to it with ask/tell; workers only train and score (``sweep.trial``),
so a cluster's workers need no access to the study. A trial runs as a chain of jobs, one per *rung*
(e.g. 111, 333, 1000 steps): after each rung its score is reported to Optuna's successive-halving
pruner (asynchronous, as ASHA: a trial goes on only while it is in the best 1/reduction_factor of the
trials that reached the same rung), and the chain stops there or the next job is submitted. The last
rung exports and scores the float16 model. Then the finalists (within twice the tolerance of the best)
are trained again with more seeds, so that the choice does not rest on one seed's luck; so are the
chosen configuration and the best, until both have every seed (``search.seed_the_choice``).

Resuming: trials that were running when the sweep was killed are failed in the study and asked again
with the same parameters; their jobs find the checkpoint (and the rung scores) in the trial folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sounds_kit.errors import UserFacingError
from sounds_kit.sweep.space import anchor_params, config_id, make_spec, size, suggest
from sounds_kit.sweep.trial import RESULTS, append_result, read_lines

JOURNAL = "optuna.journal"
STUDY = "sweep"


def rungs(steps: int, min_steps: int, reduction_factor: int) -> list[int]:
    """The steps a trial is scored at: min_steps x factor^k while a further rung fits, then ``steps``."""
    if min_steps < 1 or reduction_factor < 2:
        raise UserFacingError("--min-steps must be >= 1 and --reduction-factor >= 2")
    out, r = [], min_steps
    while r * reduction_factor <= steps:
        out.append(r)
        r *= reduction_factor
    return [*out, steps]


def open_study(sweep_dir: Path, config, first_rung: int | None):
    """The sweep's Optuna study (created or loaded), its sampler and pruner rebuilt from ``config``."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(sweep_dir / JOURNAL)))
    if config.sampler == "tpe":
        # constant_liar: parallel workers do not all get the same suggestion while trials run.
        sampler = optuna.samplers.TPESampler(seed=config.seed, constant_liar=True)
    else:
        sampler = optuna.samplers.RandomSampler(seed=config.seed)
    if first_rung is None:
        pruner = optuna.pruners.NopPruner()
    else:
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=first_rung,
                                                        reduction_factor=config.reduction_factor)  # fmt: skip
    return optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler, pruner=pruner,
                               direction="minimize", load_if_exists=True)  # fmt: skip


def _recover(study, space: dict) -> None:
    """A killed sweep leaves trials RUNNING: fail them and ask for the same parameters again (their
    folders resume); failed trials are retried too. A new study first tries the anchor models."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    if not trials:
        for params in anchor_params(space):
            study.enqueue_trial(params, skip_if_exists=True)
        return
    finished_ids = {t.user_attrs.get("id") for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
    retry = {}
    for t in trials:
        if t.state == TrialState.RUNNING:
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        if t.state in (TrialState.RUNNING, TrialState.FAIL) and not t.user_attrs.get("duplicate"):
            if t.user_attrs.get("id") not in finished_ids and t.params:
                retry[t.user_attrs.get("id")] = t.params
    for params in retry.values():
        study.enqueue_trial(params, skip_if_exists=True)


def _finished(study) -> tuple[int, set[str]]:
    """(trials that count: completed or pruned, not repeats; the ids of those)."""
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
            if not t.user_attrs.get("duplicate") and not t.user_attrs.get("over_budget")]  # fmt: skip
    return len(done), {t.user_attrs["id"] for t in done}


def search(study, space: dict, config, ex, steps_rungs: list[int] | None, sweep_dir: Path,
           on_done: Callable[[dict], None], estimate: Callable[[dict], int] | None = None) -> str | None:
    """Ask, run and prune trials until ``config.trials`` have finished (completed or pruned); returns
    why it stopped short of that, or None.

    With ``config.max_download_kb``, ``estimate(decoder) -> bytes`` (sweep.budget) is asked first: a
    configuration over the budget is never trained and does not count as a trial; Optuna gets it as
    pruned and infeasible (a positive ``download_over_kb`` constraint), which TPE ranks after every
    trained trial, so it learns to propose configurations under the budget."""
    from optuna.trial import TrialState

    _recover(study, space)
    n_done, done_ids = _finished(study)
    by_id = {t.user_attrs.get("id"): t for t in study.get_trials(deepcopy=False)
             if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
             and not t.user_attrs.get("over_budget")}  # fmt: skip
    budget = None if config.max_download_kb is None else config.max_download_kb * 1024
    over_ids = {t.user_attrs.get("id") for t in study.get_trials(deepcopy=False) if t.user_attrs.get("over_budget")}
    n_configs = size(space)
    pending: dict = {}  # future -> (optuna trial, spec, rung index)
    running: set[str] = set()
    failures = repeats = over = 0

    def submit(trial, spec: dict, k: int) -> None:
        final = steps_rungs is None or k == len(steps_rungs) - 1
        until = None if steps_rungs is None else steps_rungs[k]
        pending[ex.submit({"spec": spec, "until": until, "final": final})] = (trial, spec, k)

    while True:
        while (len(pending) < ex.workers and n_done + len(running) < config.trials
               and len(done_ids | running | over_ids) < n_configs and failures < config.trials
               and repeats + over < 20 * config.trials):  # fmt: skip
            trial = study.ask()
            spec = suggest(trial, space)
            trial.set_user_attr("id", spec["id"])
            if budget is not None and estimate is not None:
                nbytes = estimate(spec["decoder"])
                trial.set_user_attr("download_bytes_estimate", nbytes)
                trial.set_constraint("download_over_kb", (nbytes - budget) / 1024)
                if nbytes > budget:  # never trained: free, and TPE ranks it after every trained trial
                    over += 1
                    over_ids.add(spec["id"])
                    trial.set_user_attr("over_budget", True)
                    study.tell(trial, state=TrialState.PRUNED)
                    continue
            if spec["id"] in done_ids or spec["id"] in running:
                # A repeated suggestion costs nothing: it gets the earlier outcome and does not count.
                repeats += 1
                trial.set_user_attr("duplicate", True)
                prev = by_id.get(spec["id"])
                if prev is not None and prev.state == TrialState.COMPLETE:
                    study.tell(trial, prev.value)
                else:
                    study.tell(trial, state=TrialState.PRUNED if prev is not None else TrialState.FAIL)
                continue
            running.add(spec["id"])
            submit(trial, spec, 0)
        if not pending:
            if n_done >= config.trials:
                return None
            if failures >= config.trials:
                return f"{failures} trial jobs failed"
            if len(done_ids | over_ids) >= n_configs:
                return f"every configuration of the space ({n_configs}) is tried or over the budget"
            # TPE repeats itself once it has settled; the counters start again when the sweep resumes.
            return (f"{repeats + over} of the sampler's proposals were repeats ({repeats}) or over the budget "
                    f"({over}), the most one session asks for; run the same command again to go on")
        for fut in ex.wait_any(pending):
            trial, spec, k = pending.pop(fut)
            rec = ex.result(fut)
            if rec["status"] == "rung":
                trial.report(rec["quality"], rec["step"])
                if not trial.should_prune():
                    submit(trial, spec, k + 1)
                    continue
                study.tell(trial, state=TrialState.PRUNED)
                rec = {**rec, "status": "pruned", "decoder": spec["decoder"], "recipe": spec["recipe"]}
                append_result(sweep_dir / RESULTS, rec)
            elif rec["status"] == "ok":
                study.tell(trial, rec["quality"])
            else:
                failures += 1
                study.tell(trial, state=TrialState.FAIL)
            running.discard(spec["id"])
            if rec["status"] != "failed":
                n_done += 1
                done_ids.add(spec["id"])
                by_id[spec["id"]] = study.get_trials(deepcopy=False)[trial.number]
            on_done(rec)


def finalists(results: list[dict], config) -> list[dict]:
    """Seed-0 trials within 2 x tolerance of the best, best first, at most ``config.finalists``."""
    first = [r for r in results if r.get("seed", 0) == 0]
    if not first or config.seeds < 2:
        return []
    best = min(r["quality"] for r in first)
    close = sorted((r for r in first if r["quality"] <= best * (1 + 2 * config.tolerance)), key=lambda r: r["quality"])
    return close[: config.finalists]


def reseed(results: list[dict], config, ex, on_done: Callable[[dict], None]) -> None:
    """Train the finalists with seeds 1 .. seeds-1 on the whole budget (skipping those already done)."""
    reseed_configs(finalists(results, config), results, config, ex, on_done)


def reseed_configs(configs: list[dict], results: list[dict], config, ex, on_done: Callable[[dict], None]) -> None:
    """Train ``configs`` (trial records) with seeds 1 .. seeds-1, skipping the ids ``results`` has."""
    have = {r["id"] for r in results}
    jobs = [make_spec(r["decoder"], r.get("recipe"), seed) for r in configs for seed in range(1, config.seeds)]
    pending = {ex.submit({"spec": s, "until": None, "final": True}): s for s in jobs if s["id"] not in have}
    while pending:
        for fut in ex.wait_any(pending):
            pending.pop(fut)
            on_done(ex.result(fut))


def history(sweep_dir: Path) -> list[dict]:
    """Every trial of the study, for the search log: number, id, state, last rung step and score."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = sweep_dir / JOURNAL
    if not path.exists():
        return []
    study = optuna.load_study(study_name=STUDY, storage=JournalStorage(JournalFileBackend(str(path))))
    rows = []
    for t in study.get_trials(deepcopy=False):
        rungs_ = read_lines(sweep_dir / "trials" / str(t.user_attrs.get("id")) / "rungs.jsonl")
        rows.append({"number": t.number, "id": t.user_attrs.get("id"),
                     "state": t.state.name, "repeat": bool(t.user_attrs.get("duplicate")),
                     "over_budget": bool(t.user_attrs.get("over_budget")),
                     "last_step": t.last_step, "value": t.value, "rungs": len(rungs_)})  # fmt: skip
    return rows


__all__ = ["rungs", "open_study", "search", "finalists", "reseed", "reseed_configs", "history", "config_id"]
