"""The negative log-likelihood of class-index targets, on inputs of any number of dimensions."""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function
from .loss import check_class_range

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{reduction!r} is not a valid value for reduction: expected one of {allowed}")


def check_class_targets(name, input_shape, target, weight=None, ignore_index=-100):
    """The shapes of an (N, C, d₁, …) or (C,) input and its (N, d₁, …) or () integer target, of a
    per-class weight (C,), and the targets' range (those not ignored in [0, C)); raise a clear error
    where they do not fit."""
    if len(input_shape) == 0:
        raise ShapeError(f"{name}: the input must have a class dimension, got a 0-d input")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: class-index targets must be integers, got dtype {target.dtype}")
    batched = len(input_shape) >= 2
    expected = (input_shape[0],) + tuple(input_shape[2:]) if batched else ()
    if tuple(target.shape) != expected:
        raise ShapeError(f"{name}: the input of shape {tuple(input_shape)} needs a target of shape {expected}, "
                         f"got {tuple(target.shape)}")
    n_classes = input_shape[1] if batched else input_shape[0]
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise ShapeError(f"{name}: the weight must have shape ({n_classes},), one per class, "
                         f"got {tuple(weight.shape)}")
    check_class_range(name, target[target != ignore_index], n_classes)


class NLLLoss(Function):
    """ℓ = −w[y]·x[y] per target, for log-probabilities x of shape (N, C, d₁, …) (class axis 1) or (C,)
    and class indices y of shape (N, d₁, …) or (); ℓ = 0 where y = ignore_index.

    reduction "none" → ℓ;  "sum" → Σℓ;  "mean" → Σℓ / Σ w[y] over the targets not ignored (PyTorch's
    weighted mean; NaN when every target is ignored). w defaults to 1 for every class.
    dL/dx[…, c, …] = −w[y]·g·[c = y] with g = dL/dy (sum), dL/dy / Σ w[y] (mean), dL/dℓ (none), and 0 for
    the ignored targets (also when every target is ignored and g is NaN, as in PyTorch).
    """

    saves_inputs = False
    fresh_grads = True

    def __init__(self, target, weight=None, ignore_index=-100, reduction="mean"):
        check_reduction(reduction)
        self.target, self.weight, self.ignore_index, self.reduction = target, weight, ignore_index, reduction

    def forward(self, x):
        xp = get_array_module(x)
        check_class_targets("nll_loss", x.shape, self.target, self.weight, self.ignore_index)
        self.input_shape = x.shape
        x, target = (x, self.target) if x.ndim >= 2 else (x[None], self.target[None])
        keep = target != self.ignore_index
        self.keep, self.index = keep, xp.where(keep, target, 0)[:, None]  # (N, 1, d₁, …)
        picked = xp.take_along_axis(x, self.index, axis=1)[:, 0]
        w = keep.astype(x.dtype) if self.weight is None else self.weight.astype(x.dtype)[self.index[:, 0]] * keep
        self.w = w
        loss = -(w * picked)
        if self.reduction == "none":
            return loss if len(self.input_shape) >= 2 else loss[0]
        total = loss.sum()
        if self.reduction == "mean":
            self.denominator = w.sum()
            with xp.errstate(invalid="ignore", divide="ignore"):
                total = total / self.denominator
        return xp.asarray(total, dtype=x.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        batched = len(self.input_shape) >= 2
        if self.reduction == "none":
            g = gy if batched else gy[None]
        elif self.reduction == "mean":
            with xp.errstate(invalid="ignore", divide="ignore"):
                g = gy / self.denominator
        else:
            g = gy
        shape = self.input_shape if batched else (1,) + tuple(self.input_shape)
        grad = xp.zeros(shape, dtype=self.w.dtype)
        with xp.errstate(invalid="ignore"):
            picked = xp.where(self.keep, -(self.w * g), 0).astype(grad.dtype, copy=False)
        xp.put_along_axis(grad, self.index, picked[:, None], axis=1)
        return (grad if batched else grad[0],)
