"""The functional forms of the losses (``nablab.nn.functional`` exports them all: ``F.cross_entropy``,
``F.nll_loss``, ``F.binary_cross_entropy``, ``F.mse_loss``, ``F.kl_div``, ...), with PyTorch's
signatures: ``reduction`` is "none", "mean" or "sum" everywhere, and the legacy ``size_average`` /
``reduce`` flags still map onto it as in PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..backend import get_array_module
from ..dtypes import result_type
from ..errors import ShapeError
from ..ops.losses_binary import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from ..ops.losses_kl import KLDivergence
from ..ops.losses_nll import NLLLoss, check_class_targets, check_reduction
from ..ops.losses_regression import Huber, SmoothL1
from ..tensor import Tensor, as_tensor


# --------------------------------------------------------------------------- shared pieces
def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's mapping of the deprecated flags: reduce=False → "none", else size_average=False →
    "sum", else "mean"; without either flag, ``reduction`` itself."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce are deprecated: use reduction= ('none', 'mean' or 'sum')",
                  UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss, reduction):
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_operand(value, x):
    """``value`` as a tensor of x's floating dtype (a tensor keeps its graph: the cast is an op)."""
    if isinstance(value, Tensor):
        return value if value.dtype == x.dtype else value.astype(x.dtype)
    return Tensor._make(get_array_module(x.data).asarray(value, dtype=x.dtype))


def _promoted_operands(x, target):
    """(x, t): the input and the target in PyTorch's result dtype of the two where the target is a floating
    tensor (a float32 input and a float64 target give float64: x is cast, differentiably), else the target
    in x's dtype."""
    if isinstance(target, Tensor) and target.dtype.kind == "f" and target.dtype != x.dtype:
        dtype = result_type(x, target)
        if dtype != x.dtype:
            x = x.astype(dtype)
    return x, _float_operand(target, x)


def _constant(value, x):
    """``value`` (a tensor, an array or None) as a raw array of x's dtype, outside the graph."""
    if value is None:
        return None
    data = value.data if isinstance(value, Tensor) else value
    return get_array_module(x.data).asarray(data, dtype=x.dtype)


def _labels(target, x):
    data = target.data if isinstance(target, Tensor) else target
    return get_array_module(x.data).asarray(data)


def _same_shape(name, x, t):
    if x.shape != t.shape:
        raise ShapeError(f"{name}: the target's shape {tuple(t.shape)} differs from the input's {tuple(x.shape)}; "
                         "they must be the same")


def _broadcast_target(name, x, t):
    """PyTorch's rule for the regression losses: differing shapes broadcast, with a warning (usually a
    bug); shapes that do not broadcast are an error."""
    if x.shape == t.shape:
        return
    try:
        np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ShapeError(f"{name}: the input's shape {tuple(x.shape)} and the target's {tuple(t.shape)} do not "
                         "broadcast") from None
    warnings.warn(f"{name}: using a target of shape {tuple(t.shape)} with an input of shape {tuple(x.shape)}: "
                  "they broadcast, which is likely not what you want; give them the same shape",
                  UserWarning, stacklevel=4)  # the caller of the loss: below it the loss and _regression_operands


def _apply_weight(loss, weight, x):
    """loss ⊙ weight (broadcast), the weight taken as a constant of x's dtype."""
    return loss if weight is None else loss * _float_operand(weight, x)


# --------------------------------------------------------------------------- class-index losses
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """−w[y]·input[y] per target for log-probabilities of shape (N, C, d₁, …) or (C,) and class indices
    (N, d₁, …) or (); "mean" divides by the summed weight of the targets not ignored (see
    :class:`nablab.ops.losses_nll.NLLLoss`)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    input = as_tensor(input)
    return NLLLoss.apply(input, target=_labels(target, input), weight=_constant(weight, input),
                         ignore_index=ignore_index, reduction=reduction)


def _fused_case(x, labels, weight, ignore_index, reduction, label_smoothing):
    """Whether the fused op may serve this call: logits (N, C), N integer labels, no weight, no
    smoothing, a scalar reduction, and an ignore_index that no valid label can equal (the training
    loop's call). The op itself refuses labels outside [0, C)."""
    return (x.ndim == 2 and weight is None and label_smoothing == 0.0 and reduction in ("mean", "sum")
            and ignore_index < 0 and labels.shape == (x.shape[0],) and labels.dtype.kind in "iu")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Softmax cross-entropy of logits (N, C, d₁, …) or (C,) against class indices (N, d₁, …) / (), or
    against class probabilities of the logits' own shape (a floating target).

    Class indices: nll_loss(log_softmax(input, 1), target, weight, ignore_index, reduction); with
    label smoothing ε, (1 − ε)·that + ε·Σ_c −w_c log p_c / C per target (0 where ignored), its mean
    divided by the same summed weight as the NLL term.
    Probabilities t (smoothed to (1 − ε)t + ε/C): ℓ = −Σ_c w_c t_c log p_c per position, "mean" over
    the N·d₁·… positions.
    Logits (N, C) with labels in [0, C), no weight and no smoothing run the fused, stable
    :class:`nablab.ops.SoftmaxCrossEntropy`.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    x = as_tensor(input)
    labels = target.data if isinstance(target, Tensor) else get_array_module(x.data).asarray(target)
    if _fused_case(x, labels, weight, ignore_index, reduction, label_smoothing):
        try:
            return ops.SoftmaxCrossEntropy.apply(x, labels=labels, reduction=reduction)
        except IndexError:
            pass  # a label outside [0, C): one to ignore, or an error that the general path names
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if x.ndim == 0:
        raise ShapeError("cross_entropy: the input must have a class dimension, got a 0-d input")
    if labels.dtype.kind == "f":
        return _cross_entropy_probabilities(x, target, weight, reduction, label_smoothing)
    w = _constant(weight, x)
    check_class_targets("cross_entropy", x.shape, labels, w, ignore_index)
    class_axis = 1 if x.ndim >= 2 else 0
    logp = ops.LogSoftmax.apply(x, axis=class_axis)
    nll = NLLLoss.apply(logp, target=labels, weight=w, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    xp = get_array_module(x.data)
    n_classes = x.shape[class_axis]
    keep = labels != ignore_index
    per_class = logp if w is None else logp * Tensor._make(w.reshape((-1,) + (1,) * (x.ndim - 2)))
    smooth = ops.Where.apply(-per_class.sum(axis=class_axis), Tensor._make(xp.zeros((), dtype=x.dtype)),
                             condition=keep)  # not a product with the mask: an ignored target gets no NaN
    if reduction == "mean":
        safe = xp.where(keep, labels, 0)
        denominator = keep.sum() if w is None else (w[safe] * keep).sum()
        smooth = smooth.sum() / Tensor._make(xp.asarray(denominator, dtype=x.dtype))
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _cross_entropy_probabilities(x, target, weight, reduction, label_smoothing):
    x, t = _promoted_operands(x, target)
    _same_shape("cross_entropy", x, t)
    class_axis = 1 if x.ndim >= 2 else 0
    n_classes = x.shape[class_axis]
    if label_smoothing > 0.0:
        t = t * (1.0 - label_smoothing) + label_smoothing / n_classes
    w = _constant(weight, x)
    if w is not None and w.shape != (n_classes,):
        raise ShapeError(f"cross_entropy: the weight must have shape ({n_classes},), one per class, "
                         f"got {tuple(w.shape)}")
    logp = ops.LogSoftmax.apply(x, axis=class_axis)
    terms = logp * t
    if w is not None:
        terms = terms * Tensor._make(w.reshape((-1,) + (1,) * (x.ndim - 2)))
    return _reduce(-terms.sum(axis=class_axis), reduction)


# --------------------------------------------------------------------------- binary losses
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """−(t·log x + (1 − t)·log(1 − x)) for probabilities x, each log clamped to ≥ −100 (PyTorch's
    rule), times ``weight`` (broadcast) before the reduction."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    x = as_tensor(input)
    t = _float_operand(target, x)
    _same_shape("binary_cross_entropy", x, t)
    return _reduce(_apply_weight(BinaryCrossEntropy.apply(x, t), weight, x), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """Binary cross-entropy of σ(input), computed stably from the logits; ``pos_weight`` scales the
    positive term (one weight per class, broadcast along the last axis), ``weight`` the whole loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    x, t = _promoted_operands(as_tensor(input), target)
    _same_shape("binary_cross_entropy_with_logits", x, t)
    pw = _constant(pos_weight, x)
    if pw is not None:
        try:
            shape = np.broadcast_shapes(pw.shape, x.shape)
        except ValueError:
            shape = None
        if shape != tuple(x.shape):
            raise ShapeError(f"binary_cross_entropy_with_logits: pos_weight of shape {tuple(pw.shape)} does not "
                             f"broadcast to the input's shape {tuple(x.shape)}")
    loss = BinaryCrossEntropyWithLogits.apply(x, t, pos_weight=pw)
    return _reduce(_apply_weight(loss, weight, x), reduction)


# --------------------------------------------------------------------------- regression losses
def _regression_operands(name, input, target, reduction):
    """(x, t) of a regression loss in their promoted dtype (:func:`_promoted_operands`), once the reduction
    is known to be valid and the shapes to broadcast (see :func:`_broadcast_target`)."""
    check_reduction(reduction)
    x, t = _promoted_operands(as_tensor(input), target)
    _broadcast_target(name, x, t)
    return x, t


def _weighted_mean_or_reduce(loss, weight, reduction, x):
    """PyTorch's ``weight=`` of mse_loss and l1_loss: same shape as the input; "mean" is Σ wℓ / Σ w."""
    if weight is None:
        return _reduce(loss, reduction)
    w = _float_operand(weight, x)
    if w.shape != loss.shape:
        raise ShapeError(f"the weight's shape {tuple(w.shape)} differs from the input's {tuple(loss.shape)}")
    weighted = loss * w
    if reduction == "mean":
        return weighted.sum() / w.sum()
    return _reduce(weighted, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """(x − t)² elementwise, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = _regression_operands("mse_loss", input, target, reduction)
    d = x - t
    return _weighted_mean_or_reduce(d * d, weight, reduction, x)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """|x − t| elementwise, reduced (gradient sign(x − t), 0 at a tie)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = _regression_operands("l1_loss", input, target, reduction)
    return _weighted_mean_or_reduce((x - t).abs(), weight, reduction, x)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """½(x − t)²/β where |x − t| < β, else |x − t| − ½β (see :class:`nablab.ops.losses_regression.SmoothL1`)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, t = _regression_operands("smooth_l1_loss", input, target, reduction)
    return _reduce(SmoothL1.apply(x, t, beta=beta), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """½(x − t)² where |x − t| < δ, else δ(|x − t| − ½δ); ``weight`` multiplies it elementwise before a
    plain reduction (PyTorch's rule for this loss)."""
    x, t = _regression_operands("huber_loss", input, target, reduction)
    return _reduce(_apply_weight(Huber.apply(x, t, delta=delta), weight, x), reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """Σ t·(log t − input) for log-probabilities ``input`` (``log_target``: the target is log t too).

    "mean" is PyTorch's elementwise mean (not the KL divergence per sample: use "batchmean", the sum
    divided by the batch size input.shape[0])."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, ("none", "mean", "sum", "batchmean"))
    x, t = _promoted_operands(as_tensor(input), target)
    try:
        np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ShapeError(f"kl_div: the input's shape {tuple(x.shape)} and the target's {tuple(t.shape)} do not "
                         "broadcast") from None
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total by both the batch size and the support size; "
                      "'batchmean' divides by the batch size only, as the KL divergence is defined", UserWarning,
                      stacklevel=2)
    loss = KLDivergence.apply(x, t, log_target=log_target)
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)


__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div",
    "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss",
]
