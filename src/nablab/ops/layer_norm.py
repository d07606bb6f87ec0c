"""Layer normalisation (Ba, Kiros & Hinton 2016) with the hand-derived backward.

Over the M values of the trailing ``normalized_ndim`` axes of each sample (a group):

    μ = (1/M) Σ x          σ² = (1/M) Σ (x − μ)²          x̂ = (x − μ) / √(σ² + ε)
    y = γ ⊙ x̂ + β          (γ, β of the normalized shape, broadcast over the leading axes)

Backward, with g = dL/dx̂ = γ ⊙ dL/dy: since ∂μ/∂x_i = 1/M and ∂σ/∂x_i = x̂_i/M
(σ = √(σ² + ε)), differentiating x̂_j = (x_j − μ)/σ gives ∂x̂_j/∂x_i = (δ_ij − 1/M − x̂_i x̂_j / M)/σ, so

    dL/dx = (1/σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂))       (means over the group)
    dL/dγ = Σ_leading dL/dy ⊙ x̂                            dL/dβ = Σ_leading dL/dy

:func:`standardize` and :func:`standardize_backward` are the group computation; group and
instance norm (:mod:`nablab.ops.group_norm`) use them over other groups.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function


def standardize(x, axes, eps):
    """(x̂, 1/σ) over ``axes`` (kept, size 1): x̂ = (x − μ) / √(σ² + ε) with the biased variance."""
    xp = get_array_module(x)
    centred = x - x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / xp.sqrt((centred * centred).mean(axis=axes, keepdims=True) + eps)
    return centred * inv_std, inv_std


def standardize_backward(g, xhat, inv_std, axes):
    """dL/dx from g = dL/dx̂: (1/σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂)) over ``axes``."""
    return inv_std * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))


class LayerNorm(Function):
    """y = γ ⊙ x̂ + β over the last ``normalized_ndim`` axes; see the module docstring."""

    fresh_grads = True

    def __init__(self, normalized_ndim, eps=1e-5):
        self.k, self.eps = int(normalized_ndim), eps

    def _check(self, x, weight, bias):
        """Raise a ShapeError unless x ends in the normalized shape of weight and bias."""
        if x.ndim < self.k or tuple(x.shape[x.ndim - self.k:]) != tuple(weight.shape) or bias.shape != weight.shape:
            raise ShapeError(f"layer_norm: normalized_shape {tuple(weight.shape)} (weight {tuple(weight.shape)}, "
                             f"bias {tuple(bias.shape)}) expects an input of shape (*, "
                             f"{', '.join(map(str, weight.shape))}), got {tuple(x.shape)}")

    def forward(self, x, weight, bias):
        self._check(x, weight, bias)
        self.axes = tuple(range(x.ndim - self.k, x.ndim))
        self.xhat, self.inv_std = standardize(x, self.axes, self.eps)
        self.weight = weight
        return self.xhat * weight + bias

    def backward(self, gy):
        leading, (needs_x, needs_w, needs_b) = tuple(range(gy.ndim - self.k)), self.needs_input_grad
        gx = standardize_backward(gy * self.weight, self.xhat, self.inv_std, self.axes) if needs_x else None
        gw = (gy * self.xhat).sum(axis=leading) if needs_w else None
        return gx, gw, gy.sum(axis=leading) if needs_b else None
