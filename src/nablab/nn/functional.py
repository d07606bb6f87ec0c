"""Stateless layer functions (``nablab.nn.functional``, imported as ``F`` like PyTorch's)."""

from __future__ import annotations

from .. import kernels, ops
from ..errors import ShapeError
from ..ops.reduction import SumOfSquares

# the activations, the softmax family and the losses live in their own modules
from .functional_activations import *  # noqa: F403
from .functional_losses import *  # noqa: F403


def linear(x, weight, bias=None):
    """y = x Wᵀ + b with W of shape (out, in)."""
    _check_features("linear", x, weight)
    args = (x, weight) if bias is None else (x, weight, bias)
    return ops.Linear.apply(*args)


def linear_relu(x, weight, bias=None):
    """y = relu(linear(x, weight, bias)) = max(x Wᵀ + b, 0).

    ``nn.Sequential`` calls this for a Linear directly followed by a ReLU; a registered kernel
    (:mod:`nablab.kernels.cpu.fusion`) may run the pair as one graph node, with the same numbers.
    """
    _check_features("linear_relu", x, weight)
    args = (x, weight) if bias is None else (x, weight, bias)
    fused = kernels.select(linear_relu, getattr(x, "data", x))
    if fused is not linear_relu:
        return fused(*args)
    return ops.ReLU.apply(ops.Linear.apply(*args))


def _check_features(name, x, weight):
    """A ShapeError (PyTorch's RuntimeError, a ValueError too) unless x's last dim is the weight's in-features."""
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        features = x.shape[-1] if x.ndim else "no"
        raise ShapeError(f"{name}: input of shape {tuple(x.shape)} has {features} features, the weight "
                         f"{tuple(weight.shape)} (out, in) expects {weight.shape[-1] if weight.ndim else '?'}")


def l2_penalty(parameters, reg: float):
    """reg · Σ_W ‖W‖² over the weight matrices/kernels only (parameters with ≥ 2 dims; biases and
    normalisation scales excluded), as the course reports write it; its gradient is 2·reg·W.

    ``parameters`` is a Module or an iterable of parameters.
    """
    params = parameters.parameters() if hasattr(parameters, "parameters") else parameters
    weights = [p for p in params if p.ndim >= 2]
    if not weights:
        raise ValueError("l2_penalty found no weight matrices (parameters with 2 or more dimensions)")
    total = SumOfSquares.apply(weights[0])
    for w in weights[1:]:
        total = total + SumOfSquares.apply(w)
    return total * reg


# the layers' functional forms live in their own modules: convolution, padding and resampling;
# pooling, normalization and dropout; embedding lookup; attention
from .functional_attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402, F401
from .functional_conv import *  # noqa: E402, F403
from .functional_layers import *  # noqa: E402, F403
from .sparse import embedding  # noqa: E402, F401
