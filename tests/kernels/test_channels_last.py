"""Per-channel arithmetic in long rows of channels-last memory (nablab.kernels.cpu.channels_last)
against NumPy's plain per-axis broadcasts and sums, on layouts and pixel counts drawn at random."""

import numpy as np
import pytest

import nablab
from nablab import kernels
from nablab.kernels.cpu import channels_last as cl
from nablab.kernels.cpu.batchnorm import BatchNormTrainFused


def _channels_last(rng, shape, dtype=np.float32):
    """A standard-normal array of NCHW ``shape`` whose memory is NHWC (channels last)."""
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(rng.standard_normal(moved).astype(dtype), -1, 1)


def _shapes(rng, count):
    for _ in range(count):
        ndim = int(rng.integers(2, 5))
        # pixel counts with many divisors (powers of two), few (primes) and one (a single pixel)
        yield (int(rng.choice([1, 2, 7, 64])), int(rng.choice([1, 3, 32, 64]))) + tuple(
            int(rng.choice([1, 5, 13, 16])) for _ in range(ndim - 2))


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply])
def test_per_channel_equals_numpy_broadcast_bit_for_bit(ufunc):
    rng = np.random.default_rng(3)
    for shape in _shapes(rng, 20):
        for x in (_channels_last(rng, shape), rng.standard_normal(shape).astype(np.float32)):
            v = rng.standard_normal(shape[1]).astype(np.float32)
            expected = ufunc(x, v.reshape((1, -1) + (1,) * (x.ndim - 2)))
            out = cl.per_channel(ufunc, x, v, np.empty_like(x))
            np.testing.assert_array_equal(out, expected, err_msg=f"{ufunc.__name__} {shape}")
            cl.per_channel(ufunc, x, v, x)  # in place
            np.testing.assert_array_equal(x, expected, err_msg=f"{ufunc.__name__} in place {shape}")


def test_sums_agree_with_float64_within_float32_rounding():
    rng = np.random.default_rng(4)
    for shape in _shapes(rng, 20):
        a, b = _channels_last(rng, shape), _channels_last(rng, shape)
        axes = (0, *range(2, a.ndim))
        m = a.size // a.shape[1]
        tol = 4 * np.finfo(np.float32).eps * m
        np.testing.assert_allclose(cl.channel_sum(a), a.astype(np.float64).sum(axis=axes), rtol=0, atol=tol * 4)
        np.testing.assert_allclose(cl.channel_dot(a, b), (a.astype(np.float64) * b).sum(axis=axes),
                                   rtol=0, atol=tol * 16)
        assert cl.channel_sum(a).dtype == np.float32


def test_long_rows_take_whole_pixels_and_fall_back_for_other_layouts():
    rng = np.random.default_rng(5)
    x = _channels_last(rng, (64, 32, 32, 32))
    rows = cl.long_rows(cl.pixel_matrix(x))
    assert rows.shape == (64 * 32 * 32 * 32 // cl.ROW_ELEMENTS, cl.ROW_ELEMENTS)
    assert np.shares_memory(rows, x)
    assert cl.long_rows(np.zeros((13 * 17, 32))).shape == (1, 13 * 17 * 32)  # k = 221 divides 221 pixels
    assert cl.long_rows(np.zeros((1031, 32))).shape == (1031, 32)  # a prime above 512 pixels: k = 1
    assert cl.pixel_matrix(rng.standard_normal((2, 3, 4, 5))) is None  # NCHW memory
    assert cl.pixel_matrix(x[:, :, ::2]) is None  # a strided view


def test_the_tiled_vector_lies_half_a_page_from_the_output():
    rng = np.random.default_rng(6)
    v = rng.standard_normal(32).astype(np.float32)
    for offset in range(0, 64, 4):
        near = np.empty(4096 + 64, dtype=np.float32)[offset:]
        t = cl.tiled(v, 32 * 40, near)
        assert (t.ctypes.data - near.ctypes.data) % 4096 == 2048
        np.testing.assert_array_equal(t.reshape(40, 32), np.broadcast_to(v, (40, 32)))


def test_batch_norm_kernel_on_channels_last_input_matches_float64_as_closely_as_the_reference():
    rng = np.random.default_rng(8)
    x, gy = _channels_last(rng, (16, 32, 8, 8)), rng.standard_normal((16, 32, 8, 8)).astype(np.float32)
    results = {}
    for name, reference, dtype in (("kernel", False, np.float32), ("reference", True, np.float32),
                                   ("exact", True, np.float64)):
        with kernels.use_reference(reference):
            t = nablab.tensor(x.astype(dtype), requires_grad=True)
            bn = nablab.nn.BatchNorm2d(32, dtype=dtype)
            y = bn(t)
            if name == "kernel":
                assert type(y.creator) is BatchNormTrainFused
            y.backward(nablab.tensor(gy.astype(dtype)))
            results[name] = [y.data, t.grad.data, bn.weight.grad.data, bn.bias.grad.data]
    for got, ref, exact in zip(results["kernel"], results["reference"], results["exact"]):
        scale = np.abs(exact).max()
        assert np.abs(got - exact).max() / scale <= max(2 * np.abs(ref - exact).max() / scale, 1e-6)
