"""``nablab.linalg`` against ``torch.linalg``: values and gradients of inv, det, solve and the norms,
batched and broadcast, and the errors for singular and non-square input."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch


def _matrices(rng, *shape):
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


def _compare(call, arrays, rtol=1e-10):
    """``call(lib, *tensors)`` on both libraries: the values and the gradient of every input."""
    rng = np.random.default_rng(7)
    got = []
    for lib in (nablab, torch):
        xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        y = call(lib, *xs)
        weights = lib.tensor(rng.standard_normal(tuple(y.shape)) if y.ndim else 1.0, dtype=lib.float64)
        (y * weights).sum().backward()
        got.append([y.detach().numpy()] + [None if x.grad is None else x.grad.numpy() for x in xs])
        rng = np.random.default_rng(7)
    for ours, theirs in zip(*got):
        if theirs is None:  # the 0-"norm" counts elements: PyTorch's gradient is undefined, nablab's zeros
            assert not ours.any()
            continue
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 2, 2)])
def test_inv_and_det(shape):
    a = _matrices(np.random.default_rng(0), *shape)
    _compare(lambda lib, x: lib.linalg.inv(x), [a])
    _compare(lambda lib, x: lib.linalg.det(x), [a])


@pytest.mark.parametrize("a_shape, b_shape, left", [
    ((3, 3), (3, 2), True), ((3, 3), (3,), True), ((2, 3, 3), (2, 3), True), ((3, 3), (4, 3, 2), True),
    ((2, 1, 3, 3), (5, 3, 1), True), ((3, 3), (2, 3), False), ((2, 3, 3), (2, 4, 3), False),
])
def test_solve(a_shape, b_shape, left):
    rng = np.random.default_rng(1)
    _compare(lambda lib, a, b: lib.linalg.solve(a, b, left=left),
             [_matrices(rng, *a_shape), rng.standard_normal(b_shape)])


@pytest.mark.parametrize("ord_, dim", [(2, None), (1, None), (3.5, -1), (math.inf, None), (-math.inf, 1), (0, 0)])
def test_vector_norm(ord_, dim):
    x = np.random.default_rng(2).standard_normal((3, 4)) + 0.1
    _compare(lambda lib, t: lib.linalg.vector_norm(t, ord_, dim), [x])


@pytest.mark.parametrize("ord_", ["fro", 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(ord_, keepdim):
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    _compare(lambda lib, t: lib.linalg.matrix_norm(t, ord_, keepdim=keepdim), [x])
    _compare(lambda lib, t: lib.linalg.matrix_norm(t, ord_, dim=(0, 2)), [x])


@pytest.mark.parametrize("kwargs", [{}, {"ord": 3}, {"dim": 1}, {"dim": (0, 1)}, {"ord": 1, "dim": (1, 0)},
                                    {"ord": math.inf}])
def test_norm_dispatch(kwargs):
    x = np.random.default_rng(4).standard_normal((3, 4))
    if kwargs.get("ord") == 3 and "dim" not in kwargs:
        x = x[0]  # ord with a 2-D input and no dim is a matrix norm, which 3 is not
    _compare(lambda lib, t: lib.linalg.norm(t, **kwargs), [x])


def test_errors():
    for lib in (nablab, torch):
        with pytest.raises(RuntimeError):
            lib.linalg.inv(lib.zeros(3, 3, dtype=lib.float64))
        with pytest.raises(RuntimeError):
            lib.linalg.solve(lib.zeros(2, 2, dtype=lib.float64), lib.ones(2, dtype=lib.float64))
        with pytest.raises(RuntimeError):
            lib.linalg.inv(lib.ones(2, 3))
        with pytest.raises(RuntimeError):
            lib.linalg.solve(lib.eye(3), lib.ones(4, 2))
