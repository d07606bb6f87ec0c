"""The CPU kernels of single ops (softmax, log-softmax, embedding, GELU, layer norm) against their
references, on shapes drawn at random, on one thread and on several; and the thread pool itself."""

import math

import numpy as np
import pytest

import nablab
from nablab import kernels, ops
from nablab.kernels.cpu import threads
from nablab.kernels.cpu.embedding import EmbeddingSorted
from nablab.kernels.cpu.gelu import GELUFloat32
from nablab.kernels.cpu.softmax import LogSoftmaxLastAxis, SoftmaxLastAxis
from nablab.nn import functional as F


@pytest.fixture(params=[1, 3], ids=["1 thread", "3 threads"])
def thread_count(request):
    before = nablab.get_num_threads()
    nablab.set_num_threads(request.param)
    monkey = pytest.MonkeyPatch()
    monkey.setattr(threads, "MIN_PART", 64)  # small arrays are split too, so the tests see the parts
    yield request.param
    monkey.undo()
    nablab.set_num_threads(before)


def _run(fn, *arrays, gy, reference: bool):
    """Output and input gradients of ``fn`` on fresh tensors, on the kernels or the reference."""
    with kernels.use_reference(reference):
        tensors = [nablab.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(*tensors)
        out.backward(nablab.tensor(gy))
        return out, [t.grad.data for t in tensors if t.requires_grad]


def _shapes(rng, count):
    for _ in range(count):
        ndim = int(rng.integers(1, 4))
        yield tuple(int(rng.integers(1, 9)) for _ in range(ndim - 1)) + (int(rng.choice([1, 2, 7, 64, 1000, 4099])),)


@pytest.mark.parametrize("name, fn, kernel", [
    ("softmax", lambda x: F.softmax(x, dim=-1), SoftmaxLastAxis),
    ("log_softmax", lambda x: F.log_softmax(x, dim=-1), LogSoftmaxLastAxis),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_kernels_equal_the_reference_bit_for_bit(thread_count, name, fn, kernel, dtype):
    rng = np.random.default_rng(7)
    for shape in _shapes(rng, 12):
        x = (4 * rng.standard_normal(shape)).astype(dtype)
        gy = rng.standard_normal(shape).astype(dtype)
        out, grads = _run(fn, x, gy=gy, reference=False)
        assert type(out.creator) is kernel
        ref, ref_grads = _run(fn, x, gy=gy, reference=True)
        np.testing.assert_array_equal(out.data, ref.data, err_msg=f"{name} {shape}")
        np.testing.assert_array_equal(grads[0], ref_grads[0], err_msg=f"{name} backward {shape}")


def test_softmax_kernels_take_only_the_last_axis_of_contiguous_floats():
    x = nablab.tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    assert type(F.softmax(x, dim=1).creator) is SoftmaxLastAxis
    assert type(F.softmax(x, dim=0).creator) is ops.Softmax
    assert type(F.log_softmax(x.transpose(0, 1), dim=-1).creator) is ops.LogSoftmax  # a strided view
    with kernels.use_reference():
        assert type(F.softmax(x, dim=-1).creator) is ops.Softmax


def test_softmax_kernel_keeps_infinities_as_the_reference_does():
    x = np.array([[-np.inf, 0.0, 1.0], [-np.inf, -np.inf, 2.0]], dtype=np.float32)
    gy = np.ones_like(x)
    for fn in (lambda t: F.softmax(t, -1), lambda t: F.log_softmax(t, -1)):
        out, grads = _run(fn, x, gy=gy, reference=False)
        ref, ref_grads = _run(fn, x, gy=gy, reference=True)
        np.testing.assert_array_equal(out.data, ref.data)
        np.testing.assert_array_equal(grads[0], ref_grads[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_kernel_equals_the_reference_bit_for_bit(thread_count, dtype):
    """Its rounds add each row's gradients in the order of the positions, as np.add.at does."""
    rng = np.random.default_rng(3)
    for rows, dim, index_shape, padding in [(50, 8, (4, 9), None), (5, 3, (40,), 2), (1000, 64, (16, 32), 0),
                                            (7, 1, (3, 5, 2), None), (9, 4, (0,), None), (3, 5, (200,), None),
                                            (30000, 16, (64, 128), None)]:
        weight = rng.standard_normal((rows, dim)).astype(dtype)
        idx = rng.integers(0, rows, size=index_shape)
        gy = rng.standard_normal(index_shape + (dim,)).astype(dtype)

        def fn(w, idx=idx, padding=padding):
            return F.embedding(idx, w, padding_idx=padding)

        out, grads = _run(fn, weight, gy=gy, reference=False)
        assert type(out.creator) is EmbeddingSorted
        ref, ref_grads = _run(fn, weight, gy=gy, reference=True)
        np.testing.assert_array_equal(out.data, ref.data)
        np.testing.assert_array_equal(grads[0], ref_grads[0], err_msg=f"rows {rows}, indices {index_shape}")


def test_embedding_kernel_takes_the_references_indices_and_refuses_the_same_ones(thread_count):
    """The gather runs without take's range check (a buffered copy); the kernel checks the range
    itself, so at the ops level (no F.embedding check before it) a negative index still counts from
    the end and one past either end still raises IndexError, as the reference's ``W[idx]`` does; in
    the gradient a negative index adds into the same row as its positive twin."""
    weight = np.arange(40, dtype=np.float32).reshape(10, 4)
    for idx in (np.array([[0, 9, -1], [-10, 3, 3]]), np.array([5])):
        w = nablab.tensor(weight, requires_grad=True)
        with kernels.use_reference(False):
            out = ops.Embedding.apply(w, indices=idx)
        assert type(out.creator) is EmbeddingSorted
        np.testing.assert_array_equal(out.data, weight[idx])
        gy = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
        out.backward(nablab.tensor(gy))
        expected = np.zeros_like(weight)
        np.add.at(expected, idx.reshape(-1), gy.reshape(-1, 4))  # −1 and 9 name one row: both add
        np.testing.assert_array_equal(w.grad.data, expected)
    for bad in (10, -11):
        for reference in (False, True):
            with kernels.use_reference(reference), pytest.raises(IndexError):
                ops.Embedding.apply(nablab.tensor(weight), indices=np.array([1, bad]))


def _gelu64(x):
    """GELU in float64 with math.erf: the true value of the float32 inputs."""
    x64 = x.astype(np.float64)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x64 / math.sqrt(2)))
    return x64 * cdf, cdf + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2 * math.pi)


def test_gelu_float32_kernel_is_within_float32_rounding_of_the_true_values(thread_count):
    x = np.concatenate([np.linspace(-12, 12, 40001), [0.0, -0.0, 1e-30, -1e-30, 5.65, 5.66, -5.66, 30, -30]])
    x = x.astype(np.float32)
    gy = np.ones_like(x)
    out, (gx,) = _run(F.gelu, x, gy=gy, reference=False)
    assert type(out.creator) is GELUFloat32 and out.dtype == nablab.float32
    y64, dy64 = _gelu64(x)
    # Φ is ½ + a small term, so its rounding is absolute (≈ 3e-8), and x·Φ carries it times |x|
    bound = 2.5e-7 * np.maximum(1.0, np.abs(x))
    assert np.all(np.abs(out.data - y64) <= bound), np.abs(out.data - y64).max()
    assert np.all(np.abs(gx - dy64) <= bound), np.abs(gx - dy64).max()


def test_gelu_kernel_takes_only_exact_float32_and_saves_nothing_without_a_graph():
    x32 = nablab.tensor(np.ones(5, dtype=np.float32), requires_grad=True)
    assert type(F.gelu(x32).creator) is GELUFloat32
    assert type(F.gelu(x32, approximate="tanh").creator) is ops.GELU
    assert type(F.gelu(x32.double()).creator) is ops.GELU
    fn = GELUFloat32()
    fn.recording = False
    fn.forward(np.ones(4, dtype=np.float32))
    assert fn.cdf is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_kernel_equals_the_reference_within_rounding(thread_count, dtype):
    from nablab.kernels.cpu.layer_norm import LayerNormRows

    rng = np.random.default_rng(5)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for shape, k in [((4, 6, 32), 1), ((3, 5, 7), 2), ((17, 1), 1), ((2, 300), 1), ((8, 3, 4, 5), 3)]:
        x = (3 * rng.standard_normal(shape) + 1).astype(dtype)
        w = (1 + 0.1 * rng.standard_normal(shape[-k:])).astype(dtype)
        b = rng.standard_normal(shape[-k:]).astype(dtype)
        gy = rng.standard_normal(shape).astype(dtype)

        def fn(x, w, b, k=k):
            return F.layer_norm(x, x.shape[-k:], w, b)

        out, grads = _run(fn, x, w, b, gy=gy, reference=False)
        assert type(out.creator) is LayerNormRows
        ref, ref_grads = _run(fn, x, w, b, gy=gy, reference=True)
        np.testing.assert_allclose(out.data, ref.data, **tol)
        for got, want in zip(grads, ref_grads, strict=True):
            np.testing.assert_allclose(got, want, **tol)
        with nablab.no_grad():  # x̂ in scratch blocks only
            np.testing.assert_allclose(fn(*map(nablab.tensor, (x, w, b))).data, ref.data, **tol)


def test_parallel_ranges_covers_the_range_once_in_parts_and_raises_a_parts_error(thread_count):
    seen = []
    threads.parallel_ranges(lambda lo, hi: seen.append((lo, hi)), 1000, cost_per_item=64)
    covered = sorted(seen)
    assert covered[0][0] == 0 and covered[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))
    assert len(seen) == thread_count

    def fails(lo, hi):
        if lo > 0:
            raise ArithmeticError(f"part {lo}")

    if thread_count > 1:
        with pytest.raises(ArithmeticError, match="part"):
            threads.parallel_ranges(fails, 1000, cost_per_item=64)


def test_parallel_blocks_returns_every_blocks_result_in_block_order(thread_count, monkeypatch):
    monkeypatch.setattr(threads, "BLOCK_BYTES", 64 * 4 * 8)  # 8 rows of 64 float32 per block
    out = threads.parallel_blocks(lambda lo, hi: (lo, hi), 100, row_length=64, itemsize=4)
    assert out[0][0] == 0 and out[-1][1] == 100
    assert all(a[1] == b[0] for a, b in zip(out, out[1:], strict=False))
    assert all(hi - lo <= 8 for lo, hi in out)


def test_thread_count_follows_torch_names_and_refuses_nonsense():
    before = nablab.get_num_threads()
    try:
        nablab.set_num_threads(2)
        assert nablab.get_num_threads() == 2
        for bad in (0, -1, 1.5, "2", True):
            with pytest.raises(ValueError, match="whole number"):
                nablab.set_num_threads(bad)
    finally:
        nablab.set_num_threads(before)


def test_the_environment_sets_the_default_thread_count(monkeypatch):
    monkeypatch.setenv("NABLAB_NUM_THREADS", "3")
    assert threads._default_threads() == 3
    monkeypatch.setenv("NABLAB_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="NABLAB_NUM_THREADS"):
        threads._default_threads()
    monkeypatch.delenv("NABLAB_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads._default_threads() == 1


@pytest.mark.parametrize("n, c, o, length, k, padding", [(2, 3, 5, 17, 3, 1), (1, 4, 2, 9, 5, 2), (3, 2, 6, 8, 1, 0),
                                                          (2, 6, 3, 7, 4, 0), (1, 1, 1, 5, 5, 4)])
def test_conv1d_runs_on_the_channels_last_kernel_and_equals_the_reference(n, c, o, length, k, padding):
    from nablab.kernels.cpu.conv import Conv2d1x1, Conv2dNHWC

    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((n, c, length)), rng.standard_normal((o, c, k)), rng.standard_normal(o)
    gy = rng.standard_normal((n, o, length + 2 * padding - k + 1))

    convolutions = []

    def fn(x, w, b):
        y = F.conv1d(x, w, b, padding=padding)
        convolutions.append(type(y.creator.input_creators[0]))  # the node the Reshape to (N, O, L) reads
        return y

    out, grads = _run(fn, x, w, b, gy=gy, reference=False)
    assert convolutions[0] in (Conv2dNHWC, Conv2d1x1)
    ref, ref_grads = _run(fn, x, w, b, gy=gy, reference=True)
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nll_loss_kernel_equals_the_reference_bit_for_bit(reduction, dtype):
    from nablab.kernels.cpu.nll_loss import NLLLossBatch

    rng = np.random.default_rng(2)
    for n, c in [(1, 1), (5, 3), (64, 10), (300, 1000)]:
        logp = rng.standard_normal((n, c)).astype(dtype)
        target = rng.integers(0, c, n)
        gy = np.asarray(rng.standard_normal(), dtype=dtype)
        nodes = []

        def fn(x, target=target, nodes=nodes):
            y = F.nll_loss(x, target, reduction=reduction)
            nodes.append(type(y.creator))
            return y

        out, grads = _run(fn, logp, gy=gy, reference=False)
        ref, ref_grads = _run(fn, logp, gy=gy, reference=True)
        assert nodes == [NLLLossBatch, ops.NLLLoss]
        assert out.dtype == ref.dtype and out.shape == ()
        np.testing.assert_array_equal(out.data, ref.data)
        np.testing.assert_array_equal(grads[0], ref_grads[0])


@pytest.mark.parametrize("target_dtype", [np.int64, np.int32, np.int16])
def test_nll_loss_kernel_hands_ignored_and_wrong_targets_to_the_reference(target_dtype):
    logp = np.log(np.full((3, 4), 0.25))
    gy = np.asarray(1.0)
    target = np.array([1, -100, 2], dtype=target_dtype)  # the kernel's range check reads it as unsigned
    out, (g,) = _run(lambda x: F.nll_loss(x, target), logp, gy=gy, reference=False)
    ref, (ref_g,) = _run(lambda x: F.nll_loss(x, target), logp, gy=gy, reference=True)
    np.testing.assert_array_equal(out.data, ref.data)
    np.testing.assert_array_equal(g, ref_g)
    assert not g[1].any()
    assert out.data == pytest.approx(-np.log(0.25))  # the mean over the two targets not ignored
    with pytest.raises(IndexError, match="target 4 is out of range"):
        F.nll_loss(nablab.tensor(logp), np.array([1, 4, 2]))
