"""Conv2d, pooling and batch norm against PyTorch: forward and every gradient, over a grid of
shapes, strides, paddings, dilations and groups (1e-10 in float64, 1e-5 in float32)."""

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import functional as F

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TOL = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=1e-5, atol=1e-5)}


def _pair(a, dtype):
    ours = nablab.tensor(a, dtype=dtype, requires_grad=True)
    theirs = torch.tensor(a.astype(dtype), requires_grad=True)
    return ours, theirs


def _compare(ours_out, theirs_out, pairs, dtype, rng):
    np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), **TOL[dtype])
    gy = rng.standard_normal(theirs_out.shape).astype(dtype)
    ours_out.backward(gy)
    theirs_out.backward(torch.tensor(gy))
    for ours, theirs in pairs:
        assert ours.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL[dtype])


CONV_GRID = [
    # (N, C, H, W), out, kernel, stride, padding, dilation, groups, bias
    ((2, 3, 8, 8), 4, 3, 1, 1, 1, 1, True),
    ((2, 3, 9, 7), 5, 3, 2, 0, 1, 1, True),
    ((1, 4, 10, 10), 6, 3, 2, 2, 2, 2, False),
    ((2, 6, 7, 7), 6, 3, 1, 1, 1, 6, True),
    ((3, 2, 5, 6), 3, 1, 1, 0, 1, 1, True),
    ((2, 4, 11, 9), 8, 5, 3, 2, 1, 4, True),
    ((1, 3, 6, 6), 2, 2, 2, 0, 1, 1, False),
    ((2, 4, 7, 6), 6, 1, 2, 0, 1, 1, True),  # strided 1×1 (a projection shortcut)
    ((2, 4, 7, 7), 3, 1, 3, 0, 2, 1, False),  # dilation changes nothing for k = 1
    ((2, 6, 5, 5), 4, 1, 1, 0, 1, 1, True),  # 1×1 with fewer out than in channels
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, out, k, stride, padding, dilation, groups, bias", CONV_GRID)
def test_conv2d(dtype, shape, out, k, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(0)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    w, tw = _pair(rng.standard_normal((out, shape[1] // groups, k, k)), dtype)
    pairs = [(x, tx), (w, tw)]
    b = tb = None
    if bias:
        b, tb = _pair(rng.standard_normal(out), dtype)
        pairs.append((b, tb))
    y = F.conv2d(x, w, b, stride, padding, dilation, groups)
    ty = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    _compare(y, ty, pairs, dtype, rng)


POOL_GRID = [((2, 3, 8, 8), 2, 2, 0), ((2, 3, 7, 7), 3, 2, 1), ((1, 2, 9, 6), 3, 3, 0), ((2, 2, 6, 6), 2, 1, 1),
             ((1, 1, 5, 5), 3, 1, 1)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, k, stride, padding", POOL_GRID)
def test_max_and_avg_pool(dtype, shape, k, stride, padding):
    rng = np.random.default_rng(1)
    data = rng.standard_normal(shape)
    x, tx = _pair(data, dtype)
    _compare(F.max_pool2d(x, k, stride, padding), torch.nn.functional.max_pool2d(tx, k, stride, padding), [(x, tx)],
             dtype, rng)
    x, tx = _pair(data, dtype)
    _compare(F.avg_pool2d(x, k, stride, padding), torch.nn.functional.avg_pool2d(tx, k, stride, padding), [(x, tx)],
             dtype, rng)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC memory"])
def test_max_pool_ties_route_like_torch(layout):
    data = np.round(np.random.default_rng(2).standard_normal((2, 2, 6, 6))).astype(np.float64)  # many ties
    if layout == "NHWC memory":  # what a channels-last convolution hands on
        data = np.ascontiguousarray(data.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for k, s, p in [(2, 2, 0), (3, 3, 0), (3, 2, 1), (1, 1, 0)]:
        x, tx = _pair(data, "float64")
        _compare(F.max_pool2d(x, k, s, p), torch.nn.functional.max_pool2d(tx, k, s, p), [(x, tx)], "float64",
                 np.random.default_rng(3))


@pytest.mark.parametrize("layout", ["NCHW", "NHWC memory"])
def test_max_pool_windows_holding_nan_route_like_torch(layout):
    data = np.random.default_rng(6).standard_normal((2, 2, 6, 6))
    data[0, 0, 0, 1] = data[0, 0, 1, 0] = data[1, 1, 3, 3] = data[0, 1, 5, 5] = np.nan  # one window holds two
    if layout == "NHWC memory":
        data = np.ascontiguousarray(data.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for k, s, p in [(2, 2, 0), (3, 3, 0), (3, 2, 1)]:
        x, tx = _pair(data, "float64")
        y, ty = F.max_pool2d(x, k, s, p), torch.nn.functional.max_pool2d(tx, k, s, p)
        np.testing.assert_array_equal(np.isnan(y.data), torch.isnan(ty).numpy())
        gy = np.random.default_rng(7).standard_normal(ty.shape)
        y.backward(gy)
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=0)


def test_global_average_pooling():
    rng = np.random.default_rng(4)
    x, tx = _pair(rng.standard_normal((2, 3, 5, 4)), "float64")
    _compare(nn.AdaptiveAvgPool2d(1)(x), torch.nn.AdaptiveAvgPool2d(1)(tx), [(x, tx)], "float64", rng)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 6)])
def test_batch_norm_train_and_eval(dtype, shape):
    rng = np.random.default_rng(5)
    c = shape[1]
    ours = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(c, momentum=0.2, dtype=dtype)
    theirs = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(c, momentum=0.2).to(
        getattr(torch, dtype))
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    ours.weight.data[...] = gamma
    ours.bias.data[...] = beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    for _ in range(3):  # training steps move the running statistics
        x, tx = _pair(rng.standard_normal(shape) * 3 + 1, dtype)
        _compare(ours(x), theirs(tx), [(x, tx)], dtype, rng)
        np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), **TOL[dtype])
        np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), **TOL[dtype])
        ours.zero_grad()
        theirs.zero_grad()
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), **TOL[dtype])
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), **TOL[dtype])
    ours.eval()
    theirs.eval()
    x, tx = _pair(rng.standard_normal(shape), dtype)
    _compare(ours(x), theirs(tx), [(x, tx)], dtype, rng)
