"""Every differentiable op of nablab against PyTorch: forward values and input gradients.

Each case runs one expression in nablab and the same expression in PyTorch on identical inputs,
back-propagates the same random upstream gradient dL/dy through both (a random one, not ones:
a transposed or mis-summed gradient cannot hide behind symmetric weights), and compares

- the output (shape, dtype and values),
- every input gradient (shape, dtype and values); float32 inputs must get float32 gradients.

Tolerances: 1e-10 (relative and absolute) in float64, 1e-5 in float32.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
import nablab.nn.functional as F  # noqa: E402

pytestmark = pytest.mark.torch

TF = torch.nn.functional
TOL = {np.float64: 1e-10, np.float32: 1e-5}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
DTYPES = [pytest.param(np.float64, id="f64"), pytest.param(np.float32, id="f32")]


# --------------------------------------------------------------------------- inputs
def make_input(spec, rng):
    """An input array from a spec: an explicit array, or (shape, domain)."""
    if isinstance(spec, np.ndarray):
        return spec
    shape, domain = spec
    if domain == "any":  # standard normal
        return rng.standard_normal(shape)
    if domain == "pos":  # safely inside the domain of log, sqrt, x ** 0.5, a ** b
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nz":  # away from 0, for denominators
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if domain == "ties":  # small integers: many exact ties and exact zeros
        return rng.integers(-2, 3, shape).astype(np.float64)
    raise ValueError(domain)


def check_parity(nb_fn, torch_fn, arrays, dtype, seed=0):
    """Run nb_fn and torch_fn on the same inputs; compare outputs and input gradients."""
    tol = TOL[dtype]
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xs = [nablab.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=TORCH_DTYPE[dtype], requires_grad=True) for a in arrays]

    y = nb_fn(*xs)
    yt = torch_fn(*ts)
    assert y.shape == tuple(yt.shape)
    assert y.dtype == dtype and yt.dtype == TORCH_DTYPE[dtype]
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol, err_msg="forward")

    gy = np.random.default_rng(seed + 1000).standard_normal(y.shape).astype(dtype)
    y.backward(gy)
    yt.backward(torch.from_numpy(gy.copy()))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is None:  # the input does not reach the output in torch either
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {i} got a gradient torch has not"
            continue
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape
        assert x.grad.dtype == dtype, f"input {i}: gradient dtype {x.grad.dtype}, input dtype {dtype}"
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"gradient of input {i}")
    return y, xs


def case(name, nb_fn, torch_fn, *specs):
    return pytest.param(nb_fn, torch_fn, specs, id=name)


def run_cases(nb_fn, torch_fn, specs, dtype):
    rng = np.random.default_rng(0)
    check_parity(nb_fn, torch_fn, [make_input(s, rng) for s in specs], dtype)


# --------------------------------------------------------------------------- arithmetic
ARITHMETIC = [
    case("add", lambda a, b: a + b, lambda a, b: a + b, ((3, 4), "any"), ((3, 4), "any")),
    case("add_bcast_3x1x4_2x4", lambda a, b: a + b, lambda a, b: a + b, ((3, 1, 4), "any"), ((2, 4), "any")),
    case("add_bcast_col_row", lambda a, b: a + b, lambda a, b: a + b, ((3, 1), "any"), ((1, 5), "any")),
    case("add_scalar", lambda a: a + 2.5, lambda a: a + 2.5, ((3, 4), "any")),
    case("radd_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, ((3, 4), "any")),
    case("sub", lambda a, b: a - b, lambda a, b: a - b, ((3, 1, 4), "any"), ((2, 4), "any")),
    case("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, ((3, 4), "any")),
    case("mul", lambda a, b: a * b, lambda a, b: a * b, ((3, 1, 4), "any"), ((2, 4), "any")),
    case("mul_0d", lambda a, b: a * b, lambda a, b: a * b, ((3, 4), "any"), ((), "any")),
    case("mul_self", lambda a: a * a, lambda a: a * a, ((3, 4), "any")),
    case("rmul_scalar", lambda a: -3.0 * a, lambda a: -3.0 * a, ((3, 4), "any")),
    case("div", lambda a, b: a / b, lambda a, b: a / b, ((3, 1, 4), "any"), ((2, 4), "nz")),
    case("div_bcast_denominator", lambda a, b: a / b, lambda a, b: a / b, ((2, 3, 4), "any"), ((3, 1), "nz")),
    case("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, ((3, 4), "nz")),
    case("neg", lambda a: -a, lambda a: -a, ((3, 4), "any")),
    case("pow_2", lambda a: a**2, lambda a: a**2, ((3, 4), "any")),
    case("pow_3_negative_base", lambda a: a**3, lambda a: a**3, ((3, 4), "nz")),
    case("pow_half", lambda a: a**0.5, lambda a: a**0.5, ((3, 4), "pos")),
    case("pow_neg_1p5", lambda a: a**-1.5, lambda a: a**-1.5, ((3, 4), "pos")),
    case("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, ((3, 1, 4), "pos"), ((2, 4), "any")),
    case("rpow_scalar_base", lambda a: 2.0**a, lambda a: 2.0**a, ((3, 4), "any")),
    case("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, ((3, 4), "any"), ((4, 5), "any")),
    case("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, ((2, 3, 4), "any"), ((2, 4, 5), "any")),
    case("matmul_bcast_batch", lambda a, b: a @ b, lambda a, b: a @ b,
         ((2, 1, 3, 4), "any"), ((3, 4, 5), "any")),
    case("matmul_3d_2d", lambda a, b: a @ b, lambda a, b: a @ b, ((2, 3, 4), "any"), ((4, 5), "any")),
    case("matmul_1d_2d", lambda a, b: a @ b, lambda a, b: a @ b, ((4,), "any"), ((4, 5), "any")),
    case("matmul_2d_1d", lambda a, b: a @ b, lambda a, b: a @ b, ((3, 4), "any"), ((4,), "any")),
    case("matmul_1d_1d", lambda a, b: a @ b, lambda a, b: a @ b, ((4,), "any"), ((4,), "any")),
    case("matmul_1d_3d", lambda a, b: a @ b, lambda a, b: a @ b, ((4,), "any"), ((2, 4, 5), "any")),
    case("matmul_fn", nablab.matmul, torch.matmul, ((3, 4), "any"), ((4, 2), "any")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs"), ARITHMETIC)
def test_arithmetic(nb_fn, torch_fn, specs, dtype):
    run_cases(nb_fn, torch_fn, specs, dtype)


# --------------------------------------------------------------------------- elementwise
def _zeros_and_bounds():
    return np.array([[-2.0, -1.0, -0.5, 0.0], [0.5, 1.0, 2.0, -1.0], [1.0, 0.0, -3.0, 0.25]])


ELEMENTWISE = [
    case("exp", lambda a: a.exp(), torch.exp, ((3, 4), "any")),
    case("exp_fn", nablab.exp, torch.exp, ((3, 4), "any")),
    case("log", lambda a: a.log(), torch.log, ((3, 4), "pos")),
    case("log_fn", nablab.log, torch.log, ((3, 4), "pos")),
    case("sqrt", lambda a: a.sqrt(), torch.sqrt, ((3, 4), "pos")),
    case("sqrt_fn", nablab.sqrt, torch.sqrt, ((3, 4), "pos")),
    case("tanh", lambda a: a.tanh(), torch.tanh, ((3, 4), "any")),
    case("tanh_large", lambda a: a.tanh(), torch.tanh, np.array([-30.0, -5.0, 0.0, 5.0, 30.0])),
    case("sigmoid", lambda a: a.sigmoid(), torch.sigmoid, ((3, 4), "any")),
    case("sigmoid_large", lambda a: a.sigmoid(), torch.sigmoid,
         np.array([-1e4, -60.0, -20.0, 0.0, 20.0, 60.0, 1e4])),
    case("relu", lambda a: a.relu(), torch.relu, _zeros_and_bounds()),
    case("relu_fn", nablab.relu, torch.relu, ((3, 4), "any")),
    case("leaky_relu_default", lambda a: a.leaky_relu(), TF.leaky_relu, _zeros_and_bounds()),
    case("leaky_relu_0.2", lambda a: a.leaky_relu(0.2), lambda a: TF.leaky_relu(a, 0.2), _zeros_and_bounds()),
    case("abs_with_zeros", lambda a: a.abs(), torch.abs, _zeros_and_bounds()),
    case("abs_fn", nablab.abs, torch.abs, ((3, 4), "any")),
    case("clip_at_bounds", lambda a: a.clip(-1.0, 1.0), lambda a: a.clamp(-1.0, 1.0), _zeros_and_bounds()),
    case("clip_min_only", lambda a: a.clip(min=-0.5), lambda a: a.clamp(min=-0.5), _zeros_and_bounds()),
    case("clip_max_only", lambda a: a.clip(max=0.5), lambda a: a.clamp(max=0.5), _zeros_and_bounds()),
    case("clamp_fn", lambda a: nablab.clamp(a, 0.0, 1.0), lambda a: torch.clamp(a, 0.0, 1.0),
         _zeros_and_bounds()),
    case("maximum", lambda a, b: a.maximum(b), torch.maximum, ((3, 4), "any"), ((3, 4), "any")),
    case("maximum_ties_bcast", nablab.maximum, torch.maximum, ((3, 1, 4), "ties"), ((2, 4), "ties")),
    case("maximum_self", lambda a: nablab.maximum(a, a), lambda a: torch.maximum(a, a), ((3, 4), "any")),
    case("maximum_scalar", lambda a: a.maximum(0.0), lambda a: torch.maximum(a, torch.zeros((), dtype=a.dtype)),
         ((3, 4), "ties")),
    case("minimum", lambda a, b: a.minimum(b), torch.minimum, ((3, 4), "any"), ((3, 4), "any")),
    case("minimum_ties_bcast", nablab.minimum, torch.minimum, ((3, 1, 4), "ties"), ((2, 4), "ties")),
    case("where", lambda c, a, b: nablab.where(c > 0, a, b), lambda c, a, b: torch.where(c > 0, a, b),
         ((3, 4), "any"), ((3, 4), "any"), ((3, 4), "any")),
    case("where_bcast", lambda c, a, b: nablab.where(c > 0, a, b), lambda c, a, b: torch.where(c > 0, a, b),
         ((2, 3, 4), "any"), ((3, 1), "any"), ((4,), "any")),
    case("where_scalar_branch", lambda c, a: nablab.where(c > 0, a, 0.0),
         lambda c, a: torch.where(c > 0, a, torch.zeros((), dtype=a.dtype)), ((3, 4), "any"), ((3, 4), "any")),
    case("improved_sigmoid", F.improved_sigmoid, lambda a: 1.7159 * torch.tanh(a * (2.0 / 3.0)),
         ((3, 4), "any")),
    case("composite_reuse", lambda a, b: (a * b + a.exp() * a).sum(axis=0) / b.sum(),
         lambda a, b: (a * b + a.exp() * a).sum(dim=0) / b.sum(), ((3, 4), "any"), ((3, 4), "pos")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs"), ELEMENTWISE)
def test_elementwise(nb_fn, torch_fn, specs, dtype):
    run_cases(nb_fn, torch_fn, specs, dtype)


# --------------------------------------------------------------------------- reductions
def _all(t):
    return tuple(range(t.ndim))


REDUCTIONS = [
    case("sum_all", lambda a: a.sum(), lambda a: a.sum(), ((2, 3, 4), "any")),
    case("sum_all_keepdims", lambda a: a.sum(keepdims=True), lambda a: a.sum(dim=_all(a), keepdim=True),
         ((2, 3, 4), "any")),
    case("sum_axis1", lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), ((2, 3, 4), "any")),
    case("sum_axis_neg", lambda a: a.sum(axis=-1, keepdims=True), lambda a: a.sum(dim=-1, keepdim=True),
         ((2, 3, 4), "any")),
    case("sum_axis_tuple", lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(dim=(0, 2)), ((2, 3, 4), "any")),
    case("sum_axis_tuple_keepdims", lambda a: nablab.sum(a, (0, -1), True),
         lambda a: a.sum(dim=(0, -1), keepdim=True), ((2, 3, 4), "any")),
    case("mean_all", lambda a: a.mean(), lambda a: a.mean(), ((2, 3, 4), "any")),
    case("mean_axis0", lambda a: a.mean(axis=0), lambda a: a.mean(dim=0), ((2, 3, 4), "any")),
    case("mean_axis_tuple_keepdims", lambda a: a.mean(axis=(1, 2), keepdims=True),
         lambda a: a.mean(dim=(1, 2), keepdim=True), ((2, 3, 4), "any")),
    case("mean_all_keepdims", lambda a: a.mean(keepdims=True), lambda a: a.mean(dim=_all(a), keepdim=True),
         ((2, 3, 4), "any")),
    case("mean_fn", lambda a: nablab.mean(a, -2), lambda a: a.mean(dim=-2), ((2, 3, 4), "any")),
    case("max_all", lambda a: a.max(), lambda a: a.amax(), ((2, 3, 4), "any")),
    case("max_all_ties", lambda a: a.max(), lambda a: a.amax(),
         np.array([[1.0, 3.0, 3.0], [3.0, -1.0, 0.0]])),
    case("max_axis_ties", lambda a: a.max(axis=1), lambda a: a.amax(dim=1), ((4, 5, 3), "ties")),
    case("max_axis_tuple_ties", lambda a: a.max(axis=(0, 2)), lambda a: a.amax(dim=(0, 2)), ((4, 5, 3), "ties")),
    case("max_keepdims_ties", lambda a: a.max(axis=-1, keepdims=True), lambda a: a.amax(dim=-1, keepdim=True),
         ((4, 5, 3), "ties")),
    case("max_all_keepdims", lambda a: a.max(keepdims=True), lambda a: a.amax(dim=_all(a), keepdim=True),
         ((2, 3), "ties")),
    case("max_fn", lambda a: nablab.max(a, 0).values, lambda a: a.amax(dim=0), ((3, 4), "any")),
    case("min_all_ties", lambda a: a.min(), lambda a: a.amin(), ((3, 4), "ties")),
    case("min_axis_ties", lambda a: a.min(axis=0), lambda a: a.amin(dim=0), ((4, 5, 3), "ties")),
    case("min_axis_tuple_keepdims", lambda a: nablab.min(a, (1, 2), True),
         lambda a: a.amin(dim=(1, 2), keepdim=True), ((4, 5, 3), "ties")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs"), REDUCTIONS)
def test_reductions(nb_fn, torch_fn, specs, dtype):
    run_cases(nb_fn, torch_fn, specs, dtype)


def test_max_tie_gradient_is_shared_equally():
    """Three tied maxima share dL/dy in thirds (torch.amax); an elementwise tie splits in halves."""
    x = nablab.tensor([1.0, 3.0, 3.0, 3.0], dtype=np.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1 / 3, 1 / 3, 1 / 3])
    a = nablab.tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    b = nablab.tensor([2.0, 2.0, 2.0], dtype=np.float64, requires_grad=True)
    nablab.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.5, 0.0])


# --------------------------------------------------------------------------- shape ops
def _idx(*parts):
    """An index usable by both libraries: numpy arrays for nablab, torch tensors for torch."""
    nb = parts[0] if len(parts) == 1 else parts
    to_torch = [torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in parts]
    tt = to_torch[0] if len(parts) == 1 else tuple(to_torch)
    return (lambda a: a[nb]), (lambda a: a[tt])


def index_case(name, *parts, shape=(4, 5, 3)):
    nb_fn, torch_fn = _idx(*parts)
    return case(name, nb_fn, torch_fn, (shape, "any"))


_MASK = np.random.default_rng(7).random((4, 5)) > 0.5

SHAPE_OPS = [
    case("reshape", lambda a: a.reshape(6, 4), lambda a: a.reshape(6, 4), ((2, 3, 4), "any")),
    case("reshape_tuple_infer", lambda a: a.reshape((4, -1)), lambda a: a.reshape(4, -1), ((2, 3, 4), "any")),
    case("reshape_fn", lambda a: nablab.reshape(a, (3, 8)), lambda a: a.reshape(3, 8), ((2, 3, 4), "any")),
    case("view", lambda a: a.view(2, 12), lambda a: a.view(2, 12), ((2, 3, 4), "any")),
    case("T_2d", lambda a: a.T, lambda a: a.T, ((3, 4), "any")),
    case("transpose_2d", lambda a: a.transpose(0, 1), lambda a: a.transpose(0, 1), ((3, 4), "any")),
    case("transpose_reverse_3d", lambda a: a.permute(2, 1, 0), lambda a: a.permute(2, 1, 0), ((2, 3, 4), "any")),
    case("transpose_perm", lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0), ((2, 3, 4), "any")),
    case("transpose_fn", lambda a: nablab.permute(a, (2, 0, 1)), lambda a: a.permute(2, 0, 1),
         ((2, 3, 4), "any")),
    case("permute", lambda a: a.permute(0, 2, 1), lambda a: a.permute(0, 2, 1), ((2, 3, 4), "any")),
    case("flatten", lambda a: a.flatten(), lambda a: a.flatten(), ((2, 3, 4), "any")),
    case("flatten_1", lambda a: a.flatten(1), lambda a: a.flatten(1), ((2, 3, 4, 2), "any")),
    case("flatten_1_2", lambda a: a.flatten(1, 2), lambda a: a.flatten(1, 2), ((2, 3, 4, 2), "any")),
    case("broadcast_to", lambda a: a.broadcast_to(2, 3, 4), lambda a: a.broadcast_to((2, 3, 4)),
         ((3, 1), "any")),
    case("broadcast_to_fn", lambda a: nablab.broadcast_to(a, (5, 2, 4)), lambda a: a.broadcast_to((5, 2, 4)),
         ((2, 4), "any")),
    case("expand", lambda a: a.expand((2, 3, 4)), lambda a: a.expand(2, 3, 4), ((1, 3, 1), "any")),
    case("concatenate_axis0", lambda a, b: nablab.concatenate([a, b]), lambda a, b: torch.cat([a, b]),
         ((2, 4), "any"), ((3, 4), "any")),
    case("concatenate_axis1_three", lambda a, b, c: nablab.concatenate([a, b, c], axis=1),
         lambda a, b, c: torch.cat([a, b, c], dim=1), ((2, 1, 3), "any"), ((2, 4, 3), "any"),
         ((2, 2, 3), "any")),
    case("cat_axis_neg", lambda a, b: nablab.cat((a, b), axis=-1), lambda a, b: torch.cat((a, b), dim=-1),
         ((2, 3), "any"), ((2, 5), "any")),
    case("concatenate_same_twice", lambda a: nablab.concatenate([a, a * 2.0]),
         lambda a: torch.cat([a, a * 2.0]), ((2, 3), "any")),
    case("stack_axis0", lambda a, b: nablab.stack([a, b]), lambda a, b: torch.stack([a, b]),
         ((3, 4), "any"), ((3, 4), "any")),
    case("stack_axis1_three", lambda a, b, c: nablab.stack([a, b, c], axis=1),
         lambda a, b, c: torch.stack([a, b, c], dim=1), ((3, 4), "any"), ((3, 4), "any"), ((3, 4), "any")),
    case("stack_axis_neg", lambda a, b: nablab.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], dim=-1),
         ((3, 4), "any"), ((3, 4), "any")),
    index_case("index_int", 1),
    index_case("index_negative_int_and_slice", -1, slice(1, 4)),
    index_case("index_slices_step", slice(1, None), slice(None, None, 2)),
    index_case("index_ellipsis_none", Ellipsis, None, 0),
    index_case("index_int_array_repeated", np.array([0, 2, 0, 0, 3])),
    index_case("index_int_array_2d_repeated", np.array([[1, 1], [3, 1]])),
    index_case("index_int_array_negative", np.array([-1, 0, -1])),
    index_case("index_slice_then_array_repeated", slice(None), np.array([4, 4, 0, 4])),
    index_case("index_two_arrays_repeated_pairs", np.array([0, 1, 0, 0]), np.array([2, 2, 2, 3])),
    index_case("index_arrays_split_by_slice", np.array([0, 1, 1]), slice(None), np.array([2, 2, 2])),
    index_case("index_array_and_int", np.array([3, 3, 1]), 2),
    index_case("index_bool_mask", _MASK),
    index_case("index_bool_mask_axis1", slice(None), np.array([True, False, True, True, False])),
    case("index_by_nablab_int_tensor", lambda a: a[nablab.tensor(np.array([1, 1, 0]))],
         lambda a: a[torch.tensor([1, 1, 0])], ((3, 4), "any")),
    case("index_by_nablab_bool_tensor", lambda a: a[a > 0], lambda a: a[a > 0], ((3, 4), "any")),
    case("index_by_list", lambda a: a[[2, 0, 2]], lambda a: a[[2, 0, 2]], ((3, 4), "any")),
    case("index_gather_rows_cols", lambda a: a[np.arange(3), np.array([1, 0, 1])],
         lambda a: a[torch.arange(3), torch.tensor([1, 0, 1])], ((3, 4), "any")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs"), SHAPE_OPS)
def test_shape_ops(nb_fn, torch_fn, specs, dtype):
    run_cases(nb_fn, torch_fn, specs, dtype)


def test_repeated_index_gradient_is_summed():
    x = nablab.tensor(np.arange(4.0), dtype=np.float64, requires_grad=True)
    x[np.array([0, 2, 0, 0])].backward(np.array([1.0, 10.0, 100.0, 1000.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [1101.0, 0.0, 10.0, 0.0])


# --------------------------------------------------------------------------- nn.functional
def _big_logits():
    return np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, 1e4], [0.0, 1e4, 1e4, -1e4]])


FUNCTIONAL = [
    case("linear", F.linear, TF.linear, ((5, 3), "any"), ((4, 3), "any"), ((4,), "any")),
    case("linear_no_bias", F.linear, TF.linear, ((5, 3), "any"), ((4, 3), "any")),
    case("linear_3d_input", F.linear, TF.linear, ((2, 5, 3), "any"), ((4, 3), "any"), ((4,), "any")),
    case("softmax_last", lambda a: F.softmax(a, dim=-1), lambda a: TF.softmax(a, dim=-1), ((3, 4, 5), "any")),
    case("softmax_axis0", lambda a: F.softmax(a, axis=0), lambda a: TF.softmax(a, dim=0), ((3, 4, 5), "any")),
    case("softmax_axis1", lambda a: F.softmax(a, 1), lambda a: TF.softmax(a, dim=1), ((3, 4, 5), "any")),
    case("softmax_big_logits", lambda a: F.softmax(a, dim=-1), lambda a: TF.softmax(a, dim=-1), _big_logits()),
    case("log_softmax_last", lambda a: F.log_softmax(a, dim=-1), lambda a: TF.log_softmax(a, dim=-1),
         ((3, 4, 5), "any")),
    case("log_softmax_axis0", lambda a: F.log_softmax(a, axis=0), lambda a: TF.log_softmax(a, dim=0),
         ((3, 4, 5), "any")),
    case("log_softmax_axis1", lambda a: F.log_softmax(a, 1), lambda a: TF.log_softmax(a, dim=1),
         ((3, 4, 5), "any")),
    case("log_softmax_big_logits", lambda a: F.log_softmax(a, axis=1), lambda a: TF.log_softmax(a, dim=1),
         _big_logits()),
    case("softmax_module", nablab.nn.Softmax(dim=0), torch.nn.Softmax(dim=0), ((3, 4), "any")),
    case("log_softmax_module", nablab.nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1), ((3, 4), "any")),
    case("l2_penalty", lambda w1, b1, w2: F.l2_penalty([w1, b1, w2], 0.03),
         lambda w1, b1, w2: 0.03 * ((w1 * w1).sum() + (w2 * w2).sum()),
         ((3, 4), "any"), ((4,), "any"), ((4, 2), "any")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("nb_fn", "torch_fn", "specs"), FUNCTIONAL)
def test_functional(nb_fn, torch_fn, specs, dtype):
    run_cases(nb_fn, torch_fn, specs, dtype)


_LABELS = np.array([0, 3, 1, 1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("scale", [pytest.param(1.0, id="normal"), pytest.param(1e4, id="pm1e4")])
def test_cross_entropy(scale, reduction, dtype):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    if scale != 1.0:  # logits of exactly ±1e4 and 0: exp overflows unless the row max is subtracted
        logits = np.sign(logits) * scale
        logits[0] = [scale, -scale, scale, 0.0]
    labels_t = torch.from_numpy(_LABELS)
    y, _ = check_parity(lambda x: F.cross_entropy(x, _LABELS, reduction=reduction),
                        lambda x: TF.cross_entropy(x, labels_t, reduction=reduction), [logits], dtype)
    assert np.isfinite(y.item())


def test_cross_entropy_takes_label_tensor_and_module():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((5, 4))
    labels = nablab.tensor(_LABELS)
    check_parity(lambda x: nablab.nn.CrossEntropyLoss()(x, labels),
                 lambda x: torch.nn.CrossEntropyLoss()(x, torch.from_numpy(_LABELS)), [logits], np.float64)


def test_cross_entropy_big_logits_gradient_finite():
    x = nablab.tensor(_big_logits(), dtype=np.float32, requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 0, 3]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.numpy()))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5])
def test_dropout_matches_torch_given_the_same_mask(p, dtype):
    """Masks come from different generators, so rebuild nablab's mask and apply it the torch way:
    y = x ⊙ m / (1 − p), dL/dx = dL/dy ⊙ m / (1 − p) (what torch.nn.functional.dropout computes)."""
    nablab.manual_seed(11)
    mask = F.dropout(nablab.tensor(np.ones((50, 40)), dtype=dtype), p).numpy() != 0
    nablab.manual_seed(11)
    x = np.random.default_rng(5).standard_normal((50, 40))
    mask_t = torch.from_numpy(mask)
    check_parity(lambda a: F.dropout(a, p), lambda a: a * mask_t / (1 - p), [x], dtype)
    if p:
        assert abs((1 - mask.mean()) - p) < 0.05


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_eval_is_identity(dtype):
    x = np.random.default_rng(6).standard_normal((4, 5))
    check_parity(lambda a: F.dropout(a, 0.5, training=False),
                 lambda a: TF.dropout(a, 0.5, training=False), [x], dtype)


# --------------------------------------------------------------------------- dtypes
def test_python_scalars_keep_float32():
    """Python numbers and float64 scalars must not promote a float32 graph (torch's rule)."""
    x = nablab.tensor(np.ones((2, 3)), dtype=np.float32, requires_grad=True)
    y = (2.0 * x + 1.0) / 3.0 - 0.5
    y = y**2 + 2.0**y + nablab.maximum(y, 0.25) + y.clip(0.0, 1.0)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
