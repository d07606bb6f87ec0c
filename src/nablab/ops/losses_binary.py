"""Binary cross-entropy, of probabilities and (stably) of logits, elementwise before any reduction."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function

#: PyTorch clamps each log to ≥ −100, so that a probability of exactly 0 or 1 gives a finite loss
LOG_FLOOR = -100.0
#: and floors x(1 − x) at this value in the gradient
GRAD_EPS = 1e-12


class BinaryCrossEntropy(Function):
    """ℓ = −(t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)) for probabilities x ∈ [0, 1].

    dL/dx = dL/dℓ · (x − t) / max(x(1 − x), 1e-12)   (PyTorch's floor);
    dL/dt = dL/dℓ · (log(1 − x) − log x), unclamped as in PyTorch (±∞ at x = 0 or 1).
    x and t have the same shape.
    """

    def forward(self, x, t):
        xp = get_array_module(x)
        if x.size and (not bool(((x >= 0) & (x <= 1)).all())):
            raise ValueError("binary_cross_entropy: every element of the input must be a probability in [0, 1] "
                             "(use binary_cross_entropy_with_logits for logits)")
        with xp.errstate(divide="ignore"):
            self.log_x = xp.maximum(xp.log(x), LOG_FLOOR)
            self.log_1mx = xp.maximum(xp.log1p(-x), LOG_FLOOR)
        self.x, self.t = x, t
        return -(t * self.log_x + (1 - t) * self.log_1mx)

    def backward(self, gy):
        xp = get_array_module(gy)
        x, t = self.x, self.t
        gx = gy * (x - t) / xp.maximum(x * (1 - x), GRAD_EPS) if self.needs_input_grad[0] else None
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore"):
                gt = gy * (xp.log1p(-x) - xp.log(x))
        else:
            gt = None
        return gx, gt


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = −(p·t·log σ(x) + (1 − t)·log(1 − σ(x))) for logits x, with pos_weight p (1 by default),
    computed stably as ℓ = (1 − t)·x + (1 + (p − 1)t)·softplus(−x), softplus(z) = log(1 + e^z).

    dL/dx = dL/dℓ · ((1 − t) − (1 + (p − 1)t)·σ(−x));
    dL/dt = dL/dℓ · ((p − 1)·softplus(−x) − x).
    pos_weight broadcasts against the target (one weight per class on the last axis).
    """

    def __init__(self, pos_weight=None):
        self.pos_weight = pos_weight

    def forward(self, x, t):
        xp = get_array_module(x)
        self.x, self.t = x, t
        self.sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # softplus(−x)
        if self.pos_weight is None:
            self.pm1 = None
            return (1 - t) * x + self.sp
        self.pm1 = self.pos_weight.astype(x.dtype, copy=False) - 1
        return (1 - t) * x + (1 + self.pm1 * t) * self.sp

    def backward(self, gy):
        xp = get_array_module(gy)
        x, t = self.x, self.t
        gx = gt = None
        if self.needs_input_grad[0]:
            s = xp.tanh(x * -0.5) * 0.5 + 0.5  # σ(−x)
            gx = gy * ((1 - t) - (s if self.pm1 is None else (1 + self.pm1 * t) * s))
        if self.needs_input_grad[1]:
            gt = gy * (-x if self.pm1 is None else self.pm1 * self.sp - x)
        return gx, gt
