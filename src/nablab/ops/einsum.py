"""``einsum``: sums of products over named indices (``"bij,bjk->bik"``), any valid equation with
ellipsis, implicit output, repeated indices (diagonals, traces) and broadcast ellipsis dims.

The backward of operand m is again an einsum: the output gradient contracted with every other
operand onto m's distinct indices, then broadcast over the indices only m has, written onto m's
diagonal where m repeats an index, and summed over the dims m broadcast (size 1 against a larger
size elsewhere).
"""

from __future__ import annotations

import string

from ..backend import get_array_module
from ..errors import ShapeError
from ..function import Function

_LETTERS = string.ascii_letters


def parse_equation(equation: str, shapes) -> tuple:
    """``(terms, output)``: every operand's indices and the output's as strings of letters, with each
    ellipsis spelled out in letters the equation does not use (right-aligned across operands)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): the equation {equation!r} has {len(terms)} operands, got {len(shapes)} tensors")
    named = set(equation) - set(".,->")
    if not named <= set(_LETTERS):
        raise ValueError(f"einsum(): indices must be letters a-z or A-Z, got {sorted(named - set(_LETTERS))}")
    spare = [c for c in _LETTERS if c not in named]
    ellipsis_dims = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, len(shape) - len(term.replace("...", "")))
        elif len(term) != len(shape):
            raise ShapeError(f"einsum(): the subscripts {term!r} name {len(term)} dims of an operand of shape {shape}")
    fill = "".join(spare[:ellipsis_dims])
    spelled = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            own = len(shape) - len(term.replace("...", ""))
            if own < 0:
                raise ShapeError(f"einsum(): the subscripts {term!r} name more dims than an operand of shape {shape}")
            term = term.replace("...", fill[ellipsis_dims - own:])
        spelled.append(term)
    if arrow:
        output = output.replace("...", fill)
    else:
        counts = "".join(spelled)
        output = fill + "".join(sorted(c for c in set(counts) - set(fill) if counts.count(c) == 1))
    return spelled, output


class Einsum(Function):
    """y = einsum(equation, x₁, …, xₙ): y[out] = Σ over the indices not in the output of ∏ₘ xₘ[termₘ];
    dL/dxₘ[termₘ] = Σ over the indices not in termₘ of dL/dy[out] · ∏_{l≠m} x_l[term_l]."""

    def __init__(self, equation):
        self.equation = equation

    def forward(self, *xs):
        xp = get_array_module(*xs)
        if len({x.dtype for x in xs}) > 1:
            raise TypeError(f"einsum(): expected operands of one dtype, got {[str(x.dtype) for x in xs]}")
        self.terms, self.output = parse_equation(self.equation, [x.shape for x in xs])
        self.sizes = {}
        for term, x in zip(self.terms, xs):
            for c, n in zip(term, x.shape):
                if n != 1 and self.sizes.get(c, 1) not in (1, n):
                    raise ShapeError(f"einsum(): index {c!r} has size {self.sizes[c]} and {n} in operands of "
                                     f"shapes {[x.shape for x in xs]}")
                self.sizes[c] = max(self.sizes.get(c, 1), n)
        self.xs = xs
        spec = ",".join(self.terms) + "->" + self.output
        return xp.einsum(spec, *self._full(xs), optimize=len(xs) > 2)

    def _full(self, xs):
        """The operands broadcast to the full size of each index (views)."""
        xp = get_array_module(*xs)
        return [xp.broadcast_to(x, tuple(self.sizes[c] for c in term)) for term, x in zip(self.terms, xs)]

    def backward(self, gy):
        xp = get_array_module(gy)
        full = self._full(self.xs)
        grads = []
        for m, (term, x) in enumerate(zip(self.terms, self.xs)):
            if not self.needs_input_grad[m]:
                grads.append(None)
                continue
            distinct = "".join(dict.fromkeys(term))
            others = [self.output] + [t for k, t in enumerate(self.terms) if k != m]
            reached = "".join(c for c in distinct if any(c in t for t in others))
            operands = [gy] + [f for k, f in enumerate(full) if k != m]
            g = xp.einsum(",".join(others) + "->" + reached, *operands, optimize=len(operands) > 2)
            g = xp.broadcast_to(g.reshape([self.sizes[c] if c in reached else 1 for c in distinct]),
                                [self.sizes[c] for c in distinct])
            if len(distinct) != len(term):  # a repeated index: the gradient lives on the diagonal
                gx = xp.zeros([self.sizes[c] for c in term], dtype=gy.dtype)
                gx[self._diagonal(xp, term, distinct)] = g
            else:
                gx = g
            axes = tuple(k for k, n in enumerate(x.shape) if n == 1 and gx.shape[k] != 1)
            gx = gx.sum(axis=axes, keepdims=True) if axes else gx
            grads.append(gx.astype(gy.dtype))  # a copy: g may be a broadcast view
        return tuple(grads)

    def _diagonal(self, xp, term, distinct):
        """The index of x[term] that addresses x's elements by its distinct indices (one arange per
        distinct index, repeated where term repeats it)."""
        ranges = {c: xp.arange(self.sizes[c]).reshape([-1 if d == c else 1 for d in distinct]) for c in distinct}
        return tuple(ranges[c] for c in term)
