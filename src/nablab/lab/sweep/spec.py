"""A sweep's description, read from an experiment TOML and checked before any trial starts.

A sweep is an experiment file (see :mod:`nablab.lab.experiments`) of kind ``two_layer_net`` or
``train`` with a ``[sweep]`` table::

    [sweep]
    sampler = "grid"            # grid | random | tpe
    trials = 81                 # the budget of random and tpe (the grid runs every point once)
    objective = "val_acc"       # what a trial returns: val_acc (final) or best_val_acc (train kind)
    direction = "maximize"
    pruner = "none"             # none | median | halving (from the per-epoch validation accuracy)
    seed = 0

    [sweep.space]               # settings (two_layer_net) or "section.key" (train) to search
    hidden_size = [50, 60, 70]                      # a list: categorical, one axis of the grid
    learning_rate = {low = 1e-4, high = 1e-2, log = true}   # a range: random and tpe only
    num_iters = {low = 500, high = 3000, step = 500}        # integers when low, high, step are

``[quick]`` (the CI form) may hold ``space`` and ``sweep`` tables beside its settings overrides.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field

from .. import budget
from ..config import DEFAULTS
from ..experiments import TWO_LAYER_NET_SETTINGS, ExperimentError, merge, two_layer_net_settings
from ..experiments import load as load_experiment

SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "halving")
OBJECTIVES = {"two_layer_net": ("val_acc",), "train": ("val_acc", "best_val_acc")}


class SweepError(ValueError):
    """A sweep that cannot start: bad search space, settings or storage; the message says which."""


@dataclass(frozen=True)
class Dimension:
    """One searched setting: ``choices`` (categorical) or a range ``low``..``high``."""

    name: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    @property
    def is_int(self) -> bool:
        return self.choices is None and all(isinstance(v, int) for v in (self.low, self.high, self.step or 1))

    def suggest(self, trial):
        """The value Optuna's ``trial`` draws (or the fixed value of an enqueued grid point)."""
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.is_int:
            return trial.suggest_int(self.name, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def describe(self) -> str:
        if self.choices is not None:
            return f"{self.name} ∈ {list(self.choices)}"
        return f"{self.name} ∈ [{self.low}, {self.high}]" + (" log" if self.log else "") + (
            f" step {self.step}" if self.step else "")


def _dimension(name: str, value) -> Dimension:
    if isinstance(value, dict) and "choices" in value:
        value = value["choices"]
    if isinstance(value, list):
        if not value:
            raise SweepError(f"[sweep.space] {name}: the list of values is empty")
        if len(set(map(json.dumps, value))) != len(value):
            raise SweepError(f"[sweep.space] {name}: {value} repeats a value")
        return Dimension(name, choices=tuple(value))
    if not isinstance(value, dict):
        raise SweepError(f"[sweep.space] {name} must be a list of values or a table {{low, high[, log, step]}}, "
                         f"got {value!r}")
    unknown = sorted(set(value) - {"low", "high", "log", "step"})
    if unknown or "low" not in value or "high" not in value:
        raise SweepError(f"[sweep.space] {name}: a range takes low, high and optionally log and step, got "
                         f"{sorted(value)}")
    low, high, log, step = value["low"], value["high"], bool(value.get("log", False)), value.get("step")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise SweepError(f"[sweep.space] {name}: low and high must be numbers, got {low!r} and {high!r}")
    if not low < high:
        raise SweepError(f"[sweep.space] {name}: the range [{low}, {high}] is empty (low must be below high)")
    if log and low <= 0:
        raise SweepError(f"[sweep.space] {name}: a log range needs low > 0, got {low}")
    if log and step is not None:
        raise SweepError(f"[sweep.space] {name}: a range is either log or stepped, not both")
    if step is not None and not step > 0:
        raise SweepError(f"[sweep.space] {name}: step must be positive, got {step}")
    return Dimension(name, low=low, high=high, log=log, step=step)


def _check_name(kind: str, name: str) -> None:
    if kind == "two_layer_net":
        if name not in TWO_LAYER_NET_SETTINGS:
            raise SweepError(f"[sweep.space] unknown parameter {name!r}; a two_layer_net sweep searches its "
                             f"settings: {', '.join(TWO_LAYER_NET_SETTINGS)}")
        return
    section, _, key = name.partition(".")
    if not isinstance(DEFAULTS.get(section), dict) or key not in DEFAULTS[section]:
        known = [f"{s}.{k}" for s, table in DEFAULTS.items() if isinstance(table, dict) for k in table]
        raise SweepError(f"[sweep.space] unknown parameter {name!r}; a train sweep searches 'section.key' "
                         f"settings: {', '.join(known)}")


@dataclass
class SweepSpec:
    """A checked sweep: the experiment, its fixed settings, the space and how to search it."""

    name: str
    title: str
    kind: str
    settings: dict
    space: list[Dimension]
    sampler: str = "grid"
    trials: int | None = None
    objective: str = "val_acc"
    direction: str = "maximize"
    pruner: str = "none"
    seed: int = 0
    published: dict = field(default_factory=dict)
    quick: bool = False
    #: at most this many grid points (NABLAB_MAX_TRIALS, :mod:`nablab.lab.budget`): the first ones
    max_points: int | None = None

    def grid(self) -> list[dict]:
        """Every point of the grid (the first ``max_points`` when capped), in a fixed order (the last
        dimension varies fastest)."""
        names = [d.name for d in self.space]
        points = [dict(zip(names, values)) for values in itertools.product(*(d.choices for d in self.space))]
        return points if self.max_points is None else points[: self.max_points]

    def budget(self) -> int:
        """How many trials the sweep runs to the end: the grid's size, or ``trials``."""
        return len(self.grid()) if self.sampler == "grid" else self.trials

    def trial_settings(self, params: dict) -> dict:
        """The settings of one trial: the fixed settings with the trial's values put in."""
        if self.kind == "two_layer_net":
            return {**self.settings, **params}
        config = copy.deepcopy(self.settings)
        for name, value in params.items():
            section, _, key = name.partition(".")
            if isinstance(DEFAULTS[section][key], list) and not isinstance(value, list):
                value = [value]  # Optuna's choices are scalars: model.hidden = [64, 128] searches one width
            config.setdefault(section, {})[key] = value
        return config

    def fingerprint(self) -> str:
        """What must agree between the workers of one study (JSON)."""
        return json.dumps({"kind": self.kind, "settings": self.settings, "sampler": self.sampler,
                           "objective": self.objective, "direction": self.direction,
                           "space": [d.describe() for d in self.space]}, sort_keys=True, default=str)


def load_spec(name: str, quick: bool = False, sampler: str | None = None, trials: int | None = None,
              pruner: str | None = None) -> SweepSpec:
    """Read and check the sweep of experiment ``name`` (a name in experiments/ or a TOML path).

    ``sampler``, ``trials`` and ``pruner`` override the file's ``[sweep]`` values. Every problem
    (unknown parameter, empty range, grid over a range, bad option) raises :class:`SweepError`.
    """
    try:
        raw = load_experiment(name)
    except ExperimentError as exc:
        raise SweepError(str(exc)) from None
    if "sweep" not in raw:
        raise SweepError(f"{raw['path']} has no [sweep] table, so it is not a sweep (see nablab.lab.sweep.spec)")
    kind = raw["kind"]
    if kind not in OBJECTIVES:
        raise SweepError(f"{raw['path']}: a sweep needs kind 'two_layer_net' or 'train', got {kind!r}")
    table = dict(raw["sweep"])
    quick_table = dict(raw.get("quick", {})) if quick else {}
    space_table = {**table.pop("space", {}), **quick_table.pop("space", {})}
    table.update(quick_table.pop("sweep", {}))
    unknown = sorted(set(table) - {"sampler", "trials", "objective", "direction", "pruner", "seed"})
    if unknown:
        raise SweepError(f"[sweep] unknown key(s) {', '.join(unknown)}; expected sampler, trials, objective, "
                         f"direction, pruner, seed and a [sweep.space] table")
    if not space_table:
        raise SweepError(f"{raw['path']}: [sweep.space] is empty; name at least one setting to search")
    if kind == "two_layer_net":
        settings = merge(raw.get("settings", {}), quick_table)
        try:
            two_layer_net_settings(settings)
        except ExperimentError as exc:
            raise SweepError(str(exc)) from None
    else:
        settings = merge(raw.get("base", {}), quick_table)
    space = []
    for dim_name, value in space_table.items():
        _check_name(kind, dim_name)
        space.append(_dimension(dim_name, value))

    spec = SweepSpec(name=raw["name"], title=raw.get("title", raw["name"]), kind=kind, settings=settings,
                     space=space, sampler=sampler or table.get("sampler", "grid"),
                     trials=trials if trials is not None else table.get("trials"),
                     objective=table.get("objective", "val_acc"), direction=table.get("direction", "maximize"),
                     pruner=pruner or table.get("pruner", "none"), seed=int(table.get("seed", 0)),
                     published=raw.get("published", {}), quick=quick)
    limit = budget.caps().get("trials")
    if limit is not None:  # a smoke run's cap (the README test): the first points, or fewer trials
        spec.max_points = limit
        spec.trials = None if spec.trials is None else min(spec.trials, limit)
    if spec.sampler not in SAMPLERS:
        raise SweepError(f"[sweep] sampler = {spec.sampler!r} is not one of {', '.join(SAMPLERS)}")
    if spec.pruner not in PRUNERS:
        raise SweepError(f"[sweep] pruner = {spec.pruner!r} is not one of {', '.join(PRUNERS)}")
    if spec.direction not in ("maximize", "minimize"):
        raise SweepError(f"[sweep] direction must be 'maximize' or 'minimize', got {spec.direction!r}")
    if spec.objective not in OBJECTIVES[kind]:
        raise SweepError(f"[sweep] objective = {spec.objective!r}: a {kind} sweep reports "
                         f"{', '.join(OBJECTIVES[kind])}")
    if spec.sampler == "grid":
        ranges = [d.name for d in space if d.choices is None]
        if ranges:
            raise SweepError(f"[sweep.space] the grid sampler needs a list of values for every parameter; "
                             f"{', '.join(ranges)} {'is a range' if len(ranges) == 1 else 'are ranges'}")
    elif not isinstance(spec.trials, int) or isinstance(spec.trials, bool) or spec.trials < 1:
        raise SweepError(f"[sweep] the {spec.sampler} sampler needs trials = a positive integer (the budget), "
                         f"got {spec.trials!r}")
    # a trial's settings must make a valid run: check one point now, not after hours of other trials
    probe = {d.name: d.choices[0] if d.choices is not None else d.low for d in space}
    _check_settings(spec, spec.trial_settings(probe))
    return spec


def _check_settings(spec: SweepSpec, settings: dict) -> None:
    if spec.kind == "two_layer_net":
        return
    from ..config import ConfigError, resolve

    try:
        resolve(settings)
    except ConfigError as exc:
        raise SweepError(f"a trial's configuration would be invalid: {exc}") from None
