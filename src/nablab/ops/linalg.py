"""Matrix products: the general ``matmul`` and the affine map of a Linear layer."""

from __future__ import annotations

from ..errors import ShapeError
from ..function import Function, unbroadcast


class MatMul(Function):
    """y = a @ b (NumPy's matmul: batched over leading axes, 1-D operands promoted).

    For matrices, dL/da = dL/dy @ bᵀ and dL/db = aᵀ @ dL/dy; batch axes that were broadcast are
    summed back. A 1-D ``a`` acts as a row (1×k), a 1-D ``b`` as a column (k×1).
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"both arguments to matmul need to be at least 1-D, got shapes {a.shape} and {b.shape}")
        self.a, self.b = a, b
        try:
            return a @ b
        except ValueError:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied") from None

    def backward(self, gy):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            gy = gy[..., None, :] if b.ndim > 1 else gy[None]
        if b.ndim == 1:
            gy = gy[..., None]
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(gy @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ gy, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x Wᵀ + b, with W of shape (out, in) as in PyTorch; x is (..., in).

    dL/dx = dL/dy W,  dL/dW = dL/dyᵀ x  and  dL/db = Σ_rows dL/dy, with all leading axes of x
    flattened into rows. Fused into one node: one GEMM forward, two backward, no temporaries
    for the transpose or the bias broadcast.
    """

    fresh_grads = True

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        # the rows as one matrix: one GEMM, where (B, T, in) @ (in, out) would be B small ones
        y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0]) if x.ndim > 2 \
            else x @ weight.T
        if bias is not None:
            y += bias
        return y

    def backward(self, gy):
        x, w = self.x, self.weight
        need = self.needs_input_grad
        gy2 = gy.reshape(-1, gy.shape[-1])
        gx = (gy2 @ w).reshape(*gy.shape[:-1], w.shape[1]) if need[0] else None
        gw = gy2.T @ x.reshape(-1, x.shape[-1]) if need[1] else None
        if len(need) == 2:
            return gx, gw
        gb = gy2.sum(axis=0) if need[2] else None
        return gx, gw, gb
