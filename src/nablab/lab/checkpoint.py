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

from .. import __version__
from .. import random as nablab_random
from ..atomic import atomic_path

FORMAT = "nablab-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read (damaged, cut short, or not a nablab checkpoint); the message names it."""


def _safetensors():
    try:
        from safetensors.numpy import load_file, save_file
    except ImportError:
        raise ImportError("checkpoints are safetensors files: pip install 'nablab[lab]' (or safetensors)") from None
    return save_file, load_file


def _host(array) -> np.ndarray:
    # np.asarray(order="C"), not np.ascontiguousarray, which turns 0-d arrays (num_batches_tracked) into shape (1,)
    return np.asarray(array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else array, order="C")


def save_checkpoint(path, model, optimizer=None, scheduler=None, progress: dict | None = None) -> None:
    """Write everything needed to continue training exactly where it stopped."""
    save_file, _ = _safetensors()
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
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def read_checkpoint(path) -> tuple[dict, dict]:
    """(tensors, metadata) of a checkpoint, with a clear error for a missing or foreign file."""
    _, load_file = _safetensors()
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="np") as fh:
            meta = fh.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise CheckpointError(f"{path} is damaged: not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a nablab checkpoint (format {meta.get('format')!r}, expected {FORMAT!r})")
    return tensors, meta


def model_state(tensors: dict, model=None) -> dict:
    """The model's weights among a checkpoint's tensors (the ``model.`` entries, prefix removed).

    Checkpoints of earlier versions stored 0-d tensors (BatchNorm's ``num_batches_tracked``) as
    shape (1,): those come back 0-d — every ``num_batches_tracked``, and with ``model`` every
    tensor the model holds as 0-d. The one place this fix-up is made: resuming
    (:func:`load_checkpoint`), ``nablab.load`` and ``nablab.models.load`` all read checkpoints
    through it.
    """
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    scalars = {k for k, v in model.state_dict().items() if v.shape == ()} if model is not None else set()
    for key, value in state.items():
        if np.shape(value) == (1,) and (key in scalars or key.rpartition(".")[2] == "num_batches_tracked"):
            state[key] = value.reshape(())
    return state


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
