"""Regression: a 1×1 convolution whose input came through another convolution.

For k = 1 the fast path's column matrix was a contiguous view of the input's padded copy, which
lives in scratch memory; kept as it was for backward, the next convolution overwrote it and dL/dW
came out wrong (by up to 6.6× its own size). Checked against central differences in float64 (no
PyTorch needed) and in float32 against the same network in float64.
"""

import numpy as np
import pytest

import nablab
from nablab import gradcheck
from nablab.nn import functional as F


def _inputs(rng, first_k, c=4, out=8):
    return [rng.standard_normal((2, c, 5, 5)), rng.standard_normal((c, c, first_k, first_k)), rng.standard_normal(c),
            rng.standard_normal((out, c, 1, 1)), rng.standard_normal(out)]


@pytest.mark.parametrize("first_k", [1, 3])
def test_two_convolutions_in_a_row_ending_in_a_1x1_have_exact_gradients(first_k):
    def net(x, w1, b1, w2, b2):
        return F.conv2d(F.conv2d(x, w1, b1, padding=first_k // 2), w2, b2)

    errors = gradcheck.check(net, _inputs(np.random.default_rng(0), first_k), order=4, eps=1e-3)
    assert max(errors) < 1e-8, errors


def test_one_1x1_convolution_applied_twice_has_exact_gradients():
    def net(x, w1, b1, w2, b2):
        return F.conv2d(F.conv2d(F.conv2d(x, w1, b1), w1, b1), w2, b2)

    errors = gradcheck.check(net, _inputs(np.random.default_rng(1), 1), order=4, eps=1e-3)
    assert max(errors) < 1e-8, errors


def test_float32_1x1_chain_matches_float64():
    rng = np.random.default_rng(2)
    arrays = _inputs(rng, 1)
    grads = {}
    for dtype in ("float32", "float64"):
        ts = [nablab.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
        x, w1, b1, w2, b2 = ts
        F.conv2d(F.conv2d(F.conv2d(x, w1, b1), w1, b1), w2, b2).sum().backward()
        grads[dtype] = [t.grad.data for t in ts]
    for g32, g64 in zip(grads["float32"], grads["float64"]):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4 * np.abs(g64).max())
