"""``MLP``: a multilayer perceptron of Linear layers and one activation, built from ``nablab.nn``."""

from __future__ import annotations

from .. import nn


class MLP(nn.Sequential):
    """Linear → activation → … → Linear, e.g. ``MLP(784, [64], 10, activation="sigmoid")``.

    ``hidden`` lists the hidden widths (empty for a linear classifier); ``init`` names a scheme of
    ``nablab.nn.init.SCHEMES`` for the weights (biases then start at zero) — ``"normal"`` and
    ``"uniform"`` draw N(0, init_scale²) and U(−init_scale, init_scale), as the course reports
    do (std 1e-4, U(−1, 1)) — or keeps PyTorch's default; ``dropout`` adds Dropout after each
    hidden activation.
    """

    @staticmethod
    def layer_plan(in_features: int, hidden, out_features: int, activation: str = "relu", init: str | None = None,
                   dropout: float = 0.0, init_scale: float = 1.0) -> list:
        """The layers the constructor builds, in order, as ``(class, args, kwargs)`` (nothing is allocated:
        a weights file is checked against this before the model is built)."""
        if activation not in nn.ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(nn.ACTIVATIONS)}")
        sizes = [in_features, *hidden, out_features]
        plan = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            plan.append((nn.Linear, (fan_in, fan_out), {}))
            if i < len(sizes) - 2:
                plan.append((nn.ACTIVATIONS[activation], (), {}))
                if dropout:
                    plan.append((nn.Dropout, (dropout,), {}))
        return plan

    def __init__(self, in_features: int, hidden, out_features: int, activation: str = "relu",
                 init: str | None = None, dropout: float = 0.0, init_scale: float = 1.0):
        schemes = {**nn.init.SCHEMES, "normal": lambda w: nn.init.normal_(w, 0.0, init_scale),
                   "uniform": lambda w: nn.init.uniform_(w, -init_scale, init_scale)}
        if init is not None and init not in schemes:
            raise ValueError(f"unknown init {init!r}; expected one of {sorted(schemes)}")
        layers = []
        for cls, args, kwargs in self.layer_plan(in_features, hidden, out_features, activation, init, dropout,
                                                 init_scale):
            layer = cls(*args, **kwargs)
            if init is not None and isinstance(layer, nn.Linear):  # (drawn layer by layer, as before)
                schemes[init](layer.weight)
                nn.init.zeros_(layer.bias)
            layers.append(layer)
        super().__init__(*layers)
        self.config = dict(in_features=in_features, hidden=list(hidden), out_features=out_features,
                           activation=activation, init=init, dropout=dropout, init_scale=init_scale)
