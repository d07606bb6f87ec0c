"""The inverse, the determinant and linear solves of square matrices (batched over leading axes).

All three rest on one identity: d(A⁻¹) = −A⁻¹ (dA) A⁻¹. With Y = A⁻¹ and G = dL/dY,

    dL/dA = −Yᵀ G Yᵀ                                  (inverse)

for d = det A, ∂d/∂A = d · A⁻ᵀ (Jacobi's formula), so with g = dL/dd

    dL/dA = g · d · A⁻ᵀ                               (determinant)

and for X = A⁻¹ B, with G = dL/dX

    dL/dB = A⁻ᵀ G  (a solve with Aᵀ),   dL/dA = −(dL/dB) Xᵀ     (solve)

A singular matrix is an error (PyTorch's ``torch.linalg.inv`` raises too); the determinant's
gradient needs A invertible, as PyTorch's does away from rank deficiency.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function, unbroadcast


def _square(a, name):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"linalg.{name}: A must be batches of square matrices, but they are {a.shape[-2:]} "
                         f"matrices (shape {tuple(a.shape)})")


def _mT(a):
    return a.swapaxes(-1, -2)


def _inverse(xp, a, name):
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise RuntimeError(f"linalg.{name}: the matrix (or one of the batch of shape {tuple(a.shape)}) is singular, "
                           "so it has no inverse") from None


class Inverse(Function):
    """Y = A⁻¹;  dL/dA = −Yᵀ (dL/dY) Yᵀ."""

    saves_inputs = False
    saves_output = True
    fresh_grads = True

    def forward(self, a):
        _square(a, "inv")
        self.y = _inverse(get_array_module(a), a, "inv")
        return self.y

    def backward(self, gy):
        yt = _mT(self.y)
        return (-(yt @ gy @ yt),)


class Determinant(Function):
    """d = det A;  dL/dA = (dL/dd) · d · A⁻ᵀ (Jacobi's formula)."""

    fresh_grads = True

    def forward(self, a):
        _square(a, "det")
        self.a = a
        self.d = get_array_module(a).linalg.det(a)
        return self.d

    def backward(self, gy):
        xp = get_array_module(gy)
        inv_t = _mT(_inverse(xp, self.a, "det (its gradient)"))
        return ((gy * self.d)[..., None, None] * inv_t,)


class Solve(Function):
    """X = A⁻¹ B (B a batch of matrices, or of vectors when it has one dim fewer than A);
    dL/dB = A⁻ᵀ (dL/dX) and dL/dA = −(dL/dB) Xᵀ, batch axes that were broadcast summed back."""

    fresh_grads = True

    def forward(self, a, b):
        _square(a, "solve")
        xp = get_array_module(a)
        self.vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
        b2 = b[..., None] if self.vector else b
        if b2.shape[-2] != a.shape[-1]:
            raise ShapeError(f"linalg.solve: A of shape {tuple(a.shape)} and B of shape {tuple(b.shape)} do not "
                             f"fit: B needs {a.shape[-1]} rows")
        batch = xp.broadcast_shapes(a.shape[:-2], b2.shape[:-2])
        a_full = xp.broadcast_to(a, batch + a.shape[-2:])
        b_full = xp.broadcast_to(b2, batch + b2.shape[-2:])
        try:
            x = xp.linalg.solve(a_full, b_full)
        except xp.linalg.LinAlgError:
            raise RuntimeError("linalg.solve: A (or one of its batch) is singular") from None
        self.a, self.b_shape, self.x = a, b.shape, x
        return x[..., 0] if self.vector else x

    def backward(self, gy):
        xp = get_array_module(gy)
        g = gy[..., None] if self.vector else gy
        a_full = xp.broadcast_to(self.a, g.shape[:-2] + self.a.shape[-2:])
        gb = xp.linalg.solve(_mT(a_full), g)
        ga = gbm = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(-(gb @ _mT(self.x)), self.a.shape)
        if self.needs_input_grad[1]:
            gbm = gb[..., 0] if self.vector else gb
            gbm = unbroadcast(gbm, self.b_shape)
        return ga, gbm
