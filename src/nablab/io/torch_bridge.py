"""Weights between nablab and PyTorch: ``from_torch(module_or_state_dict)`` and ``to_torch(...)``.

nablab's layers store their tensors exactly as ``torch.nn`` does — ``Linear.weight`` is
(out_features, in_features), ``Conv2d.weight`` (out, in/groups, k, k), ``BatchNorm``'s
``running_mean``, ``running_var`` and ``num_batches_tracked`` are buffers — and ``Sequential``
names its layers "0", "1", …, so the same architecture has the same state-dict names in both,
and weights move across unchanged, dtypes included (bfloat16, which NumPy lacks, becomes float32).
Loading into a model whose dtypes differ (float64 weights into a float32 model, say) is an error
unless ``cast=True`` is passed: nothing is converted silently.

Where the names differ (a PyTorch model written as a class with ``self.fc1``, say), tensors are
paired by position in PyTorch's order (each module's parameters, then its buffers, then its
sub-modules) — provided every pair has the same shape; otherwise the error lists what is missing,
what is unexpected and the first pair that does not fit.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..nn import Module
from ..tensor import Tensor
from .weights import WeightsError, dtype_differences


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("moving weights to or from PyTorch needs torch: pip install torch") from None
    return torch


def torch_order(model: Module) -> OrderedDict:
    """A nablab model's parameters and buffers in PyTorch's ``state_dict()`` order."""
    state = OrderedDict()
    for prefix, module in model.named_modules():
        for table in (module._parameters, module._buffers):
            for name, value in table.items():
                if value is not None:
                    state[f"{prefix}.{name}" if prefix else name] = value.detach()
    return state


def _shape(value) -> tuple:
    return tuple(value.shape)


def match_state(source: OrderedDict, target: OrderedDict, what: str, cast: bool = False) -> OrderedDict:
    """``source``'s values under ``target``'s names: by name when the names agree, else by position.

    ``target`` maps names to anything with a ``shape`` and a ``dtype``. Raises :class:`WeightsError`
    naming missing and unexpected tensors and shapes that do not fit, and, unless ``cast`` is true,
    dtypes that differ.
    """
    if set(source) == set(target):
        bad = [f"{k}: {_shape(source[k])} given, {_shape(target[k])} expected" for k in target
               if _shape(source[k]) != _shape(target[k])]
        if bad:
            raise WeightsError(f"{what}: shapes differ: " + "; ".join(bad))
        return _same_dtypes(OrderedDict((k, source[k]) for k in target), target, what, cast)
    pairs = list(zip(source.items(), target.items()))
    if len(source) == len(target) and all(_shape(s) == _shape(t) for (_, s), (_, t) in pairs):
        return _same_dtypes(OrderedDict((t_name, s) for (_, s), (t_name, _) in pairs), target, what, cast)
    missing = [k for k in target if k not in source]
    unexpected = [k for k in source if k not in target]
    problems = []
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected: {', '.join(unexpected)}")
    if len(source) != len(target):
        problems.append(f"{len(source)} tensors given, {len(target)} expected")
    else:
        (s_name, s), (t_name, t) = next(p for p in pairs if _shape(p[0][1]) != _shape(p[1][1]))
        problems.append(f"by position, {s_name} {_shape(s)} does not fit {t_name} {_shape(t)}")
    raise WeightsError(f"{what}: the tensors differ ({'; '.join(problems)})")


def _same_dtypes(matched: OrderedDict, target: OrderedDict, what: str, cast: bool) -> OrderedDict:
    if not cast:
        wrong = dtype_differences(matched, target)
        if wrong:
            raise WeightsError(f"{what}: dtypes differ ({'; '.join(wrong)}); pass cast=True to convert them "
                               "to the model's dtypes")
    return matched


def _from_torch_tensor(value) -> np.ndarray:
    torch = _torch()
    value = value.detach().cpu()
    if value.dtype == torch.bfloat16:
        value = value.float()
    return value.numpy().copy()


def from_torch(module_or_state_dict, model: Module | None = None, *, cast: bool = False):
    """PyTorch weights for nablab.

    ``module_or_state_dict`` is a ``torch.nn.Module`` or a dict of name → ``torch.Tensor``. Without
    ``model``, returns the state dict as name → :class:`nablab.Tensor` (same names and dtypes,
    copied). With ``model``, loads the weights into it — by name, or by position where the names
    differ — and returns the model; a missing or extra tensor, a shape that does not fit, or a
    dtype other than the model's (unless ``cast`` is true: then converted to the model's) is a
    :class:`WeightsError`.
    """
    torch = _torch()
    if isinstance(module_or_state_dict, torch.nn.Module):
        items = module_or_state_dict.state_dict().items()
    elif isinstance(module_or_state_dict, dict):
        items = module_or_state_dict.items()
    else:
        raise TypeError(f"from_torch takes a torch.nn.Module or a state dict, not a "
                        f"{type(module_or_state_dict).__name__}")
    state = OrderedDict((name, _from_torch_tensor(value)) for name, value in items)
    if model is None:
        return OrderedDict((name, Tensor._make(array)) for name, array in state.items())
    matched = match_state(state, torch_order(model), f"PyTorch weights into {type(model).__name__}", cast)
    model.load_state_dict(matched)
    return model


def to_torch(model_or_state_dict, module=None, *, cast: bool = False):
    """nablab weights for PyTorch.

    ``model_or_state_dict`` is a nablab :class:`~nablab.nn.Module` or a dict of name → Tensor /
    NumPy array. Without ``module``, returns a state dict of ``torch.Tensor`` (same names and
    dtypes, copied) that ``torch_module.load_state_dict`` takes. With ``module`` (a
    ``torch.nn.Module``), loads the weights into it — by name, or by position where the names
    differ — and returns it; a missing or extra tensor, a shape that does not fit, or a dtype
    other than the module's (unless ``cast`` is true: then converted to the module's) is a
    :class:`WeightsError`.
    """
    torch = _torch()
    if isinstance(model_or_state_dict, Module):
        source = torch_order(model_or_state_dict)
    elif isinstance(model_or_state_dict, dict):
        source = model_or_state_dict
    else:
        raise TypeError(f"to_torch takes a nablab Module or a state dict, not a {type(model_or_state_dict).__name__}")
    state = OrderedDict()
    for name, value in source.items():
        data = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        state[name] = torch.from_numpy(np.array(data, copy=True))
    if module is None:
        return state
    matched = match_state(state, module.state_dict(), f"nablab weights into {type(module).__name__}", cast)
    module.load_state_dict(matched, strict=True)
    return module
