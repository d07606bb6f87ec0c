"""A model's architecture as JSON: its class and constructor arguments, nested modules included.

``module_spec(model)`` describes how to build the model again; ``build_module(spec)`` does it
(with fresh weights, which ``load_state_dict`` then replaces). Only plain values travel —
numbers, strings, booleans, None, lists, tuples, string-keyed dicts, NumPy dtypes and other
modules — and only classes from nablab itself (or ones the caller names) are ever built, so a
file cannot make nablab import or run anything else. No pickle.

Constructor arguments miss what was changed after construction (a layer swapped for another, a
Dropout's ``p`` or a BatchNorm's ``eps`` set by hand), so :func:`module_layout` also writes down
every module's qualified name, class and settings (``extra_repr``); :func:`layout_difference`
compares a rebuilt model with that record. The settings are written as PyTorch prints them since
layout format 2 (:data:`LAYOUT_FORMAT`); an older record's settings strings are in nablab's former
spelling, so for it only the names and classes are compared.

The form, for ``nn.Sequential(nn.Linear(4, 3), nn.ReLU())``::

    {"class": "nablab.nn.container.Sequential", "args": [
        {"module": {"class": "nablab.nn.linear.Linear", "args": [4, 3], "kwargs": {}}},
        {"module": {"class": "nablab.nn.activation.ReLU", "args": [], "kwargs": {}}}], "kwargs": {}}
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from ..nn import Module, ModuleList, Sequential


class SpecError(ValueError):
    """A model whose architecture cannot be written down, or a description that cannot be built."""


def class_name(cls) -> str:
    """The dotted name a spec records for ``cls``: ``module.QualifiedName``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _encode(value, where: str):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise SpecError(f"{where} is {value}, which JSON cannot hold")
        return float(value)
    if isinstance(value, Module):
        return {"module": module_spec(value, where)}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"dtype": np.dtype(value).name}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise SpecError(f"{where} is a dict with keys that are not strings")
        return {"dict": {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}}
    raise SpecError(f"{where} is a {type(value).__name__}, which cannot be written down "
                    "(only numbers, strings, booleans, None, lists, tuples, dicts, dtypes and modules can)")


def module_spec(model: Module, where: str | None = None) -> dict:
    """The JSON-able description of ``model``: its class and the arguments it was built with.

    ``Sequential`` and ``ModuleList`` are described by the layers they hold now (so layers added
    after construction are kept); every other module by its constructor arguments
    (:attr:`nablab.nn.Module.init_args`). Raises :class:`SpecError` naming the first argument that
    cannot be written down, or a class that could not be found again by its name.
    """
    cls = type(model)
    where = where or cls.__name__
    if "<locals>" in cls.__qualname__:
        raise SpecError(f"{where}: class {cls.__qualname__} is defined inside a function and cannot be found "
                        "again by its name")
    if cls in (Sequential, ModuleList):
        values, kwargs = [v for v in model.children()], {}
        args = [_encode(v, f"{where}[{i}]") for i, v in enumerate(values)]
        if cls is ModuleList:  # ModuleList takes one iterable
            args = [args]
    else:
        values, kwargs = model.init_args
        args = [_encode(v, f"{where} argument {i}") for i, v in enumerate(values)]
        kwargs = {k: _encode(v, f"{where} argument {k}") for k, v in kwargs.items()}
    return {"class": class_name(cls), "args": args, "kwargs": kwargs}


def resolve_class(name: str, classes: dict | None):
    """The class a spec names: one of ``classes`` (by dotted, qualified or plain name), else nablab's own."""
    if classes:
        for cls in classes.values() if isinstance(classes, dict) else classes:
            if name in (class_name(cls), cls.__qualname__, cls.__name__):
                return cls
    module_name, _, qualname = name.rpartition(".")
    if not (module_name == "nablab" or module_name.startswith("nablab.")):
        raise SpecError(f"the model is a {name}, which is not part of nablab: pass the class to load it "
                        f"(classes=[{qualname}]) or build the model yourself and load the weights into it "
                        "with model.load_state_dict(nablab.load(path))")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise SpecError(f"this version of nablab has no class {name}") from None
    return obj


def _decode(value, classes):
    if isinstance(value, list):
        return [_decode(v, classes) for v in value]
    if isinstance(value, dict):
        if set(value) == {"module"}:
            return build_module(value["module"], classes)
        if set(value) == {"tuple"}:
            return tuple(_decode(v, classes) for v in value["tuple"])
        if set(value) == {"dtype"}:
            return value["dtype"]
        if set(value) == {"dict"}:
            return {k: _decode(v, classes) for k, v in value["dict"].items()}
        raise SpecError(f"unknown entry in a model description: {value!r}")
    return value


def build_module(spec: dict, classes=None) -> Module:
    """Build the module ``spec`` describes (with freshly initialised weights).

    ``classes`` (a list, or a dict of name → class) admits model classes defined outside nablab;
    anything else outside nablab is refused. Raises :class:`SpecError` for a malformed description.
    """
    if not isinstance(spec, dict) or not {"class", "args", "kwargs"} <= set(spec):
        raise SpecError(f"not a model description: {spec!r:.200}")
    cls = resolve_class(spec["class"], classes)
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise SpecError(f"{spec['class']} is not a nablab.nn.Module")
    args = _decode(spec["args"], classes)
    kwargs = {k: _decode(v, classes) for k, v in spec["kwargs"].items()}
    try:
        return cls(*args, **kwargs)
    except TypeError as exc:
        raise SpecError(f"could not build {spec['class']} from the recorded arguments: {exc}") from None


#: the form of :func:`module_layout`'s settings strings: 2 is PyTorch's ``extra_repr`` (tuples for a
#: convolution's sizes, every BatchNorm setting, ``inplace`` of Dropout, no settings for a loss)
LAYOUT_FORMAT = 2


def module_layout(model: Module) -> list[list[str]]:
    """``[qualified name, class, extra_repr]`` of ``model`` and each module inside it, in order.

    The root module's name is ``""``. Together with :func:`module_spec` it records the settings a
    module was given after construction, which its constructor arguments do not show.
    """
    return [[name, class_name(type(m)), m.extra_repr()] for name, m in model.named_modules()]


def _same_class(saved: str, cls) -> bool:
    if saved == class_name(cls):
        return True
    # a class from outside nablab, admitted by ``classes=``, may live in another module than when saved
    return not class_name(cls).startswith("nablab.") and saved.endswith("." + cls.__qualname__)


def layout_difference(saved, model: Module, settings: bool = True) -> str | None:
    """The first way ``model`` differs from the layout :func:`module_layout` recorded, or None;
    without ``settings`` (a record of an older :data:`LAYOUT_FORMAT`) the names and classes only.

    Raises :class:`SpecError` for a record that is not such a layout.
    """
    if not isinstance(saved, list) or not all(isinstance(e, list) and len(e) == 3 and all(isinstance(v, str) for v in e)
                                              for e in saved):
        raise SpecError(f"not a module layout: {saved!r:.200}")
    built = list(model.named_modules())
    for (name, cls, extra), (b_name, module) in zip(saved, built):
        label = name or "the model"
        if name != b_name:
            return f"the saved model has a module {label} where the rebuilt one has {b_name or 'the model'}"
        if not _same_class(cls, type(module)):
            return f"{label} was a {cls.rpartition('.')[2]}, the rebuilt model has a {type(module).__name__} there"
        if settings and extra != module.extra_repr():
            return (f"{label} ({type(module).__name__}) was saved as ({extra}), the rebuilt one is "
                    f"({module.extra_repr()})")
    if len(saved) > len(built):
        name, cls, _ = saved[len(built)]
        return f"the saved model has a {cls.rpartition('.')[2]} at {name}, which the rebuilt one lacks"
    if len(built) > len(saved):
        name, module = built[len(saved)]
        return f"the rebuilt model has a {type(module).__name__} at {name}, which the saved one lacks"
    return None
