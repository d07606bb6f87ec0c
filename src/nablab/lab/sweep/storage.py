"""Where a study lives: Optuna's RDB storage (SQLite by default, PostgreSQL across machines).

Every worker keeps a heartbeat for the trial it runs (a thread writing a timestamp every
``heartbeat`` seconds). A trial whose heartbeat is older than ``grace`` seconds belongs to a worker
that died (SIGKILL, power cut, lost machine): the next worker that looks marks it failed, and
Optuna's ``RetryHeartbeatStaleTrialCallback`` puts its settings back in the queue, so it is run
again.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from pathlib import Path

from .spec import SweepError

#: errors that mean another worker is creating the same database tables at this moment
_RACE = re.compile(r"UNIQUE constraint|already exists|duplicate key|database is locked", re.IGNORECASE)


def optuna_module():
    """Optuna, or an error saying which extra to install."""
    try:
        import optuna
    except ImportError:
        raise ImportError("sweeps run on Optuna: pip install 'nablab[sweep]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def default_url(folder) -> str:
    """The default storage: an SQLite file ``optuna.db`` in the sweep folder."""
    return f"sqlite:///{Path(folder).resolve() / 'optuna.db'}"


def masked(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for logs and reports)."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def open_storage(url: str, heartbeat: int = 5, grace: int = 20, max_retry: int = 3):
    """Connect to the study database at ``url``; an unreachable or malformed URL is a SweepError.

    ``heartbeat`` and ``grace`` are whole seconds (Optuna's units); a trial silent for ``grace``
    seconds is failed and retried up to ``max_retry`` times.
    """
    optuna = optuna_module()
    if not isinstance(heartbeat, int) or not isinstance(grace, int) or heartbeat < 1 or grace < 2 * heartbeat:
        raise SweepError(f"heartbeat must be a whole number of seconds ≥ 1 and the grace period at least twice "
                         f"it, got heartbeat {heartbeat!r} and grace {grace!r}")
    engine_kwargs = {}
    if url.startswith("sqlite"):
        # several local workers write to one file: wait for the lock rather than failing at once
        engine_kwargs["connect_args"] = {"timeout": 60}
    elif url.startswith("postgresql"):
        engine_kwargs["pool_pre_ping"] = True
        if "connect_timeout" not in url:
            engine_kwargs["connect_args"] = {"connect_timeout": 10}
    for attempt in range(5):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.8
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat, grace_period=grace,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=max_retry))
        except ImportError as exc:
            raise SweepError(f"storage {masked(url)} needs a database driver that is not installed ({exc}); "
                             "pip install 'nablab[sweep]' brings psycopg for PostgreSQL") from None
        except Exception as exc:  # SQLAlchemy's errors: bad URL, refused connection, unknown database, auth
            reason = " ".join(str(exc).split()) or type(exc).__name__
            if _RACE.search(reason) and attempt < 4:
                time.sleep(0.5 * (attempt + 1))  # another worker is creating the tables right now
                continue
            raise SweepError(f"cannot open the study storage {masked(url)}: {reason[:300]}") from None


class Heartbeat:
    """A thread that records ``trial_id``'s heartbeat every interval until the ``with`` block ends."""

    def __init__(self, storage, trial_id: int):
        self.storage, self.trial_id = storage, trial_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{trial_id}", daemon=True)

    def _beat(self) -> None:
        interval = self.storage.get_heartbeat_interval()
        while True:
            self.storage.record_heartbeat(self.trial_id)
            if self._stop.wait(interval):
                return

    def __enter__(self):
        self.storage.record_heartbeat(self.trial_id)  # at once: a trial without one is never found stale
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
