"""The activations, the softmax family and the losses of nablab.nn / nn.functional against PyTorch.

Each case is one expression written once for both libraries: ``expr(L, *inputs)``, where ``L`` is
nablab's or torch's namespace (``L.F``, ``L.nn``) and ``L.c(array)`` makes a constant (labels stay
int64, floats take the inputs' dtype). Both run on the same inputs; the same random upstream
gradient goes back through both; then the output (shape, dtype, values) and every input gradient
(shape, dtype, values) must agree: to 1e-10 in float64, and in float32 to PyTorch's own op-test
tolerances (rtol 1.3e-6, atol 1e-5).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import errors  # noqa: E402

pytestmark = pytest.mark.torch

TOL = {np.float64: (1e-10, 1e-10), np.float32: (1.3e-6, 1e-5)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
DTYPES = [pytest.param(np.float64, id="f64"), pytest.param(np.float32, id="f32")]


class NablabNamespace:
    F, nn = nablab.nn.functional, nablab.nn

    def __init__(self, dtype):
        self.dtype = dtype

    def c(self, a):
        a = np.asarray(a)
        return nablab.tensor(a, dtype=self.dtype) if a.dtype.kind == "f" else nablab.tensor(a)

    def leaf(self, a):
        return nablab.tensor(a, dtype=self.dtype, requires_grad=True)


class TorchNamespace:
    F, nn = torch.nn.functional, torch.nn

    def __init__(self, dtype):
        self.dtype = dtype

    def c(self, a):
        a = np.asarray(a)
        return torch.tensor(a, dtype=TORCH_DTYPE[self.dtype]) if a.dtype.kind == "f" else torch.from_numpy(a)

    def leaf(self, a):
        return torch.tensor(np.asarray(a), dtype=TORCH_DTYPE[self.dtype], requires_grad=True)


def check_parity(expr, arrays, dtype, grads=None, seed=0, grad_rtol=None):
    """Run ``expr`` in both libraries; compare outputs and the gradients of the inputs flagged in ``grads``
    (to ``grad_rtol`` instead of the dtype's tolerance where given)."""
    rtol, atol = TOL[dtype]
    grads = grads or [True] * len(arrays)
    nb, tl = NablabNamespace(dtype), TorchNamespace(dtype)
    xs = [nb.leaf(a) if g else nb.c(np.asarray(a, dtype=dtype)) for a, g in zip(arrays, grads)]
    ts = [tl.leaf(a) if g else tl.c(np.asarray(a, dtype=dtype)) for a, g in zip(arrays, grads)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # both libraries warn alike for broadcast targets
        y, yt = expr(nb, *xs), expr(tl, *ts)
    assert y.shape == tuple(yt.shape)
    assert y.dtype == dtype and yt.dtype == TORCH_DTYPE[dtype]
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward")
    gy = np.random.default_rng(seed + 1000).standard_normal(y.shape).astype(dtype)
    y.backward(gy)
    yt.backward(torch.from_numpy(gy.copy()))
    for i, (x, t, g) in enumerate(zip(xs, ts, grads)):
        if not g:
            continue
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape and x.grad.dtype == dtype
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=grad_rtol or rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
    return y


def case(name, expr, *arrays, grads=None):
    return pytest.param(expr, arrays, grads, id=name)


RNG = np.random.default_rng(0)
#: the kinks of the piecewise activations, put exactly into the inputs: PyTorch's one-sided choices count
KINKS = [-3.0, -1.0, -0.5, 0.0, 1.0, 2.0, 3.0, 6.0]


def wide(*shape):
    x = RNG.standard_normal(shape) * 4
    flat = x.reshape(-1)
    n = min(flat.size, len(KINKS)) if len(shape) else 0
    flat[:n] = KINKS[:n]
    return x


def normal(*shape):
    return RNG.standard_normal(shape)


def probabilities(*shape):
    return RNG.uniform(0.05, 0.95, shape)


def distribution(*shape, axis=1):
    p = RNG.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- activations
ACTIVATION_EXPRS = {
    "relu": lambda L, x: L.F.relu(x),
    "relu_module_inplace": lambda L, x: L.nn.ReLU(inplace=True)(x * 1.0),
    "leaky_relu": lambda L, x: L.F.leaky_relu(x, 0.2),
    "sigmoid": lambda L, x: L.F.sigmoid(x),
    "tanh": lambda L, x: L.F.tanh(x),
    "gelu": lambda L, x: L.F.gelu(x),
    "gelu_tanh": lambda L, x: L.F.gelu(x, approximate="tanh"),
    "gelu_module_tanh": lambda L, x: L.nn.GELU("tanh")(x),
    "silu": lambda L, x: L.F.silu(x),
    "silu_module": lambda L, x: L.nn.SiLU()(x),
    "elu": lambda L, x: L.F.elu(x),
    "elu_alpha": lambda L, x: L.nn.ELU(alpha=0.5)(x),
    "selu": lambda L, x: L.F.selu(x),
    "selu_module": lambda L, x: L.nn.SELU(inplace=False)(x),
    "celu": lambda L, x: L.F.celu(x, alpha=2.0),
    # an α exact in float32: PyTorch's CELU backward rounds 1/α through float32 (ours stays exact)
    "celu_module": lambda L, x: L.nn.CELU(0.75)(x),
    "softplus": lambda L, x: L.F.softplus(x),
    "softplus_beta_threshold": lambda L, x: L.nn.Softplus(beta=2.0, threshold=1.0)(x),
    "softsign": lambda L, x: L.nn.Softsign()(x),
    "mish": lambda L, x: L.F.mish(x),
    "hardswish": lambda L, x: L.F.hardswish(x),
    "hardswish_module": lambda L, x: L.nn.Hardswish()(x),
    "hardsigmoid": lambda L, x: L.F.hardsigmoid(x),
    "hardtanh": lambda L, x: L.F.hardtanh(x),
    "hardtanh_bounds": lambda L, x: L.nn.Hardtanh(-0.5, 2.0)(x),
    "relu6": lambda L, x: L.F.relu6(x),
    "relu6_module": lambda L, x: L.nn.ReLU6(inplace=True)(x * 1.0),
    "logsigmoid": lambda L, x: L.F.logsigmoid(x),
    "logsigmoid_module": lambda L, x: L.nn.LogSigmoid()(x),
    "threshold": lambda L, x: L.F.threshold(x, 1.0, -2.0),
    "threshold_module": lambda L, x: L.nn.Threshold(0.0, 0.5)(x),
    "hardshrink": lambda L, x: L.F.hardshrink(x),
    "hardshrink_module": lambda L, x: L.nn.Hardshrink(1.0)(x),
    "softshrink": lambda L, x: L.F.softshrink(x, 1.0),
    "softshrink_module": lambda L, x: L.nn.Softshrink()(x),
    "tanhshrink": lambda L, x: L.nn.Tanhshrink()(x),
}
ACTIVATION_SHAPES = {"0d": (), "size1": (1,), "2d": (3, 8), "4d": (2, 3, 4, 5)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", list(ACTIVATION_SHAPES.values()), ids=list(ACTIVATION_SHAPES))
@pytest.mark.parametrize("name", list(ACTIVATION_EXPRS))
def test_activation(name, shape, dtype):
    # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 even in float64 (a relative
    # 3e-8 off); ours is exact, as the next test checks
    grad_rtol = 5e-8 if name == "hardsigmoid" and dtype == np.float64 else None
    check_parity(ACTIVATION_EXPRS[name], [wide(*shape)], dtype, grad_rtol=grad_rtol)


def test_hardsigmoid_gradient_is_exactly_one_sixth_inside():
    x = nablab.tensor(np.array([-4.0, -3.0, -1.0, 0.5, 2.9, 3.0]), dtype="float64", requires_grad=True)
    nablab.nn.functional.hardsigmoid(x).backward(np.full(6, 6.0))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 1.0, 1.0, 0.0])


def test_activations_keep_extreme_inputs_finite():
    x = np.array([-1e4, -100.0, -30.0, 30.0, 100.0, 1e4])
    for name in ("gelu", "gelu_tanh", "silu", "elu", "selu", "celu", "softplus", "mish", "logsigmoid"):
        check_parity(ACTIVATION_EXPRS[name], [x], np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "n"), [((2, 3, 4), 3), ((5, 3), 3), ((5, 3), 1), ((4,), 1), ((), 1)],
                         ids=["3d_per_channel", "2d_per_channel", "2d_one", "1d_one", "0d_one"])
def test_prelu(shape, n, dtype):
    w = RNG.uniform(0.05, 0.5, n)
    check_parity(lambda L, x, a: L.F.prelu(x, a), [wide(*shape), w], dtype)


def test_prelu_module_learns_its_slopes():
    layer, t_layer = nablab.nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert [n for n, _ in layer.named_parameters()] == ["weight"] and layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.numpy(), t_layer.weight.detach().numpy())
    x = wide(2, 3, 4).astype(np.float32)
    layer(nablab.tensor(x)).sum().backward()
    t_layer(torch.from_numpy(x)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), t_layer.weight.grad.numpy(), rtol=1e-6)
    with pytest.raises(errors.ShapeError, match=r"3 slopes for an input of shape \(2, 4\) with 4 channels"):
        layer(nablab.tensor(np.zeros((2, 4))))


# --------------------------------------------------------------------------- softmax, normalize, cosine, one_hot
def _along(fn, dim):
    return lambda L, x: getattr(L.F, fn)(x, dim=dim)


SOFTMAX = [
    case(f"{fn}_{dim_id}_{shape_id}", _along(fn, dim), normal(*shape))
    for fn in ("softmax", "log_softmax")
    for dim_id, dim in (("dim0", 0), ("dim1", 1), ("dimneg1", -1))
    for shape_id, shape in (("0d", ()), ("1d", (5,)), ("size1", (1, 1)), ("2d", (3, 4)), ("4d", (2, 3, 4, 5)))
    if -max(len(shape), 1) <= dim < max(len(shape), 1)
] + [
    case("softmax_module_dim1", lambda L, x: L.nn.Softmax(dim=1)(x), normal(2, 3, 4)),
    case("log_softmax_module_dimneg2", lambda L, x: L.nn.LogSoftmax(dim=-2)(x), normal(2, 3, 4)),
    case("softmin_dim1", lambda L, x: L.F.softmin(x, dim=1), normal(2, 3, 4)),
    case("softmin_module", lambda L, x: L.nn.Softmin(dim=-1)(x), normal(3, 4)),
    case("softmax2d_4d", lambda L, x: L.nn.Softmax2d()(x), normal(2, 3, 2, 2)),
    case("softmax2d_3d", lambda L, x: L.nn.Softmax2d()(x), normal(3, 2, 4)),
    case("glu_last", lambda L, x: L.F.glu(x), normal(3, 6)),
    case("glu_dim1_module", lambda L, x: L.nn.GLU(dim=1)(x), normal(2, 4, 3)),
    case("glu_negative_dim", lambda L, x: L.F.glu(x, dim=-3), normal(2, 3, 5)),
    case("softmax_big_logits", lambda L, x: L.F.softmax(x, dim=1), np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])),
    case("log_softmax_big_logits", lambda L, x: L.F.log_softmax(x, 1), np.array([[1e4, -1e4, 0.0], [-1e4, 0, 1e4]])),
    case("softmax_over_an_empty_dim", lambda L, x: L.F.softmax(x, dim=1), np.zeros((2, 0))),
    case("log_softmax_of_no_rows", lambda L, x: L.F.log_softmax(x, dim=1), np.zeros((0, 3))),
    case("log_softmax_over_an_empty_dim", lambda L, x: L.F.log_softmax(x, dim=-1), np.zeros((3, 0))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("expr", "arrays", "grads"), SOFTMAX)
def test_softmax_family(expr, arrays, grads, dtype):
    check_parity(expr, list(arrays), dtype, grads)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)], ids=["0d", "1d", "2d", "3d", "4d"])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_without_dim_chooses_and_warns_as_torch(fn, shape):
    x = normal(*shape)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        expected = getattr(torch.nn.functional, fn)(torch.from_numpy(x)).numpy()
    with pytest.warns(UserWarning, match="Implicit dimension"):
        got = getattr(nablab.nn.functional, fn)(nablab.tensor(x, dtype="float64")).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        nablab.nn.Softmax()(nablab.tensor(x))


def test_glu_and_softmax2d_reject_bad_shapes():
    F = nablab.nn.functional
    with pytest.raises(errors.ShapeError, match="halved dimension -1 must have an even size, got 3"):
        F.glu(nablab.tensor(normal(2, 3)))
    with pytest.raises(errors.ShapeError, match="3-D or 4-D input"):
        nablab.nn.Softmax2d()(nablab.tensor(normal(2, 3)))


def test_softmax_axis_alias_and_dtype_argument():
    x = normal(3, 4)
    np.testing.assert_allclose(nablab.nn.functional.softmax(nablab.tensor(x), axis=0).numpy(),
                               torch.softmax(torch.from_numpy(x), 0).numpy(), rtol=1e-6)
    y = nablab.nn.functional.log_softmax(nablab.tensor(x), dim=1, dtype="float64")
    assert y.dtype == np.float64
    with pytest.raises(TypeError, match="both dim=0 and axis=1"):
        nablab.nn.functional.softmax(nablab.tensor(x), dim=0, axis=1)
    with pytest.raises(errors.DimError, match="dim 2 is out of range"):
        nablab.nn.functional.softmax(nablab.tensor(x), dim=2)


NORMALIZE = [
    case("normalize_default", lambda L, x: L.F.normalize(x), normal(3, 4)),
    case("normalize_p1_dim0", lambda L, x: L.F.normalize(x, p=1, dim=0), wide(3, 4)),
    case("normalize_p3_dimneg1", lambda L, x: L.F.normalize(x, p=3.0, dim=-1), normal(2, 3, 4)),
    case("normalize_pinf", lambda L, x: L.F.normalize(x, p=float("inf"), dim=1), normal(2, 5)),
    case("normalize_1d", lambda L, x: L.F.normalize(x, dim=0), normal(5)),
    case("normalize_eps_clamps", lambda L, x: L.F.normalize(x, dim=1, eps=10.0), normal(3, 4)),
    case("normalize_p_half_with_zeros", lambda L, x: L.F.normalize(x, p=0.5, dim=1), np.array([[0.0, 1.0, -2.0]])),
    case("normalize_p1.5_with_zeros", lambda L, x: L.F.normalize(x, p=1.5, dim=0), np.array([[0.0, 1.0], [3.0, 0.0]])),
    case("cosine_similarity_default", lambda L, a, b: L.F.cosine_similarity(a, b), normal(4, 5), normal(4, 5)),
    case("cosine_similarity_broadcast", lambda L, a, b: L.F.cosine_similarity(a, b, dim=-1),
         normal(3, 1, 4), normal(5, 4)),
    case("cosine_similarity_1d", lambda L, a, b: L.F.cosine_similarity(a, b, dim=0), normal(6), normal(6)),
    case("cosine_similarity_dim2_eps", lambda L, a, b: L.F.cosine_similarity(a, b, dim=2, eps=1e-3),
         normal(2, 3, 4), normal(2, 3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("expr", "arrays", "grads"), NORMALIZE)
def test_normalize_and_cosine_similarity(expr, arrays, grads, dtype):
    check_parity(expr, list(arrays), dtype, grads)


@pytest.mark.parametrize(("labels", "num_classes"), [
    (np.array([0, 3, 1]), -1), (np.array([[0, 2], [1, 1]]), 4), (np.array(2), 3), (np.array([], dtype=np.int64), 2),
], ids=["1d_inferred", "2d", "0d", "empty"])
def test_one_hot(labels, num_classes):
    got = nablab.nn.functional.one_hot(nablab.tensor(labels), num_classes)
    expected = torch.nn.functional.one_hot(torch.from_numpy(labels), num_classes)
    assert got.dtype == np.int64 and expected.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_one_hot_rejects_bad_labels():
    F = nablab.nn.functional
    with pytest.raises(RuntimeError, match="class value 3 is out of range for num_classes=3"):
        F.one_hot(nablab.tensor(np.array([0, 3])), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(nablab.tensor(np.array([0, -1])))
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(nablab.tensor(np.array([0.0, 1.0])))


# --------------------------------------------------------------------------- class-index losses
LABELS = {
    "unbatched": (np.array(2), (4,)),
    "2d": (np.array([0, 3, 1, 1, 2]), (5, 4)),
    "2d_ignored": (np.array([0, -100, 1, -100, 2]), (5, 4)),
    "3d": (np.array([[0, 2, 1], [3, -100, 0]]), (2, 4, 3)),
    "4d": (np.array([[[0, 2], [1, 3]], [[3, 3], [-100, 1]]]), (2, 4, 2, 2)),
}
WEIGHT4 = np.array([0.3, 1.0, 2.5, 0.7])


def class_index_cases():
    for lname, (y, shape) in LABELS.items():
        for reduction in ("mean", "sum", "none"):
            for weighted in (False, True):
                w = WEIGHT4 if weighted else None
                tag = f"{lname}_{reduction}" + ("_weight" if weighted else "")

                def nll(L, x, y=y, w=w, reduction=reduction):
                    return L.F.nll_loss(L.F.log_softmax(x, 1 if x.ndim > 1 else 0), L.c(y),
                                        weight=None if w is None else L.c(w), reduction=reduction)

                def ce(L, x, y=y, w=w, reduction=reduction, eps=0.0):
                    return L.F.cross_entropy(x, L.c(y), weight=None if w is None else L.c(w), reduction=reduction,
                                             label_smoothing=eps)

                yield case(f"nll_{tag}", nll, normal(*shape))
                yield case(f"cross_entropy_{tag}", ce, normal(*shape))
                yield case(f"cross_entropy_smoothing_{tag}", lambda L, x, ce=ce: ce(L, x, eps=0.2), normal(*shape))


CLASS_INDEX = list(class_index_cases()) + [
    case("nll_ignore_index_1", lambda L, x: L.F.nll_loss(x, L.c(np.array([1, 0, 1, 2])), ignore_index=1), normal(4, 3)),
    case("cross_entropy_ignore_index_0_weight_smoothing",
         lambda L, x: L.F.cross_entropy(x, L.c(np.array([1, 0, 0, 2])), L.c(np.array([1.0, 2.0, 0.5])),
                                        ignore_index=0, label_smoothing=0.3), normal(4, 3)),
    case("cross_entropy_big_logits", lambda L, x: L.F.cross_entropy(x, L.c(np.array([2, 1]))),
         np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1.0]])),
    case("nll_loss_module", lambda L, x: L.nn.NLLLoss(weight=L.c(WEIGHT4), reduction="sum")(x, L.c(LABELS["3d"][0])),
         normal(2, 4, 3)),
    case("cross_entropy_module", lambda L, x: L.nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=3)(
        x, L.c(LABELS["2d"][0])), normal(5, 4)),
    case("cross_entropy_legacy_reduce_false", lambda L, x: L.nn.CrossEntropyLoss(reduce=False)(
        x, L.c(LABELS["2d"][0])), normal(5, 4)),
    case("cross_entropy_legacy_size_average_false", lambda L, x: L.F.cross_entropy(
        x, L.c(LABELS["2d"][0]), size_average=False), normal(5, 4)),
    # every target ignored: the mean is NaN, the gradient 0 (not NaN) as in PyTorch
    case("nll_every_target_ignored", lambda L, x: L.F.nll_loss(x, L.c(np.array([-100, -100]))), normal(2, 3)),
    case("cross_entropy_every_target_ignored", lambda L, x: L.F.cross_entropy(x, L.c(np.array([1, 1])),
                                                                               ignore_index=1), normal(2, 3)),
    case("cross_entropy_smoothing_every_target_ignored", lambda L, x: L.F.cross_entropy(
        x, L.c(np.array([[-100, -100]])), label_smoothing=0.1), normal(1, 3, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("expr", "arrays", "grads"), CLASS_INDEX)
def test_class_index_losses(expr, arrays, grads, dtype):
    check_parity(expr, list(arrays), dtype, grads)


def probability_target_cases():
    for shape_id, shape in (("unbatched", (4,)), ("2d", (5, 4)), ("4d", (2, 4, 2, 3))):
        for reduction in ("mean", "sum", "none"):
            for weighted, eps in ((False, 0.0), (True, 0.0), (False, 0.25), (True, 0.1)):
                tag = f"{shape_id}_{reduction}" + ("_weight" if weighted else "") + (f"_smooth{eps}" if eps else "")

                def ce(L, x, t, w=WEIGHT4 if weighted else None, reduction=reduction, eps=eps):
                    return L.F.cross_entropy(x, t, weight=None if w is None else L.c(w), reduction=reduction,
                                             label_smoothing=eps)

                yield case(f"cross_entropy_probabilities_{tag}", ce, normal(*shape),
                           distribution(*shape, axis=1 if len(shape) > 1 else 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("expr", "arrays", "grads"), list(probability_target_cases()))
def test_cross_entropy_probability_targets(expr, arrays, grads, dtype):
    check_parity(expr, list(arrays), dtype, grads)


def test_the_plain_cross_entropy_runs_fused():
    x = nablab.tensor(normal(5, 4), requires_grad=True)
    loss = nablab.nn.functional.cross_entropy(x, LABELS["2d"][0])
    assert type(loss.creator).__name__ == "SoftmaxCrossEntropy"
    loss = nablab.nn.functional.cross_entropy(x, LABELS["2d_ignored"][0])
    assert isinstance(loss.creator, nablab.ops.NLLLoss)  # the reference, or its kernel (which hands it back)


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
def test_class_index_losses_reject_bad_targets(fn):
    f = getattr(nablab.nn.functional, fn)
    x = nablab.tensor(normal(2, 3, 4))
    with pytest.raises(IndexError, match="target 3 is out of range: there are 3 classes"):
        f(x, np.array([[0, 1, 2, 3], [0, 0, 0, 0]]))
    with pytest.raises(IndexError, match="target -2 is out of range"):
        f(nablab.tensor(normal(2, 3)), np.array([-2, 0]))
    with pytest.raises(errors.ShapeError, match=r"shape \(2, 3, 4\) needs a target of shape \(2, 4\), got \(2, 3\)"):
        f(x, np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(errors.ShapeError, match=r"weight must have shape \(3,\)"):
        f(x, np.zeros((2, 4), dtype=np.int64), weight=np.ones(4))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        f(x, np.zeros((2, 4), dtype=np.int64), reduction="avg")


def test_cross_entropy_probability_target_shape_must_match():
    with pytest.raises(errors.ShapeError, match=r"target's shape \(2, 4\) differs from the input's \(2, 3\)"):
        nablab.nn.functional.cross_entropy(nablab.tensor(normal(2, 3)), nablab.tensor(distribution(2, 4)))


# --------------------------------------------------------------------------- binary and regression losses
def elementwise_cases():
    shapes = (("0d", ()), ("1d", (5,)), ("2d", (3, 4)), ("4d", (2, 3, 2, 4)))
    for shape_id, shape in shapes:
        for reduction in ("mean", "sum", "none"):
            tag = f"{shape_id}_{reduction}"
            yield case(f"bce_{tag}", lambda L, x, t, r=reduction: L.F.binary_cross_entropy(x, t, reduction=r),
                       probabilities(*shape), probabilities(*shape))
            yield case(f"bce_with_logits_{tag}",
                       lambda L, x, t, r=reduction: L.F.binary_cross_entropy_with_logits(x, t, reduction=r),
                       normal(*shape) * 3, probabilities(*shape))
            yield case(f"mse_{tag}", lambda L, x, t, r=reduction: L.F.mse_loss(x, t, reduction=r),
                       normal(*shape), normal(*shape))
            yield case(f"l1_{tag}", lambda L, x, t, r=reduction: L.F.l1_loss(x, t, reduction=r),
                       normal(*shape), normal(*shape))
            for beta in (1.0, 0.5, 0.0):
                yield case(f"smooth_l1_beta{beta}_{tag}",
                           lambda L, x, t, r=reduction, b=beta: L.F.smooth_l1_loss(x, t, reduction=r, beta=b),
                           normal(*shape) * 2, normal(*shape))
            for delta in (1.0, 0.3):
                yield case(f"huber_delta{delta}_{tag}",
                           lambda L, x, t, r=reduction, d=delta: L.F.huber_loss(x, t, reduction=r, delta=d),
                           normal(*shape) * 2, normal(*shape))
            for log_target in (False, True):
                yield case(f"kl_div_log_target{log_target}_{tag}",
                           lambda L, x, t, r=reduction, lt=log_target: L.F.kl_div(x, t, reduction=r, log_target=lt),
                           np.log(probabilities(*shape)), np.log(probabilities(*shape)) if log_target
                           else probabilities(*shape))
        yield case(f"kl_div_batchmean_{shape_id}", lambda L, x, t: L.F.kl_div(x, t, reduction="batchmean"),
                   np.log(probabilities(*shape)), probabilities(*shape))


W34 = probabilities(3, 4)
ELEMENTWISE = list(elementwise_cases()) + [
    case("bce_weight_broadcast", lambda L, x, t: L.F.binary_cross_entropy(x, t, weight=L.c(np.array([0.5, 2, 1, 3]))),
         probabilities(3, 4), probabilities(3, 4)),
    case("bce_probabilities_0_and_1", lambda L, x, t: L.F.binary_cross_entropy(x, t, reduction="none"),
         np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 0.2]), grads=[False, True]),
    case("bce_module", lambda L, x, t: L.nn.BCELoss(weight=L.c(np.array([1.0, 2, 3, 4])), reduction="sum")(x, t),
         probabilities(2, 4), probabilities(2, 4)),
    case("bce_with_logits_pos_weight", lambda L, x, t: L.F.binary_cross_entropy_with_logits(
        x, t, weight=L.c(np.array([[1.0], [2.0], [0.5]])), pos_weight=L.c(np.array([0.5, 1.0, 3.0, 2.0]))),
        normal(3, 4) * 3, probabilities(3, 4)),
    case("bce_with_logits_big_logits", lambda L, x, t: L.F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
         np.array([-200.0, -40.0, 0.0, 40.0, 200.0]), probabilities(5)),
    case("bce_with_logits_module", lambda L, x, t: L.nn.BCEWithLogitsLoss(pos_weight=L.c(np.array([2.0, 1, 1, 0.5])))(
        x, t), normal(2, 4), probabilities(2, 4)),
    case("mse_broadcast_target", lambda L, x, t: L.F.mse_loss(x, t), normal(3, 4), normal(4)),
    case("mse_weight", lambda L, x, t: L.F.mse_loss(x, t, weight=L.c(W34)), normal(3, 4), normal(3, 4)),
    case("mse_weight_sum", lambda L, x, t: L.F.mse_loss(x, t, reduction="sum", weight=L.c(W34)),
         normal(3, 4), normal(3, 4)),
    case("l1_weight", lambda L, x, t: L.F.l1_loss(x, t, weight=L.c(W34)), normal(3, 4), normal(3, 4)),
    case("l1_ties", lambda L, x, t: L.F.l1_loss(x, t, reduction="sum"), np.array([1.0, 2, 3]), np.array([1.0, 0, 3])),
    case("huber_weight", lambda L, x, t: L.F.huber_loss(x, t, weight=L.c(W34)), normal(3, 4) * 2,
         normal(3, 4)),
    case("smooth_l1_broadcast_target", lambda L, x, t: L.F.smooth_l1_loss(x, t, reduction="sum", beta=0.5),
         normal(2, 3) * 2, normal(2, 1)),
    case("kl_div_broadcast_target", lambda L, x, t: L.F.kl_div(x, t, reduction="sum"),
         np.log(probabilities(3, 4)), probabilities(4)),
    case("kl_div_zero_target", lambda L, x, t: L.F.kl_div(x, t, reduction="sum"),
         np.log(probabilities(4)), np.array([0.0, 0.5, 0.0, 0.5]), grads=[True, False]),
    case("mse_module", lambda L, x, t: L.nn.MSELoss(reduction="none")(x, t), normal(2, 3), normal(2, 3)),
    case("l1_module", lambda L, x, t: L.nn.L1Loss(reduction="sum")(x, t), normal(2, 3), normal(2, 3)),
    case("smooth_l1_module", lambda L, x, t: L.nn.SmoothL1Loss(beta=0.3)(x, t), normal(2, 3), normal(2, 3)),
    case("huber_module", lambda L, x, t: L.nn.HuberLoss(reduction="sum", delta=0.4)(x, t), normal(2, 3), normal(2, 3)),
    case("kl_div_module", lambda L, x, t: L.nn.KLDivLoss(reduction="batchmean", log_target=True)(x, t),
         np.log(distribution(3, 4)), np.log(distribution(3, 4))),
    case("mse_legacy_reduce_false", lambda L, x, t: L.nn.MSELoss(reduce=False)(x, t), normal(2, 3), normal(2, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("expr", "arrays", "grads"), ELEMENTWISE)
def test_elementwise_losses(expr, arrays, grads, dtype):
    check_parity(expr, list(arrays), dtype, grads)


INTEGER_ACTIVATIONS = {  # name: extra arguments; torch computes these of integer tensors too
    "relu": (), "relu6": (), "hardtanh": (), "threshold": (1, 5), "sigmoid": (), "tanh": (), "softsign": (),
    "tanhshrink": (),
}
FLOAT_ONLY_ACTIVATIONS = {  # torch refuses integers here; nablab takes them as float32 (not float16/float64)
    "elu": (), "gelu": (), "silu": (), "hardswish": (), "leaky_relu": (), "softplus": (), "logsigmoid": (),
    "mish": (), "softmax": (0,), "log_softmax": (0,), "softmin": (0,),
}


@pytest.mark.parametrize("name, dtype", [(name, dtype) for name in sorted(INTEGER_ACTIVATIONS)
                                         for dtype in ("int64", "uint8") if (name, dtype) != ("hardtanh", "uint8")])
def test_activations_of_integer_tensors_as_torch(name, dtype):  # (torch has no uint8 hardtanh)
    x = np.array([-3, 0, 2, 7]) if dtype == "int64" else np.array([3, 0, 2, 250])
    args = INTEGER_ACTIVATIONS[name]
    ours = getattr(nablab.nn.functional, name)(nablab.tensor(x.astype(dtype)), *args)
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x.astype(dtype)), *args)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", ["int64", "uint8"])
@pytest.mark.parametrize("name", sorted(FLOAT_ONLY_ACTIVATIONS))
def test_float_activations_take_integer_tensors_as_float32(name, dtype):
    x = np.array([-3, 0, 2, 7]) if dtype == "int64" else np.array([3, 0, 2, 250])
    args = FLOAT_ONLY_ACTIVATIONS[name]
    ours = getattr(nablab.nn.functional, name)(nablab.tensor(x.astype(dtype)), *args)
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x.astype(dtype).astype(np.float32)), *args)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1.3e-6, atol=1e-5)


MIXED_DTYPES = [
    ("mse_loss", lambda F, x, t: F.mse_loss(x, t)),
    ("l1_loss", lambda F, x, t: F.l1_loss(x, t, reduction="none")),
    ("smooth_l1_loss", lambda F, x, t: F.smooth_l1_loss(x, t, reduction="sum")),
    ("kl_div", lambda F, x, t: F.kl_div(x, t, reduction="batchmean")),
    ("bce_with_logits", lambda F, x, t: F.binary_cross_entropy_with_logits(x, t)),
    ("cross_entropy_probabilities", lambda F, x, t: F.cross_entropy(x, t)),
    ("cosine_similarity", lambda F, x, t: F.cosine_similarity(x, t)),
]


MIXED_DTYPE_CASES = [(name, expr, "float64") for name, expr in MIXED_DTYPES] + [
    ("cosine_similarity", MIXED_DTYPES[-1][1], "int64"),  # the losses refuse integer targets, in torch too
]


@pytest.mark.parametrize("name, expr, target_dtype", MIXED_DTYPE_CASES,
                         ids=[f"{name}-{dtype}" for name, _, dtype in MIXED_DTYPE_CASES])
def test_a_float32_input_with_another_target_dtype_promotes_as_torch(name, expr, target_dtype):
    x, t = probabilities(3, 4), distribution(3, 4) * (10 if target_dtype == "int64" else 1)
    results = []
    for lib in (nablab, torch):
        leaf = lib.tensor(x.astype(np.float32), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            y = expr(lib.nn.functional, leaf, lib.tensor(t.astype(target_dtype)))
        y.sum().backward()
        results.append((str(y.dtype).removeprefix("torch."), y.detach().numpy(), leaf.grad.numpy()))
    (dtype, value, grad), (tdtype, tvalue, tgrad) = results
    assert dtype == tdtype and grad.dtype == tgrad.dtype == np.float32
    np.testing.assert_allclose(value, tvalue, rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(grad, tgrad, rtol=1.3e-6, atol=1e-5)


def test_elementwise_losses_reject_bad_shapes_and_inputs():
    F = nablab.nn.functional
    x = nablab.tensor(probabilities(2, 3))
    with pytest.raises(errors.ShapeError, match=r"target's shape \(3,\) differs from the input's \(2, 3\)"):
        F.binary_cross_entropy(x, nablab.tensor(probabilities(3)))
    with pytest.raises(errors.ShapeError, match=r"\(2, 3\) and the target's \(4,\) do not broadcast"):
        F.mse_loss(x, nablab.tensor(normal(4)))
    with pytest.warns(UserWarning, match="broadcast"):
        F.l1_loss(x, nablab.tensor(normal(3)))
    with pytest.raises(ValueError, match="must be a probability in"):
        F.binary_cross_entropy(nablab.tensor(np.array([0.5, 1.5])), nablab.tensor(np.array([0.0, 1.0])))
    with pytest.raises(errors.ShapeError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=np.ones(4))
    with pytest.raises(ValueError, match="'batchmean' is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="batchmean")
    with pytest.warns(UserWarning, match="'batchmean' divides by the batch size only"):
        F.kl_div(x.log(), x)
