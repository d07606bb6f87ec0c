"""Module-level functions PyTorch scripts call (``torch.mul``, ``torch.eq``, ``torch.normal``, …),
PyTorch's ``out=``, the Tensor methods the tutorials use (``addcmul``, ``nan_to_num``,
``softmax``, ``stride``), ``inference_mode``, dtype limits, and how tensors print — against PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch

A = [[1.5, -2.0, 0.0], [3.0, 0.25, -1.0]]
B = [[0.5, 4.0, -1.0], [2.0, -0.5, 3.0]]


def _pair(lib, dtype="float64"):
    return lib.tensor(A, dtype=getattr(lib, dtype)), lib.tensor(B, dtype=getattr(lib, dtype))


def _same(ours, theirs, rtol=1e-12):
    assert str(theirs.dtype).removeprefix("torch.") == str(ours.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol)


@pytest.mark.parametrize("name", ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "eq",
                                  "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
                                  "not_equal"])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_binary_free_functions_equal_torchs(name, dtype):
    if dtype == "float64":
        (a, b), (ta, tb) = _pair(nablab), _pair(torch)
    else:
        a, b = nablab.tensor([[3, -2], [7, 4]]), nablab.tensor([[2, 5], [-1, 4]])
        ta, tb = torch.tensor([[3, -2], [7, 4]]), torch.tensor([[2, 5], [-1, 4]])
    _same(getattr(nablab, name)(a, b), getattr(torch, name)(ta, tb))
    _same(getattr(nablab, name)(a, 2), getattr(torch, name)(ta, 2))
    if name in ("add", "sub", "subtract"):
        _same(getattr(nablab, name)(a, b, alpha=3), getattr(torch, name)(ta, tb, alpha=3))


def test_clone_addcmul_addcdiv_and_their_gradients():
    grads = []
    for lib in (nablab, torch):
        x, t1 = (v.requires_grad_() for v in _pair(lib))
        t2 = lib.tensor([[2.0, 1.0, 4.0], [0.5, -2.0, 1.0]], dtype=lib.float64, requires_grad=True)
        y = lib.addcmul(x, t1, t2, value=0.5) + lib.addcdiv(lib.clone(x), t1, t2, value=-2) + x.addcmul(t1, t2)
        (y * lib.tensor(B, dtype=lib.float64)).sum().backward()
        grads.append((y.detach(), x.grad, t1.grad, t2.grad))
    for ours, theirs in zip(*grads):
        _same(ours, theirs)


def test_nan_to_num_values_and_gradient():
    results = []
    for lib in (nablab, torch):
        x = lib.tensor([1.5, float("nan"), float("inf"), -float("inf"), -2.0], requires_grad=True)
        y1 = lib.nan_to_num(x)
        y2 = x.nan_to_num(nan=-1.0, posinf=9.0, neginf=-9.0)
        (y1 * 2 + y2).sum().backward()
        results.append((y1.detach(), y2.detach(), x.grad))
        _same(nablab.nan_to_num(nablab.tensor([1, 2])), torch.nan_to_num(torch.tensor([1, 2])))
    for ours, theirs in zip(*results):
        _same(ours, theirs)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_softmax_and_log_softmax(dim):
    results = []
    for lib in (nablab, torch):
        x = _pair(lib)[0].requires_grad_()
        s, ls = x.softmax(dim), x.log_softmax(dim=dim)
        (s * lib.tensor(B, dtype=lib.float64) + ls).sum().backward()
        results.append((s.detach(), ls.detach(), x.grad))
        _same(lib.tensor(A).softmax(dim, dtype=lib.float64) if lib is nablab else None,
              torch.tensor(A).softmax(dim, dtype=torch.float64)) if lib is nablab else None
    for ours, theirs in zip(*results):
        _same(ours, theirs)


def test_is_contiguous_and_stride_in_elements():
    for make in (lambda lib: lib.zeros(2, 3, 4), lambda lib: lib.zeros(2, 3, 4).transpose(0, 2),
                 lambda lib: lib.zeros(2, 3, 4).permute(1, 0, 2), lambda lib: lib.zeros(4, 1).expand(4, 5)):
        ours, theirs = make(nablab), make(torch)
        assert ours.is_contiguous() == theirs.is_contiguous() and ours.stride() == theirs.stride()
        assert ours.stride(-1) == theirs.stride(-1) and ours.stride(0) == theirs.stride(0)
    with pytest.raises(IndexError):
        nablab.zeros(2, 3).stride(2)


def test_out_writes_into_the_given_tensor_as_torch():
    for lib in (nablab, torch):
        a, b = _pair(lib)
        same = lib.empty(2, 2, dtype=lib.float64)
        memory = same.data_ptr()
        assert lib.matmul(a, b.T, out=same) is same and same.data_ptr() == memory
        np.testing.assert_allclose(same.numpy(), np.asarray(A) @ np.asarray(B).T)
        grown = lib.empty(0, dtype=lib.float64)
        lib.mul(a, b, out=grown)  # an empty out is resized to the result
        assert tuple(grown.shape) == (2, 3) and np.allclose(grown.numpy(), np.multiply(A, B))
        cast = lib.zeros(2, 3, dtype=lib.float32)
        lib.add(a, b, out=cast)  # float64 into float32: cast, as PyTorch
        assert cast.dtype == lib.float32 and np.allclose(cast.numpy(), np.add(A, B))
        with pytest.raises(RuntimeError, match="can't be cast"):
            lib.add(a, b, out=lib.zeros(2, 3, dtype=lib.int64))
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            lib.exp(a.clone().requires_grad_(), out=lib.empty(2, 3, dtype=lib.float64))
        values, indices = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64)
        result = lib.max(a, 1, out=(values, indices))
        assert result[0] is values and result.indices is indices
        assert values.tolist() == [1.5, 3.0] and indices.tolist() == [0, 0]
        target = lib.empty(4, 3, dtype=lib.float64)
        lib.cat([a, b], out=target)
        np.testing.assert_allclose(target.numpy(), np.concatenate([A, B]))


def test_out_under_no_grad_accepts_inputs_that_require_grad():
    for lib in (nablab, torch):
        a = lib.tensor(A, dtype=lib.float64, requires_grad=True)
        out = lib.empty(2, 3, dtype=lib.float64)
        with lib.no_grad():
            lib.sin(a, out=out)
        np.testing.assert_allclose(out.numpy(), np.sin(A))
        assert out._version == 1 and not out.requires_grad


def test_inference_mode_default_dtype_and_limits():
    for lib in (nablab, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            assert not lib.is_grad_enabled() and not (x * 2).requires_grad
        with lib.inference_mode(False):
            assert (x * 2).requires_grad
        assert lib.is_grad_enabled()
    assert str(torch.get_default_dtype()).removeprefix("torch.") == str(nablab.get_default_dtype())
    for name in ("float16", "float32", "float64"):
        ours, theirs = nablab.finfo(getattr(nablab, name)), torch.finfo(getattr(torch, name))
        for attr in ("eps", "max", "min", "tiny", "resolution", "bits"):
            assert float(getattr(ours, attr)) == getattr(theirs, attr), (name, attr)
    assert float(nablab.finfo().eps) == torch.finfo().eps
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        ours, theirs = nablab.iinfo(getattr(nablab, name)), torch.iinfo(getattr(torch, name))
        assert (ours.max, ours.min, ours.bits) == (theirs.max, theirs.min, theirs.bits)


def test_normal_bernoulli_multinomial_shapes_dtypes_and_statistics():
    nablab.manual_seed(0)
    mean, std = nablab.tensor([[0.0], [10.0]]), nablab.tensor([1.0, 2.0, 0.5])
    for lib, m, s in ((nablab, mean, std), (torch, torch.tensor([[0.0], [10.0]]), torch.tensor([1.0, 2.0, 0.5]))):
        assert tuple(lib.normal(m, s).shape) == (2, 3) and lib.normal(m, s).dtype == lib.float32
        assert tuple(lib.normal(0.0, 1.0, size=(4, 5)).shape) == (4, 5)
        assert lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float64)).dtype == lib.float64
        assert lib.multinomial(lib.tensor([1.0, 2.0, 3.0]), 2).dtype == lib.int64
        assert tuple(lib.multinomial(lib.ones(4, 6), 3).shape) == (4, 3)
    draws = nablab.normal(mean.expand(2, 3), std, size=None).numpy()
    assert abs(nablab.normal(3.0, 2.0, size=(20000,)).numpy().mean() - 3.0) < 0.05 and draws.shape == (2, 3)
    assert abs(nablab.normal(3.0, 2.0, size=(20000,)).numpy().std() - 2.0) < 0.05
    p = nablab.tensor([0.0, 0.25, 1.0]).expand(20000, 3)
    assert np.allclose(nablab.bernoulli(p).numpy().mean(0), [0.0, 0.25, 1.0], atol=0.02)
    assert np.allclose(nablab.zeros(20000).bernoulli(0.7).numpy().mean(), 0.7, atol=0.02)
    counts = np.bincount(nablab.multinomial(nablab.tensor([1.0, 0.0, 3.0]), 20000, True).numpy(), minlength=3)
    assert counts[1] == 0 and abs(counts[2] / counts.sum() - 0.75) < 0.02
    rows = nablab.multinomial(nablab.tensor([[5.0, 1.0, 1.0, 0.0]]), 3).numpy()
    assert sorted(rows[0].tolist()) == [0, 1, 2], "without replacement: each index at most once"
    with pytest.raises(RuntimeError, match="without replacement"):  # PyTorch 2.13's CPU draws the 0 weight
        nablab.multinomial(nablab.tensor([1.0, 0.0]), 2)
    for lib in (nablab, torch):
        with pytest.raises(RuntimeError):
            lib.bernoulli(lib.tensor([1.5]))


@pytest.mark.parametrize("values, dtype", [
    ([1.0, 2.0], "float32"), ([0.1, 0.2, 3.0], "float32"), ([1e-5, 1.0], "float32"), ([[1.5, -2.25], [0.0, 4.0]],
                                                                                      "float32"),
    ([1.0, 2.5], "float64"), ([3, -4, 5], "int64"), ([1, 2], "int32"), ([True, False], "bool"),
    ([1e9, 1.0], "float32"), (0.5, "float32"), (list(range(2000)), "int64"),
    (np.arange(2000.0).reshape(1000, 2).tolist(), "float32"), (np.arange(3000).reshape(3, 1000).tolist(), "int64"),
    ([0.0, 1.0, 2000.0], "float32"),
])
def test_tensors_print_as_in_torch(values, dtype):
    ours = repr(nablab.tensor(values, dtype=getattr(nablab, dtype)))
    theirs = repr(torch.tensor(values, dtype=getattr(torch, dtype)))
    assert ours == theirs.replace("torch.", "")


def test_graph_results_print_their_grad_fn_and_print_options_apply():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == repr(tx) and repr(x * 2) == repr(tx * 2)
    try:
        for lib in (nablab, torch):
            lib.set_printoptions(precision=2)
        assert repr(nablab.tensor([0.123456, 1.0])) == repr(torch.tensor([0.123456, 1.0])) == "tensor([0.12, 1.00])"
        for lib in (nablab, torch):
            lib.set_printoptions(sci_mode=True)
        assert repr(nablab.tensor([0.5, 1.5])) == repr(torch.tensor([0.5, 1.5]))
    finally:
        for lib in (nablab, torch):
            lib.set_printoptions(profile="default")
            lib.set_printoptions(sci_mode=None)
    assert repr(nablab.tensor([0.123456])) == "tensor([0.1235])"
