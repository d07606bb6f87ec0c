"""Softmax, log-softmax and the fused, numerically stable softmax cross-entropy."""

from __future__ import annotations

from ..backend import check, get_array_module
from ..errors import DimError, ShapeError
from ..function import Function


def softmax_axis(axis, ndim):
    """``axis`` as a non-negative axis of an ``ndim``-dimensional array, or None for a 0-d one (whose
    single element is its own softmax group, as in PyTorch, which accepts dim 0 and −1 there)."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise DimError(f"dim {axis} is out of range for a tensor with {ndim} dimensions "
                       f"(expected one in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])")
    return axis % ndim if ndim else None


def _shifted(x, axis, xp):
    """x − max x along ``axis``, in a new array (one for 0-d x too, to be worked on in place); an empty x
    has no maximum and nothing to shift."""
    if x.size == 0:
        return xp.empty_like(x)
    return xp.subtract(x, x.max(axis=axis, keepdims=True), out=xp.empty_like(x))


def _log_softmax(x, axis):
    """x − logsumexp(x) computed as (x − m) − log Σ e^(x−m), m = max x: no overflow for any x."""
    xp = get_array_module(x)
    shifted = _shifted(x, axis, xp)
    shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


class Softmax(Function):
    """yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along ``axis`` (as e^(xᵢ−m) / Σⱼ e^(xⱼ−m), m = max x);
    dL/dx = y ⊙ (dL/dy − Σ(dL/dy ⊙ y))."""

    saves_inputs = False
    saves_output = True
    fresh_grads = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        self.axis = softmax_axis(self.axis, x.ndim)
        y = _shifted(x, self.axis, xp)
        xp.exp(y, out=y)
        y /= y.sum(axis=self.axis, keepdims=True)
        self.y = y
        return y

    def backward(self, gy):
        y = self.y
        g = gy - (gy * y).sum(axis=self.axis, keepdims=True)
        g *= y
        return (g,)


class LogSoftmax(Function):
    """yᵢ = xᵢ − log Σⱼ e^(xⱼ) along ``axis``;  dL/dx = dL/dy − softmax(x) · Σ dL/dy."""

    saves_inputs = False
    saves_output = True
    fresh_grads = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.axis = softmax_axis(self.axis, x.ndim)
        self.y = _log_softmax(x, self.axis)
        return self.y

    def backward(self, gy):
        g = get_array_module(gy).exp(self.y)
        g *= -gy.sum(axis=self.axis, keepdims=True)
        g += gy
        return (g,)


def check_class_range(name, labels, n_classes):
    """Raise IndexError naming the first label outside [0, n_classes) (``labels``: the labels that count).

    On a GPU the check is deferred to the next read of the device (:func:`nablab.backend.check`)."""
    if not labels.size:
        return

    def message():
        bad = int(labels.min()) if int(labels.min()) < 0 else int(labels.max())
        return f"{name}: target {bad} is out of range: there are {n_classes} classes (0..{n_classes - 1})"

    check(((labels < 0) | (labels >= n_classes)).any(), IndexError, message)


def check_labels(logits_shape, labels):
    """Raise a clear error unless ``labels`` are N integer class indices in [0, C)."""
    if len(logits_shape) != 2:
        raise ShapeError(f"cross_entropy expects logits of shape (N, C), got {tuple(logits_shape)}")
    n, c = logits_shape
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy expects integer class labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ShapeError(f"cross_entropy expects labels of shape ({n},) for logits {tuple(logits_shape)}, "
                         f"got {tuple(labels.shape)}")
    check_class_range("cross_entropy", labels, c)


class SoftmaxCrossEntropy(Function):
    """L = (1/N) Σₙ −log softmax(xₙ)[yₙ] for logits x (N×C) and integer labels y.

    Fused forward and backward: dL/dx = (softmax(x) − onehot(y)) / N. The log-softmax is
    shifted by the row maximum, so logits of ±1e4 give a finite loss and gradient.
    ``reduction="sum"`` drops the 1/N.
    """

    saves_inputs = False

    def __init__(self, labels, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.labels, self.reduction = labels, reduction

    def forward(self, x):
        check_labels(x.shape, self.labels)
        xp = get_array_module(x)
        logp = _log_softmax(x, axis=1)
        rows = xp.arange(x.shape[0])
        self.logp = logp
        picked = logp[rows, self.labels]
        loss = -picked.sum()
        if self.reduction == "mean":
            loss = loss / x.shape[0]
        return xp.asarray(loss, dtype=x.dtype)

    def backward(self, gy):
        xp = get_array_module(gy)
        grad = xp.exp(self.logp)
        grad[xp.arange(grad.shape[0]), self.labels] -= 1
        scale = gy / grad.shape[0] if self.reduction == "mean" else gy
        grad *= scale.astype(grad.dtype, copy=False)
        return (grad,)

