"""Containers, PyTorch's: ``Sequential`` runs its layers in order; ``ModuleList`` and ``ModuleDict``
hold modules, ``ParameterList`` and ``ParameterDict`` parameters, registered under their positions
("0", "1", …) or keys, so that ``state_dict`` names them as PyTorch does (``layers.0.weight``)."""

from __future__ import annotations

from collections import OrderedDict

from . import functional as F
from .activation import ReLU
from .batchnorm import BatchNorm1d, BatchNorm2d
from .linear import Linear
from .module import Module
from .parameter import Parameter


def _check_module(module, where):
    if not isinstance(module, Module):
        raise TypeError(f"{where} takes Modules; got a {type(module).__name__}")
    return module


class _Indexed(Module):
    """The list protocol over ``_modules`` keyed "0", "1", …: indexing, slicing, deletion, insertion."""

    def _renumber(self, modules) -> None:
        """Hold exactly ``modules``, keyed "0", "1", … again (as PyTorch does after a deletion)."""
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module
        self._changed()

    def _changed(self) -> None:
        """A hook for containers that cache something about their modules."""

    def _index(self, i: int) -> int:
        n = len(self._modules)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for {type(self).__name__} of length {n}")
        return i % n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return type(self)(OrderedDict(list(self._modules.items())[i]))
        return list(self._modules.values())[self._index(i)]

    def __setitem__(self, i: int, module) -> None:
        setattr(self, list(self._modules)[self._index(i)], _check_module(module, type(self).__name__))

    def __delitem__(self, i) -> None:
        modules = list(self._modules.values())
        del modules[i if isinstance(i, slice) else self._index(i)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module):
        setattr(self, str(len(self._modules)), _check_module(module, type(self).__name__))
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, type(self).__name__))
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        module = self[index]
        del self[index]
        return module


class Sequential(_Indexed):
    """y = layerₙ(… layer₂(layer₁(x))). Layers are named "0", "1", … as in PyTorch, or by the keys
    of an ``OrderedDict`` passed instead; indexing, slicing (a Sequential), ``len``, ``append``,
    ``insert``, ``extend``, ``pop`` and ``del`` work as PyTorch's.

    A ``Linear`` or batch norm directly followed by a ``ReLU`` runs as one fused node
    (:func:`~nablab.nn.functional.linear_relu`): the same numbers as the two layers, with one
    graph node and one activation array less. Indexing and iterating still give both layers.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], dict):  # an OrderedDict (or a dict, as a saved spec holds it)
            for name, layer in layers[0].items():
                setattr(self, name, _check_module(layer, f"Sequential (layer {name!r})"))
            return
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules; argument {i} is a {type(layer).__name__}")
            setattr(self, str(i), layer)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        self._changed()

    def __delattr__(self, name):
        super().__delattr__(name)
        self._changed()

    def _changed(self) -> None:
        self.__dict__.pop("_plan", None)  # the layers may have changed: fuse again

    def __add__(self, other: Sequential) -> Sequential:
        return Sequential(*self, *other)

    def forward(self, x):
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self.__dict__["_plan"] = self._fuse()
        for layer, relu in plan:
            if relu is None:
                x = layer(x)
            elif layer._has_hooks() or relu._has_hooks():
                x = relu(layer(x))  # forward hooks see each layer's own input and output
            elif type(layer) is Linear:
                x = F.linear_relu(x, layer.weight, layer.bias)
            else:
                x = layer(x, relu=True)
        return x

    def _fuse(self) -> tuple:
        """``(layer, relu)`` pairs: a Linear or batch norm with the ReLU module directly after it runs
        both as one fused node; ``relu`` is None for every other layer."""
        layers, plan, i = list(self._modules.values()), [], 0
        while i < len(layers):
            fused = (type(layers[i]) in (Linear, BatchNorm1d, BatchNorm2d) and i + 1 < len(layers)
                     and type(layers[i + 1]) is ReLU)
            plan.append((layers[i], layers[i + 1] if fused else None))
            i += 2 if fused else 1
        return tuple(plan)


class ModuleList(_Indexed):
    """A list of modules whose parameters are registered (no forward of its own): indexing,
    slicing (a ModuleList), ``len``, iteration, ``append``, ``extend``, ``insert``, ``pop``, ``del``, ``+=``."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules.values() if isinstance(modules, OrderedDict) else modules)

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def __repr__(self) -> str:
        """PyTorch's: a run of children with the same repr is one line, ``(0-2): 3 x Linear(...)``."""
        runs = []  # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return "ModuleList()"
        lines = [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + text.replace("\n", "\n  ")
                 for a, b, text in runs]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class _Keyed(Module):
    """A dict of registered entries in one of the module's tables (insertion order), with the dict
    methods of PyTorch's ModuleDict and ParameterDict; a subclass names the table and registers values."""

    #: ``"_modules"`` or ``"_parameters"``
    table: str

    def __init__(self, entries=None):
        super().__init__()
        if entries is not None:
            self.update(entries)

    @property
    def _entries(self):
        return self.__dict__[self.table]

    def __getitem__(self, key: str):
        return self._entries[key]

    def __delitem__(self, key: str) -> None:
        del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def keys(self):
        return self._entries.keys()

    def items(self):
        return self._entries.items()

    def values(self):
        return self._entries.values()

    def update(self, entries) -> None:
        for key, value in (entries.items() if hasattr(entries, "items") else entries):
            self[key] = value

    def pop(self, key: str):
        value = self._entries[key]
        del self[key]
        return value

    def clear(self) -> None:
        self._entries.clear()


class ModuleDict(_Keyed):
    """A dict of modules registered under their keys (insertion order), as ``torch.nn.ModuleDict``."""

    table = "_modules"

    def __init__(self, modules=None):  # PyTorch's argument name
        super().__init__(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        setattr(self, str(key), _check_module(module, "ModuleDict"))


def _as_parameter(value):
    """A Parameter as it is, a tensor or array as a new Parameter (as PyTorch's containers do)."""
    return value if isinstance(value, Parameter) or value is None else Parameter(value)


class ParameterList(Module):
    """A list of parameters registered as "0", "1", … (tensors and arrays become Parameters)."""

    def __init__(self, values=None):
        super().__init__()
        for value in values or ():
            self.append(value)

    def _index(self, i: int) -> str:
        n = len(self._parameters)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for ParameterList of length {n}")
        return str(i % n)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList(list(self._parameters.values())[i])
        return self._parameters[self._index(i)]

    def __setitem__(self, i: int, value) -> None:
        self.register_parameter(self._index(i), _as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self._parameters)), _as_parameter(value))
        return self

    def extend(self, values) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values) -> ParameterList:
        return self.extend(values)


class ParameterDict(_Keyed):
    """A dict of parameters registered under their keys (tensors and arrays become Parameters)."""

    table = "_parameters"

    def __init__(self, parameters=None):  # PyTorch's argument name
        super().__init__(parameters)

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(str(key), _as_parameter(value))


__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]
