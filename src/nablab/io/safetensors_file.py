"""The one module that reads and writes safetensors files: weights, checkpoints and preprocessing.

A safetensors file is an 8-byte header length, a JSON header (each tensor's name, dtype, shape and
byte range, and a string → string ``__metadata__`` table) and the raw bytes — nothing in it can
run code, unlike a pickle. nablab writes three kinds, told apart by the ``format`` metadata:

- weights (``nablab.save``): :data:`WEIGHTS_FORMAT`, the model's ``state_dict()`` under its own names;
- training checkpoints (:mod:`nablab.lab.checkpoint`): :data:`CHECKPOINT_FORMAT`, the model's
  tensors under ``model.<name>`` (see :func:`checkpoint_model_state`) and the optimizer's under
  ``optimizer.<index>.<name>``;
- a run's preprocessing statistics (``preprocessing.safetensors``): :data:`PREPROCESSING_FORMAT`.

:func:`read_header` gives the names, dtypes and shapes without reading any tensor data, so a file
can be checked against what it will be loaded into before anything is allocated. Files are written
atomically (:mod:`nablab.atomic`).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..atomic import atomic_path

WEIGHTS_FORMAT = "nablab-weights-1"
CHECKPOINT_FORMAT = "nablab-checkpoint-1"
PREPROCESSING_FORMAT = "nablab-preprocessing-1"

#: the safetensors dtype codes NumPy can hold, and their NumPy names
DTYPES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16", "U32": "uint32",
          "I32": "int32", "U64": "uint64", "I64": "int64", "F16": "float16", "F32": "float32", "F64": "float64"}


class WeightsError(ValueError):
    """A safetensors file that cannot be read, or that does not fit what it is loaded into."""


class TensorInfo(NamedTuple):
    """A tensor as the header of a safetensors file describes it: its NumPy dtype name and shape."""

    dtype: str
    shape: tuple


def _library():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError("weights, checkpoints and preprocessing files are safetensors: "
                          "pip install 'nablab[interop]' (or safetensors)") from None
    return safetensors


def _existing(path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a .safetensors file")
    if not path.is_file():
        raise FileNotFoundError(f"no safetensors file at {path}")
    return path


def read_header(path) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    """``(name → TensorInfo, metadata)`` of a safetensors file, without reading any tensor data.

    A missing file is a FileNotFoundError; a damaged or foreign one a :class:`WeightsError`.
    """
    path = _existing(path)
    library = _library()
    try:
        with library.safe_open(str(path), framework="np") as fh:
            metadata = dict(fh.metadata() or {})
            infos = {}
            for name in fh.keys():
                view = fh.get_slice(name)
                code = view.get_dtype()
                infos[name] = TensorInfo(DTYPES.get(code, code), tuple(int(s) for s in view.get_shape()))
    except Exception as exc:  # safetensors raises its own error types for damaged or foreign files
        raise WeightsError(f"{path} is not a safetensors file ({exc})") from None
    return infos, metadata


def read(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(name → NumPy array, metadata)`` of a safetensors file; errors as :func:`read_header`."""
    infos, metadata = read_header(path)
    unreadable = sorted(name for name, info in infos.items() if info.dtype not in DTYPES.values())
    if unreadable:
        raise WeightsError(f"{path} holds tensors of dtypes NumPy cannot hold: "
                           + ", ".join(f"{name} ({infos[name].dtype})" for name in unreadable[:5]))
    try:
        tensors = _library().numpy.load_file(str(path))
    except Exception as exc:
        raise WeightsError(f"{path} is not a safetensors file ({exc})") from None
    return tensors, metadata


def write(path, tensors: dict, metadata: dict[str, str]) -> Path:
    """Write ``tensors`` (name → NumPy array) and ``metadata`` (str → str) to ``path``, atomically."""
    save_file = _library().numpy.save_file
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return Path(path)


def checkpoint_model_state(tensors: dict, model=None) -> dict:
    """The model's weights among a checkpoint's tensors (the ``model.`` entries, prefix removed).

    Checkpoints of earlier versions stored 0-d tensors (BatchNorm's ``num_batches_tracked``) as
    shape (1,): those come back 0-d — every ``num_batches_tracked``, and with ``model`` every
    tensor the model holds as 0-d. Resuming, ``nablab.load`` and a run's model all read
    checkpoints through it.
    """
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    scalars = {k for k, v in model.state_dict().items() if v.shape == ()} if model is not None else set()
    for key, value in state.items():
        if np.shape(value) == (1,) and (key in scalars or key.rpartition(".")[2] == "num_batches_tracked"):
            state[key] = value.reshape(())
    return state
