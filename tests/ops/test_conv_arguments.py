"""The convolution family's PyTorch arguments beyond the parity grid: which calls the fast kernels take,
"same" keeping every size, the 1-D forms as the 2-D ops, padding modes on the kernel path, the layers'
initialisation, shapes and reprs, and padding layers and upsampling without torch."""

import numpy as np
import pytest

import nablab
from nablab import kernels, nn, ops
from nablab.kernels.cpu.conv import Conv2d1x1, Conv2dNHWC, handles, handles_1x1
from nablab.nn import functional as F
from nablab.nn import padding as padding_layers


def _t(a):
    return nablab.tensor(a, dtype="float64", requires_grad=True)


def _node(y):
    return type(y.creator)


@pytest.mark.parametrize("stride, padding, dilation, expected", [
    (1, 1, 1, Conv2dNHWC),
    ((1, 1), (1, 1), (1, 1), Conv2dNHWC),  # equal pairs are the ints
    ((1, 2), 1, 1, ops.Conv2d),
    (1, (1, 0), 1, Conv2dNHWC),  # padding may differ per axis (a 1-D convolution's (0, p))
    (1, (2, 3), 1, ops.Conv2d),  # wider than the kernel's k − 1
    (1, 1, (1, 2), ops.Conv2d),
])
def test_the_kernels_take_ints_and_equal_pairs_and_leave_unequal_strides_to_the_reference(stride, padding, dilation,
                                                                                         expected):
    x, w = nablab.randn(2, 3, 6, 6), nablab.randn(4, 3, 3, 3)
    with kernels.use_reference(False):
        assert _node(F.conv2d(x.requires_grad_(), w, stride=stride, padding=padding, dilation=dilation)) is expected


def test_the_predicates_reject_pairs_without_comparing_them_to_ints():
    x, w, w1 = np.zeros((1, 3, 5, 5)), np.zeros((4, 3, 3, 3)), np.zeros((4, 3, 1, 1))
    params = dict(stride=(1, 1), padding=1, dilation=1, groups=1)
    assert not handles(x, w, **params) and not handles_1x1(x, w1, **dict(params, padding=(0, 0)))
    assert handles(x, w, **dict(params, stride=1, padding=(1, 0)))
    assert not handles_1x1(x, w1, stride=(2, 2), padding=0, dilation=1, groups=1)
    assert handles_1x1(x, w1, stride=2, padding=0, dilation=1, groups=1)
    with kernels.use_reference(False):
        y = F.conv2d(_t(np.ones((1, 3, 5, 4))), _t(np.ones((4, 3, 1, 1))), stride=(2, 2))
    assert _node(y) is Conv2d1x1 and y.shape == (1, 4, 3, 2)


@pytest.mark.parametrize("kernel, dilation", [((1, 1), 1), ((2, 2), 1), ((3, 4), 1), ((2, 5), (3, 2)), ((4, 1), 2)])
def test_same_padding_keeps_every_size(kernel, dilation):
    x = _t(np.random.default_rng(0).standard_normal((2, 3, 5, 6)))
    w = _t(np.random.default_rng(1).standard_normal((4, 3) + kernel))
    y = F.conv2d(x, w, padding="same", dilation=dilation)
    assert y.shape == (2, 4, 5, 6)
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_valid_padding_is_no_padding():
    x, w = _t(np.random.default_rng(0).standard_normal((1, 2, 6, 5))), nablab.randn(3, 2, 3, 2).double()
    np.testing.assert_array_equal(F.conv2d(x, w, padding="valid").data, F.conv2d(x, w).data)


def test_conv1d_is_conv2d_on_a_height_of_one():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    y1 = F.conv1d(_t(x), _t(w), _t(b), stride=2, padding=1, dilation=2, groups=2)
    y2 = F.conv2d(_t(x[:, :, None]), _t(w[:, :, None]), _t(b), stride=(1, 2), padding=(0, 1), dilation=(1, 2),
                  groups=2)
    assert y1.shape == (2, 6, 4)
    np.testing.assert_array_equal(y1.data, y2.data[:, :, 0])


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    """⟨conv_transpose(g, w), x⟩ = ⟨g, conv(x, w)⟩ for every x and g: the two are adjoint."""
    rng = np.random.default_rng(3)
    x, w, g = rng.standard_normal((2, 4, 8, 8)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal((2, 6, 4, 4))
    params = dict(stride=(2, 3), padding=(1, 2), dilation=(1, 2), groups=2)
    y = F.conv2d(_t(x), _t(w), **params)
    assert y.shape == g.shape
    xt = F.conv_transpose2d(_t(g), _t(w), output_padding=(1, 0), **params)  # the row the stride dropped
    assert xt.shape == x.shape
    np.testing.assert_allclose((y.data * g).sum(), (xt.data * x).sum(), rtol=1e-12)


def test_a_padding_mode_pads_first_and_the_kernel_convolves():
    rng = np.random.default_rng(4)
    conv = nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect", dtype="float64")
    x = _t(rng.standard_normal((2, 3, 6, 6)))
    with kernels.use_reference(False):
        y = conv(x)
    assert _node(y) is Conv2dNHWC and y.shape == (2, 4, 6, 6)
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), conv.weight, conv.bias)
    np.testing.assert_allclose(y.data, expected.data, rtol=1e-12)


@pytest.mark.parametrize("layer, fan_in", [
    (lambda: nn.Conv1d(6, 8, 5, groups=2), 3 * 5),
    (lambda: nn.Conv2d(4, 6, (3, 2)), 4 * 6),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=2), 3 * 9),  # the weight's dim 1 is out/groups
    (lambda: nn.ConvTranspose1d(2, 5, 4), 5 * 4),
])
def test_default_init_is_kaiming_uniform_with_a_sqrt5(layer, fan_in):
    nablab.manual_seed(0)
    m = layer()
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.weight.data).max() > 0.8 * bound
    assert np.abs(m.bias.data).max() <= bound


def test_layer_shapes_and_reprs():
    assert nn.Conv1d(3, 4, 3, padding="same")(nablab.randn(2, 3, 10)).shape == (2, 4, 10)
    assert nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)(nablab.randn(1, 3, 4, 5)).shape == (
        1, 2, 8, 10)
    assert nn.ConvTranspose1d(3, 2, 4, stride=2)(nablab.randn(1, 3, 5)).shape == (1, 2, 12)
    assert nn.Conv2d(2, 4, 3, bias=False).bias is None
    assert nn.Conv2d(2, 4, 3, device="cpu", dtype=nablab.float64).weight.dtype == np.float64
    assert nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert repr(nn.Conv2d(3, 4, (3, 2), padding="same", padding_mode="reflect", bias=False)) == (
        "Conv2d(3, 4, kernel_size=(3, 2), stride=(1, 1), padding=same, bias=False, padding_mode=reflect)")
    assert repr(nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1)) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))")
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert repr(padding_layers.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"


def test_padding_layers_are_pad():
    x = nablab.tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    np.testing.assert_array_equal(padding_layers.ReflectionPad2d((1, 0, 0, 1))(x).data[0, 0],
                                  [[1, 0, 1, 2, 3], [5, 4, 5, 6, 7], [9, 8, 9, 10, 11], [5, 4, 5, 6, 7]])
    rows = nablab.tensor(np.arange(12.0).reshape(1, 3, 4))
    np.testing.assert_array_equal(padding_layers.ConstantPad1d((1, -2), 7.0)(rows).data[0, 0], [7, 0, 1])
    np.testing.assert_array_equal(padding_layers.ReplicationPad1d(2)(rows).data[0, 1], [4, 4, 4, 5, 6, 7, 7, 7])
    np.testing.assert_array_equal(padding_layers.CircularPad1d((2, 1))(rows).data[0, 2], [10, 11, 8, 9, 10, 11, 8])
    assert isinstance(padding_layers.ZeroPad2d(1), padding_layers.ConstantPad2d)


def test_pad_gradients_add_up_where_elements_are_copied_several_times():
    x = _t(np.arange(3.0).reshape(1, 3))
    F.pad(x, (2, 2), mode="reflect").sum().backward()  # [2 1 | 0 1 2 | 1 0]
    np.testing.assert_array_equal(x.grad.data, [[2, 3, 2]])
    x = _t(np.arange(3.0).reshape(1, 3))
    F.pad(x, (3, 1), mode="replicate").sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[4, 1, 2]])
    x = _t(np.arange(3.0).reshape(1, 3))
    F.pad(x, (3, 2), mode="circular").sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 3, 2]])
    x = _t(np.arange(4.0))
    F.pad(x, (-1, 2)).sum().backward()  # cropped elements get no gradient
    np.testing.assert_array_equal(x.grad.data, [0, 1, 1, 1])


def test_nearest_gradient_is_the_scatter_of_the_forward_indices():
    """The exact gradient of the forward (PyTorch's own CPU backward uses another index rule and
    disagrees with its forward for scale factor 1.1 on 6 elements)."""
    x = _t(np.arange(6.0).reshape(1, 1, 6))
    y = F.interpolate(x, scale_factor=1.1)
    np.testing.assert_array_equal(y.data.ravel(), [0, 0, 1, 2, 3, 4])
    y.backward(np.arange(1.0, 7.0).reshape(1, 1, 6))
    np.testing.assert_array_equal(x.grad.data.ravel(), [3, 3, 4, 5, 6, 0])


def test_interpolate_rules_by_hand():
    x = nablab.tensor(np.array([[[0.0, 10.0, 20.0]]]), dtype="float64")
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear", align_corners=True).data.ravel(),
                               [0, 5, 10, 15, 20])
    # align_corners=False: t = (j + ½)·3/6 − ½, clamped at 0 and at the last element
    np.testing.assert_allclose(F.interpolate(x, scale_factor=2, mode="linear").data.ravel(),
                               [0, 2.5, 7.5, 12.5, 17.5, 20])
    np.testing.assert_array_equal(F.interpolate(x, size=7).data.ravel(), [0, 0, 0, 10, 10, 20, 20])
    np.testing.assert_array_equal(F.interpolate(x, size=7, mode="nearest-exact").data.ravel(),
                                  [0, 0, 10, 10, 10, 20, 20])
    up = nn.UpsamplingBilinear2d(size=(3, 3))(nablab.tensor(np.array([[[[0.0, 2.0], [4.0, 6.0]]]])))
    np.testing.assert_allclose(up.data[0, 0], [[0, 1, 2], [2, 3, 4], [4, 5, 6]])


def test_resampling_keeps_float32_and_integer_inputs_work_for_nearest():
    assert F.interpolate(nablab.randn(1, 2, 3, 3), scale_factor=2, mode="bilinear").dtype == np.float32
    x = nablab.tensor(np.arange(4).reshape(1, 1, 2, 2))
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == x.dtype and y.shape == (1, 1, 4, 4)
    assert F.pad(x, (1, 1), value=5).dtype == x.dtype
