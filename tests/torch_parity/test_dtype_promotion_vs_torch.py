"""PyTorch's numeric semantics: type promotion, pow gradients at 0, 0-d reductions and arange.

For every pair of nablab's nine dtypes and every binary op, the result dtype and values equal
PyTorch's — dimensioned ⊕ dimensioned, dimensioned ⊕ 0-d, 0-d ⊕ dimensioned, 0-d ⊕ 0-d, and
tensors ⊕ Python bool/int/float on both sides. Where PyTorch refuses a combination, nablab must
refuse it too. Differences, on purpose:

- ``maximum``/``minimum`` with a Python number: PyTorch takes tensors only; nablab treats the
  number as PyTorch treats numbers elsewhere (``torch.result_type``), checked against that.
- integer ** negative integer tensor: NumPy refuses it, PyTorch computes it in integers (0 for
  2 ** −1); the exponents below are non-negative (PyTorch refuses negative integer *numbers*).
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
TOL = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}
#: left operands (bases) may be negative or 0; right operands (exponents, divisors) are ≥ 0
LEFT = {"bool": [True, False, True], "uint8": [0, 1, 3], "float16": [-1.5, 0.0, 2.0]}
RIGHT = {"bool": [True, False, False], "uint8": [1, 2, 3], "float16": [0.5, 2.0, 3.0]}
CONDITION = [True, False, True]
REFUSED = (RuntimeError, TypeError, ValueError, NotImplementedError)


def values(table, dtype):
    if dtype in table:
        return table[dtype]
    if dtype.startswith("int"):
        return [-2, 0, 3] if table is LEFT else [1, 2, 3]
    return table["float16"]


def nb_where(x, y):
    return nablab.where(nablab.tensor(CONDITION), x, y)


def torch_where(x, y):
    return torch.where(torch.tensor(CONDITION), x, y)


OPS = {
    "add": (operator.add, operator.add),
    "sub": (operator.sub, operator.sub),
    "mul": (operator.mul, operator.mul),
    "truediv": (operator.truediv, operator.truediv),
    "pow": (operator.pow, operator.pow),
    "maximum": (nablab.maximum, torch.maximum),
    "minimum": (nablab.minimum, torch.minimum),
    "where": (nb_where, torch_where),
    "lt": (operator.lt, operator.lt),
    "le": (operator.le, operator.le),
    "gt": (operator.gt, operator.gt),
    "ge": (operator.ge, operator.ge),
    "eq": (operator.eq, operator.eq),
    "ne": (operator.ne, operator.ne),
}
SCALARS = [True, 2, 0.5]


def outcome(fn, *args):
    """The result of fn(*args), or the exception it raised."""
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # bool / bool divides by False
            return fn(*args)
    except REFUSED as error:
        return error


def mismatch(label, got, want):
    """None if nablab's result (or refusal) matches PyTorch's, else what differs."""
    if isinstance(want, Exception) or isinstance(got, Exception):
        if isinstance(want, Exception) and isinstance(got, Exception):
            return None
        return f"{label}: nablab {got!r}, torch {want!r}"
    want_dtype = str(want.dtype).removeprefix("torch.")
    if str(got.dtype) != want_dtype:
        return f"{label}: dtype {got.dtype}, torch {want_dtype}"
    if got.shape != tuple(want.shape):
        return f"{label}: shape {got.shape}, torch {tuple(want.shape)}"
    tol = TOL.get(want_dtype, 0)
    try:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)
    except AssertionError as error:
        return f"{label}: values {error}"
    return None


def operand(table, dtype, zero_dim):
    data = np.array(values(table, dtype), dtype=dtype)
    data = data[:1].reshape(()) if zero_dim else data
    return nablab.tensor(data, dtype=dtype), torch.tensor(data)


@pytest.mark.parametrize("layout", ["dim-dim", "dim-0d", "0d-dim", "0d-0d"])
@pytest.mark.parametrize("op", list(OPS))
def test_every_dtype_pair_promotes_as_torch(op, layout):
    nb_fn, torch_fn = OPS[op]
    left_0d, right_0d = layout.startswith("0d"), layout.endswith("0d")
    failures = []
    for a in DTYPES:
        for b in DTYPES:
            xa, ta = operand(LEFT, a, left_0d)
            xb, tb = operand(RIGHT, b, right_0d)
            failures.append(mismatch(f"{a} {op} {b}", outcome(nb_fn, xa, xb), outcome(torch_fn, ta, tb)))
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


def torch_with_number(torch_fn, op, t, s, number_left):
    """PyTorch's result of op on a tensor and a Python number (maximum/minimum: as result_type says)."""
    if op in ("maximum", "minimum"):
        t = t.to(torch.result_type(t, s))
        s = torch.tensor(s, dtype=t.dtype)
    return torch_fn(s, t) if number_left else torch_fn(t, s)


@pytest.mark.parametrize("zero_dim", [False, True], ids=["dim", "0d"])
@pytest.mark.parametrize("op", list(OPS))
def test_tensor_and_python_number_promote_as_torch(op, zero_dim):
    nb_fn, torch_fn = OPS[op]
    failures = []
    for dtype in DTYPES:
        for s in SCALARS:
            for number_left in (False, True):
                x, t = operand(RIGHT if number_left else LEFT, dtype, zero_dim)
                got = outcome(nb_fn, *((s, x) if number_left else (x, s)))
                want = outcome(torch_with_number, torch_fn, op, t, s, number_left)
                label = f"{s!r} {op} {dtype}" if number_left else f"{dtype} {op} {s!r}"
                failures.append(mismatch(label, got, want))
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("dtype", DTYPES[1:6])
def test_integer_to_a_negative_integer_power_is_refused_as_in_torch(dtype):
    with pytest.raises(RuntimeError, match="negative integer powers"):
        torch.tensor([2], dtype=getattr(torch, dtype)) ** -1
    with pytest.raises((ValueError, OverflowError)):  # NumPy: "negative integer powers"; −1 is not a uint8
        nablab.tensor([2], dtype=dtype) ** -1


def test_the_reported_truncations_match_torch():
    x, t = nablab.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    for nb_y, t_y in [(x * 0.5, t * 0.5), (x + 0.5, t + 0.5), (2.5**x, 2.5**t), (x / x, t / t)]:
        assert nb_y.dtype == np.float32 and t_y.dtype == torch.float32
        np.testing.assert_allclose(nb_y.numpy(), t_y.numpy(), rtol=1e-6)


def test_comparisons_compare_in_the_promoted_dtype():
    """2049 becomes 2048 in float16 and 16777217 becomes 16777216 in float32, as in PyTorch."""
    for big, small, dtype in [(2049, 2048.0, "float16"), (16777217, 16777216.0, "float32")]:
        got = nablab.tensor([big]) == nablab.tensor([small], dtype=dtype)
        want = torch.tensor([big]) == torch.tensor([small], dtype=getattr(torch, dtype))
        assert got.tolist() == want.tolist() == [True]


# --------------------------------------------------------------------------- gradients' dtypes
FLOATS = ["float16", "float32", "float64"]


@pytest.mark.parametrize("b", FLOATS + ["int32", "int64"])
@pytest.mark.parametrize("a", FLOATS)
def test_gradients_come_back_in_each_inputs_dtype(a, b):
    xa = nablab.tensor([1.5, -2.0], dtype=a, requires_grad=True)
    ta = torch.tensor([1.5, -2.0], dtype=getattr(torch, a), requires_grad=True)
    grad_b = b in FLOATS
    xb = nablab.tensor([3, 4], dtype=b, requires_grad=grad_b)
    tb = torch.tensor([3, 4], dtype=getattr(torch, b), requires_grad=grad_b)
    y, yt = xa * xb + xb / xa, ta * tb + tb / ta
    assert str(y.dtype) == str(yt.dtype).removeprefix("torch.")
    y.sum().backward()
    yt.sum().backward()
    pairs = [(xa, ta)] + ([(xb, tb)] if grad_b else [])
    for x, t in pairs:
        assert x.grad.dtype == x.dtype and str(x.grad.dtype) == str(t.grad.dtype).removeprefix("torch.")
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-3)


# --------------------------------------------------------------------------- pow at 0
EXPONENTS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
BASES = [0.0, 0.5, 1.0, 2.0, -1.5]


def f64(values_, requires_grad=True):
    return (
        nablab.tensor(values_, dtype="float64", requires_grad=requires_grad),
        torch.tensor(values_, dtype=torch.float64, requires_grad=requires_grad),
    )


def assert_close(x, t):
    np.testing.assert_allclose(x.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # 0.5 · 0^−0.5 = ∞, in PyTorch too
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (−1.5)^0.5 is NaN, in PyTorch too
@pytest.mark.parametrize("c", EXPONENTS)
def test_pow_scalar_exponent_gradient_matches_torch(c):
    x, t = f64(BASES)
    g = np.linspace(0.5, 1.5, len(BASES))
    (x**c).backward(g)
    (t**c).backward(torch.tensor(g))
    assert_close(x.grad, t.grad)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_pow_tensor_gradients_match_torch():
    """Every base with every exponent (and −1, where 0⁻¹ = ∞), elementwise: dL/da and dL/db as PyTorch's."""
    bases, exponents = np.meshgrid(BASES, EXPONENTS + [-1.0])
    a, ta = f64(bases.ravel())
    b, tb = f64(exponents.ravel())
    g = np.linspace(0.5, 1.5, a.numel())
    y, yt = a**b, ta**tb
    assert_close(y, yt)
    y.backward(g)
    yt.backward(torch.tensor(g))
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("base", [0, 0.0, 0.5, 2, 2.5])
def test_pow_python_number_base_gradient_matches_torch(base):
    y, t = f64(EXPONENTS + [-1.0])
    g = np.linspace(0.5, 1.5, y.numel())
    z, zt = base**y, base**t
    assert z.dtype == np.float64
    assert_close(z, zt)
    z.backward(g)
    zt.backward(torch.tensor(g))
    assert_close(y.grad, t.grad)


# --------------------------------------------------------------------------- 0-d reductions, arange
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reductions_of_a_0d_tensor_match_torch(name, axis, keepdims):
    x, t = f64(2.5)
    y = getattr(x, name)(axis, keepdims)
    yt = getattr(t, name)(axis, keepdims)
    y = y.values if name in ("max", "min") and axis is not None else y
    yt = yt.values if name in ("max", "min") else yt
    assert y.shape == tuple(yt.shape) == ()
    assert_close(y, yt)
    y.backward(np.array(3.0))
    yt.backward(torch.tensor(3.0, dtype=torch.float64))
    assert_close(x.grad, t.grad)


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reductions_of_a_0d_tensor_match_torch(name, axis):
    y = getattr(nablab.tensor(2.5), name)(axis)
    yt = getattr(torch.tensor(2.5), name)(axis)
    assert y.shape == tuple(yt.shape) and y.dtype == np.int64 and y.item() == yt.item()


@pytest.mark.parametrize(
    "args",
    [(3,), (0, 5), (5, 0, -1), (0, 10, 3), (0.0, 3.0), (0, 1, 0.25), (2.5,), (0, 1, 0.1), (-1.3, 2.7, 0.3), (1, 4.0)],
    ids=str,
)
def test_arange_dtype_and_values_match_torch(args):
    x, t = nablab.arange(*args), torch.arange(*args)
    assert str(x.dtype) == str(t.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(x.numpy(), t.numpy())
