"""A sweep worker: takes trials from the study until the sweep is done.

Any number of workers (processes on this machine, or machines sharing a PostgreSQL study) run
this same loop; the database is the only thing they share:

1. fail the trials of workers that died (stale heartbeat); Optuna re-queues their settings;
2. if the queue is empty and the budget is spent (grid: every point taken; random/TPE:
   ``trials`` finished or running), wait for the running trials of others — one may still die
   and come back to the queue — and stop when none is left;
3. ``study.ask()`` takes the next queued trial (or samples a new one), the trial trains a run
   folder while a heartbeat thread keeps it alive, and ``study.tell()`` records the result.

The grid's points are all queued when the study is created, and Optuna hands each queued trial to
exactly one worker, so every point is evaluated once however many workers there are.
(Optuna's GridSampler picks points in each worker and may run one twice near the end.)
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import warnings

import numpy as np

from .objective import run_trial
from .spec import SweepSpec
from .storage import Heartbeat, optuna_module


def make_sampler(spec: SweepSpec, seed: int):
    """Optuna's sampler for ``spec.sampler``; the grid's trials all come from the queue."""
    optuna = optuna_module()
    if spec.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(spec: SweepSpec):
    """Optuna's pruner for ``spec.pruner`` (median: after 5 finished trials, from the 2nd epoch)."""
    optuna = optuna_module()
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if spec.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def counts(study) -> dict:
    """How many trials are waiting, running, and finished for the budget (complete, pruned, or
    failed with an error of their own — not those failed because their worker died)."""
    optuna = optuna_module()
    state = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state in (state.COMPLETE, state.PRUNED)
                   or (t.state == state.FAIL and "nablab.error" in t.user_attrs) for t in trials)
    return {"waiting": sum(t.state == state.WAITING for t in trials),
            "running": sum(t.state == state.RUNNING for t in trials), "finished": finished}


def _describe(params: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


@contextlib.contextmanager
def _quiet_optuna():
    """Silence Optuna's notes that heartbeats are meant for ``optimize`` and are experimental: this
    loop is ``optimize`` with the queue discipline a grid needs, and keeps the heartbeats itself."""
    optuna = optuna_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed", category=UserWarning)
        yield


def work(spec: SweepSpec, storage, study_name: str, out, index: int = 0, log=print, shared: bool = False) -> int:
    """Run trials of ``study_name`` until the sweep is done; returns how many this worker ran.

    The sampler's seed mixes the sweep's seed with the number of trials already in the study and
    ``index`` (which tells local workers apart), so a resumed or parallel sweep does not repeat its
    draws; with ``shared`` storage (other machines may run the same command) the host and process
    id go in too.
    """
    optuna = optuna_module()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    existing = len(optuna.load_study(study_name=study_name, storage=storage).trials)
    salt = [int.from_bytes(worker.encode(), "little") % 2**63] if shared else []
    seed = int(np.random.SeedSequence([spec.seed, existing, index, *salt]).generate_state(1)[0])
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=make_sampler(spec, seed),
                              pruner=make_pruner(spec))
    ran = 0
    with _quiet_optuna():
        while True:
            if not _one(spec, storage, study, out, worker, log):
                return ran
            ran += 1


def _run(spec: SweepSpec, study, trial, out, worker: str, log) -> str:
    """Train one trial and tell the study how it ended; returns a line for the log."""
    optuna = optuna_module()
    state = optuna.trial.TrialState
    trial.set_user_attr("nablab.worker", worker)
    params = {d.name: d.suggest(trial) for d in spec.space}
    if log is not None:
        log(f"[{worker}] trial {trial.number}: {_describe(params)}")
    if spec.sampler != "grid":  # TPE and random may draw settings already trained: training is seeded, so
        for done in study.get_trials(deepcopy=False, states=(state.COMPLETE,)):  # the result is known
            if done.params == params:
                for key in ("nablab.run", "nablab.test_acc"):
                    if key in done.user_attrs:
                        trial.set_user_attr(key, done.user_attrs[key])
                trial.set_user_attr("nablab.status", f"same settings as trial {done.number}, not trained again")
                study.tell(trial, done.value)
                return f"{spec.objective} {done.value:.4f} (the settings of trial {done.number}, not trained again)"
    try:
        value = run_trial(spec, trial, params, out)
    except optuna.TrialPruned as exc:
        trial.set_user_attr("nablab.status", str(exc) or "pruned")
        study.tell(trial, state=state.PRUNED)
        return f"pruned ({exc})"
    except optuna.exceptions.UpdateFinishedTrialError:
        raise
    except Exception as exc:  # the trial's own failure: recorded, not retried, the sweep goes on
        trial.set_user_attr("nablab.error", f"{type(exc).__name__}: {exc}")
        study.tell(trial, state=state.FAIL)
        return f"failed: {type(exc).__name__}: {exc}"
    study.tell(trial, value)
    return f"{spec.objective} {value:.4f}"


def _one(spec: SweepSpec, storage, study, out, worker: str, log) -> bool:
    """Wait for and run one trial; False when the sweep is done."""
    optuna = optuna_module()
    state = optuna.trial.TrialState
    while True:
        optuna.storages.fail_stale_trials(study)
        n = counts(study)
        if n["waiting"] or (spec.sampler != "grid" and n["finished"] + n["running"] < spec.budget()):
            trial = study.ask()
            if spec.sampler != "grid" or "nablab.point" in trial.user_attrs:
                break
            # another worker took the last queued point between our look and our ask
            trial.set_user_attr("nablab.unused", "the grid's queue was empty when this worker asked")
            study.tell(trial, state=state.FAIL)
        elif not n["running"]:
            return False
        else:  # the others' running trials may still come back to the queue if their worker dies
            time.sleep(storage.get_heartbeat_interval())
    start = time.perf_counter()
    try:
        with Heartbeat(storage, trial._trial_id):
            outcome = _run(spec, study, trial, out, worker, log)
    except optuna.exceptions.UpdateFinishedTrialError:
        # our heartbeat came later than the grace period (an overloaded machine or database), so another
        # worker gave this trial up as lost and queued it again; the retry counts, this run does not
        outcome = "given up as lost by another worker (heartbeat too late); its retry runs instead"
    if log is not None:
        log(f"[{worker}] trial {trial.number}: {outcome} ({time.perf_counter() - start:.1f} s)")
    return True
