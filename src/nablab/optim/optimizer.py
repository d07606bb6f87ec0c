"""``Optimizer``: parameter groups, per-parameter state, ``step``, ``zero_grad`` and (de)serialisation.

The structure is PyTorch's: ``optimizer.param_groups`` is a list of dicts, each holding its
``"params"`` and its own settings (``lr``, ``momentum``, ...; missing ones are taken from the
optimizer's defaults); schedulers and users change them between steps (``group["lr"] = 1e-4``
takes effect at the next ``step()``). ``optimizer.state[p]`` holds what the rule keeps for
parameter ``p`` (momentum buffers, moment estimates, the step count).
"""

from __future__ import annotations

import copy
import warnings

from ..backend import get_array_module
from ..grad_mode import enable_grad
from ..tensor import Tensor


def check_settings(optimizer: str, **settings) -> None:
    """Raise ValueError naming every setting that is negative (learning rates, epsilons, decays, ...)."""
    bad = {k: v for k, v in settings.items() if not v >= 0}
    if bad:
        raise ValueError(f"{optimizer} needs {', '.join(settings)} ≥ 0, got "
                         + ", ".join(f"{k}={v}" for k, v in bad.items()))


def check_betas(optimizer: str, betas) -> tuple:
    """``betas`` as a tuple of two numbers in [0, 1), else ValueError."""
    betas = tuple(betas)
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{optimizer}'s betas must be two numbers in [0, 1), got {betas}")
    return betas


class ParamState(dict):
    """``optimizer.state``: per-parameter dicts keyed by the parameter, created empty on first use.

    ``state[id(p)]`` finds the same entry as ``state[p]`` (nablab's earlier spelling).
    """

    def _key(self, key):
        if isinstance(key, int):
            for p in self:
                if id(p) == key:
                    return p
        return key

    def __missing__(self, key):
        if not isinstance(key, Tensor):
            raise KeyError(key)
        entry = self[key] = {}
        return entry

    def __getitem__(self, key):
        return super().__getitem__(self._key(key))

    def __contains__(self, key):
        return super().__contains__(self._key(key))

    def get(self, key, default=None):
        return super().get(self._key(key), default)


class Optimizer:
    """Base class: holds ``param_groups`` and ``state``; subclasses implement ``_update``.

    ``params`` is an iterable of parameters, of ``(name, parameter)`` pairs (``named_parameters()``)
    or of dicts ``{"params": [...], "lr": ...}`` giving a group its own settings, as in PyTorch.
    ``_update(p, grad, state, group)`` changes ``p.data`` in place from the gradient array.
    """

    #: every array in a parameter's state has the parameter's shape (checked, and cast to its dtype, on loading)
    state_like_params = True

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError("an optimizer takes an iterable of tensors or dicts (e.g. model.parameters()), "
                            "not a single tensor")
        groups = list(params)
        if not groups:
            raise ValueError("the optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state = ParamState()
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group ``{"params": [...], setting: value, ...}``; unset settings take the defaults.

        Keys other than the optimizer's settings are kept (schedulers and users store their own)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group is a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("a parameter group's params must be an ordered collection (a list), not a set")
        params = list(params)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):
            names, params = [n for n, _ in params], [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError("optimizers take tensors that require gradients (e.g. model.parameters())")
            if not p.is_leaf:
                raise ValueError("an optimizer can only update leaf tensors (parameters), not computed ones")
        if len({id(p) for p in params}) != len(params):
            warnings.warn("a parameter group holds the same parameter more than once; it will be updated "
                          "once per occurrence", UserWarning, stacklevel=2)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        if names is not None:
            group["param_names"] = names
        self.param_groups.append(group)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (the default), or to zeros."""
        for p in self._params():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(get_array_module(p.grad.data).zeros_like(p.grad.data))

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place; returns ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with gradients enabled).
        A group with ``maximize=True`` climbs its objective: its gradients are negated first.
        Each updated parameter's version counter goes up by one, as for any in-place change.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape:
                    raise ValueError(f"a parameter of shape {p.data.shape} has a gradient of shape {grad.shape}")
                if group.get("maximize"):
                    grad = -grad
                self._update(p, grad, self.state[p], group)
                p._version += 1  # p.data changed in place: graphs that saved p must not use the old value
        return loss

    def _update(self, p, grad, state, group):  # pragma: no cover - abstract
        raise NotImplementedError

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """``{"state": {index: {name: array or number}}, "param_groups": [settings]}`` as in PyTorch.

        Parameters are referred to by their position across the groups (``"params"`` holds those
        indices), so the state can be loaded into an optimizer built over the same model again.
        """
        params = self._params()
        index = {id(p): i for i, p in enumerate(params)}
        state = {index[id(p)]: dict(entry) for p, entry in self.state.items() if id(p) in index}
        groups = []
        for g in self.param_groups:
            settings = {k: v for k, v in g.items() if k != "params"}
            settings["params"] = [index[id(p)] for p in g["params"]]
            groups.append(settings)
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore settings and state saved by :meth:`state_dict` (arrays are copied, in the parameter's dtype).

        Each group takes the saved settings; a setting the save predates keeps the default."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"the state has {len(groups)} parameter groups, this optimizer {len(self.param_groups)}")
        for mine, saved in zip(self.param_groups, groups):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"a parameter group of the state has {len(saved['params'])} parameters, "
                                 f"this optimizer's {len(mine['params'])}")
        params = {i: p for mine, saved in zip(self.param_groups, groups)
                  for i, p in zip(saved["params"], mine["params"])}
        restored_state = ParamState()
        for i, entry in state_dict["state"].items():
            p = params[int(i)]
            restored = {}
            for k, v in entry.items():
                if self.state_like_params and hasattr(v, "shape") and hasattr(v, "dtype"):
                    if v.shape != () and v.shape != p.shape:
                        raise ValueError(f"optimizer state {k!r} of parameter {i} has shape {v.shape}, "
                                         f"the parameter {p.shape}")
                    v = get_array_module(p.data).array(v, dtype=p.dtype) if v.shape else v.copy()
                else:
                    v = copy.deepcopy(v)
                restored[k] = v
            restored_state[p] = restored
        for mine, saved in zip(self.param_groups, groups):
            settings = {**self.defaults, **{k: v for k, v in saved.items() if k != "params"}}
            if "param_names" in mine and "param_names" not in saved:
                settings["param_names"] = mine["param_names"]
            mine_params = mine["params"]
            mine.clear()
            mine.update(settings, params=mine_params)
        self.state = restored_state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in g.items() if k not in ("params", "param_names")]
        return "\n".join(lines) + "\n)"
