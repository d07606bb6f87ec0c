"""Budget overrides from the environment, for smoke runs of the documented commands (the README test, CI).

``NABLAB_MAX_EPOCHS=E`` and ``NABLAB_MAX_STEPS=S`` cap every run that ``nablab train``, ``nablab reproduce``
and ``nablab sweep`` start: a run trains for ``min(epochs, E)`` epochs and stops after at most ``S`` steps
(the reference TwoLayerNet's loop, which counts iterations only, after at most ``S`` iterations);
``NABLAB_MAX_EVAL=N`` measures the test accuracy on at most ``N`` test images, the training accuracy on
at most ``N`` training images and, for MNIST, Fashion-MNIST and CIFAR-10 outside the HLCV split (which
holds out exactly 1,000), the validation accuracy on ``N`` held-out images (``data.limit_test``,
``data.train_eval_size``, ``data.val_size``); ``NABLAB_MAX_TRIALS=T`` runs at most T trials of a sweep
(the first T points of a grid).
Unset (the default), the settings are used as given. A capped run records its capped settings in its
config.toml, so it resumes as what it was.
"""

from __future__ import annotations

import math
import os

from .settings import SETTINGS

#: the data sets whose validation images are held out of the training set (the others have fixed splits)
HELD_OUT = ("mnist", "fashion_mnist", "cifar10")
CAPS = {"epochs": "NABLAB_MAX_EPOCHS", "steps": "NABLAB_MAX_STEPS", "eval": "NABLAB_MAX_EVAL",
        "trials": "NABLAB_MAX_TRIALS"}


def caps() -> dict[str, int]:
    """The caps set in the environment, ``{"epochs": E, "steps": S, "eval": N}`` (only those set)."""
    found = {}
    for key, variable in CAPS.items():
        text = os.environ.get(variable, "").strip()
        if not text:
            continue
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{variable} must be a positive integer, got {text!r}")
        found[key] = value
    return found


def capped(config: dict) -> dict:
    """``config`` with its ``[train]`` epochs and steps lowered to the environment's caps (a new dict)."""
    limits = caps()
    if not limits:
        return config
    defaults = {s.path: s.default for s in SETTINGS}
    sections = {"train": dict(config.get("train", {})), "data": dict(config.get("data", {}))}
    paths = {"epochs": ["train.epochs"], "steps": ["train.steps"], "eval": ["data.limit_test", "data.train_eval_size"]}
    for cap, limit in limits.items():
        for path in paths.get(cap, ()):  # the trials cap is the sweep's (nablab.lab.sweep.spec)
            section, key = path.split(".")
            given = sections[section].get(key, defaults[path])
            sections[section][key] = limit if given is None else min(given, limit)
    data = sections["data"]
    if ("eval" in limits and data.get("dataset", defaults["data.dataset"]) in HELD_OUT
            and data.get("split", defaults["data.split"]) != "hlcv"):
        given = sections["data"].get("val_size")
        sections["data"]["val_size"] = limits["eval"] if given is None else min(given, limits["eval"])
    return {**config, **sections}


def capped_two_layer_net(settings: dict) -> dict:
    """The TwoLayerNet's ``settings`` with ``num_iters`` lowered to ``NABLAB_MAX_STEPS`` (a new dict)."""
    limit = caps().get("steps")
    if limit is None:
        return settings
    return {**settings, "num_iters": min(settings["num_iters"], limit)}


def capped_resume(given: dict, records: list[dict]) -> dict:
    """The settings ``given`` to ``--resume`` a run whose metrics are ``records``, capped to train at most
    ``NABLAB_MAX_STEPS`` steps and ``NABLAB_MAX_EPOCHS`` epochs more (a new dict).

    A finished run resumed without a new ``epochs`` or ``steps`` is left alone (it is not trained again).
    """
    limits = caps()
    train = dict(given.get("train", {}))
    finished = any(r["kind"] == "final" for r in records)
    if not limits or (finished and not {"epochs", "steps"} & set(train)):
        return given
    done_steps = max((r.get("step", 0) for r in records), default=0)
    done_epochs = max((r["epoch"] for r in records if r["kind"] == "epoch"), default=0)
    if "steps" in limits:
        train["steps"] = min(train.get("steps") or math.inf, done_steps + limits["steps"])
    if "epochs" in limits and "epochs" in train:
        train["epochs"] = min(train["epochs"], done_epochs + limits["epochs"])
    return {**given, "train": train}
