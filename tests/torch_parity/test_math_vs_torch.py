"""Elementwise math, integer/bitwise/logical operators, reductions, scans and sorting against PyTorch.

Each table row runs one expression in nablab and in PyTorch on the same inputs and compares every
output (shape, dtype, values; the indices of (values, indices) pairs exactly) and, for floating
inputs, the input gradients under the same random upstream gradient. Shapes cover 0-d, size-1,
broadcasting and negative dims; dtypes float64 (1e-10), float32 (PyTorch's own test tolerances:
rtol 1.3e-6, atol 1e-5) and, for the ops PyTorch accepts them in, int64, int32, uint8 and bool.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    # inputs outside a function's domain give NaN (and a NumPy warning) where PyTorch gives NaN silently
    pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:var\\(\\):UserWarning"),  # PyTorch's "degrees of freedom is <= 0"
    pytest.mark.filterwarnings("ignore:std\\(\\):UserWarning"),
]

FLOATS = ["float64", "float32"]
TOL = {"float64": (1e-10, 1e-10), "float32": (1.3e-6, 1e-5)}
REFUSED = (RuntimeError, TypeError, ValueError, NotImplementedError, IndexError, ZeroDivisionError)


# --------------------------------------------------------------------------- inputs
def make(shape, domain, dtype, rng):
    """An input of ``shape`` in ``domain``, as a NumPy array of ``dtype``."""
    if domain == "any":
        x = rng.standard_normal(shape)
    elif domain == "pos":
        x = rng.uniform(0.5, 2.0, shape)
    elif domain == "unit":  # inside (−1, 1)
        x = rng.uniform(-0.9, 0.9, shape)
    elif domain == "prob":  # inside (0, 1)
        x = rng.uniform(0.1, 0.9, shape)
    elif domain == "above1":
        x = rng.uniform(1.2, 3.0, shape)
    elif domain == "nz":
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    elif domain == "offint":  # away from integers and halves: no rounding steps nearby
        x = rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape)
    elif domain == "distinct":  # no ties: maxima, medians and sorts pick one element
        n = math.prod(shape)
        x = (rng.permutation(n) * 0.37 - n * 0.15 + rng.uniform(0, 0.01)).reshape(shape)
    elif domain == "ints":  # small integers, for integer dtypes
        x = rng.integers(-4, 5, shape)
    elif domain == "zeros":  # normal values with zeros
        x = rng.standard_normal(shape) * (rng.uniform(size=shape) > 0.3)
    else:
        raise ValueError(domain)
    if dtype == "bool":
        return x > 0
    if dtype == "uint8":
        return np.abs(np.round(x)).astype(dtype)
    return np.asarray(x).astype(dtype)


def nb(a):
    """A nablab tensor of exactly a's dtype (``nablab.tensor`` alone makes float64 data float32)."""
    return nablab.tensor(a, dtype=a.dtype)


def as_list(out):
    return list(out) if isinstance(out, tuple) else [out]


def compare(ours, theirs, dtype, what):
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {ours.shape} vs torch {tuple(theirs.shape)}"
    torch_dtype = str(theirs.dtype).removeprefix("torch.")
    assert str(ours.dtype) == torch_dtype, f"{what}: dtype {ours.dtype} vs torch {torch_dtype}"
    rtol, atol = TOL.get(str(ours.dtype), (0, 0))
    expected = theirs.detach().numpy(force=True)  # force: torch gives some zero gradients as ZeroTensors
    if ours.dtype.kind in "biu":
        np.testing.assert_array_equal(ours.numpy(), expected, err_msg=what)
    else:
        np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


def check(nb_fn, torch_fn, arrays, dtype, grad=True, seed=0):
    """Outputs (all of them) and, where the inputs are floating, the gradients of the first output."""
    floating = all(a.dtype.kind == "f" for a in arrays) and grad
    xs = [nablab.tensor(a, dtype=a.dtype, requires_grad=floating) for a in arrays]
    ts = [torch.tensor(a, requires_grad=floating) for a in arrays]
    outs, touts = as_list(nb_fn(*xs)), as_list(torch_fn(*ts))
    assert len(outs) == len(touts)
    for i, (o, t) in enumerate(zip(outs, touts)):
        compare(o, t, dtype, f"output {i}")
    first, tfirst = outs[0], touts[0]
    if not floating or not tfirst.requires_grad:
        return
    gy = np.random.default_rng(seed + 1000).standard_normal(tfirst.shape).astype(tfirst.detach().numpy().dtype)
    first.backward(gy)
    tfirst.backward(torch.from_numpy(gy.copy()))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {i} got a gradient torch has not"
            continue
        assert x.grad is not None, f"input {i} got no gradient"
        compare(x.grad, t.grad, dtype, f"gradient of input {i}")


def row(name, nb_fn, torch_fn, *specs, dtypes=FLOATS, grad=True):
    """A table row: ``specs`` are (shape, domain) per input; one test per dtype in ``dtypes``."""
    return [pytest.param(nb_fn, torch_fn, specs, dtype, grad, id=f"{name}-{dtype}") for dtype in dtypes]


def run(nb_fn, torch_fn, specs, dtype, grad):
    rng = np.random.default_rng(0)
    check(nb_fn, torch_fn, [make(shape, domain, dtype, rng) for shape, domain in specs], dtype, grad)


def method(name, *args, **kwargs):
    return lambda x, *others: getattr(x, name)(*others, *args, **kwargs)


def function(module, name, *args, **kwargs):
    return lambda *xs: getattr(module, name)(*xs, *args, **kwargs)


# --------------------------------------------------------------------------- elementwise, unary
UNARY = {  # name: domain of the input
    "sin": "any", "cos": "any", "tan": "unit", "asin": "unit", "acos": "unit", "atan": "any", "sinh": "any",
    "cosh": "any", "tanh": "any", "asinh": "any", "acosh": "above1", "atanh": "unit", "exp": "any", "exp2": "any",
    "expm1": "any", "log": "pos", "log2": "pos", "log10": "pos", "log1p": "pos", "sqrt": "pos", "rsqrt": "pos",
    "erf": "any", "erfc": "any", "sigmoid": "any", "reciprocal": "nz", "square": "any", "neg": "any", "abs": "nz",
    "sign": "nz", "sgn": "nz", "floor": "offint", "ceil": "offint", "round": "offint", "trunc": "offint",
    "frac": "offint", "logit": "prob",
}
SHAPES = [(), (1,), (3, 4), (2, 1, 3)]
UNARY_ROWS = [p for name, domain in UNARY.items() for shape in SHAPES
              for p in row(f"{name}{shape}", method(name), method(name), (shape, domain))]
UNARY_ROWS += [p for name in UNARY for p in row(f"torch.{name}", function(nablab, name), function(torch, name),
                                                 ((3, 4), UNARY[name]))]
UNARY_ROWS += row("round_decimals_2", method("round", decimals=2), method("round", decimals=2), ((3, 4), "any"))
UNARY_ROWS += row("round_decimals_-1", method("round", decimals=-1), method("round", decimals=-1), ((3, 4), "any"))
UNARY_ROWS += row("logit_eps", method("logit", 0.2), method("logit", 0.2), ((3, 4), "prob"))
UNARY_ROWS += row("torch.logit_eps", function(nablab, "logit", eps=0.2), function(torch, "logit", eps=0.2),
                  ((2, 1, 3), "prob"))


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), UNARY_ROWS)
def test_unary(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["erf", "erfc", "tanh", "sigmoid", "exp", "expm1", "log1p", "atan"])
def test_unary_over_a_wide_grid(name, dtype):
    grid = np.concatenate([np.linspace(-30, 30, 2001), [0.0, -0.0, 1e-300, -1e-20, 0.46875, 4.0, 26.5]])
    if name == "log1p":
        grid = np.abs(grid)
    if name in ("exp", "expm1"):
        grid = grid[np.abs(grid) < 20]
    check(method(name), method(name), [grid.astype(dtype)], dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_at_nan_infinities_and_signed_zeros(name):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -2.5])
    check(method(name), method(name), [x], "float64", grad=False)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_of_integers_and_booleans(name, dtype):
    """PyTorch's result dtype (float32 for the floating functions), or a refusal where PyTorch refuses."""
    x = make((3, 4), "ints", dtype, np.random.default_rng(0))
    if dtype != "bool" and name in ("sqrt", "rsqrt", "log", "log2", "log10", "log1p", "acosh", "reciprocal"):
        x = np.abs(x) + 1
    try:
        expected = getattr(torch, name)(torch.tensor(x))
    except REFUSED:
        with pytest.raises(REFUSED):
            getattr(nb(x), name)()
        return
    compare(getattr(nb(x), name)(), expected, "float32", name)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eps", [None, -0.1, 0.0, 1e-6, 0.1, 0.5, 0.6, 0.21134361059882922])
def test_logit_at_0_and_1_outside_them_and_at_the_clamp_edges(eps, dtype):
    """Values and gradients where PyTorch's logit is special: ∓∞ (and an infinite gradient) at 0 and 1, NaN
    outside [0, 1] without eps (a negative eps is none), a zero gradient outside [eps, 1 − eps] and the
    formula's on its edges, and for eps > 0.5 (an empty interval) its rule x < eps → eps, x > 1 − eps → 1 − eps.
    PyTorch computes 1 − eps in the tensor's dtype: for the last eps, float32(1 − eps) is above it."""
    edges = [] if eps is None else [eps, 1 - eps, 1 - np.dtype(dtype).type(eps)]
    p = np.array([-0.5, 0.0, 1e-6, 0.1, 0.3, 0.5, 0.9, 1 - 1e-6, 1.0, 1.5, np.inf, -np.inf, *edges], dtype)
    check(method("logit", eps), method("logit", eps), [p], dtype)


@pytest.mark.parametrize("eps", [None, 0.1])
def test_logit_of_nan_is_nan_with_a_nan_gradient(eps):
    """As PyTorch's scalar code gives it. With eps, its vectorised code (whole blocks of 16 doubles or 32 floats)
    gives a zero gradient at NaN instead, so the comparison is on a tensor of one element."""
    check(method("logit", eps), method("logit", eps), [np.array([np.nan])], "float64")
    x = nablab.tensor([np.nan] * 40, dtype="float64", requires_grad=True)
    x.logit(eps).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


VALUE_TESTS = [
    ("isnan", lambda m, x: m.isnan(x)), ("isinf", lambda m, x: m.isinf(x)), ("isfinite", lambda m, x: m.isfinite(x)),
    ("isclose", lambda m, x: m.isclose(x, x + 1e-6)),
    ("isclose_equal_nan", lambda m, x: m.isclose(x, x, equal_nan=True)),
    ("logical_not", lambda m, x: m.logical_not(x)),
    ("logical_and", lambda m, x: m.logical_and(x, x > 0)), ("logical_or", lambda m, x: m.logical_or(x, x > 1)),
    ("logical_xor", lambda m, x: m.logical_xor(x, x < 0)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize(("name", "fn"), VALUE_TESTS, ids=[n for n, _ in VALUE_TESTS])
def test_tests_of_values(name, fn, dtype):
    x = np.array([[0.0, -1.5, np.inf, np.nan], [2.0, -np.inf, 1e-7, 3.0]])
    if dtype == "int64":
        x = np.array([[0, -1, 2, 3], [4, -5, 0, 1]])
    if dtype == "int64" and name.startswith("isclose"):
        return  # PyTorch refuses to compare an int tensor with a float one; nablab promotes
    x = x.astype(dtype)
    compare(fn(nablab, nb(x)), fn(torch, torch.tensor(x)), dtype, name)


def test_allclose_is_a_python_bool():
    a = np.array([1.0, 2.0, np.nan])
    assert nablab.allclose(nb(a), nablab.tensor(a + 1e-9), equal_nan=True) is True
    assert nb(a).allclose(nb(a)) is torch.allclose(torch.tensor(a), torch.tensor(a)) is False


# --------------------------------------------------------------------------- elementwise, binary
BINARY_SHAPES = [((3, 4), (3, 4)), ((2, 1, 3), (4, 3)), ((), (3,)), ((3, 1), ())]
BINARY = {  # name: (domain of a, domain of b)
    "atan2": ("any", "any"), "logaddexp": ("any", "any"), "copysign": ("nz", "nz"), "fmod": ("any", "nz"),
    "remainder": ("any", "nz"), "maximum": ("distinct", "distinct"), "minimum": ("distinct", "distinct"),
}
BINARY_ROWS = [p for name, (da, db) in BINARY.items() for sa, sb in BINARY_SHAPES
               for p in row(f"{name}{sa}{sb}", function(nablab, name), function(torch, name), (sa, da), (sb, db))]
BINARY_ROWS += row("mod_operator", operator.mod, operator.mod, ((3, 4), "any"), ((4,), "nz"))
BINARY_ROWS += row("rmod_number", lambda a: 2.5 % a, lambda a: 2.5 % a, ((3, 4), "nz"), grad=False)  # torch: no grad
BINARY_ROWS += row("mod_number", lambda a: a % -1.5, lambda a: a % -1.5, ((3, 4), "any"))
BINARY_ROWS += row("lerp_number", lambda a, b: a.lerp(b, 0.3), lambda a, b: a.lerp(b, 0.3),
                   ((3, 4), "any"), ((4,), "any"))
BINARY_ROWS += row("lerp_tensor_weight", lambda a, b, w: nablab.lerp(a, b, w), torch.lerp,
                   ((3, 1), "any"), ((4,), "any"), ((3, 4), "any"))
BINARY_ROWS += row("max_other", lambda a, b: a.max(b), lambda a, b: a.max(b), ((3, 4), "distinct"), ((4,), "any"))
BINARY_ROWS += row("torch.min_other", function(nablab, "min"), function(torch, "min"),
                   ((3, 4), "distinct"), ((3, 4), "any"))


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), BINARY_ROWS)
def test_binary(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
@pytest.mark.parametrize("name", ["atan2", "copysign", "fmod", "remainder", "maximum", "logaddexp"])
def test_binary_result_dtypes(name, dtype):
    rng = np.random.default_rng(1)
    a, b = make((3, 4), "ints", dtype, rng), make((4,), "ints", dtype, rng)
    b = np.where(b == 0, 1, b).astype(b.dtype) if dtype != "bool" else b
    try:
        expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    except REFUSED:
        return  # PyTorch has no kernel for it (nablab may compute it)
    compare(getattr(nablab, name)(nb(a), nablab.tensor(b)), expected, "float32", name)


# --------------------------------------------------------------------------- clamp with tensor bounds
CLAMP_ROWS = (
    row("clamp_tensor_both", lambda x, lo, hi: x.clamp(lo, hi), lambda x, lo, hi: x.clamp(lo, hi),
        ((3, 4), "distinct"), ((4,), "any"), ((3, 1), "any"))
    + row("clamp_tensor_min", lambda x, lo: x.clamp(min=lo), lambda x, lo: x.clamp(min=lo),
          ((2, 3), "distinct"), ((3,), "any"))
    + row("clamp_tensor_max_bcast_x", lambda x, hi: nablab.clamp(x, max=hi), lambda x, hi: torch.clamp(x, max=hi),
          ((3,), "distinct"), ((2, 3), "any"))
    + row("clip_numbers", lambda x: x.clip(-0.5, 0.7), lambda x: x.clip(-0.5, 0.7), ((3, 4), "distinct"))
    + row("clamp_min_max", lambda x, lo: x.clamp_min(lo).clamp_max(0.3), lambda x, lo: x.clamp_min(lo).clamp_max(0.3),
          ((3, 4), "distinct"), ((4,), "any"))
    + row("clamp_0d_bounds", lambda x, lo, hi: x.clamp(lo, hi), lambda x, lo, hi: x.clamp(lo, hi),
          ((3, 4), "distinct"), ((), "any"), ((), "pos"))
)


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), CLAMP_ROWS)
def test_clamp(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


def test_clamp_with_max_below_min_takes_max_and_routes_gradients_as_torch():
    x, lo, hi = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [1.5, 3.0, 2.5]
    check(lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.clamp(b, c),
          [np.array(v) for v in (x, lo, hi)], "float64")


@pytest.mark.parametrize("bound", [0.5, 2])
def test_clamp_of_an_int_tensor_promotes_as_torch(bound):
    x = np.array([0, 1, 2, 3])
    compare(nb(x).clamp(min=bound), torch.tensor(x).clamp(min=bound), "float32", "clamp")


# --------------------------------------------------------------------------- integer, bitwise operators
OPERATORS = {
    "mod": operator.mod, "floordiv": operator.floordiv, "and": operator.and_, "or": operator.or_,
    "xor": operator.xor, "lshift": operator.lshift, "rshift": operator.rshift,
}
OPERAND_DTYPES = ["int64", "int32", "uint8", "bool", "float32", "float64"]


def operand(dtype, right):
    values = [1, 2, 3, 7] if right else [-7, 0, 5, 13]
    if dtype == "bool":
        values = [True, False, True, True]
    if dtype == "uint8":
        values = [abs(v) for v in values]
    if dtype.startswith("float"):
        values = [v + 0.5 for v in values]
    return np.array(values, dtype=dtype)


def assert_same(nb_expr, torch_expr, what):
    try:
        expected = torch_expr()
    except REFUSED:
        with pytest.raises(REFUSED):
            nb_expr()
        return
    compare(nb_expr(), expected, "float64", what)


@pytest.mark.parametrize("right", OPERAND_DTYPES)
@pytest.mark.parametrize("left", OPERAND_DTYPES)
@pytest.mark.parametrize("name", list(OPERATORS))
def test_operators_over_dtype_pairs(name, left, right):
    op = OPERATORS[name]
    a, b = operand(left, False), operand(right, True)
    assert_same(lambda: op(nb(a), nb(b)), lambda: op(torch.tensor(a), torch.tensor(b)),
                f"{left} {name} {right}")


@pytest.mark.parametrize("number", [3, -2, 2.5, True])
@pytest.mark.parametrize("dtype", OPERAND_DTYPES)
@pytest.mark.parametrize("name", list(OPERATORS))
def test_operators_with_numbers_on_both_sides(name, dtype, number):
    op = OPERATORS[name]
    a = operand(dtype, False)
    if name in ("lshift", "rshift") and isinstance(number, int) and number < 0:
        return  # a negative shift is undefined behaviour in PyTorch
    if dtype == "uint8" and number < 0:
        return  # PyTorch wraps −2 around to 254; NumPy refuses to make a uint8 −2
    if name in ("mod", "floordiv") and dtype != "bool":
        a = np.where(a == 0, 1, a).astype(a.dtype)  # the number on the left divides by a
    assert_same(lambda: op(nb(a), number), lambda: op(torch.tensor(a), number), f"{dtype} {name} {number}")
    assert_same(lambda: op(number, nb(a)), lambda: op(number, torch.tensor(a)), f"{number} {name} {dtype}")


@pytest.mark.parametrize("dtype", OPERAND_DTYPES)
def test_invert(dtype):
    a = operand(dtype, False)
    assert_same(lambda: ~nb(a), lambda: ~torch.tensor(a), f"~{dtype}")


def test_shifts_past_the_bit_width_and_integer_division_by_zero():
    a, s = np.array([1, -8, 5]), np.array([70, 64, 63])
    compare(nb(a) << nablab.tensor(s), torch.tensor(a) << torch.tensor(s), "int64", "<<")
    compare(nb(a) >> nablab.tensor(s), torch.tensor(a) >> torch.tensor(s), "int64", ">>")
    for op in (operator.floordiv, operator.mod, nablab.fmod):
        with pytest.raises(ZeroDivisionError):
            op(nablab.tensor([1, 2]), nablab.tensor([1, 0]))


def test_floor_division_of_floats_matches_torch_at_the_edges():
    a = np.array([-7.0, 7.0, -0.0, 5.0, -5.0, np.inf, 1.0])
    b = np.array([2.0, -2.0, 3.0, 0.0, 0.0, 2.0, np.inf])
    compare(nablab.tensor(a, dtype="float64") // nablab.tensor(b, dtype="float64"),
            torch.tensor(a) // torch.tensor(b), "float64", "//")


# --------------------------------------------------------------------------- reductions
REDUCE_SHAPES = [((), None), ((), 0), ((1,), -1), ((3, 4), None), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), (0, 2)),
                 ((2, 3, 4), (-1, 0))]
REDUCTIONS = {  # name: (domain, extra kwargs); each with dim (where given) and keepdim False/True
    "sum": ("any", {}), "mean": ("any", {}), "prod": ("zeros", {}), "logsumexp": ("any", {}),
    "amax": ("distinct", {}), "amin": ("distinct", {}), "var": ("any", {}), "std": ("any", {}),
    "var_correction_0": ("any", {"correction": 0}), "std_unbiased_false": ("any", {"unbiased": False}),
    "norm": ("any", {}), "norm_1": ("nz", {"p": 1}), "norm_inf": ("distinct", {"p": math.inf}),
    "norm_3": ("nz", {"p": 3}), "norm_-inf": ("distinct", {"p": -math.inf}), "norm_0": ("nz", {"p": 0}),
}


def reduction(name, dim, keepdim, kwargs):
    base = name.split("_")[0]

    def call(x):
        if base == "prod" and isinstance(dim, tuple):  # torch.prod takes one dim: reduce one after the other
            for d in sorted((d % max(x.ndim, 1) for d in dim), reverse=True):
                x = x.prod(d, keepdim=keepdim)
            return x
        if base == "logsumexp" and dim is None:
            return x.logsumexp(tuple(range(x.ndim)), keepdim=keepdim)
        if dim is None and base in ("sum", "mean") and keepdim:
            return getattr(x, base)(tuple(range(x.ndim)) or None, keepdim=True, **kwargs)
        if dim is None:
            return getattr(x, base)(**kwargs)
        return getattr(x, base)(dim=dim, keepdim=keepdim, **kwargs)

    return call


REDUCTION_ROWS = [
    p for name, (domain, kwargs) in REDUCTIONS.items() for shape, dim in REDUCE_SHAPES for keepdim in (False, True)
    if not (keepdim and dim is None and name.split("_")[0] not in ("sum", "mean", "logsumexp"))
    for p in row(f"{name}{shape}dim={dim}keepdim={keepdim}", reduction(name, dim, keepdim, kwargs),
                 reduction(name, dim, keepdim, kwargs), (shape, domain))
]


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), REDUCTION_ROWS)
def test_reductions(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "norm", "logsumexp", "amax", "count_nonzero",
                                  "any", "all", "cumsum", "cumprod", "argmax", "median"])
def test_reduction_result_dtypes(name, dtype):
    x = make((3, 4), "ints", dtype, np.random.default_rng(2))
    args = (1,) if name in ("logsumexp", "cumsum", "cumprod") else ()
    assert_same(lambda: getattr(nb(x), name)(*args), lambda: getattr(torch.tensor(x), name)(*args), name)


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_sum_and_mean_with_a_dtype(dtype):
    x = np.array([[1, 2, 3], [4, 5, 7]], dtype="int32")
    compare(nb(x).sum(1, dtype=dtype), torch.tensor(x).sum(1, dtype=getattr(torch, dtype)), dtype, "sum")
    if dtype != "int32":
        compare(nb(x).mean(dtype=dtype), torch.tensor(x).mean(dtype=getattr(torch, dtype)), dtype, "mean")


@pytest.mark.parametrize("dtype", FLOATS)
def test_var_mean_and_std_mean(dtype):
    for name in ("var_mean", "std_mean"):
        for args, kwargs in [((), {}), ((1,), {"keepdim": True}), ((0,), {"correction": 0})]:
            run(function(nablab, name, *args, **kwargs), function(torch, name, *args, **kwargs),
                [((3, 4), "any")], dtype, True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_nansum_counts_nans_as_zero(dtype):
    x = np.array([[1.0, np.nan, 2.5], [np.nan, -1.0, 0.5]], dtype=dtype)
    for fn in (method("nansum"), method("nansum", 1), method("nansum", 0, keepdim=True)):
        check(fn, fn, [x], dtype)


def test_var_of_one_element_is_nan_as_torch():
    with np.errstate(all="ignore"):
        check(method("var"), method("var"), [np.array([1.5])], "float64")


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_of_infinities(dtype):
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 2.0]], dtype=dtype)
    check(method("logsumexp", 1), method("logsumexp", 1), [x], dtype, grad=False)


@pytest.mark.parametrize("dtype", FLOATS)
def test_gradients_at_zero_std_and_norm_are_zero_as_torch(dtype):
    for fn in (method("std"), method("norm"), method("std", 1)):
        check(fn, fn, [np.zeros((2, 3), dtype=dtype)], dtype)


def test_prod_gradient_with_one_and_two_zeros_per_row():
    x = np.array([[1.5, 0.0, -2.0, 3.0], [0.0, 2.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0]])
    check(method("prod", 1), method("prod", 1), [x], "float64")
    check(method("prod"), method("prod"), [x[:1]], "float64")


@pytest.mark.parametrize("shape, dim", [((0,), None), ((2, 0), 1), ((0, 3), 0)])
def test_prod_over_no_elements_is_one_with_an_empty_gradient(shape, dim):
    fn = method("prod") if dim is None else method("prod", dim)
    check(fn, fn, [np.zeros(shape)], "float64")


@pytest.mark.parametrize("name", ["max", "min", "median"])
def test_the_gradient_of_a_nan_extreme_of_all_elements_goes_to_the_nans(name):
    with np.errstate(all="ignore"):
        check(method(name), method(name), [np.array([[np.nan, 0.5], [2.0, np.nan]])], "float64")


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0, -1.5])
def test_norm_gradient_at_zero_elements_as_torch(p):
    check(method("norm", p), method("norm", p), [np.array([[0.0, -1.0, 2.0], [0.5, 0.0, -3.0]])], "float64")


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_route_the_gradient_to_both_inputs_at_a_nan(name):
    a, b = np.array([np.nan, 1.0, 2.0, 0.0]), np.array([0.0, np.nan, 2.0, np.nan])
    check(function(nablab, name), function(torch, name), [a, b], "float64")


@pytest.mark.parametrize("shape, dims", [((2, 3), (1, -1)), ((2, 3), [0, 0]), ((), (0, -1))])
def test_a_dim_given_twice_is_an_error_as_torch(shape, dims):
    for lib in (nablab, torch):
        with pytest.raises(RuntimeError, match="appears multiple times"):
            lib.ones(shape).sum(dim=dims)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_max_over_a_nonempty_dim_of_an_empty_tensor_is_empty_as_torch(name):
    check(method(name, 0), method(name, 0), [np.zeros((2, 0))], "float64")
    for lib in (nablab, torch):
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            getattr(lib.zeros(2, 0), name)(1)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_a_scan_of_a_0d_tensor_is_a_new_tensor_as_torch(name):
    for lib in (nablab, torch):
        x = lib.tensor(3.0)
        y = getattr(x, name)(0)
        assert y is not x and y.shape == ()
        y.add_(1)
        assert x.item() == 3.0 and y.item() == 4.0, lib.__name__


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    check(function(nablab, "atan2"), function(torch, "atan2"), [np.array([0.0, 1.0]), np.array([0.0, -2.0])],
          "float64")


# --------------------------------------------------------------------------- max/min/median/argmax along a dim
PICK_SHAPES = [((), 0), ((1,), -1), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1)]
PICKS = ["max", "min", "median"]
PICK_ROWS = [p for name in PICKS for shape, dim in PICK_SHAPES for keepdim in (False, True)
             for p in row(f"{name}{shape}dim={dim}keepdim={keepdim}", method(name, dim, keepdim=keepdim),
                          method(name, dim, keepdim=keepdim), (shape, "distinct"))]
PICK_ROWS += [p for name in PICKS for p in row(f"{name}_all", method(name), method(name), ((3, 4), "distinct"))]
PICK_ROWS += [p for name in PICKS for p in row(f"torch.{name}_dim", function(nablab, name, 1), function(torch, name, 1),
                                               ((3, 4), "distinct"))]
PICK_ROWS += [p for name in ("argmax", "argmin") for shape, dim in PICK_SHAPES + [((3, 4), None)]
              for keepdim in (False, True)
              for p in row(f"{name}{shape}dim={dim}keepdim={keepdim}", method(name, dim, keepdim=keepdim),
                           method(name, dim, keepdim=keepdim), (shape, "distinct"), dtypes=FLOATS + ["int64"])]
PICK_ROWS += [p for name in PICKS for p in row(f"{name}_int", method(name, 1), method(name, 1), ((3, 4), "distinct"),
                                               dtypes=["int64", "int32"])]


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), PICK_ROWS)
def test_values_and_indices_along_a_dim(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


@pytest.mark.parametrize("name", ["max", "min", "median", "amax"])
def test_ties_and_nans_pick_as_torch(name):
    x = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 2.0, 1.0, 1.0, 5.0], [0.0, np.nan, 1.0, np.nan, 0.0]])
    check(method(name), method(name), [x[:2]], "float64")  # all elements: the gradient shared among ties
    if name != "amax":
        check(method(name, 1), method(name, 1), [x[:2, :4]], "float64")  # along a dim: to the index torch picks
        check(method(name, 1), method(name, 1), [x[2:]], "float64", grad=False)


# --------------------------------------------------------------------------- any, all, count_nonzero
@pytest.mark.parametrize("dtype", ["float64", "int64", "uint8", "bool"])
@pytest.mark.parametrize("name", ["any", "all", "count_nonzero"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)])
def test_truth_reductions(name, dim, dtype):
    x = np.array([[0, 1, 2], [0, 0, 3]]).astype(dtype)
    if dim is not None and name in ("any", "all") and isinstance(dim, tuple):
        return  # torch's any/all take one dim
    args = () if dim is None else (dim,)
    assert_same(lambda: getattr(nb(x), name)(*args), lambda: getattr(torch.tensor(x), name)(*args), name)
    if name != "count_nonzero" and dim is not None:
        assert_same(lambda: getattr(nb(x), name)(dim, keepdim=True),
                    lambda: getattr(torch.tensor(x), name)(dim, keepdim=True), name)


# --------------------------------------------------------------------------- scans
SCAN_SHAPES = [((), 0), ((1,), -1), ((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1)]
SCAN_ROWS = [p for name in ("cumsum", "cumprod", "cummax", "cummin") for shape, dim in SCAN_SHAPES
             for p in row(f"{name}{shape}dim={dim}", method(name, dim), method(name, dim),
                          (shape, "distinct" if name in ("cummax", "cummin") else "any"))]
SCAN_ROWS += row("cumprod_with_zeros", method("cumprod", 1), method("cumprod", 1), ((4, 6), "zeros"))
SCAN_ROWS += row("cumprod_with_zeros_dim0", method("cumprod", 0), method("cumprod", 0), ((6, 3), "zeros"))
SCAN_ROWS += [p for name in ("cumsum", "cumprod", "cummax", "cummin")
              for p in row(f"{name}_ints", method(name, 1), method(name, 1), ((3, 4), "ints"),
                           dtypes=["int64", "int32", "uint8", "bool"])]
SCAN_ROWS += row("torch.cumsum", function(nablab, "cumsum", 0), function(torch, "cumsum", 0), ((3, 4), "any"))


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), SCAN_ROWS)
def test_scans(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_running_extremes_with_ties_and_nans(name):
    x = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [2.0, np.nan, 1.0, np.nan, 5.0, -1.0]])
    check(method(name, 1), method(name, 1), [x[:1]], "float64")
    check(method(name, 1), method(name, 1), [x], "float64", grad=False)


# --------------------------------------------------------------------------- sorting
SORT_ROWS = [p for shape, dim in PICK_SHAPES for descending in (False, True)
             for p in row(f"sort{shape}dim={dim}desc={descending}", method("sort", dim, descending),
                          method("sort", dim, descending), (shape, "distinct"))]
SORT_ROWS += [p for shape, dim in PICK_SHAPES
              for p in row(f"argsort{shape}dim={dim}", method("argsort", dim, True), method("argsort", dim, True),
                           (shape, "distinct"), dtypes=FLOATS + ["int32"])]
SORT_ROWS += [p for k, largest in [(1, True), (2, False), (4, True)]
              for p in row(f"topk{k}largest={largest}", method("topk", k, 1, largest),
                           method("topk", k, 1, largest), ((3, 4), "distinct"))]
SORT_ROWS += row("topk_dim0", method("topk", 2, 0), method("topk", 2, 0), ((3, 4), "distinct"))
SORT_ROWS += row("topk_0d", method("topk", 1), method("topk", 1), ((), "distinct"))
SORT_ROWS += row("torch.sort", function(nablab, "sort", 0), function(torch, "sort", 0), ((3, 4), "distinct"))
SORT_ROWS += row("sort_ints", method("sort"), method("sort"), ((3, 5), "distinct"), dtypes=["int64", "uint8", "bool"])


@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs", "dtype", "grad"), SORT_ROWS)
def test_sorting(nb_fn, torch_fn, specs, dtype, grad):
    run(nb_fn, torch_fn, specs, dtype, grad)


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_keeps_ties_in_order_and_nans_largest(descending):
    x = np.array([[2.0, 1.0, 2.0, np.nan, 1.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, np.nan]])
    fn = method("sort", dim=-1, descending=descending, stable=True)
    check(fn, fn, [x], "float64", grad=False)
    check(fn, fn, [x[:, :3]], "float64")


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_unique(dim, dtype):
    x = np.array([[3, 1, 3], [1, 1, 2], [3, 1, 3]]).astype(dtype)
    for kwargs in [{}, {"return_inverse": True}, {"return_counts": True},
                   {"return_inverse": True, "return_counts": True}]:
        ours = nb(x).unique(dim=dim, **kwargs)
        theirs = torch.tensor(x).unique(dim=dim, **kwargs)
        for i, (o, t) in enumerate(zip(as_list(ours), as_list(theirs))):
            compare(o, t, dtype, f"unique output {i} with {kwargs}")
    compare(nablab.unique(nablab.tensor(2.5)), torch.unique(torch.tensor(2.5)), "float32", "unique of 0-d")
