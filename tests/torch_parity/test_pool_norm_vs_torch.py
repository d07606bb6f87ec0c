"""Pooling (max, average, adaptive, unpooling) with PyTorch's options, and group, instance, layer
and batch normalization, against PyTorch: outputs, result dtypes, indices and every gradient
(float64 to 1e-10; float32 at torch.testing's own tolerances), functional and module forms."""

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.errors import ShapeError
from nablab.nn import functional as F

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
TF = torch.nn.functional

TOL = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=1.3e-6, atol=1e-5)}


def _pair(a, dtype, grad=True):
    return (nablab.tensor(a, dtype=dtype, requires_grad=grad),
            torch.tensor(a.astype(dtype), requires_grad=grad))


def _check(out, t_out, pairs, dtype, rng):
    """Values, dtype and shape of out against t_out; then the gradients of every pair for a random dL/dy."""
    assert out.shape == tuple(t_out.shape)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), **TOL[dtype])
    gy = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    out.backward(gy)
    t_out.backward(torch.tensor(gy))
    for ours, theirs in pairs:
        assert ours.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL[dtype])


POOLS = [
    # (name, input shape, keyword arguments), the same for F and torch.nn.functional
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (2, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))),
    ("max_pool2d", (2, 2, 7, 8), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool2d", (1, 2, 9, 10), dict(kernel_size=(2, 3), stride=(3, 2), padding=(1, 1), dilation=(2, 3),
                                       ceil_mode=True)),
    ("max_pool2d", (2, 3, 6, 6), dict(kernel_size=2, stride=1, dilation=2, return_indices=True)),
    ("max_pool2d", (2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("max_pool2d", (3, 5, 5), dict(kernel_size=2, return_indices=True)),  # unbatched
    ("max_pool2d", (1, 1, 1, 1), dict(kernel_size=1)),  # size 1
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("max_pool1d", (3, 10), dict(kernel_size=(2,), stride=(3,), dilation=2)),
    ("avg_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ("avg_pool2d", (2, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 2, 6, 6), dict(kernel_size=3, stride=2, padding=1, divisor_override=2)),
    ("avg_pool2d", (3, 6, 6), dict(kernel_size=2, ceil_mode=True)),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)),
    ("avg_pool1d", (3, 10), dict(kernel_size=3)),
    ("adaptive_avg_pool2d", (2, 3, 8, 8), dict(output_size=1)),
    ("adaptive_avg_pool2d", (2, 3, 7, 10), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (2, 3, 5, 6), dict(output_size=(None, 4))),
    ("adaptive_avg_pool2d", (3, 4, 4), dict(output_size=7)),  # unbatched, more outputs than inputs
    ("adaptive_avg_pool1d", (2, 3, 7), dict(output_size=5)),
    ("adaptive_max_pool2d", (2, 3, 7, 10), dict(output_size=(3, 4), return_indices=True)),
    ("adaptive_max_pool2d", (2, 3, 6, 6), dict(output_size=3)),
    ("adaptive_max_pool1d", (3, 7), dict(output_size=3, return_indices=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, shape, kwargs", POOLS)
def test_pool(dtype, name, shape, kwargs):
    rng = np.random.default_rng(0)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    out, t_out = getattr(F, name)(x, **kwargs), getattr(TF, name)(tx, **kwargs)
    if kwargs.get("return_indices"):
        (out, idx), (t_out, t_idx) = out, t_out
        assert idx.dtype == np.int64 and idx.shape == tuple(t_idx.shape)
        np.testing.assert_array_equal(idx.data, t_idx.numpy())
    _check(out, t_out, [(x, tx)], dtype, rng)


def test_max_pool_routes_ties_and_nan_as_torch():
    data = np.array([[[[1.0, 1.0, 0.0], [1.0, np.nan, 2.0], [np.nan, 3.0, 3.0]]]])
    x, tx = _pair(data, "float64")
    out, idx = F.max_pool2d(x, 2, 1, return_indices=True)
    t_out, t_idx = TF.max_pool2d(tx, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    out.backward(np.ones(out.shape))
    t_out.backward(torch.ones(t_out.shape, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


UNPOOLS = [
    # (input shape, kernel, stride, padding, output_size)
    ((2, 3, 6, 6), 2, None, 0, None),
    ((2, 3, 7, 7), 2, None, 0, (7, 7)),
    ((2, 3, 7, 7), 3, 2, 1, None),
    ((2, 3, 7, 7), 3, 2, 1, (2, 3, 7, 7)),
    ((3, 5, 6), 2, 2, 0, None),  # unbatched
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, k, stride, padding, output_size", UNPOOLS)
def test_max_unpool2d(dtype, shape, k, stride, padding, output_size):
    rng = np.random.default_rng(1)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    pooled, idx = nn.MaxPool2d(k, stride, padding, return_indices=True)(x)
    t_pooled, t_idx = torch.nn.MaxPool2d(k, stride, padding, return_indices=True)(tx)
    out = nn.MaxUnpool2d(k, stride, padding)(pooled, idx, output_size)
    t_out = torch.nn.MaxUnpool2d(k, stride, padding)(t_pooled, t_idx, output_size)
    _check(out, t_out, [(x, tx)], dtype, rng)


def test_max_unpool1d():
    rng = np.random.default_rng(2)
    x, tx = _pair(rng.standard_normal((2, 3, 9)), "float64")
    pooled, idx = F.max_pool1d(x, 3, 2, return_indices=True)
    t_pooled, t_idx = TF.max_pool1d(tx, 3, 2, return_indices=True)
    out = F.max_unpool1d(pooled, idx, 3, 2, output_size=(9,))
    _check(out, TF.max_unpool1d(t_pooled, t_idx, 3, 2, output_size=(9,)), [(x, tx)], "float64", rng)


MODULES = [
    ("MaxPool2d", (2, 3, 7, 7), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool2d", (2, 3, 7, 7), ((2, 3),), dict(dilation=(2, 1))),
    ("MaxPool1d", (2, 3, 9), (3, 2), dict(padding=1)),
    ("AvgPool2d", (2, 3, 7, 7), (3, 2, 1), dict(count_include_pad=False, ceil_mode=True)),
    ("AvgPool2d", (2, 3, 7, 7), (3,), dict(divisor_override=3)),
    ("AvgPool1d", (2, 3, 9), (3, 2, 1), {}),
    ("AdaptiveAvgPool2d", (2, 3, 7, 9), ((2, None),), {}),
    ("AdaptiveAvgPool1d", (2, 3, 9), (4,), {}),
    ("AdaptiveMaxPool2d", (2, 3, 7, 9), ((3, 2),), {}),
    ("AdaptiveMaxPool1d", (2, 3, 9), (4,), {}),
    ("GroupNorm", (2, 6, 4, 3), (3, 6), {}),
    ("GroupNorm", (3, 4, 5), (1, 4), dict(affine=False)),
    ("GroupNorm", (2, 4), (4, 4), dict(eps=1e-3)),
    ("LayerNorm", (2, 3, 5), (5,), {}),
    ("LayerNorm", (2, 3, 4, 5), ((4, 5),), dict(bias=False)),
    ("LayerNorm", (4, 6), (6,), dict(elementwise_affine=False)),
    ("InstanceNorm1d", (2, 3, 7), (3,), {}),
    ("InstanceNorm1d", (3, 7), (3,), dict(affine=True)),  # unbatched
    ("InstanceNorm2d", (2, 3, 4, 5), (3,), dict(affine=True)),
    ("InstanceNorm3d", (3, 2, 4, 5), (3,), dict(affine=True)),  # unbatched
]


def _copy_parameters(ours, theirs, rng, dtype):
    """Random values for every parameter, the same in both modules."""
    for name, p in ours.named_parameters():
        value = rng.standard_normal(p.shape).astype(dtype)
        p.data[...] = value
        with torch.no_grad():
            dict(theirs.named_parameters())[name].copy_(torch.tensor(value))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, shape, args, kwargs", MODULES)
def test_module(dtype, name, shape, args, kwargs):
    rng = np.random.default_rng(3)
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for p in ours.parameters():  # the layers hold float32: this test's dtype instead
        p.data = p.data.astype(dtype)
    _copy_parameters(ours, theirs, rng, dtype)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    pairs = [(x, tx)] + [(p, dict(theirs.named_parameters())[n]) for n, p in ours.named_parameters()]
    _check(ours(x), theirs(tx), pairs, dtype, rng)


F_NORMS = [
    # (name, input shape, arguments after the input, shapes of weight and bias or None)
    ("group_norm", (2, 6, 3, 4), (3,), (6,)),
    ("group_norm", (2, 4, 5), (2,), None),
    ("layer_norm", (2, 3, 4, 5), ((4, 5),), (4, 5)),
    ("layer_norm", (7, 3), ((3,),), None),
    ("instance_norm", (2, 3, 6), (), (3,)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, shape, args, affine", F_NORMS)
def test_functional_norm(dtype, name, shape, args, affine):
    rng = np.random.default_rng(4)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    pairs, extra, t_extra = [(x, tx)], {}, {}
    if affine is not None:
        (w, tw), (b, tb) = _pair(rng.standard_normal(affine), dtype), _pair(rng.standard_normal(affine), dtype)
        pairs += [(w, tw), (b, tb)]
        extra, t_extra = dict(weight=w, bias=b), dict(weight=tw, bias=tb)
    _check(getattr(F, name)(x, *args, **extra), getattr(TF, name)(tx, *args, **t_extra), pairs, dtype, rng)


BATCH_NORMS = [
    # (class, input shape, keyword arguments)
    ("BatchNorm1d", (6, 3), {}),
    ("BatchNorm1d", (6, 3, 4), dict(momentum=0.3)),
    ("BatchNorm2d", (4, 3, 3, 2), dict(affine=False)),
    ("BatchNorm2d", (4, 3, 3, 2), dict(track_running_stats=False)),
    ("BatchNorm2d", (4, 3, 3, 2), dict(momentum=None)),
    ("BatchNorm1d", (5, 3), dict(momentum=None, affine=False, eps=1e-3)),
    ("BatchNorm3d", (3, 3, 2, 3, 2), dict(momentum=0.2)),
    ("InstanceNorm2d", (2, 3, 4, 5), dict(track_running_stats=True, momentum=0.2)),
    ("InstanceNorm3d", (2, 3, 2, 3, 4), dict(track_running_stats=True, affine=True)),
    ("InstanceNorm1d", (2, 3, 6), dict(track_running_stats=True, affine=True, momentum=None)),
]


@pytest.mark.parametrize("name, shape, kwargs", BATCH_NORMS)
def test_running_statistics_and_evaluation(name, shape, kwargs):
    """Three training steps (outputs, gradients, running estimates, state dict) and then evaluation."""
    rng = np.random.default_rng(5)
    ours, theirs = getattr(nn, name)(3, dtype="float64", **kwargs), getattr(torch.nn, name)(3, **kwargs).double()
    _copy_parameters(ours, theirs, rng, "float64")
    for step in range(3):
        x, tx = _pair(rng.standard_normal(shape) * (step + 1) + step, "float64")
        pairs = [(x, tx)] + [(p, dict(theirs.named_parameters())[n]) for n, p in ours.named_parameters()]
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
        _check(ours(x), theirs(tx), pairs, "float64", rng)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        np.testing.assert_allclose(ours_state[key].data, value.numpy(), rtol=1e-10, atol=1e-12)
    ours.eval()
    theirs.eval()
    x, tx = _pair(rng.standard_normal(shape), "float64")
    _check(ours(x), theirs(tx), [(x, tx)], "float64", rng)


@pytest.mark.parametrize("call", [
    lambda: F.max_pool2d(nablab.zeros(2, 3), 2),
    lambda: F.max_pool1d(nablab.zeros(2, 3, 4, 5), 2),
    lambda: F.avg_pool2d(nablab.zeros(5), 2),
    lambda: F.adaptive_avg_pool2d(nablab.zeros(4, 4), 2),
    lambda: F.max_pool2d(nablab.zeros(1, 1, 2, 2), 3),
    lambda: F.group_norm(nablab.zeros(2, 5, 3), 2),
    lambda: F.layer_norm(nablab.zeros(2, 3), (4,)),
    lambda: nn.BatchNorm2d(3)(nablab.zeros(2, 3, 4)),
    lambda: nn.InstanceNorm2d(3)(nablab.zeros(2, 3)),
    lambda: F.max_unpool2d(nablab.zeros(1, 1, 2, 2), np.zeros((1, 1, 2, 3), dtype=np.int64), 2),
])
def test_wrong_shapes_raise_shape_error_naming_the_shape(call):
    with pytest.raises(ShapeError, match=r"got|shape"):
        call()


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="padding"):
        F.max_pool2d(nablab.zeros(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool2d(nablab.zeros(1, 1, 2, 2), np.zeros((1, 1, 2, 2), dtype=np.int64), 2, output_size=(9, 9))
    with pytest.raises(ValueError, match="invalid max index"):
        F.max_unpool2d(nablab.zeros(1, 1, 2, 2), np.full((1, 1, 2, 2), 16), 2)
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(nablab.zeros(1, 3))
