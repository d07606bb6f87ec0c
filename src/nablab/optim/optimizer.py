"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and (de)serialisation."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of parameters and their settings) and ``state``.

    ``params`` is an iterable of parameters, or of dicts ``{"params": [...], "lr": ...}`` giving
    a group its own settings, as in PyTorch. Subclasses implement ``_update(p, grad, state, group)``.
    """

    def __init__(self, params, defaults: dict):
        params = list(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state: dict[int, dict] = {}
        for group in groups:
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise KeyError(f"unknown optimizer setting(s) {sorted(unknown)}; expected {sorted(defaults)}")
            group = {**defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError("optimizers take tensors that require gradients (e.g. model.parameters())")
            group["initial_lr"] = group.get("initial_lr", group["lr"])
            self.param_groups.append(group)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to None."""
        for p in self._params():
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape:
                    raise ValueError(f"a parameter of shape {p.data.shape} has a gradient of shape {grad.shape}")
                self._update(p, grad, self.state.setdefault(id(p), {}), group)

    def _update(self, p, grad, state, group):  # pragma: no cover - abstract
        raise NotImplementedError

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """``{"state": {index: {name: array or number}}, "param_groups": [settings]}`` as in PyTorch.

        Parameters are referred to by their position across the groups, so the state can be loaded
        into an optimizer built over the same model again.
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[k]: dict(v) for k, v in self.state.items() if k in index}
        groups = []
        for g in self.param_groups:
            settings = {k: v for k, v in g.items() if k != "params"}
            settings["params"] = [index[id(p)] for p in g["params"]]
            groups.append(settings)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"the state has {len(groups)} parameter groups, this optimizer {len(self.param_groups)}")
        params = self._params()
        for mine, saved in zip(self.param_groups, groups):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError("a parameter group of the state has a different number of parameters")
            mine.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, entry in state_dict["state"].items():
            p = params[int(i)]
            restored = {}
            for k, v in entry.items():
                if isinstance(v, np.ndarray) and v.shape != () and v.shape != p.shape:
                    raise ValueError(f"optimizer state {k!r} of parameter {i} has shape {v.shape}, "
                                     f"the parameter {p.shape}")
                restored[k] = v.copy() if hasattr(v, "copy") else v
            self.state[id(p)] = restored

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in g.items() if k not in ("params", "initial_lr")]
        return "\n".join(lines) + "\n)"
