"""Starting or joining a study, and running a sweep with N local workers.

The first worker to reach the storage creates the study, records the sweep's description
(``nablab.spec``) and, for a grid, queues every point; then it marks the study ready. Workers
that come later (a second run of the same command, other processes, other machines) join it,
after checking that they describe the same sweep.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from .objective import check_data
from .report import write_sweep_report
from .spec import SweepError, SweepSpec, load_spec
from .storage import default_url, masked, open_storage, optuna_module
from .worker import work


def default_study_name(spec: SweepSpec) -> str:
    return f"{spec.name}{'-quick' if spec.quick else ''}-{spec.sampler}"


def _join(spec: SweepSpec, storage, study_name: str, wait: float):
    """Load a study another worker created, once it is ready, and check it is the same sweep."""
    optuna = optuna_module()
    study = optuna.load_study(study_name=study_name, storage=storage)
    started = time.monotonic()
    while not study.user_attrs.get("nablab.ready"):
        waited = time.monotonic() - started
        if "nablab.spec" not in study.user_attrs and waited > 5:
            raise SweepError(f"study {study_name!r} exists in {masked(storage.url)} but was not made by "
                             "nablab sweep; choose another --study name")
        if waited > wait:
            raise SweepError(f"study {study_name!r} was created but its grid was not queued within {wait:.0f} s "
                             "(did the creating worker die? delete the study and start again)")
        time.sleep(0.5)
    if study.user_attrs["nablab.spec"] != spec.fingerprint():
        raise SweepError(f"study {study_name!r} in {masked(storage.url)} was made for a different sweep "
                         "(settings, space, sampler or objective differ); use another --study name")
    return study


def prepare_study(spec: SweepSpec, storage, study_name: str, wait: float = 120.0):
    """Create ``study_name`` (queueing the grid) or join it; returns the study."""
    optuna = optuna_module()
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, direction=spec.direction)
    except optuna.exceptions.DuplicatedStudyError:
        study = None
    if study is None:
        return _join(spec, storage, study_name, wait)
    study.set_user_attr("nablab.spec", spec.fingerprint())
    study.set_user_attr("nablab.title", spec.title)
    if spec.sampler == "grid":
        for index, point in enumerate(spec.grid()):
            study.enqueue_trial(point, user_attrs={"nablab.point": index})
    study.set_user_attr("nablab.ready", True)
    return study


def _worker_process(name, quick, sampler, trials, pruner, url, heartbeat, grace, study_name, out, index, quiet,
                    shared):
    """Entry point of a spawned local worker: reopen everything from plain arguments."""
    spec = load_spec(name, quick=quick, sampler=sampler, trials=trials, pruner=pruner)
    storage = open_storage(url, heartbeat, grace)
    work(spec, storage, study_name, out, index=index, log=None if quiet else print, shared=shared)


def run_sweep(name: str, out_root="sweeps", quick: bool = False, storage_url: str | None = None,
              study_name: str | None = None, workers: int = 1, sampler: str | None = None, trials: int | None = None,
              pruner: str | None = None, heartbeat: int = 5, grace: int = 20, log=print) -> Path:
    """Run (or continue, or join) the sweep of experiment ``name``; returns the path of sweep.md.

    The sweep folder ``out_root/<study>`` holds the trials' run folders (``trials/``), the
    default SQLite storage (``optuna.db``), ``sweep.md`` and its figures. Everything that can be
    checked — the space, the settings, the storage — is checked before the first trial starts.
    """
    spec = load_spec(name, quick=quick, sampler=sampler, trials=trials, pruner=pruner)
    if not isinstance(workers, int) or workers < 1:
        raise SweepError(f"--workers must be a positive integer, got {workers!r}")
    check_data(spec)
    study_name = study_name or default_study_name(spec)
    folder = Path(out_root) / study_name
    folder.mkdir(parents=True, exist_ok=True)
    url = storage_url or default_url(folder)
    storage = open_storage(url, heartbeat, grace)
    study = prepare_study(spec, storage, study_name)
    if log is not None:
        log(f"sweep {study_name}: {spec.sampler} over {'; '.join(d.describe() for d in spec.space)} "
            f"({spec.budget()} trials), storage {masked(url)}, {workers} worker(s)")
    out = folder / "trials"
    if workers == 1:
        work(spec, storage, study_name, out, log=log, shared=storage_url is not None)
    else:
        # each worker gets an equal share of the cores for its BLAS (set before numpy loads in the child)
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        os.environ.update(dict.fromkeys(saved, threads))
        context = multiprocessing.get_context("spawn")
        try:
            processes = [context.Process(target=_worker_process, name=f"sweep-worker-{i}",
                                         args=(name, quick, sampler, trials, pruner, url, heartbeat, grace,
                                               study_name, out, i, log is None, storage_url is not None))
                         for i in range(workers)]
            for p in processes:
                p.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        for p in processes:
            p.join()
            if p.exitcode != 0 and log is not None:
                log(f"warning: {p.name} (pid {p.pid}) ended with exit code {p.exitcode}; the others took over "
                    "its trial")
    return write_sweep_report(spec, study, folder, url)
