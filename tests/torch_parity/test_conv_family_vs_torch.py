"""The convolution family with PyTorch's arguments against PyTorch: conv1d/conv2d (pairs, "same"/"valid",
padding modes, groups, no bias), conv_transpose1d/2d (output padding, dilation, groups), F.pad (every
mode, negative pads) and F.interpolate (nearest, nearest-exact, linear, bilinear, trilinear,
align_corners, scale factors; 'area'); functional and module forms. Outputs, result dtypes and the gradients of
input, weight and bias: 1e-10 in float64, 1e-5 in float32."""

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import functional as F
from nablab.nn import padding as padding_layers

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
TF = torch.nn.functional

TOL = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=1e-5, atol=1e-5)}
DTYPES = ["float64", "float32"]


def _pair(a, dtype):
    return nablab.tensor(a, dtype=dtype, requires_grad=True), torch.tensor(a.astype(dtype), requires_grad=True)


def _compare(ours_out, theirs_out, pairs, dtype, rng):
    """Outputs, their dtype, and every input's gradient for the same random dL/dy."""
    assert ours_out.shape == tuple(theirs_out.shape)
    assert ours_out.dtype == np.dtype(dtype) and theirs_out.dtype == getattr(torch, dtype)
    np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), **TOL[dtype])
    gy = rng.standard_normal(tuple(theirs_out.shape)).astype(dtype)
    ours_out.backward(gy)
    theirs_out.backward(torch.tensor(gy))
    for ours, theirs in pairs:
        assert ours.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL[dtype])


def _conv_inputs(rng, dtype, shape, weight_shape, bias_size):
    x, tx = _pair(rng.standard_normal(shape), dtype)
    w, tw = _pair(rng.standard_normal(weight_shape), dtype)
    pairs = [(x, tx), (w, tw)]
    b = tb = None
    if bias_size:
        b, tb = _pair(rng.standard_normal(bias_size), dtype)
        pairs.append((b, tb))
    return (x, w, b), (tx, tw, tb), pairs


CONV2D = [
    # (N, C, H, W), out, kernel, stride, padding, dilation, groups, bias
    ((2, 3, 8, 7), 4, (3, 2), (2, 1), (1, 0), 1, 1, True),
    ((1, 4, 9, 9), 6, 3, (1, 2), (2, 1), (2, 1), 2, False),
    ((2, 4, 7, 6), 4, (2, 3), 1, "same", 1, 1, True),  # even kernel: the extra row at the bottom
    ((2, 2, 6, 7), 4, (4, 3), 1, "same", (1, 2), 2, True),
    ((2, 3, 6, 6), 5, 3, 1, "valid", 2, 1, True),
    ((1, 1, 1, 5), 2, (1, 3), (1, 2), (0, 1), 1, 1, True),  # size-1 height
    ((2, 6, 5, 5), 6, 3, 1, (1, 1), 1, 6, True),  # depthwise, padding given as an equal pair
    ((2, 3, 6, 6), 4, 3, (1, 1), 1, (1, 1), 1, True),  # equal pairs: the fast kernels take them
    ((3, 4, 5, 6), 2, 1, (2, 3), 0, 1, 1, False),  # a 1×1 kernel with unequal strides
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, out, k, stride, padding, dilation, groups, bias", CONV2D)
def test_conv2d(dtype, shape, out, k, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(0)
    kh, kw = (k, k) if isinstance(k, int) else k
    ours, theirs, pairs = _conv_inputs(rng, dtype, shape, (out, shape[1] // groups, kh, kw), out if bias else 0)
    y = F.conv2d(*ours, stride, padding, dilation, groups)
    _compare(y, TF.conv2d(*theirs, stride, padding, dilation, groups), pairs, dtype, rng)


CONV1D = [
    # (N, C, L), out, kernel, stride, padding, dilation, groups, bias
    ((2, 3, 9), 4, 3, 1, 1, 1, 1, True),
    ((2, 4, 11), 6, 3, 2, 2, 2, 2, False),
    ((1, 2, 8), 3, 4, 1, "same", 1, 1, True),
    ((2, 3, 7), 2, 2, 1, "same", 3, 1, True),
    ((2, 3, 7), 5, 1, 3, 0, 1, 1, True),
    ((1, 1, 3), 1, 3, 1, "valid", 1, 1, False),  # one output element
    ((2, 4, 10), 4, (5,), (2,), (1,), (1,), 4, True),  # 1-tuples, depthwise
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, out, k, stride, padding, dilation, groups, bias", CONV1D)
def test_conv1d(dtype, shape, out, k, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(1)
    kl = k if isinstance(k, int) else k[0]
    ours, theirs, pairs = _conv_inputs(rng, dtype, shape, (out, shape[1] // groups, kl), out if bias else 0)
    y = F.conv1d(*ours, stride, padding, dilation, groups)
    _compare(y, TF.conv1d(*theirs, stride, padding, dilation, groups), pairs, dtype, rng)


CONV_TRANSPOSE2D = [
    # (N, C_in, H, W), out, kernel, stride, padding, output_padding, groups, dilation, bias
    ((2, 3, 4, 4), 5, 3, 2, 1, 1, 1, 1, True),
    ((2, 4, 3, 5), 6, (3, 2), (2, 3), (1, 0), (1, 2), 2, (1, 2), True),
    ((1, 2, 5, 4), 2, 3, 1, 1, 1, 1, 2, False),  # output padding below the dilation
    ((2, 3, 4, 3), 4, (2, 4), 1, 0, 0, 1, 1, True),
    ((1, 4, 3, 3), 4, 3, 3, 2, 2, 4, 1, True),  # depthwise, padding cropping most of the border
    ((1, 1, 1, 1), 3, 2, 2, 0, 0, 1, 1, True),  # a single input pixel
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, out, k, stride, padding, output_padding, groups, dilation, bias", CONV_TRANSPOSE2D)
def test_conv_transpose2d(dtype, shape, out, k, stride, padding, output_padding, groups, dilation, bias):
    rng = np.random.default_rng(2)
    kh, kw = (k, k) if isinstance(k, int) else k
    ours, theirs, pairs = _conv_inputs(rng, dtype, shape, (shape[1], out // groups, kh, kw), out if bias else 0)
    args = (stride, padding, output_padding, groups, dilation)
    _compare(F.conv_transpose2d(*ours, *args), TF.conv_transpose2d(*theirs, *args), pairs, dtype, rng)


CONV_TRANSPOSE1D = [
    ((2, 3, 5), 4, 3, 2, 1, 1, 1, 1, True),
    ((1, 4, 6), 2, 4, 3, 2, 0, 2, 2, False),
    ((2, 2, 1), 3, 2, 1, 0, 0, 1, 1, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, out, k, stride, padding, output_padding, groups, dilation, bias", CONV_TRANSPOSE1D)
def test_conv_transpose1d(dtype, shape, out, k, stride, padding, output_padding, groups, dilation, bias):
    rng = np.random.default_rng(3)
    ours, theirs, pairs = _conv_inputs(rng, dtype, shape, (shape[1], out // groups, k), out if bias else 0)
    args = (stride, padding, output_padding, groups, dilation)
    _compare(F.conv_transpose1d(*ours, *args), TF.conv_transpose1d(*theirs, *args), pairs, dtype, rng)


MODULES = [
    # layer class name, constructor arguments, input shape
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="reflect"), (2, 3, 6, 5)),
    ("Conv2d", (3, 4, (2, 3)), dict(padding="same", padding_mode="replicate"), (2, 3, 5, 6)),
    ("Conv2d", (4, 6, 3), dict(stride=2, padding=(2, 1), padding_mode="circular", groups=2), (1, 4, 7, 6)),
    ("Conv2d", (2, 3, 3), dict(padding="valid", padding_mode="reflect", bias=False), (2, 2, 5, 5)),
    ("Conv2d", (3, 2, (3, 1)), dict(stride=(1, 2), dilation=(2, 1)), (2, 3, 8, 5)),
    ("Conv1d", (3, 4, 3), dict(padding=2, padding_mode="reflect"), (2, 3, 7)),
    ("Conv1d", (2, 4, 4), dict(padding="same", padding_mode="circular", dilation=2), (2, 2, 9)),
    ("Conv1d", (4, 2, 3), dict(stride=2, groups=2, bias=False), (3, 4, 8)),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    ("ConvTranspose2d", (4, 2, (2, 3)), dict(stride=(2, 1), groups=2, dilation=(1, 2), bias=False), (1, 4, 3, 3)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3, padding=1, output_padding=2), (2, 3, 5)),
    # unbatched inputs, (C, H, W) and (C, L), as PyTorch takes them
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="reflect"), (3, 6, 5)),
    ("Conv2d", (4, 2, 2), dict(padding="same", groups=2), (4, 5, 5)),
    ("Conv1d", (3, 4, 3), dict(stride=2), (3, 7)),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (3, 4, 5)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3), (3, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs, shape", MODULES)
def test_conv_modules(dtype, name, args, kwargs, shape):
    rng = np.random.default_rng(4)
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=getattr(torch, dtype))
    assert ours.weight.shape == tuple(theirs.weight.shape)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        if theirs.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    x, tx = _pair(rng.standard_normal(shape), dtype)
    pairs = [(x, tx), (ours.weight, theirs.weight)] + ([(ours.bias, theirs.bias)] if theirs.bias is not None else [])
    _compare(ours(x), theirs(tx), pairs, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs, shape, output_size", [
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, padding=1), (2, 3, 4, 5), (8, 9)),
    ("ConvTranspose2d", (2, 4, (3, 2)), dict(stride=(3, 2), dilation=(1, 2)), (1, 2, 3, 3), (1, 4, 10, 8)),
    ("ConvTranspose1d", (2, 3, 4), dict(stride=3, padding=1), (2, 2, 5), (15,)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, padding=1), (3, 4, 5), (8, 9)),  # unbatched
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2), (3, 4, 5), (2, 10, 12)),
])
def test_conv_transpose_to_an_output_size(dtype, name, args, kwargs, shape, output_size):
    rng = np.random.default_rng(9)
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=getattr(torch, dtype))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        theirs.bias.copy_(torch.tensor(ours.bias.data))
    x, tx = _pair(rng.standard_normal(shape), dtype)
    pairs = [(x, tx), (ours.weight, theirs.weight), (ours.bias, theirs.bias)]
    _compare(ours(x, output_size=output_size), theirs(tx, output_size=output_size), pairs, dtype, rng)


PAD = [
    # input shape, pad, mode, value
    ((2, 3), (1, 2), "constant", None),
    ((3,), (0, 2), "constant", 1.5),
    ((2, 3, 4), (1, -1, -2, 1, 2, 0), "constant", -2.0),  # negative pads crop
    ((2, 3, 4, 5), (1, 1, 2, 0, 0, 1, 1, 0), "constant", 0.5),  # every dim
    ((1, 2, 3, 1), (0, 0, 0, 0), "constant", None),
    ((2, 5), (2, 3), "reflect", None),  # unbatched 1-D
    ((2, 3, 6), (4, 1), "reflect", None),
    ((2, 2, 4, 5), (1, 3, 2, 0), "reflect", None),
    ((1, 2, 3, 4, 5), (1, 1, 2, 1, 1, 2), "reflect", None),
    ((2, 3, 5), (-1, 2), "reflect", None),
    ((2, 3, 1), (3, 2), "replicate", None),  # a size-1 dim replicated
    ((2, 2, 3, 4), (2, 1, 0, 3), "replicate", None),
    ((2, 3, 4, 5), (1, 1, 1, 1, 1, 1), "replicate", None),  # 3 dims of a 4-D input (unbatched)
    ((2, 3, 4), (4, 2), "circular", None),  # the whole dim wrapped once
    ((1, 2, 3, 4), (1, 2, 3, 0), "circular", None),
    ((2, 3, 5), (2, -1), "circular", None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, pad, mode, value", PAD)
def test_pad(dtype, shape, pad, mode, value):
    rng = np.random.default_rng(5)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    _compare(F.pad(x, pad, mode=mode, value=value), TF.pad(tx, pad, mode=mode, value=value), [(x, tx)], dtype, rng)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_of_an_empty_batch_as_torch(mode):
    x = np.zeros((0, 2, 5))
    ours, theirs = F.pad(nablab.tensor(x), (2, 1), mode=mode), TF.pad(torch.tensor(x), (2, 1), mode=mode)
    assert ours.shape == tuple(theirs.shape) == (0, 2, 8)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(0, 0), (-1, -2)], ids=["nothing", "crop"])
def test_pad_that_only_crops_gives_a_new_tensor_as_torch(mode, pad):
    for lib, functional in ((nablab, F), (torch, TF)):
        x = lib.tensor(np.arange(6.0).reshape(1, 1, 6))
        y = functional.pad(x, pad, mode=mode)
        y.mul_(0)
        assert x.numpy().tolist() == [[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]], lib.__name__


PADDING_LAYERS = [
    ("ZeroPad2d", (1, 2, 0, 3), (2, 3, 4, 4)),
    ("ZeroPad1d", 2, (2, 3, 4)),
    ("ConstantPad2d", ((2, 1, 1, 0), 3.5), (1, 2, 3, 3)),
    ("ConstantPad3d", (1, -0.5), (1, 2, 2, 3, 3)),
    ("ReflectionPad2d", 2, (2, 2, 4, 5)),
    ("ReflectionPad1d", (3, 1), (2, 4)),
    ("ReplicationPad2d", (1, 0, 2, 3), (2, 3, 4)),
    ("ReplicationPad3d", 1, (1, 1, 2, 3, 4)),
    ("CircularPad2d", (1, 2, 2, 1), (1, 2, 3, 4)),
    ("CircularPad1d", 3, (2, 2, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, shape", PADDING_LAYERS)
def test_padding_layers(dtype, name, args, shape):
    rng = np.random.default_rng(6)
    args = args if isinstance(args, tuple) and name.startswith("Constant") else (args,)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    ours, theirs = getattr(padding_layers, name)(*args), getattr(torch.nn, name)(*args)
    _compare(ours(x), theirs(tx), [(x, tx)], dtype, rng)


INTERPOLATE = [
    # input shape, keyword arguments
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((2, 3, 4, 5), dict(scale_factor=(3, 2))),
    ((2, 2, 5, 7), dict(size=(10, 14))),
    ((1, 2, 6, 9), dict(size=(3, 3))),  # downsampling
    ((2, 3, 4, 5), dict(scale_factor=2, mode="nearest-exact")),
    ((2, 2, 7, 5), dict(size=(3, 9), mode="nearest-exact")),
    ((2, 2, 5, 6), dict(scale_factor=1.5, mode="nearest-exact")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ((2, 2, 5, 7), dict(size=(8, 3), mode="bilinear")),
    ((2, 2, 5, 7), dict(size=(8, 3), mode="bilinear", align_corners=True)),
    ((1, 2, 5, 4), dict(scale_factor=(1.7, 0.6), mode="bilinear")),  # the scale factor, not the size ratio
    ((1, 2, 5, 4), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ((1, 1, 1, 1), dict(size=(3, 2), mode="bilinear", align_corners=True)),  # a single pixel
    ((2, 3, 1, 4), dict(size=(1, 7), mode="bilinear", align_corners=True)),  # an output of height 1
    ((2, 3, 5), dict(scale_factor=2.5, mode="linear")),
    ((2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
    ((2, 3, 6), dict(size=4, mode="nearest")),
    ((1, 2, 3, 4, 2), dict(scale_factor=2, mode="trilinear")),
    ((1, 2, 3, 4, 2), dict(size=(4, 3, 5), mode="trilinear", align_corners=True)),
    ((1, 2, 2, 3, 2), dict(scale_factor=(2, 1, 3), mode="nearest")),
    ((2, 3, 7, 10), dict(size=(3, 4), mode="area")),
    ((2, 3, 6, 9), dict(scale_factor=0.5, mode="area")),
    ((2, 3, 4, 5), dict(scale_factor=(2, 1.5), mode="area")),  # upsampling: tiles of one element
    ((2, 3, 11), dict(size=4, mode="area")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kwargs", INTERPOLATE)
def test_interpolate(dtype, shape, kwargs):
    rng = np.random.default_rng(7)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    _compare(F.interpolate(x, **kwargs), TF.interpolate(tx, **kwargs), [(x, tx)], dtype, rng)


@pytest.mark.parametrize("kwargs", [dict(size=(3, 7)), dict(scale_factor=1.7), dict(scale_factor=0.5),
                                    dict(size=(9, 11), align_corners=True)])
def test_bilinear_interpolation_of_a_uint8_image_is_within_one_of_torch(kwargs):
    x = np.random.default_rng(5).integers(0, 256, (2, 3, 5, 6)).astype(np.uint8)
    ours = F.interpolate(nablab.tensor(x), mode="bilinear", **kwargs)
    theirs = TF.interpolate(torch.tensor(x), mode="bilinear", **kwargs)
    assert ours.dtype == np.uint8 and ours.shape == tuple(theirs.shape)
    assert np.abs(ours.numpy().astype(int) - theirs.numpy().astype(int)).max() <= 1


UPSAMPLING_LAYERS = [
    ("Upsample", dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", dict(size=(7, 6), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", dict(scale_factor=(1.5, 2.5), mode="bilinear", align_corners=True), (1, 2, 4, 3)),
    ("Upsample", dict(size=8, mode="linear"), (2, 2, 5)),
    ("UpsamplingNearest2d", dict(scale_factor=3), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", dict(size=(6, 9)), (2, 2, 3, 4)),
    ("UpsamplingBilinear2d", dict(scale_factor=2), (2, 2, 3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs, shape", UPSAMPLING_LAYERS)
def test_upsampling_layers(dtype, name, kwargs, shape):
    rng = np.random.default_rng(8)
    x, tx = _pair(rng.standard_normal(shape), dtype)
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    _compare(ours(x), theirs(tx), [(x, tx)], dtype, rng)


@pytest.mark.parametrize("name, kwargs", [("upsample", dict(scale_factor=2, mode="bilinear")),
                                          ("upsample_nearest", dict(size=(5, 7))),
                                          ("upsample_bilinear", dict(scale_factor=1.5))])
def test_the_deprecated_upsample_functions(name, kwargs):
    rng = np.random.default_rng(10)
    x, tx = _pair(rng.standard_normal((2, 2, 3, 4)), "float64")
    with pytest.warns(UserWarning):
        theirs = getattr(TF, name)(tx, **kwargs)
    _compare(getattr(F, name)(x, **kwargs), theirs, [(x, tx)], "float64", rng)
