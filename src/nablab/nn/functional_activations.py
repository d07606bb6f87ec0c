"""The functional forms of the activations, the softmax family, normalisation and one-hot encoding
(``nablab.nn.functional`` exports them all: ``F.gelu``, ``F.softmax``, ``F.one_hot``, ...).

``inplace=True`` (wherever PyTorch has it) works as in PyTorch: the input tensor takes the result
(and its place in the graph), its version counter moves on, and it is returned; on a leaf that
requires grad it is an error while gradients are recorded (see :mod:`nablab.tensor_inplace`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..backend import get_array_module
from ..dtypes import DEFAULT_DTYPE, result_type
from ..errors import ShapeError
from ..ops.activations_piecewise import (
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    PReLU,
    Softshrink,
    Threshold,
)
from ..ops.activations_smooth import ELU, GELU, LogSigmoid, Mish, SiLU, Softplus, Softsign
from ..ops.loss import softmax_axis
from ..ops.normalize import Normalize
from ..tensor import Tensor, as_tensor

#: SELU's constants (Klambauer et al., 2017), which make its fixed point mean 0 and variance 1
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _floating(x):
    """x as a tensor of a floating dtype: an integer or boolean one in the default float32, as PyTorch's
    sigmoid and tanh give (NumPy would pick float16 for uint8, float64 for int64)."""
    x = as_tensor(x)
    return x if x.dtype.kind == "f" else x.astype(DEFAULT_DTYPE)


def _apply(op, x, inplace, name, keeps_integers=False, **params):
    """``op`` applied to x, or, with ``inplace``, made x's own value (PyTorch's in-place form). Unless the
    op ``keeps_integers`` (ReLU, Hardtanh, Threshold), an integer x is taken as float32 (in place that
    is an error: the float result cannot be written into integers)."""
    if not inplace or not isinstance(x, Tensor):
        return op.apply(x if keeps_integers else _floating(x), **params)
    x._check_leaf(name)
    stand_in = x._stand_in()
    return x._in_place(op.apply(stand_in if keeps_integers else _floating(stand_in), **params))


def relu(x, inplace: bool = False):
    """max(x, 0)"""
    return _apply(ops.ReLU, x, inplace, "relu(inplace=True)", keeps_integers=True)


def relu6(x, inplace: bool = False):
    """min(max(x, 0), 6)"""
    return _apply(Hardtanh, x, inplace, "relu6(inplace=True)", min_val=0.0, max_val=6.0, keeps_integers=True)


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope · x"""
    return _apply(ops.LeakyReLU, x, inplace, "leaky_relu(inplace=True)", negative_slope=negative_slope)


def prelu(x, weight):
    """x if x > 0 else a·x, with one slope per channel (axis 1) or a single one: see :class:`~nablab.ops.
    activations_piecewise.PReLU`."""
    return PReLU.apply(x, weight)


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """min(max(x, min_val), max_val)"""
    return _apply(Hardtanh, x, inplace, "hardtanh(inplace=True)", min_val=min_val, max_val=max_val, keeps_integers=True)


def hardsigmoid(x, inplace: bool = False):
    """relu6(x + 3) / 6"""
    return _apply(Hardsigmoid, x, inplace, "hardsigmoid(inplace=True)")


def hardswish(x, inplace: bool = False):
    """x · relu6(x + 3) / 6"""
    return _apply(Hardswish, x, inplace, "hardswish(inplace=True)")


def threshold(x, threshold: float, value: float, inplace: bool = False):
    """x if x > threshold else value"""
    return _apply(Threshold, x, inplace, "threshold(inplace=True)", keeps_integers=True, threshold=threshold,
                  value=value)


def hardshrink(x, lambd: float = 0.5):
    """x if |x| > λ else 0"""
    return Hardshrink.apply(x, lambd=lambd)


def softshrink(x, lambd: float = 0.5):
    """x − λ·sign(x) if |x| > λ else 0"""
    return Softshrink.apply(_floating(x), lambd=lambd)


def tanhshrink(x):
    """x − tanh x"""
    x = as_tensor(x)
    x = _floating(x)
    return x - ops.Tanh.apply(x)


def glu(x, dim: int = -1):
    """Gated linear unit: a ⊙ σ(b), with a and b the two halves of x along ``dim``."""
    x = as_tensor(x)
    axis = softmax_axis(dim, x.ndim) if x.ndim else None
    if axis is None or x.shape[axis] % 2:
        size = x.shape[axis] if axis is not None else "a 0-d input"
        raise ShapeError(f"glu: the halved dimension {dim} must have an even size, got {size}")
    half = x.shape[axis] // 2
    lead = (slice(None),) * axis
    return x[lead + (slice(0, half),)] * ops.Sigmoid.apply(x[lead + (slice(half, None),)])


def sigmoid(x):
    """1 / (1 + e⁻ˣ)"""
    return ops.Sigmoid.apply(_floating(x))


def tanh(x):
    return ops.Tanh.apply(_floating(x))


def logsigmoid(x):
    """log σ(x), stable for every x"""
    return LogSigmoid.apply(_floating(x))


def improved_sigmoid(x):
    """f(x) = 1.7159 · tanh(2x/3) (LeCun et al. 1998, "Efficient BackProp");  f'(x) = 1.7159 · ⅔ · (1 − tanh²(2x/3)).

    Chosen so that f(±1) = ±1 and the effective gain near 0 is about 1.
    """
    return ops.Tanh.apply(x * (2.0 / 3.0)) * 1.7159


def gelu(x, approximate: str = "none"):
    """x·Φ(x), exact (through erf) or with PyTorch's tanh approximation (``approximate="tanh"``)."""
    return GELU.apply(_floating(x), approximate=approximate)


def silu(x, inplace: bool = False):
    """x·σ(x)"""
    return _apply(SiLU, x, inplace, "silu(inplace=True)")


def mish(x, inplace: bool = False):
    """x·tanh(softplus(x))"""
    return _apply(Mish, x, inplace, "mish(inplace=True)")


def elu(x, alpha: float = 1.0, inplace: bool = False):
    """x if x > 0 else α(eˣ − 1)"""
    return _apply(ELU, x, inplace, "elu(inplace=True)", alpha=alpha)


def selu(x, inplace: bool = False):
    """scale · elu(x, α) with SELU's α ≈ 1.6733 and scale ≈ 1.0507"""
    return _apply(ELU, x, inplace, "selu(inplace=True)", alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(x, alpha: float = 1.0, inplace: bool = False):
    """max(0, x) + min(0, α(e^(x/α) − 1))"""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the input is divided by it)")
    return _apply(ELU, x, inplace, "celu(inplace=True)", alpha=alpha, input_scale=1.0 / alpha)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """(1/β)·log(1 + e^(βx)), linear where βx > threshold"""
    return Softplus.apply(_floating(x), beta=beta, threshold=threshold)


def softsign(x):
    """x / (1 + |x|)"""
    return Softsign.apply(_floating(x))


# --------------------------------------------------------------------------- the softmax family
def _softmax_dim(name, x, dim, axis):
    """PyTorch's ``dim``, with NumPy's ``axis`` as an alias. Without either, PyTorch's implicit choice
    (with its warning): dim 0 for 0-, 1- and 3-dimensional inputs, dim 1 otherwise."""
    if axis is not None:
        if dim is not None and dim != axis:
            raise TypeError(f"{name}: got both dim={dim} and axis={axis}; pass one")
        dim = axis
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated: pass dim= "
                      f"(dim {dim} was chosen for a {x.ndim}-dimensional input, as PyTorch does)",
                      UserWarning, stacklevel=3)
    return dim


def softmax(x, dim: int | None = None, _stacklevel: int = 3, dtype=None, *, axis: int | None = None):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim`` (after casting to ``dtype``, if given)."""
    x = _floating(x) if dtype is None else as_tensor(x).astype(dtype)
    return ops.Softmax.apply(x, axis=_softmax_dim("softmax", x, dim, axis))


def log_softmax(x, dim: int | None = None, _stacklevel: int = 3, dtype=None, *, axis: int | None = None):
    """xᵢ − log Σⱼ e^(xⱼ) along ``dim`` (after casting to ``dtype``, if given), stable for any x."""
    x = _floating(x) if dtype is None else as_tensor(x).astype(dtype)
    return ops.LogSoftmax.apply(x, axis=_softmax_dim("log_softmax", x, dim, axis))


def softmin(x, dim: int | None = None, _stacklevel: int = 3, dtype=None, *, axis: int | None = None):
    """softmax(−x) along ``dim``: e^(−xᵢ) / Σⱼ e^(−xⱼ)."""
    x = _floating(x) if dtype is None else as_tensor(x).astype(dtype)
    return ops.Softmax.apply(-x, axis=_softmax_dim("softmin", x, dim, axis))


def normalize(x, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """x / max(‖x‖_p, ε) along ``dim``."""
    x = as_tensor(x)
    return Normalize.apply(x, p=p, axis=softmax_axis(dim, x.ndim), eps=eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """Σ x₁x₂ / (max(‖x₁‖, ε)·max(‖x₂‖, ε)) along ``dim``, after broadcasting x₁ against x₂ (PyTorch
    clamps each norm on its own)."""
    x1, x2 = as_tensor(x1), as_tensor(x2, like=(x1,))
    dtype = result_type(x1, x2)  # PyTorch's promotion: float32 with int64 stays float32
    x1, x2 = (x if x.dtype == dtype else x.astype(dtype) for x in (x1, x2))
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: shapes {tuple(x1.shape)} and {tuple(x2.shape)} do not "
                         "broadcast") from None
    x1 = x1 if x1.shape == shape else x1.broadcast_to(*shape)
    x2 = x2 if x2.shape == shape else x2.broadcast_to(*shape)
    axis = softmax_axis(dim, len(shape))
    return (normalize(x1, 2, dim, eps) * normalize(x2, 2, dim, eps)).sum(axis=axis)


def one_hot(labels, num_classes: int = -1):
    """An int64 tensor of shape (*labels.shape, num_classes) with a 1 at each label;
    ``num_classes=-1``: one more than the largest label. Not differentiable."""
    data = labels.data if isinstance(labels, Tensor) else get_array_module(labels).asarray(labels)
    xp = get_array_module(data)
    if data.dtype.kind not in "iu":
        raise TypeError(f"one_hot: the labels must be integers, got dtype {data.dtype}")
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("one_hot: cannot infer the number of classes of an empty tensor: pass num_classes")
        num_classes = int(data.max()) + 1
    if data.size and int(data.min()) < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(data.min())}")
    if data.size and int(data.max()) >= num_classes:
        raise RuntimeError(f"one_hot: class value {int(data.max())} is out of range for num_classes={num_classes}")
    out = (data[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._make(out)


__all__ = [
    "celu", "cosine_similarity", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "improved_sigmoid", "leaky_relu", "log_softmax", "logsigmoid", "mish", "normalize", "one_hot", "prelu", "relu",
    "relu6", "selu", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold",
]
