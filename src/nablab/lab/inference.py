"""What a run folder holds for using its model: the model with its trained weights, and what
classifying raw images with it needs (class names, image shape, pixel range and the training
preprocessing statistics of ``preprocessing.safetensors``).

This is the lab's knowledge of its own folders (``config.toml`` → model, checkpoints,
preprocessing); :mod:`nablab.io` reads single files and knows nothing of run folders. Each
function takes a :class:`nablab.lab.Run`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import safetensors_file
from ..io.weights import WeightsError, load, load_into, rng_untouched
from ..models import from_config
from .config import ConfigError, resolve_saved

#: the largest raw pixel value of each data set (images are 0–255 unless listed)
RAW_MAX = {"digits": 16.0}


def run_config(run) -> tuple[dict, dict]:
    """``(resolved configuration, meta)`` of a run folder's ``config.toml``."""
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


def run_checkpoint(run) -> Path:
    """The weights a run ended with: ``checkpoints/best.safetensors``, else ``last.safetensors``."""
    for path in (run.best_checkpoint, run.last_checkpoint):
        if path.is_file():
            return path
    raise WeightsError(f"{run.path} has no checkpoint yet (checkpoints/best.safetensors or last.safetensors)")


def run_model(run, checkpoint=None, cast: bool = False):
    """The model of a run folder with the best-validation weights (else the last), or ``checkpoint``'s.

    A tensor whose dtype differs from the model's is a :class:`WeightsError` unless ``cast`` is true.
    Building the model does not move nablab's random generator.
    """
    config, meta = run_config(run)
    try:
        with rng_untouched():
            model = from_config(config["model"], meta["input_shape"], len(meta["classes"]))
    except ValueError as exc:
        raise WeightsError(f"{run.config_path}: {exc}") from None
    path = Path(checkpoint) if checkpoint is not None else run_checkpoint(run)
    return load_into(model, load(path), path, cast=cast)  # (load makes old checkpoints' (1,) counters 0-d)


def run_inference_info(run) -> dict:
    """What classifying raw images with a run's model needs (see :func:`nablab.io.predict.inference_info`)."""
    config, meta = run_config(run)
    d = config["data"]
    max_value = float(meta.get("max_value") or RAW_MAX.get(d["dataset"], 255.0))
    statistics = {}
    prep_path = run.path / "preprocessing.safetensors"
    if prep_path.is_file():
        # saved from the training pipeline "[crop, flip,] preprocessing[, flatten]": names are "<index>.mean", …
        tensors, _ = safetensors_file.read(prep_path)
        statistics = {k.split(".", 1)[-1]: np.asarray(v) for k, v in tensors.items()}
    elif d["preprocess"] != "scale":
        raise WeightsError(f"{run.path} has no preprocessing.safetensors, and its {d['preprocess']!r} preprocessing "
                           "needs the training statistics")
    return {"dataset": d["dataset"], "classes": [str(c) for c in meta["classes"]],
            "input_shape": [int(s) for s in meta["input_shape"]], "max_value": max_value,
            "preprocess": d["preprocess"], "pixel_scale": float(d["pixel_scale"] or max_value),
            "flatten": config["model"]["kind"] == "mlp", "statistics": statistics}
