"""Convolution, pooling and batch norm beyond the gradient checks: the hand-derived batch-norm
backward against the same computation composed from elementary ops, running statistics, shapes
and errors."""

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import functional as F


def _t(a, grad=True):
    return nablab.tensor(a, dtype="float64", requires_grad=grad)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 2)])
def test_batch_norm_backward_equals_the_composed_computation(shape):
    rng = np.random.default_rng(0)
    x, g, b, gy = rng.standard_normal(shape), rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(shape)
    fused = [_t(x), _t(g), _t(b)]
    F.batch_norm(*fused[:1], np.zeros(3), np.ones(3), fused[1], fused[2], training=True).backward(gy)

    xs, gs, bs = _t(x), _t(g), _t(b)
    axes = (0,) + tuple(range(2, len(shape)))
    view = (1, 3) + (1,) * (len(shape) - 2)
    mean = xs.mean(axis=axes, keepdims=True)
    var = ((xs - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (xs - mean) / (var + 1e-5).sqrt() * gs.reshape(view) + bs.reshape(view)
    y.backward(gy)
    for ours, composed in zip(fused, (xs, gs, bs)):
        np.testing.assert_allclose(ours.grad.data, composed.grad.data, rtol=1e-10, atol=1e-12)


def test_batch_norm_running_statistics_and_eval_mode():
    nablab.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=0.5)
    x = nablab.tensor(np.random.default_rng(1).standard_normal((8, 3, 4, 4)) * 2 + 1)
    y = bn(x)
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    m = 8 * 16
    np.testing.assert_allclose(bn.running_mean.data, 0.5 * x.data.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, 0.5 + 0.5 * x.data.var(axis=(0, 2, 3)) * m / (m - 1), rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 1
    bn.eval()
    expected = (x.data - bn.running_mean.data.reshape(1, 3, 1, 1)) / np.sqrt(bn.running_var.data.reshape(1, 3, 1, 1)
                                                                               + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked.data) == 1
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}


def test_shapes_and_clear_errors():
    x = nablab.randn(2, 3, 8, 8)
    assert nn.Conv2d(3, 6, 3, stride=2, padding=1)(x).shape == (2, 6, 4, 4)
    assert nn.MaxPool2d(3, 2, 1)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    assert nn.AdaptiveAvgPool2d(2)(x).shape == (2, 3, 2, 2)
    with pytest.raises(ValueError, match="input has 3 channels"):
        nn.Conv2d(4, 6, 3)(x)
    with pytest.raises(ValueError, match="does not fit"):
        nn.Conv2d(3, 6, 11)(x)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.Conv2d(3, 6, 3)(nablab.randn(8, 8))  # (3, 8, 8) is an unbatched input, as in PyTorch
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="BatchNorm2d\\(4\\) expects"):
        nn.BatchNorm2d(4)(x)
    assert nn.AdaptiveAvgPool2d(3)(x).shape[2:] == (3, 3)  # uneven tiles, as torch's


def test_max_pool_routes_ties_to_one_element():
    x = _t(np.ones((1, 1, 2, 2)))
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data.ravel(), [1, 0, 0, 0])


def test_conv2d_default_init_bounds():
    nablab.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3)
    bound = 1 / np.sqrt(16 * 9)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert "Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1))" in repr(conv)


def test_conv2d_in_chunks_of_images_equals_one_piece(monkeypatch):
    from nablab.kernels.cpu import conv

    def grads(chunk_bytes):
        monkeypatch.setattr(conv, "CHUNK_BYTES", chunk_bytes)
        rng = np.random.default_rng(7)
        x, w, b = (_t(rng.standard_normal(shape)) for shape in [(5, 3, 6, 6), (4, 3, 3, 3), (4,)])
        y = F.conv2d(x, w, b, padding=1)
        y.backward(rng.standard_normal(y.shape))
        return [y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]

    in_chunks = grads(1)
    assert len(conv._image_chunks(5, 10)) == 5  # one image per chunk
    for a, b in zip(in_chunks, grads(2**30)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # the chunks' columns in one scratch buffer, or in three taken in turn (the fourth and fifth
    # chunks reuse the first two's): the same numbers
    for buffers in (1, 3):
        monkeypatch.setattr(conv, "COLUMN_BUFFERS", buffers)
        for a, b in zip(in_chunks, grads(1)):
            np.testing.assert_array_equal(a, b)
