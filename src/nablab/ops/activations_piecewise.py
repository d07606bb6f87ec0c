"""Piecewise activations with kinks: Hardtanh (and ReLU6), Hardsigmoid, Hardswish, PReLU, Threshold,
Hardshrink and Softshrink.

At a kink each takes the one-sided derivative PyTorch takes, so gradients match it exactly.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function, unbroadcast


class Hardtanh(Function):
    """y = min(max(x, min_val), max_val);  dL/dx = dL/dy where min_val < x < max_val, else 0.

    ReLU6 is Hardtanh(0, 6).
    """

    saves_inputs = False
    fresh_grads = True

    def __init__(self, min_val=-1.0, max_val=1.0):
        if min_val > max_val:
            raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        self.inside = (x > self.min_val) & (x < self.max_val)
        return get_array_module(x).clip(x, self.min_val, self.max_val).astype(x.dtype, copy=False)  # ints stay

    def backward(self, gy):
        return (gy * self.inside,)


class Hardsigmoid(Function):
    """y = min(max(x/6 + ½, 0), 1) = ReLU6(x + 3)/6;  dL/dx = dL/dy / 6 where −3 < x < 3, else 0."""

    saves_inputs = False
    fresh_grads = True

    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return get_array_module(x).clip(x / 6 + 0.5, 0, 1)

    def backward(self, gy):
        return (gy * self.inside / 6,)


class Hardswish(Function):
    """y = x · ReLU6(x + 3)/6;  dL/dx = dL/dy · (0 if x ≤ −3, x/3 + ½ if −3 < x < 3, 1 if x ≥ 3)."""

    def forward(self, x):
        self.x = x
        return x * get_array_module(x).clip(x / 6 + 0.5, 0, 1)

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        slope = xp.where(x <= -3, 0, xp.where(x < 3, x / 3 + 0.5, 1))
        return (gy * slope,)


class PReLU(Function):
    """y = x if x > 0 else a_c·x, with one learnable slope a_c per channel (axis 1) or one for all.

    dL/dx = dL/dy · (1 if x > 0 else a_c);  dL/da_c = Σ over the elements of channel c where
    x ≤ 0 of dL/dy · x.
    """

    def forward(self, x, weight):
        if weight.ndim != 1:
            raise ShapeError(f"prelu: the weight must be 1-D, got shape {tuple(weight.shape)}")
        xp = get_array_module(x)
        n = weight.shape[0]
        if n != 1 and (x.ndim < 2 or x.shape[1] != n):
            channels = x.shape[1] if x.ndim >= 2 else 1
            raise ShapeError(f"prelu: {n} slopes for an input of shape {tuple(x.shape)} with {channels} channels "
                             "(axis 1); expected 1 slope or one per channel")
        self.weight_shape = weight.shape
        a = weight.reshape((1, n) + (1,) * (x.ndim - 2)) if n != 1 else weight.reshape(())
        self.x, self.a, self.positive = x, a, x > 0
        return xp.where(self.positive, x, a * x)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.where(self.positive, gy, gy * self.a)
        ga = xp.where(self.positive, 0, gy * self.x)
        if self.weight_shape[0] == 1:
            ga = ga.sum().reshape(self.weight_shape)
        else:
            ga = unbroadcast(ga, self.a.shape).reshape(self.weight_shape)
        return gx, ga


class Threshold(Function):
    """y = x if x > threshold else value;  dL/dx = dL/dy where x > threshold, else 0."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, threshold=0.0, value=0.0):
        self.threshold, self.value = threshold, value

    def forward(self, x):
        self.above = x > self.threshold
        return get_array_module(x).where(self.above, x, self.value).astype(x.dtype, copy=False)

    def backward(self, gy):
        return (gy * self.above,)


class Hardshrink(Function):
    """y = x if |x| > λ else 0;  dL/dx = dL/dy where |x| > λ, else 0."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, lambd=0.5):
        self.lambd = lambd

    def forward(self, x):
        self.outside = get_array_module(x).abs(x) > self.lambd
        return x * self.outside

    def backward(self, gy):
        return (gy * self.outside,)


class Softshrink(Function):
    """y = x − λ·sign(x) if |x| > λ else 0;  dL/dx = dL/dy where |x| > λ, else 0."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, lambd=0.5):
        if lambd < 0:
            raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
        self.lambd = lambd

    def forward(self, x):
        xp = get_array_module(x)
        self.outside = xp.abs(x) > self.lambd
        return (x - xp.clip(x, -self.lambd, self.lambd)) * self.outside

    def backward(self, gy):
        return (gy * self.outside,)
