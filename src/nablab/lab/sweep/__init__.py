"""Hyperparameter sweeps on Optuna: ``nablab sweep EXPERIMENT`` (see :mod:`.spec` for the TOML).

SQLite in the sweep folder by default (kill it, run the same command again, it continues);
``--workers N`` local processes; ``--storage postgresql://…`` makes any number of machines
workers of one study. Each trial is a normal run folder; ``sweep.md`` sums the study up.
"""

from .report import write_sweep_report
from .spec import SweepError, SweepSpec, load_spec
from .storage import open_storage
from .study import prepare_study, run_sweep
from .worker import work

__all__ = ["SweepError", "SweepSpec", "load_spec", "open_storage", "prepare_study", "run_sweep", "work",
           "write_sweep_report"]
