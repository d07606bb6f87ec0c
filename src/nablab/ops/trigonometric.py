"""Trigonometric functions, their inverses, and the hyperbolic functions (tanh is in activation)."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


class Sin(Function):
    """y = sin x;  dL/dx = dL/dy · cos x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).sin(x)

    def backward(self, gy):
        return (gy * get_array_module(gy).cos(self.x),)


class Cos(Function):
    """y = cos x;  dL/dx = −dL/dy · sin x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).cos(x)

    def backward(self, gy):
        return (-gy * get_array_module(gy).sin(self.x),)


class Tan(Function):
    """y = tan x;  dL/dx = dL/dy · (1 + y²)."""

    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.y = get_array_module(x).tan(x)
        return self.y

    def backward(self, gy):
        return (gy * (1 + self.y * self.y),)


class Asin(Function):
    """y = arcsin x;  dL/dx = dL/dy / √(1 − x²)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).arcsin(x)

    def backward(self, gy):
        return (gy / get_array_module(gy).sqrt(1 - self.x * self.x),)


class Acos(Function):
    """y = arccos x;  dL/dx = −dL/dy / √(1 − x²)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).arccos(x)

    def backward(self, gy):
        return (-gy / get_array_module(gy).sqrt(1 - self.x * self.x),)


class Atan(Function):
    """y = arctan x;  dL/dx = dL/dy / (1 + x²)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).arctan(x)

    def backward(self, gy):
        return (gy / (1 + self.x * self.x),)


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a);
    dL/da = dL/dy · b / (a² + b²),  dL/db = −dL/dy · a / (a² + b²), and both 0 at the origin (as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return get_array_module(a).arctan2(a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.a, self.b
        r2 = a * a + b * b
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(r2 == 0, 0, gy / r2).astype(gy.dtype, copy=False)
        ga = unbroadcast(scale * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-scale * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Sinh(Function):
    """y = sinh x;  dL/dx = dL/dy · cosh x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).sinh(x)

    def backward(self, gy):
        return (gy * get_array_module(gy).cosh(self.x),)


class Cosh(Function):
    """y = cosh x;  dL/dx = dL/dy · sinh x."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).cosh(x)

    def backward(self, gy):
        return (gy * get_array_module(gy).sinh(self.x),)


class Asinh(Function):
    """y = arsinh x;  dL/dx = dL/dy / √(x² + 1)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).arcsinh(x)

    def backward(self, gy):
        return (gy / get_array_module(gy).sqrt(self.x * self.x + 1),)


class Acosh(Function):
    """y = arcosh x (x ≥ 1);  dL/dx = dL/dy / √(x² − 1)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).arccosh(x)

    def backward(self, gy):
        return (gy / get_array_module(gy).sqrt(self.x * self.x - 1),)


class Atanh(Function):
    """y = artanh x (|x| < 1);  dL/dx = dL/dy / (1 − x²)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).arctanh(x)

    def backward(self, gy):
        return (gy / (1 - self.x * self.x),)
