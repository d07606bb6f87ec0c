"""Containers: ``Sequential`` runs its layers in order; ``ModuleList`` just holds them."""

from __future__ import annotations

from . import functional as F
from .activation import ReLU
from .batchnorm import BatchNorm1d, BatchNorm2d
from .linear import Linear
from .module import Module


class Sequential(Module):
    """y = layerₙ(… layer₂(layer₁(x))). Layers are named "0", "1", … as in PyTorch.

    A ``Linear`` or batch norm directly followed by a ``ReLU`` runs as one fused node
    (:func:`~nablab.nn.functional.linear_relu`): the same numbers as the two layers, with one
    graph node and one activation array less. Indexing and iterating still give both layers.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules; argument {i} is a {type(layer).__name__}")
            setattr(self, str(i), layer)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        self.__dict__.pop("_plan", None)  # the layers may have changed: fuse again

    def __delattr__(self, name):
        super().__delattr__(name)
        self.__dict__.pop("_plan", None)

    def __getitem__(self, i):
        layers = list(self._modules.values())
        return Sequential(*layers[i]) if isinstance(i, slice) else layers[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self.__dict__["_plan"] = self._fuse()
        for layer, fused in plan:
            if not fused:
                x = layer(x)
            elif type(layer) is Linear:
                x = F.linear_relu(x, layer.weight, layer.bias)
            else:
                x = layer(x, relu=True)
        return x

    def _fuse(self) -> tuple:
        """``(layer, fused)`` pairs: a Linear or batch norm with ``fused`` True also applies the ReLU after it."""
        layers, plan, i = list(self._modules.values()), [], 0
        while i < len(layers):
            fused = (type(layers[i]) in (Linear, BatchNorm1d, BatchNorm2d) and i + 1 < len(layers)
                     and type(layers[i + 1]) is ReLU)
            plan.append((layers[i], fused))
            i += 2 if fused else 1
        return tuple(plan)


class ModuleList(Module):
    """A list of modules whose parameters are registered (no forward of its own)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

__all__ = ["ModuleList", "Sequential"]
