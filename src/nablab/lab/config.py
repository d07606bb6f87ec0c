"""Training configurations: defaults, validation, and building the pieces a run needs.

A configuration is a nested dict with the sections of :mod:`nablab.lab.settings` (what
``config.toml`` holds), where every key is declared once with its type, range, default and help.
Every key and value is checked: an unknown key is an error that names it and the keys that
section accepts; a bad value names the key, the value and what is allowed.

``data.pixel_scale`` is what pixels are divided by before preprocessing (default: the data set's
maximum, giving [0, 1]; 1 keeps the raw 0–255 values, as the HLCV report used them);
``data.limit_train`` and ``data.limit_test`` keep only the first N training or test examples
(the quick forms of experiments). ``data.split_seed`` draws the validation split (and digits'
70/15/15 split); it is separate from the run's ``seed`` (initialisation, dropout, shuffling), so
runs with different seeds are compared on the same held-out images.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import numpy as np

from .optimization import optimizer_and_schedule
from .settings import MODELS, ConfigError, check_keys, defaults, validate

DEFAULTS = defaults()


def resolve(overrides: dict | None = None, check_paths: bool = True) -> dict:
    """DEFAULTS updated with ``overrides`` (nested), every key and value checked (``check_paths``: also
    that ``data.data_dir`` is an existing folder)."""
    overrides = overrides or {}
    check_keys(overrides)
    config = copy.deepcopy(DEFAULTS)
    for key, value in overrides.items():
        if isinstance(DEFAULTS[key], dict):
            config[key].update(value)
        else:
            config[key] = value
    return validate(config, check_paths=check_paths)


def resolve_saved(saved: dict) -> dict:
    """:func:`resolve` for a run folder's ``config.toml`` (without its ``meta`` table).

    Runs written before ``data.split_seed`` existed drew their split with the run's ``seed``; their
    configuration gets that seed as its ``split_seed``, so they resume on the split they trained on.
    Its ``data_dir`` may be gone (the run's model is rebuilt without its data); data.load then says so.
    """
    data = saved.get("data", {})
    if "split_seed" not in data:
        saved = {**saved, "data": {**data, "split_seed": saved.get("seed", DEFAULTS["seed"])}}
    return resolve(saved, check_paths=False)


def _model(m: dict, input_shape: tuple, num_classes: int):
    """The network a [model] section describes, for inputs of ``input_shape`` (without the batch axis)."""
    if m["kind"] == "mlp":
        return MODELS["mlp"](int(input_shape[0]), m["hidden"], num_classes, activation=m["activation"], init=m["init"],
                   dropout=m["dropout"], init_scale=m["init_scale"])
    if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
        raise ConfigError(f"[model] kind = {m['kind']!r} needs square images, the data has shape {tuple(input_shape)}")
    if m["kind"] == "small_cnn":
        return MODELS["small_cnn"](input_shape[0], num_classes, widths=m["widths"], hidden=(m["hidden"] or [None])[0],
                        batch_norm=m["batch_norm"], image_size=input_shape[1])
    return MODELS["vgg"](input_shape[0], num_classes)


class Built(NamedTuple):
    """What :func:`build` makes for a run (it unpacks like the 7-tuple it replaces)."""

    dataset: Any  # nablab.data's data set: train / val / test splits, classes, input shape
    transforms: tuple  # (training transform, evaluation transform)
    loaders: dict  # "train", "val" (None without a validation split), "test", and "train_eval" if sampled
    model: Any
    optimizer: Any
    scheduler: Any  # None without a schedule
    penalty: Any  # a function of the model added to the loss, or None


def build(config: dict, progress: bool = True) -> Built:
    """Data set, loaders, model, optimizer, schedule and penalty for a resolved configuration."""
    from .. import data, manual_seed
    from ..data import batch_transforms as transforms
    from ..nn import functional as F

    manual_seed(config["seed"])
    d, m, o, t = config["data"], config["model"], config["optim"], config["train"]
    kwargs = {k: d[k] for k in ("data_dir", "split", "val_size") if d[k] is not None}
    ds = data.load(d["dataset"], seed=d["split_seed"], stratified=d["stratified"], verify=d["verify"],
                   progress=progress, **kwargs)
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
    optimizer, scheduler = optimizer_and_schedule(model, config)
    penalty = (lambda model: F.l2_penalty(model, o["l2"])) if o["l2"] else None
    return Built(ds, (train_tf, eval_tf), loaders, model, optimizer, scheduler, penalty)

