"""A trained model from a run folder: the network ``config.toml`` describes, its best weights, and
what classifying raw images with it needs (class names, image shape, pixel range, and the
training preprocessing statistics of ``preprocessing.safetensors``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .weights import WeightsError, load, load_into, rng_untouched

#: the largest raw pixel value of each data set (images are 0–255 unless listed)
RAW_MAX = {"digits": 16.0}


def read_run_config(run_dir) -> tuple[dict, dict]:
    """``(resolved configuration, meta)`` of a run folder's ``config.toml``."""
    from ..lab import ConfigError, Run
    from ..lab.config import resolve_saved

    run = Run(run_dir)
    saved = run.read_config()
    meta = saved.pop("meta", {})
    try:
        config = resolve_saved(saved)
    except ConfigError as exc:
        raise WeightsError(f"{run.config_path}: {exc}") from None
    for key in ("input_shape", "classes"):
        if key not in meta:
            raise WeightsError(f"{run.config_path} has no meta.{key}: was it written by nablab train?")
    return config, meta


def run_checkpoint(run_dir) -> Path:
    """The weights a run ended with: ``checkpoints/best.safetensors``, else ``last.safetensors``."""
    from ..lab import Run

    run = Run(run_dir)
    for path in (run.best_checkpoint, run.last_checkpoint):
        if path.is_file():
            return path
    raise WeightsError(f"{run.path} has no checkpoint yet (checkpoints/best.safetensors or last.safetensors)")


def load_run_model(run_dir, checkpoint=None, cast: bool = False):
    """The model of a run folder with the best-validation weights (else the last), or ``checkpoint``'s.

    A tensor whose dtype differs from the model's is a :class:`WeightsError` unless ``cast`` is true.
    Building the model does not move nablab's random generator.
    """
    from ..lab.config import _model

    config, meta = read_run_config(run_dir)
    shape = tuple(meta["input_shape"])
    if config["model"]["kind"] == "mlp":
        shape = (math.prod(shape),)
    with rng_untouched():
        model = _model(config["model"], shape, len(meta["classes"]))
    path = Path(checkpoint) if checkpoint is not None else run_checkpoint(run_dir)
    return load_into(model, load(path), path, cast=cast)  # (load makes old checkpoints' (1,) counters 0-d)


def run_inference_info(run_dir) -> dict:
    """What classifying raw images with a run's model needs (see :func:`nablab.io.predict.inference_info`)."""
    config, meta = read_run_config(run_dir)
    d = config["data"]
    max_value = float(meta.get("max_value") or RAW_MAX.get(d["dataset"], 255.0))
    statistics = {}
    prep_path = Path(run_dir) / "preprocessing.safetensors"
    if prep_path.is_file():
        # saved from the training pipeline "[crop, flip,] preprocessing[, flatten]": names are "<index>.mean", …
        statistics = {k.split(".", 1)[-1]: np.asarray(v.data) for k, v in load(prep_path).items()}
    elif d["preprocess"] != "scale":
        raise WeightsError(f"{run_dir} has no preprocessing.safetensors, and its {d['preprocess']!r} preprocessing "
                           "needs the training statistics")
    return {"dataset": d["dataset"], "classes": [str(c) for c in meta["classes"]],
            "input_shape": [int(s) for s in meta["input_shape"]], "max_value": max_value,
            "preprocess": d["preprocess"], "pixel_scale": float(d["pixel_scale"] or max_value),
            "flatten": config["model"]["kind"] == "mlp", "statistics": statistics}
