"""``Module``: the base of every layer and model, holding parameters, buffers and sub-modules.

As in PyTorch, assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, so
``parameters()``, ``state_dict()`` and ``train()/eval()`` find it without being told.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from ..backend import on_host, to_host
from ..tensor import Tensor
from ..tensor_protocol import device_and_dtype
from .parameter import Parameter


class StateDictError(KeyError, RuntimeError):
    """A state dict that does not fit the module: missing, unexpected or mis-shaped entries.

    A ``KeyError`` (as a missing key is) and a ``RuntimeError`` (what PyTorch raises), printed as
    its plain message.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


#: what ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _RemovableHandle:
    """What the ``register_*_hook`` methods return: ``remove()`` takes the hook off again, and the
    module's hook table with its last hook (a module without one runs as if never hooked)."""

    def __init__(self, module, kind: str, key):
        self.module, self.kind, self.key = module, kind, key

    def remove(self) -> None:
        table = self.module.__dict__.get("_hooks")
        if table is None:
            return
        table[self.kind][:] = [(k, h) for k, h in table[self.kind] if k is not self.key]
        if not (table["pre"] or table["post"]):
            del self.module.__dict__["_hooks"]


def _shape(value) -> tuple:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


class Module:
    """Subclass it, create layers in ``__init__``, and write ``forward``; call the module to run it.

    Every module remembers the arguments it was constructed with (:attr:`init_args`), so that a
    saved model can be rebuilt from its file (``nablab.save`` / ``nablab.models.load``).
    """

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        object.__setattr__(self, "_init_args", (args, dict(kwargs)))
        return self

    @property
    def init_args(self) -> tuple[tuple, dict]:
        """``(args, kwargs)`` as passed to the constructor: ``type(m)(*args, **kwargs)`` builds the same
        architecture again (with fresh weights)."""
        args, kwargs = self.__dict__.get("_init_args", ((), {}))
        return tuple(args), dict(kwargs)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        if isinstance(value, Parameter):
            home = self._parameters
        elif isinstance(value, Module):
            home = self._modules
        elif name in self._buffers and (value is None or isinstance(value, Tensor)):
            home = self._buffers
        else:
            home = None
        for table in (self._parameters, self._buffers, self._modules):
            if table is not home:
                table.pop(name, None)
        if home is None:
            object.__setattr__(self, name, value)
        else:  # an entry that is replaced keeps its place (a Sequential's layer order, say)
            home[name] = value

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value) -> None:
        """A tensor that is part of the state (saved, loaded) but not trained, e.g. running means."""
        self.__dict__.pop(name, None)
        self._buffers[name] = value if isinstance(value, Tensor) or value is None else Tensor(value)

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        """Register a parameter (or ``None``, for an optional one such as a missing bias)."""
        if value is None:
            self.__dict__.pop(name, None)
            self._parameters[name] = None
        else:
            setattr(self, name, value)

    # ----------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = ""):
        """Yield ``(name, module)`` for this module and every module inside it, depth first."""
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def children(self):
        return (m for m in self._modules.values() if m is not None)

    def named_children(self):
        return ((name, m) for name, m in self._modules.items() if m is not None)

    def add_module(self, name: str, module) -> None:
        """Register ``module`` (or None) under ``name``, as assigning the attribute does."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        if module is None:
            self.__dict__.pop(name, None)
            self._modules[name] = None
        elif not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        else:
            setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target: str):
        """The sub-module at the dotted path ``target`` ("" is this module)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} (looking up {target!r})")
            module = child
        return module

    def named_parameters(self, prefix: str = ""):
        """Yield ``(dotted.name, parameter)`` for every parameter, each once."""
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True):
        if not recurse:
            return (p for p in self._parameters.values() if p is not None)
        return (p for _, p in self.named_parameters())

    def named_buffers(self, prefix: str = ""):
        for mod_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        return (b for _, b in self.named_buffers())

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module and then on this one (e.g. to initialise)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True):
        """Training mode (dropout active, batch statistics); ``eval()`` switches it off."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: ``.grad`` set to None (PyTorch's default), or to zeros."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(p.grad.data * 0)

    # ----------------------------------------------------------------- devices and dtypes
    def to(self, *args, **kwargs):
        """Move the parameters and buffers to a device and/or cast the floating ones to a dtype,
        in place (the same Parameter objects, so an optimizer made before still holds them);
        ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``. Returns the module."""
        target_device, dtype = device_and_dtype(args, kwargs)
        for tensor in [*self.parameters(), *self.buffers()]:
            cast = dtype if dtype is not None and tensor.is_floating_point() else None
            moved = tensor.detach().to(device=target_device, dtype=cast)
            if moved.data is not tensor.data:
                tensor.data = moved.data
                tensor._version += 1
                if tensor.grad is not None:
                    tensor.grad = Tensor._make(tensor.grad.to(device=target_device, dtype=cast).data)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):  # noqa: ARG002 - PyTorch's signature; nablab uses the current GPU
        return self.to("cuda")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def requires_grad_(self, mode: bool = True):
        for p in self.parameters():
            p.requires_grad_(mode)
        return self

    # ----------------------------------------------------------------- state
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Name → tensor for every parameter and buffer, in PyTorch's order (each module's parameters,
        then its buffers, then its sub-modules'); the tensors share memory with the module (detached
        unless ``keep_vars``). A parameter shared by two modules appears once, under its first name."""
        state = OrderedDict() if destination is None else destination
        seen = set()
        for mod_name, module in self.named_modules():
            for table, is_param in ((module._parameters, True), (module._buffers, False)):
                for name, value in table.items():
                    if value is None or (is_param and id(value) in seen):
                        continue
                    seen.add(id(value))
                    key = f"{prefix}{mod_name}.{name}" if mod_name else f"{prefix}{name}"
                    state[key] = value if keep_vars else value.detach()
        return state

    def _upgrade_state(self, state: dict, prefix: str) -> None:
        """Bring an older state dict's entries for this module (keys starting with ``prefix``) up to
        date, in place; a layer whose saved form changed overrides this (batch norm does)."""

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into this module's parameters and buffers (in place, keeping their dtype).

        With ``strict`` (the default) a missing key, an unexpected key or a shape mismatch is an
        error naming the key and both shapes. Returns ``(missing_keys, unexpected_keys)`` (a named tuple,
        as PyTorch's).
        """
        state_dict = OrderedDict(state_dict)  # the caller's dict stays as it is
        for mod_name, module in self.named_modules():
            module._upgrade_state(state_dict, f"{mod_name}." if mod_name else "")
        own = OrderedDict(list(self.named_parameters()) + list(self.named_buffers()))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(f"{k} (the model's shape {own[k].shape})" for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(f"{k} (shape {_shape(state_dict[k])})"
                                                            for k in unexpected))
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else value if hasattr(value, "shape") else np.asarray(value)
            if tuple(value.shape) != target.shape:
                problems.append(
                    f"{key}: the state has shape {tuple(value.shape)}, the model expects {target.shape}"
                )
        if problems:
            raise StateDictError(f"load_state_dict into {type(self).__name__} failed; " + "; ".join(problems))
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                value = value.data if isinstance(value, Tensor) else value
                # onto the parameter's device: a GPU takes host values as they are, the host needs a download
                target.data[...] = to_host(value) if on_host(target.data) else value
                target._version += 1
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- running
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        hooks = self.__dict__.get("_hooks")
        if not hooks:
            return self.forward(*args, **kwargs)
        for _, hook in hooks["pre"]:
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        out = self.forward(*args, **kwargs)
        for _, hook in hooks["post"]:
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        return out

    def _has_hooks(self) -> bool:
        """Whether a forward hook is registered now (removing the last one drops the table)."""
        return "_hooks" in self.__dict__

    def _add_hook(self, kind: str, hook):
        hooks = self.__dict__.setdefault("_hooks", {"pre": [], "post": []})
        key = object()
        hooks[kind].append((key, hook))
        return _RemovableHandle(self, kind, key)

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before each forward; a value it returns replaces the arguments.
        Returns a handle whose ``remove()`` takes it off."""
        return self._add_hook("pre", hook)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after each forward (to record activations, say); a
        value it returns replaces the output. Returns a handle whose ``remove()`` takes it off."""
        return self._add_hook("post", hook)

    def extra_repr(self) -> str:
        """The layer's settings, shown inside its ``repr``."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(settings)`` on one line, or the settings' lines and then each
        child's ``(name): repr``, indented by two spaces, between ``Name(`` and ``)``."""
        settings = self.extra_repr()
        extra = settings.split("\n") if settings else []
        children = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not children and len(extra) <= 1:
            return f"{type(self).__name__}({settings})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(extra + children) + "\n)"


def count_parameters(model: Module, trainable_only: bool = True) -> int:
    """The number of scalar parameters, weights and biases counted separately (PyTorch's count).

    A 784-64-10 MLP has 784·64 + 64 + 64·10 + 10 = 50,890. (The NTNU report folds the first
    layer's bias into a 785th input and uses no other biases: 785·64 + 64·10 = 50,880 for the
    same net, and 50,386 for 784-59-59-10, which has 50,455 here.)
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)

__all__ = ["Module", "StateDictError", "count_parameters"]
