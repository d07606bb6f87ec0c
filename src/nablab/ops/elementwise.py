"""Elementwise functions: exp, log, sqrt, abs, clip (constant or tensor bounds), maximum, minimum, where,
lerp, copysign, fmod, remainder, and a dtype cast."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Exp(Function):
    """y = eˣ;  dL/dx = dL/dy · y."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y,)


class Log(Function):
    """y = ln x;  dL/dx = dL/dy / x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return (gy / self.x,)


class Sqrt(Function):
    """y = √x;  dL/dx = dL/dy / (2y)."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        return (gy / (2 * self.y),)


class Abs(Function):
    """y = |x|;  dL/dx = dL/dy · sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).abs(x)

    def backward(self, gy):
        return (gy * get_array_module(gy).sign(self.x),)


class Clip(Function):
    """y = min(max(x, low), high);  dL/dx = dL/dy where low ≤ x ≤ high, else 0 (PyTorch's clamp).

    Either bound may be None.
    """

    def __init__(self, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip needs at least one of min and max")
        self.low, self.high = low, high

    def forward(self, x):
        self.x = x
        return get_array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.x
        inside = True
        if self.low is not None:
            inside = x >= self.low
        if self.high is not None:
            inside = inside & (x <= self.high)
        return (gy * inside,)


class ClampTensor(Function):
    """y = min(max(x, low), high) with tensor bounds (either may be absent), PyTorch's ``clamp_backward_min_max``:

    dL/dx = dL/dy where low ≤ x ≤ high;  dL/dlow = dL/dy where x < low (and low < high, if there is a
    high);  dL/dhigh = dL/dy where x > high (or high < low, where high wins); each summed to its shape.
    """

    def __init__(self, has_low, has_high):
        self.has_low, self.has_high = has_low, has_high

    def forward(self, x, *bounds):
        xp = get_array_module(x)
        self.x, self.bounds = x, bounds
        low = bounds[0] if self.has_low else None
        high = bounds[-1] if self.has_high else None
        y = x if low is None else xp.maximum(x, low)
        return y if high is None else xp.minimum(y, high)

    def backward(self, gy):
        x, bounds = self.x, self.bounds
        low = bounds[0] if self.has_low else None
        high = bounds[-1] if self.has_high else None
        zero = get_array_module(gy).zeros((), dtype=gy.dtype)
        inside = True
        if low is not None:
            inside = x >= low
        if high is not None:
            inside = inside & (x <= high)
        grads = [unbroadcast(gy * inside, x.shape)]
        if low is not None:
            below = x < low if high is None else (x < low) & (low < high)
            grads.append(unbroadcast(get_array_module(gy).where(below, gy, zero), low.shape))
        if high is not None:
            above = x > high if low is None else (x > high) | (high < low)
            grads.append(unbroadcast(get_array_module(gy).where(above, gy, zero), high.shape))
        return tuple(grads)


class Maximum(Function):
    """y = max(a, b) elementwise (NaN if either is);  dL/da = dL/dy · (1 where a > b, ½ where a = b, 0 where
    a < b), dL/db likewise with the roles swapped. Where a or b is NaN neither comparison holds and both
    get dL/dy, as in PyTorch."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return get_array_module(a).maximum(a, b)

    def _shares(self, a, b):
        """(the share of a, the share of b): 1, ½ on ties, 0 for the input that loses."""
        tie = 0.5 * (a == b)
        return 1 - (a < b) - tie, 1 - (a > b) - tie

    def backward(self, gy):
        a, b = self.a, self.b
        share_a, share_b = self._shares(a, b)
        ga = unbroadcast(gy * share_a.astype(gy.dtype, copy=False), a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * share_b.astype(gy.dtype, copy=False), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Minimum(Maximum):
    """y = min(a, b) elementwise;  the smaller input gets dL/dy, each half on ties, both where either is NaN."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return get_array_module(a).minimum(a, b)

    def _shares(self, a, b):
        share_b, share_a = Maximum._shares(self, a, b)
        return share_a, share_b


class Where(Function):
    """y = x where cond else z (cond a constant boolean array);
    dL/dx = dL/dy where cond (else 0),  dL/dz = dL/dy where not cond.
    """

    saves_inputs = False

    def __init__(self, condition):
        self.condition = condition

    def forward(self, x, z):
        self.shapes = x.shape, z.shape
        return get_array_module(x).where(self.condition, x, z)

    def backward(self, gy):
        xp = get_array_module(gy)
        cond = self.condition
        zero = xp.zeros((), dtype=gy.dtype)
        gx = unbroadcast(xp.where(cond, gy, zero), self.shapes[0]) if self.needs_input_grad[0] else None
        gz = unbroadcast(xp.where(cond, zero, gy), self.shapes[1]) if self.needs_input_grad[1] else None
        return gx, gz


class Lerp(Function):
    """y = a + w · (b − a) (``torch.lerp(start, end, weight)``);
    dL/da = dL/dy · (1 − w),  dL/db = dL/dy · w,  dL/dw = dL/dy · (b − a)."""

    def forward(self, a, b, w):
        self.a, self.b, self.w = a, b, w
        return a + w * (b - a)

    def backward(self, gy):
        a, b, w = self.a, self.b, self.w
        need = self.needs_input_grad
        ga = unbroadcast(gy * (1 - w), a.shape) if need[0] else None
        gb = unbroadcast(gy * w, b.shape) if need[1] else None
        gw = unbroadcast(gy * (b - a), w.shape) if need[2] else None
        return ga, gb, gw


class Copysign(Function):
    """y = |a| with the sign (bit) of b;  dL/da = dL/dy · y / a, and 0 at a = 0 (as PyTorch);  dL/db = 0."""

    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = get_array_module(a).copysign(a, b)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.a, self.b
        ga = None
        if self.needs_input_grad[0]:
            flip = xp.where(a == 0, 0, xp.where(xp.signbit(a) == xp.signbit(self.y), 1, -1)).astype(gy.dtype)
            ga = unbroadcast(gy * flip, a.shape)
        gb = xp.zeros(b.shape, dtype=gy.dtype) if self.needs_input_grad[1] else None
        return ga, gb


class Fmod(Function):
    """y = a − trunc(a / b) · b, the remainder with the sign of a (C's fmod);
    dL/da = dL/dy,  dL/db = −dL/dy · trunc(a / b)."""

    def _quotient(self, xp, a, b):
        return xp.trunc(a / b)

    def _remainder(self, xp, a, b):
        return xp.fmod(a, b)

    def forward(self, a, b):
        xp = get_array_module(a)
        if a.dtype.kind in "iu" and not xp.all(b):
            raise ZeroDivisionError("integer fmod/remainder by zero (as in PyTorch)")
        self.a, self.b = a, b
        return self._remainder(xp, a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.a, self.b
        ga = unbroadcast(gy, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gy * self._quotient(xp, a, b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Remainder(Fmod):
    """y = a − ⌊a / b⌋ · b, the remainder with the sign of b (Python's %, ``torch.remainder``);
    dL/da = dL/dy,  dL/db = −dL/dy · ⌊a / b⌋."""

    def _quotient(self, xp, a, b):
        return xp.floor(a / b)

    def _remainder(self, xp, a, b):
        return xp.remainder(a, b)


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back to x's dtype."""

    saves_inputs = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.source = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return (gy.astype(self.source),)
