"""Training configurations: defaults, validation, and building the pieces a run needs.

A configuration is a nested dict with the sections below (what ``config.toml`` holds). Every key
is checked: an unknown key is an error that names it and the keys that section accepts.

``data.pixel_scale`` is what pixels are divided by before preprocessing (default: the data set's
maximum, giving [0, 1]; 1 keeps the raw 0–255 values, as the HLCV report used them);
``data.limit_train`` and ``data.limit_test`` keep only the first N training or test examples
(the quick forms of experiments). ``data.split_seed`` draws the validation split (and digits'
70/15/15 split); it is separate from the run's ``seed`` (initialisation, dropout, shuffling), so
runs with different seeds are compared on the same held-out images.
"""

from __future__ import annotations

import copy

import numpy as np

DEFAULTS = {
    "name": "run",
    "seed": 0,
    "data": {"dataset": "digits", "data_dir": None, "split": None, "val_size": None, "split_seed": 0,
             "stratified": False, "preprocess": "scale", "pixel_scale": None, "augment": False, "train_eval_size": 1000,
             "limit_train": None, "limit_test": None},
    "model": {"kind": "mlp", "hidden": [128], "activation": "relu", "init": None, "init_scale": 1.0,
              "dropout": 0.0, "widths": [32, 64], "batch_norm": False},
    "optim": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0,
              "l2": 0.0, "schedule": None, "lr_decay": 0.95, "step_size": 10, "eta_min": 0.0},
    "train": {"epochs": 30, "steps": None, "batch_size": 32, "sampling": "shuffle", "grad_clip": None,
              "patience": None, "checkpoint_every": None, "eval_batch_size": 1000},
}

CHOICES = {
    ("model", "kind"): ("mlp", "small_cnn", "vgg"),
    ("optim", "optimizer"): ("sgd", "adam", "adamw"),
    ("optim", "schedule"): (None, "exponential", "step", "cosine"),
    ("train", "sampling"): ("shuffle", "replacement"),
}


class ConfigError(ValueError):
    """A configuration key or value that nablab does not know; the message names it."""


def resolve(overrides: dict | None = None) -> dict:
    """DEFAULTS updated with ``overrides`` (nested), every key and choice checked."""
    config = copy.deepcopy(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise ConfigError(f"unknown configuration key {key!r}; expected one of {sorted(DEFAULTS)}")
        if isinstance(DEFAULTS[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"configuration section [{key}] must be a table, got {value!r}")
            unknown = sorted(set(value) - set(DEFAULTS[key]))
            if unknown:
                raise ConfigError(f"unknown key(s) {', '.join(unknown)} in [{key}]; expected: "
                                  f"{', '.join(sorted(DEFAULTS[key]))}")
            config[key].update(value)
        else:
            config[key] = value
    for (section, key), allowed in CHOICES.items():
        if config[section][key] not in allowed:
            raise ConfigError(f"[{section}] {key} = {config[section][key]!r} is not one of {allowed}")
    for section, key in (("train", "epochs"), ("train", "batch_size")):
        if not isinstance(config[section][key], int) or config[section][key] < 1:
            raise ConfigError(f"[{section}] {key} must be a positive integer, got {config[section][key]!r}")
    if config["optim"]["lr"] <= 0:
        raise ConfigError(f"[optim] lr must be positive, got {config['optim']['lr']!r}")
    return config


def resolve_saved(saved: dict) -> dict:
    """:func:`resolve` for a run folder's ``config.toml`` (without its ``meta`` table).

    Runs written before ``data.split_seed`` existed drew their split with the run's ``seed``; their
    configuration gets that seed as its ``split_seed``, so they resume on the split they trained on.
    """
    data = saved.get("data", {})
    if "split_seed" not in data:
        saved = {**saved, "data": {**data, "split_seed": saved.get("seed", DEFAULTS["seed"])}}
    return resolve(saved)


def _model(m: dict, input_shape: tuple, num_classes: int):
    """The network a [model] section describes, for inputs of ``input_shape`` (without the batch axis)."""
    from ..models import MLP, SmallCNN, VGGNet

    if m["kind"] == "mlp":
        return MLP(int(input_shape[0]), m["hidden"], num_classes, activation=m["activation"], init=m["init"],
                   dropout=m["dropout"], init_scale=m["init_scale"])
    if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
        raise ConfigError(f"[model] kind = {m['kind']!r} needs square images, the data has shape {tuple(input_shape)}")
    if m["kind"] == "small_cnn":
        return SmallCNN(input_shape[0], num_classes, widths=m["widths"], hidden=(m["hidden"] or [None])[0],
                        batch_norm=m["batch_norm"], image_size=input_shape[1])
    return VGGNet(input_shape[0], num_classes)


def build(config: dict, progress: bool = True):
    """Data set, loaders, model, optimizer, schedule and penalty for a resolved configuration."""
    from .. import data, manual_seed, optim
    from ..data import batch_transforms as transforms
    from ..nn import functional as F

    manual_seed(config["seed"])
    d, m, o, t = config["data"], config["model"], config["optim"], config["train"]
    kwargs = {k: d[k] for k in ("data_dir", "split", "val_size") if d[k] is not None}
    ds = data.load(d["dataset"], seed=d["split_seed"], stratified=d["stratified"], progress=progress, **kwargs)
    if d["limit_train"]:
        ds.train = data.Split(ds.train.x[: d["limit_train"]], ds.train.y[: d["limit_train"]])
    if d["limit_test"]:
        ds.test = data.Split(ds.test.x[: d["limit_test"]], ds.test.y[: d["limit_test"]])
    flatten = m["kind"] == "mlp"
    train_tf, eval_tf = transforms.build(d["preprocess"], d["pixel_scale"] or ds.max_value, ds.train.x,
                                         flatten=flatten, augment=d["augment"])
    seed = config["seed"]
    loaders = {
        "train": data.DataLoader(ds.train, t["batch_size"], shuffle=True, seed=seed, transform=train_tf,
                                 with_replacement=t["sampling"] == "replacement"),
        "val": data.DataLoader(ds.val, t["eval_batch_size"], shuffle=False, transform=eval_tf) if len(ds.val) else None,
        "test": data.DataLoader(ds.test, t["eval_batch_size"], shuffle=False, transform=eval_tf),
    }
    if d["train_eval_size"]:
        sample = np.random.default_rng([seed, 2]).permutation(len(ds.train))[: d["train_eval_size"]]
        loaders["train_eval"] = data.DataLoader(data.Split(ds.train.x[np.sort(sample)], ds.train.y[np.sort(sample)]),
                                                t["eval_batch_size"], shuffle=False, transform=eval_tf)
    model = _model(m, eval_tf(ds.train.x[:1]).shape[1:], ds.num_classes)
    opt_kwargs = {"lr": o["lr"], "weight_decay": o["weight_decay"]}
    if o["optimizer"] == "sgd":
        opt_kwargs.update(momentum=o["momentum"], nesterov=o["nesterov"])
    optimizer = optim.OPTIMIZERS[o["optimizer"]](model.parameters(), **opt_kwargs)
    schedules = {
        None: lambda: None,
        "exponential": lambda: optim.lr_scheduler.ExponentialLR(optimizer, o["lr_decay"]),
        "step": lambda: optim.lr_scheduler.StepLR(optimizer, o["step_size"], o["lr_decay"]),
        "cosine": lambda: optim.lr_scheduler.CosineAnnealingLR(optimizer, t["epochs"], o["eta_min"]),
    }
    scheduler = schedules[o["schedule"]]()
    penalty = (lambda model: F.l2_penalty(model, o["l2"])) if o["l2"] else None
    return ds, (train_tf, eval_tf), loaders, model, optimizer, scheduler, penalty

