"""One trial of a sweep: a normal run folder trained with the trial's settings.

Each epoch's validation accuracy is reported to Optuna; when the study's pruner says the trial
is hopeless, :class:`optuna.TrialPruned` stops it (its run folder keeps the epochs it ran).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..budget import capped
from ..experiments import load_two_layer_net_data, train_two_layer_net, two_layer_net_settings
from ..session import train
from ..trainer import TrainingDiverged
from .spec import SweepSpec
from .storage import optuna_module

_DATA_SETTINGS = ("dataset", "split", "data_dir", "limit_train", "pixel_scale")


@lru_cache(maxsize=2)
def _cached_data(*values):
    return load_two_layer_net_data(dict(zip(_DATA_SETTINGS, values)))


def _two_layer_net_data(s: dict):
    """The preprocessed data of a two_layer_net sweep, loaded once per worker process."""
    return _cached_data(*(s[k] for k in _DATA_SETTINGS))


def check_data(spec: SweepSpec) -> None:
    """Load the sweep's data set once now, so that a missing or corrupt file stops the sweep before
    its first trial (raises :class:`nablab.data.DataError`)."""
    from ... import data

    settings = spec.trial_settings({})
    if spec.kind == "two_layer_net":
        s = two_layer_net_settings(settings)
        _two_layer_net_data(s)
        return
    d = settings.get("data", {})
    data.load(d.get("dataset", "digits"), **{k: d[k] for k in ("data_dir", "split") if d.get(k) is not None})


def _reporter(trial, optuna):
    def report(epoch: int, val_acc: float) -> None:
        trial.report(val_acc, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch} (validation accuracy {val_acc:.4f})")

    return report


def _folder(out: Path, name: str) -> str | None:
    """The run folder ``name-<timestamp>`` that a trial created under ``out`` (None if not yet made)."""
    found = sorted(out.glob(f"{name}-*"))
    return found[-1].name if found else None


def _train(spec: SweepSpec, settings: dict, out: Path, name: str, report, optuna) -> tuple[float, float]:
    if spec.kind == "two_layer_net":
        s = two_layer_net_settings(settings)
        dataset = _two_layer_net_data(s)
        # its loop records the validation accuracy at iteration 0, before any learning, and then after
        # each epoch: report "epochs done" (≥ 1), as the Trainer's records are, so the pruner never
        # judges an untrained network
        _, final = train_two_layer_net(s, out, name, dataset=dataset,
                                       on_epoch=lambda epoch, acc: report(epoch - 1, acc) if epoch > 1 else None)
        return final[spec.objective], final["test_acc"]
    try:
        _, result = train(capped({**settings, "name": name}), runs_root=out, progress=False, log=None,
                          on_epoch=lambda record: report(record["epoch"], record.get("val_acc", 0.0)))
    except TrainingDiverged as exc:
        raise optuna.TrialPruned(f"diverged: {exc}") from None
    value = result.get("final_val_acc" if spec.objective == "val_acc" else spec.objective)
    if value is None:
        raise ValueError(f"the run reported no {spec.objective} (does the data set have a validation split?)")
    # the test accuracy of the weights the objective scores: the best-validation ones for best_val_acc
    return value, result.get("best_test_acc" if spec.objective == "best_val_acc" else "test_acc")


def run_trial(spec: SweepSpec, trial, params: dict, out) -> float:
    """Train the trial's network into a run folder under ``out``; returns the objective.

    The run folder's name and the test accuracy go into the trial's user attributes
    (``nablab.run``, ``nablab.test_acc``). Raises ``optuna.TrialPruned`` when the pruner stops the
    trial or the training diverges.
    """
    optuna = optuna_module()
    out = Path(out)
    name = f"{spec.name}-trial{trial.number:04d}"
    try:
        value, test_acc = _train(spec, spec.trial_settings(params), out, name, _reporter(trial, optuna), optuna)
        trial.set_user_attr("nablab.test_acc", test_acc)
        return value
    finally:
        folder = _folder(out, name)
        if folder is not None:
            trial.set_user_attr("nablab.run", folder)
