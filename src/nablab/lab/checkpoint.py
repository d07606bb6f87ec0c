"""Checkpoints in safetensors: model weights, optimizer state, schedule, RNG state and progress.

Tensors are stored under ``model.<name>`` and ``optimizer.<param index>.<name>``; everything
that is not an array (optimizer settings and step counts, the schedule, nablab's RNG state, the
epoch and step, the trainer's counters) goes into the header's metadata as JSON. No pickle.
Files are written atomically (see :mod:`nablab.atomic`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import random as nablab_random
from ..backend import to_host
from ..io import safetensors_file
from ..io.safetensors_file import CHECKPOINT_FORMAT as FORMAT
from ..io.safetensors_file import WeightsError
from ..io.safetensors_file import checkpoint_model_state as model_state
from ..version import __version__


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read (damaged, cut short, or not a nablab checkpoint); the message names it."""


def _host(array) -> np.ndarray:
    # np.asarray(order="C"), not np.ascontiguousarray, which turns 0-d arrays (num_batches_tracked) into shape (1,)
    return np.asarray(to_host(array), order="C")


def save_checkpoint(path, model, optimizer=None, scheduler=None, progress: dict | None = None) -> None:
    """Write everything needed to continue training exactly where it stopped."""
    tensors = {f"model.{k}": _host(v.data) for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "nablab": __version__, "model_class": type(model).__name__,
            "rng": json.dumps(nablab_random.get_rng_state()), "progress": json.dumps(progress or {})}
    if optimizer is not None:
        state = optimizer.state_dict()
        scalars = {}
        for index, entry in state["state"].items():
            for key, value in entry.items():
                if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
                    tensors[f"optimizer.{index}.{key}"] = _host(value)
                else:
                    scalars.setdefault(str(index), {})[key] = value.item() if hasattr(value, "item") else value
        meta["optimizer"] = json.dumps({"param_groups": state["param_groups"], "scalars": scalars,
                                        "class": type(optimizer).__name__})
    if scheduler is not None:
        meta["scheduler"] = json.dumps(scheduler.state_dict())
    safetensors_file.write(path, tensors, meta)


def read_checkpoint(path) -> tuple[dict, dict]:
    """(tensors, metadata) of a checkpoint, with a clear error for a missing or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        tensors, meta = safetensors_file.read(path)
    except WeightsError as exc:  # damaged, cut short or foreign
        raise CheckpointError(f"{path} is damaged: not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a nablab checkpoint (format {meta.get('format')!r}, expected {FORMAT!r})")
    return tensors, meta


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng: bool = True) -> dict:
    """Restore what :func:`save_checkpoint` wrote into the given objects; returns the progress dict."""
    tensors, meta = read_checkpoint(path)
    model.load_state_dict(model_state(tensors, model))
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(f"{path} holds no optimizer state")
        saved = json.loads(meta["optimizer"])
        if saved["class"] != type(optimizer).__name__:
            raise CheckpointError(f"{path} holds {saved['class']} state, not {type(optimizer).__name__}")
        state = {}
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, index, name = key.split(".", 2)
                state.setdefault(int(index), {})[name] = value
        for index, entries in saved["scalars"].items():
            state.setdefault(int(index), {}).update(entries)
        optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    if scheduler is not None and "scheduler" in meta:
        scheduler.load_state_dict(json.loads(meta["scheduler"]))
    if restore_rng:
        nablab_random.set_rng_state(json.loads(meta["rng"]))
    return json.loads(meta["progress"])
