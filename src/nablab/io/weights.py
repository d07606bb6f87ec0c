"""Weights in safetensors: ``nablab.save(model, path)``, ``nablab.load(path)`` and ``nablab.models.load(path)``.

safetensors is the field's standard for weights: a JSON header (names, dtypes, shapes, and a
string → string metadata table) followed by the raw bytes — nothing in it can run code, unlike a
pickle. A nablab weights file holds the model's ``state_dict()`` under the same names (``0.weight``,
``0.bias``, … exactly as PyTorch names them), in the tensors' own dtypes, and this metadata:

- ``format``: ``nablab-weights-1``; ``nablab``: the version that wrote it;
- ``model_class``: the model's class; ``model``: its class and constructor arguments as JSON
  (see :mod:`nablab.io.spec`), from which ``nablab.models.load`` rebuilds it; ``modules``: each
  module's qualified name, class and settings (``extra_repr``), against which the rebuilt model is
  checked, so that a layer swapped or a setting changed after construction is an error, not a
  different model;
- ``inference`` (optional): what classifying raw images needs — class names, input shape, pixel
  range and the training preprocessing statistics (``nablab export RUN --safetensors`` writes it);
- ``user`` (optional): the ``metadata`` dict given to :func:`save`, as JSON.

Files are written atomically (:mod:`nablab.atomic`).
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .. import random as nablab_random
from ..backend import to_host
from ..nn import Module
from ..tensor import Tensor
from ..version import __version__
from . import safetensors_file
from .expected_state import check_against_file
from .output_path import output_path
from .safetensors_file import CHECKPOINT_FORMAT, WEIGHTS_FORMAT, WeightsError, checkpoint_model_state
from .spec import LAYOUT_FORMAT, SpecError, build_module, class_name, layout_difference, module_layout, module_spec

FORMAT = WEIGHTS_FORMAT


def _array(value, name: str) -> np.ndarray:
    data = to_host(value.data if isinstance(value, Tensor) else value)  # a GPU's array: copied to the host
    if not isinstance(data, (np.ndarray, np.generic, int, float, bool)):
        raise TypeError(f"{name}: cannot save a {type(value).__name__} (expected a nablab Tensor or a NumPy array; "
                        "convert PyTorch tensors with nablab.io.from_torch)")
    array = np.asarray(data, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: safetensors holds numbers and booleans, not {array.dtype} arrays")
    return array


def save(obj, path, metadata: dict | None = None, inference: dict | None = None) -> Path:
    """Write a model's weights (or a state dict) to ``path`` as safetensors, atomically.

    Whatever the suffix (``nablab.save(model.state_dict(), "mnist_cnn.pt")`` as in PyTorch's
    examples), the file is safetensors, never a pickle: PyTorch's ``torch.load`` cannot read it,
    ``safetensors.torch.load_file`` can.

    ``obj`` is a :class:`nablab.nn.Module` or a dict of name → Tensor / NumPy array. Names and
    dtypes are kept as they are. For a module the file also records its class and constructor
    arguments, so that ``nablab.models.load(path)`` can rebuild it; a module whose arguments cannot
    be written down (see :func:`nablab.io.spec.module_spec`) is saved anyway, and the file says why
    it cannot be rebuilt. ``metadata`` is any JSON-able dict to keep with the weights (read it back
    with :func:`read_metadata`); ``inference`` is what ``nablab predict`` needs to classify images
    with the model (see :func:`nablab.io.predict.inference_info`). The folder of ``path`` must exist (as
    for ``torch.save``). Returns the path.
    """
    meta = {"format": FORMAT, "nablab": __version__}
    if isinstance(obj, Module):
        state = obj.state_dict()
        meta["model_class"] = class_name(type(obj))
        try:
            meta["model"] = json.dumps(module_spec(obj))
            meta["modules"] = json.dumps(module_layout(obj))
            meta["modules_format"] = str(LAYOUT_FORMAT)
        except SpecError as exc:
            meta["model_error"] = str(exc)
    elif isinstance(obj, dict):
        state = obj
    else:
        hint = " (TwoLayerNet.to_module() gives the same network as a Module)" if hasattr(obj, "params") else ""
        raise TypeError(f"nablab.save takes a Module or a state dict, not a {type(obj).__name__}{hint}")
    tensors = {}
    for name, value in state.items():
        if not isinstance(name, str):
            raise TypeError(f"state dict keys must be strings, got {name!r}")
        tensors[name] = _array(value, name)
    if inference is not None:
        meta["inference"] = json.dumps(inference)
    if metadata:
        meta["user"] = json.dumps(metadata)
    return safetensors_file.write(output_path(path, "the weights"), tensors, meta)


def _file(path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"{path} is a folder; nablab.load and nablab.models.load read one .safetensors file "
                           "(a run folder's model: nablab.lab.Run(folder).load_model(), or nablab export RUN)")
    return path


def _decoded(path, meta: dict) -> dict:
    """``meta`` with its JSON entries decoded (``model``, ``modules``, ``inference``, ``user``)."""
    meta = dict(meta)
    for key in ("model", "modules", "inference", "user"):
        if key in meta:
            try:
                meta[key] = json.loads(meta[key])
            except json.JSONDecodeError:
                raise WeightsError(f"{path}: the {key!r} metadata is not valid JSON") from None
    return meta


def read_metadata(path) -> dict:
    """The metadata of a weights file, JSON entries decoded (``model``, ``modules``, ``inference``, ``user``)."""
    return _decoded(path, safetensors_file.read_header(_file(path))[1])


def load(path, map_location=None, weights_only: bool = True, **_ignored) -> OrderedDict:
    """The state dict in a safetensors file: name → :class:`nablab.Tensor`, dtypes as stored.

    PyTorch's call shape (``torch.load(path, map_location=device, weights_only=True)``) is
    accepted: ``map_location`` moves the tensors to that device; ``weights_only=False`` is refused,
    because nablab never unpickles (a file from ``torch.save`` of anything but tensors is a pickle:
    convert it with ``nablab.io.from_torch`` where torch is installed).

    Reads files written by :func:`save`, nablab's training checkpoints (their model weights, with
    :func:`nablab.io.safetensors_file.checkpoint_model_state`'s fix-up for older checkpoints) and safetensors files
    from elsewhere (every tensor in them). Load it into a model with
    ``model.load_state_dict(nablab.load(path))``, which names any missing or unexpected tensor and
    any shape that does not fit. A path that is not a safetensors file is a :class:`WeightsError`.
    """
    if not weights_only:
        raise ValueError("nablab.load reads safetensors only and never unpickles: weights_only=False is not "
                         "supported (load the file with torch.load and convert it with nablab.io.from_torch)")
    tensors, meta = safetensors_file.read(_file(path))
    fmt = meta.get("format")
    if fmt == CHECKPOINT_FORMAT:
        tensors = checkpoint_model_state(tensors)
    elif fmt is not None and fmt.startswith("nablab-") and fmt != FORMAT:
        raise WeightsError(f"{path} is a {fmt!r} file, which this version of nablab cannot read as weights")
    state = OrderedDict((name, Tensor._make(np.asarray(value))) for name, value in tensors.items())
    if map_location is not None:
        state = OrderedDict((name, value.to(map_location)) for name, value in state.items())
    return state


@contextlib.contextmanager
def rng_untouched():
    """Run a block without moving nablab's random generator (building a model draws initial weights)."""
    state = nablab_random.get_rng_state()
    try:
        yield
    finally:
        nablab_random.set_rng_state(state)


def _dtype_name(value) -> str:
    dtype = value.dtype
    return dtype.name if isinstance(dtype, np.dtype) else str(dtype).removeprefix("torch.")


def dtype_differences(state, expected) -> list[str]:
    """``"name: <dtype> given, <dtype> expected"`` for each tensor of ``state`` whose dtype differs from
    that of the same name in ``expected`` (NumPy arrays, nablab or PyTorch tensors)."""
    return [f"{name}: {_dtype_name(value)} given, {_dtype_name(expected[name])} expected"
            for name, value in state.items() if name in expected and _dtype_name(value) != _dtype_name(expected[name])]


def load_into(model: Module, state: dict, source, cast: bool = False) -> Module:
    """``model.load_state_dict(state)`` with the error naming ``source`` and the model.

    A tensor whose dtype differs from the model's is a :class:`WeightsError` unless ``cast`` is
    true (then it is converted to the model's dtype, as ``load_state_dict`` does).
    """
    if not cast:
        wrong = dtype_differences(state, model.state_dict())
        if wrong:
            raise WeightsError(f"{source} does not fit the {type(model).__name__}: dtypes differ ({'; '.join(wrong)}); "
                               "pass cast=True to convert them to the model's dtypes")
    try:
        model.load_state_dict(state)
    except KeyError as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise WeightsError(f"{source} does not fit the {type(model).__name__}: {message}") from None
    return model


def load_model(path, classes=None, cast: bool = False) -> Module:
    """Rebuild the model saved in the weights file ``path`` and load its weights (``nablab.models.load``).

    ``path`` is a file written by :func:`save` (a run folder's model is ``nablab.lab.Run(folder).load_model()``).
    ``classes`` admits model classes from outside nablab (see :func:`nablab.io.spec.build_module`).
    Before anything is built, the tensors the recorded model would hold (names, shapes: see
    :mod:`nablab.io.expected_state`) are compared with those the file's header lists, so a file whose
    metadata describes a larger model than its tensors is a :class:`WeightsError` naming the layer and
    both shapes, not an allocation of what the metadata claims. The rebuilt model is then checked
    against the modules the file records (names, classes, settings): a layer swapped or a setting
    changed after the model was built is a :class:`WeightsError` naming the first difference. A tensor
    whose dtype differs from the rebuilt model's is one too, unless ``cast`` is true. Building the
    model does not move nablab's random generator.
    """
    path = _file(path)
    infos, header = safetensors_file.read_header(path)
    meta = _decoded(path, header)
    if meta.get("format") == CHECKPOINT_FORMAT:
        raise WeightsError(f"{path} is a training checkpoint: it records no architecture; load its run folder "
                           "(nablab.lab.Run(folder).load_model(checkpoint=path)), or build the model and use "
                           "model.load_state_dict(nablab.load(path))")
    if "model" not in meta:
        why = meta.get("model_error") or "it was saved from a state dict or by another program"
        raise WeightsError(f"{path} records no model to rebuild ({why}); build the model yourself and use "
                           "model.load_state_dict(nablab.load(path))")
    check_against_file(meta["model"], infos, path, classes)
    try:
        with rng_untouched():
            model = build_module(meta["model"], classes)
        same_format = meta.get("modules_format") == str(LAYOUT_FORMAT)
        difference = layout_difference(meta["modules"], model, same_format) if "modules" in meta else None
    except SpecError as exc:
        raise WeightsError(f"{path}: {exc}") from None
    if difference:
        raise WeightsError(f"{path}: the model rebuilt from its constructor arguments is not the one saved: "
                           f"{difference} (was it changed after it was built? Build it yourself and use "
                           "model.load_state_dict(nablab.load(path)))")
    return load_into(model, load(path), path, cast=cast)
