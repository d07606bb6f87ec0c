"""``LayerMonitor``: what each layer of a network does during training, recorded every k steps.

Per watched layer and sampled step, from a forward hook on the layer's output y:

- ``act_mean``, ``act_std``: the mean and standard deviation of y's entries;
- ``act_zeros``: the share of entries exactly 0 (dead ReLU units);
- ``act_saturated``: for squashing activations, the share of entries in their flat tails, where
  the derivative is nearly 0: σ(x) outside [0.01, 0.99], |tanh x| > 0.99, |1.7159·tanh(2x/3)| >
  0.99·1.7159, Hardtanh and Hardsigmoid at their limits, |softsign x| > 0.99;

and from gradient hooks on the layer's parameters during the backward pass that follows:

- ``grad_norm``: ‖dL/dθ‖₂ over all the layer's parameters θ (and ``<name>.grad_norm`` per parameter);
- ``grad_rms``: ‖dL/dθ‖₂ / √n over its n parameters, the typical gradient of one weight (a wide first
  layer has a large ``grad_norm`` for its many weights alone; ``grad_rms`` compares layers of any size);
- ``param_norm``: ‖θ‖₂ when the step began (and ``<name>.norm``);
- ``grad_ratio``: ‖dL/dθ‖₂ / ‖θ‖₂ (and ``<name>.grad_ratio``), how far one gradient would move the
  weights relative to their size.

:meth:`LayerMonitor.epoch_summary` averages each over the epoch's sampled steps. A vanishing
gradient shows as a ``grad_rms`` that shrinks by orders of magnitude from the last layer to the
first; its usual cause, saturated sigmoid units, as a high ``act_saturated``.

Cost: a pre-hook on the model counts the training forward passes (grad mode on, ``model.training``)
and, on every k-th, attaches the layer and parameter hooks for that step alone, so the steps in
between run as without a monitor (``nn.Sequential`` keeps fusing Linear and ReLU into one node).
The gradients of a sampled step are those of the backward passes between its forward and the
next training forward (or :meth:`epoch_summary`), before any clipping; a parameter shared by two
watched layers (tied weights) counts in both, with its whole gradient.
"""

from __future__ import annotations

import math

import numpy as np

from .. import grad_mode
from ..backend import get_array_module, to_host
from ..nn import activation
from ..tensor import Tensor

#: (low, high): a squashing activation's output is saturated at or beyond these (its derivative ≈ 0 there)
_IMPROVED = 0.99 * 1.7159
SATURATION = {
    activation.Sigmoid: lambda m: (0.01, 0.99),
    activation.Tanh: lambda m: (-0.99, 0.99),
    activation.ImprovedSigmoid: lambda m: (-_IMPROVED, _IMPROVED),
    activation.Softsign: lambda m: (-0.99, 0.99),
    activation.Hardtanh: lambda m: (m.min_val, m.max_val),
    activation.Hardsigmoid: lambda m: (0.0, 1.0),
}


def _host(array) -> np.ndarray:
    """A NumPy array of ``array`` (copied from the GPU where it lives there)."""
    return np.asarray(to_host(array))


def _norm(array) -> float:
    """‖a‖₂, summed in float64."""
    a = array.astype("float64")
    return math.sqrt(float((a * a).sum()))


def _first_tensor(out):
    """The layer's output tensor: ``out`` itself, or the first tensor of a tuple (an LSTM's output)."""
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        return next((t for t in out if isinstance(t, Tensor)), None)
    return None


def _default_layers(model):
    """Every module without sub-modules that owns parameters or is an activation, with its name."""
    found, seen = [], set()
    for name, m in model.named_modules():
        if id(m) in seen or any(True for _ in m.children()):
            continue
        seen.add(id(m))  # a module in two places is watched once, by its first name
        if any(True for _ in m.parameters()) or type(m).__module__ == activation.__name__:
            found.append((name, m))
    return found


def _resolve_layers(model, layers):
    if layers is None:
        return _default_layers(model)
    names = {}
    for name, m in model.named_modules():
        names.setdefault(id(m), name)  # a module in two places goes by its first name
    resolved = []
    for layer in layers:
        if isinstance(layer, str):
            resolved.append((layer, model.get_submodule(layer)))
        elif id(layer) in names:
            resolved.append((names[id(layer)], layer))
        else:
            raise ValueError(f"layers must name sub-modules of the model (dotted names such as '0' or "
                             f"'encoder.fc', or the modules themselves); {type(layer).__name__} {layer!r} is not one")
    return resolved


class _Mean:
    """Running means of named numbers."""

    def __init__(self):
        self.sums, self.counts = {}, {}

    def add(self, values: dict) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def means(self) -> dict:
        return {key: self.sums[key] / self.counts[key] for key in self.sums}


class LayerMonitor:
    """Record activation statistics and gradient norms of ``model``'s layers every ``every`` steps.

    ``layers``: the sub-modules to watch, by dotted name or as modules; by default every module
    without sub-modules that owns parameters (Linear, Conv2d, ...) or is an activation (ReLU,
    Sigmoid, ...). ``hist_values``: how many of a layer's output entries (drawn at random, with
    replacement) to keep from the latest sampled step for :meth:`activation_samples` (histograms).

    Use::

        monitor = LayerMonitor(model, every=10)
        ...train...                       # per epoch:
        summary = monitor.epoch_summary() # {"0": {"layer": "Linear", "act_mean": ..., "grad_norm": ...}, ...}
        monitor.reset()
        monitor.detach()                  # takes every hook off the model again

    It is also a context manager that detaches on exit.
    """

    def __init__(self, model, layers=None, every: int = 1, hist_values: int = 2048):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a whole number of steps ≥ 1, got {every!r}")
        if not isinstance(hist_values, int) or hist_values < 0:
            raise ValueError(f"hist_values must be a whole number ≥ 0, got {hist_values!r}")
        self.model, self.every, self.hist_values = model, every, hist_values
        self.layers = _resolve_layers(model, layers)
        if not self.layers:
            raise ValueError(f"{type(model).__name__} has no layers to watch (no sub-module owns parameters or is "
                             "an activation): name them with layers=[...]")
        self.steps = 0  # training forward passes seen
        self._layer_hooks, self._grad_hooks, self._seen = [], [], set()
        self._grads: dict = {}  # (layer, parameter) → dL/dθ summed over this step's backward calls
        self._norms: dict = {}  # (layer, parameter) → ‖θ‖ at the start of the sampled step
        self._stats: dict[str, _Mean] = {}
        self._samples: dict[str, np.ndarray] = {}
        self._rng = np.random.default_rng(0)  # its own generator: training draws the same numbers with a monitor
        self._root = model.register_forward_pre_hook(self._on_model_forward)

    # ------------------------------------------------------------------ hooks
    def _on_model_forward(self, model, args):
        self._finish_step()
        if not (grad_mode.state.enabled and model.training):
            return
        self.steps += 1
        if (self.steps - 1) % self.every:
            return
        for name, module in self.layers:
            handle = module.register_forward_hook(self._activation_hook(name))
            self._layer_hooks.append(handle)
            for pname, p in module.named_parameters():
                if p.requires_grad:
                    self._norms[(name, pname)] = _norm(p.data)
                    self._grad_hooks.append(p.register_hook(self._grad_hook((name, pname))))

    def _activation_hook(self, name):
        def record(module, args, out):
            if name in self._seen:  # a layer run twice in one step (shared weights, a recurrent cell): its first run
                return
            self._seen.add(name)
            y = _first_tensor(out)
            if y is None or y.data.dtype.kind != "f" or y.data.size == 0:
                return
            a = y.data
            stats = {"act_mean": float(a.mean()), "act_std": float(a.std()), "act_zeros": float((a == 0).mean())}
            bounds = SATURATION.get(type(module))
            if bounds is not None:
                low, high = bounds(module)
                stats["act_saturated"] = float(((a <= low) | (a >= high)).mean())
            self._stats.setdefault(name, _Mean()).add(stats)
            if self.hist_values:
                flat = a.reshape(-1)
                if flat.size > self.hist_values:  # entries drawn at random: a stride could keep only a few units
                    flat = flat[get_array_module(flat).asarray(self._rng.integers(0, flat.size, self.hist_values))]
                self._samples[name] = _host(flat).copy()
        return record

    def _grad_hook(self, key):
        def record(grad):
            g = grad.data
            self._grads[key] = g.copy() if key not in self._grads else self._grads[key] + g
        return record

    def _finish_step(self) -> None:
        """Turn the sampled step's gradients into norms and take its hooks off."""
        for handle in (*self._grad_hooks, *self._layer_hooks):
            handle.remove()
        self._grad_hooks, self._layer_hooks, self._seen = [], [], set()
        by_layer: dict[str, dict] = {}
        sizes: dict[str, int] = {}
        for (name, pname), g in self._grads.items():
            by_layer.setdefault(name, {})[pname] = (_norm(g), self._norms[(name, pname)])
            sizes[name] = sizes.get(name, 0) + g.size
        for name, params in by_layer.items():
            grad_total = math.sqrt(sum(g * g for g, _ in params.values()))
            norm_total = math.sqrt(sum(w * w for _, w in params.values()))
            values = {"grad_norm": grad_total, "grad_rms": grad_total / math.sqrt(max(sizes[name], 1)),
                      "param_norm": norm_total, "grad_ratio": grad_total / max(norm_total, 1e-30)}
            for pname, (g, w) in params.items():
                values.update({f"{pname}.grad_norm": g, f"{pname}.norm": w, f"{pname}.grad_ratio": g / max(w, 1e-30)})
            self._stats.setdefault(name, _Mean()).add(values)
        self._grads, self._norms = {}, {}

    # ------------------------------------------------------------------ results
    def epoch_summary(self) -> dict[str, dict]:
        """Per watched layer (by name, in model order): its class (``"layer"``) and the mean of each
        statistic over the sampled steps since :meth:`reset`. Layers with nothing recorded are left out."""
        self._finish_step()
        summary = {}
        for name, module in self.layers:
            if name in self._stats:
                summary[name] = {"layer": type(module).__name__, **self._stats[name].means()}
        return summary

    def activation_samples(self) -> dict[str, np.ndarray]:
        """Per watched layer, ``hist_values`` of its output entries from the latest sampled step (all of
        them where it has fewer)."""
        return {name: self._samples[name] for name, _ in self.layers if name in self._samples}

    def reset(self) -> None:
        """Forget what was recorded (start of a new epoch); the hooks stay."""
        self._finish_step()
        self._stats, self._samples = {}, {}

    def detach(self) -> None:
        """Take every hook off the model; the monitor records nothing more."""
        self._finish_step()
        self._root.remove()

    def __enter__(self) -> LayerMonitor:
        return self

    def __exit__(self, *exc) -> None:
        self.detach()
