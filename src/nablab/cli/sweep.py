"""``nablab sweep``: a hyperparameter search on Optuna, resumable, on one machine or many."""

from __future__ import annotations

import os

from .data import existing_folder


def add_parser(sub) -> None:
    sweep = sub.add_parser("sweep", help="search hyperparameters with Optuna (an experiment with a [sweep] table)")
    sweep.add_argument("name", metavar="NAME",
                       help="experiment name (see `nablab reproduce --list`) or a path to a TOML file")
    sweep.add_argument("--quick", action="store_true", help="the experiment's small form (for CI)")
    sweep.add_argument("--sampler", choices=["grid", "random", "tpe"], default=None,
                       help="override the file's sampler")
    sweep.add_argument("--trials", type=int, default=None, metavar="N", help="budget of the random and tpe samplers")
    sweep.add_argument("--pruner", choices=["none", "median", "halving"], default=None,
                       help="stop hopeless trials from their per-epoch validation accuracy")
    sweep.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    sweep.add_argument("--storage", default=None, metavar="URL",
                       help="Optuna storage, e.g. postgresql://user@host/db (default: SQLite in the sweep folder)")
    sweep.add_argument("--study", default=None, metavar="NAME",
                       help="study name, the same on every machine (default: EXPERIMENT-SAMPLER)")
    sweep.add_argument("--out", default="sweeps", help="where the sweep folder goes (default: sweeps)")
    sweep.add_argument("--heartbeat", type=int, default=5,
                       help="seconds between a running trial's heartbeats (default 5)")
    sweep.add_argument("--grace", type=int, default=20,
                       help="a trial silent this long (s) lost its worker: it is failed and retried (default 20)")
    sweep.add_argument("--data-dir", type=existing_folder, default=None, metavar="DIR",
                       help="folder holding the data set's files, for every worker (the same as NABLAB_DATA=DIR)")
    sweep.add_argument("--quiet", action="store_true", help="no line per trial")
    sweep.set_defaults(func=run)


def run(args) -> int:
    from ..lab.sweep import run_sweep
    from .errors import floating_point_notes

    saved = os.environ.get("NABLAB_DATA")
    if args.data_dir is not None:  # read by this process and inherited by the workers it starts
        os.environ["NABLAB_DATA"] = args.data_dir
    try:
        with floating_point_notes("the sweep"):
            report = run_sweep(args.name, out_root=args.out, quick=args.quick, storage_url=args.storage,
                               study_name=args.study, workers=args.workers, sampler=args.sampler,
                               trials=args.trials, pruner=args.pruner, heartbeat=args.heartbeat, grace=args.grace,
                               log=None if args.quiet else print)
    finally:
        if saved is None:
            os.environ.pop("NABLAB_DATA", None)
        else:
            os.environ["NABLAB_DATA"] = saved
    print(f"report: {report}")
    return 0
