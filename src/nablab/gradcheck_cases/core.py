"""The gradient checks of the engine's first ops: arithmetic, matmul and linear, elementwise,
reductions, shape moves, softmax and cross-entropy, convolution, pooling, batch norm and a whole MLP."""

from __future__ import annotations

import numpy as np

from .. import functions as fx
from .. import linalg, ops
from ..creation import full
from ..kernels.cpu.fusion import BatchNormReLU, LinearReLU
from ..nn import functional as F
from .case import Case
from .case import away_from_zero as _away_from_zero
from .case import distinct as _distinct
from .case import normal as _n
from .case import positive as _positive


def _full(n, value):
    """Running statistics for batch norm: float64 tensors on the default device (constants of the case)."""
    return full((n,), value, dtype=np.float64)


def _linear_relu_inputs(rng):
    """x, W small and biases of ±(1 to 2): every x Wᵀ + b stays at least 0.5 away from the kink, on
    both sides."""
    x, w = 0.1 * rng.standard_normal((4, 3)), 0.1 * rng.standard_normal((5, 3))
    b = np.array([1.0, -1.0, 1.0, -1.0, 1.0]) * rng.uniform(1.0, 2.0, 5)
    return [x, w, b]


def _well_conditioned(r, *shape):
    """Square matrices n·I + noise: far from singular, so inverses and solves are exact to rounding."""
    n = shape[-1]
    return r.standard_normal(shape) + n * np.eye(n)


CASES: dict[str, Case] = {
    "add (broadcast)": Case(ops.Add, lambda a, b: a + b, lambda r: [_n(r, 3, 1, 4), _n(r, 2, 4)]),
    "sub (broadcast)": Case(ops.Sub, lambda a, b: a - b, lambda r: [_n(r, 2, 4), _n(r, 4)]),
    "mul (broadcast)": Case(ops.Mul, lambda a, b: a * b, lambda r: [_n(r, 3, 4), _n(r, 3, 1)]),
    "div (broadcast)": Case(ops.Div, lambda a, b: a / b, lambda r: [_n(r, 3, 4), _positive(r, 4)]),
    "neg": Case(ops.Neg, lambda a: -a, lambda r: [_n(r, 3, 4)]),
    "pow (constant exponent)": Case(ops.Pow, lambda a: a**3 + a**-1.5, lambda r: [_positive(r, 3, 4)]),
    "pow (tensor exponent)": Case(ops.PowTensor, lambda a, b: a**b, lambda r: [_positive(r, 3, 4), _n(r, 4)]),
    "matmul (2-D)": Case(ops.MatMul, lambda a, b: a @ b, lambda r: [_n(r, 3, 4), _n(r, 4, 5)]),
    "matmul (batched, 1-D)": Case(
        ops.MatMul, lambda a, b, v: (a @ b) @ v, lambda r: [_n(r, 2, 3, 4), _n(r, 4, 5), _n(r, 5)]
    ),
    "inverse (batched)": Case(ops.Inverse, linalg.inv, lambda r: [_well_conditioned(r, 2, 3, 3)]),
    "determinant (batched)": Case(ops.Determinant, linalg.det, lambda r: [_well_conditioned(r, 2, 3, 3)]),
    "solve (batched matrices, broadcast A)": Case(
        ops.Solve, linalg.solve, lambda r: [_well_conditioned(r, 3, 3), _n(r, 2, 3, 2)]
    ),
    "solve (vectors, right side)": Case(
        ops.Solve, lambda a, b, c: linalg.solve(a, b) + linalg.solve(a, c, left=False).sum(-2),
        lambda r: [_well_conditioned(r, 2, 3, 3), _n(r, 2, 3), _n(r, 2, 4, 3)]
    ),
    "linear": Case(ops.Linear, lambda x, w, b: F.linear(x, w, b), lambda r: [_n(r, 4, 3), _n(r, 5, 3), _n(r, 5)]),
    "linear (3-D input)": Case(ops.Linear, lambda x, w, b: F.linear(x, w, b),
                               lambda r: [_n(r, 2, 4, 3), _n(r, 5, 3), _n(r, 5)], eps=1e-3),
    "linear + relu (fused)": Case(LinearReLU, lambda x, w, b: F.linear_relu(x, w, b), _linear_relu_inputs,
                                  smooth=False),
    "exp": Case(ops.Exp, lambda a: a.exp(), lambda r: [_n(r, 3, 4)]),
    "log": Case(ops.Log, lambda a: a.log(), lambda r: [_positive(r, 3, 4)]),
    "sqrt": Case(ops.Sqrt, lambda a: a.sqrt(), lambda r: [_positive(r, 3, 4)]),
    "abs": Case(ops.Abs, lambda a: a.abs(), lambda r: [_away_from_zero(r, 3, 4)], smooth=False),
    "clip": Case(ops.Clip, lambda a: a.clip(-0.5, 0.5), lambda r: [_distinct(r, 4, 5) - 0.5 + 0.012],
                 smooth=False),
    "maximum": Case(ops.Maximum, lambda a, b: fx.maximum(a, b), lambda r: [_n(r, 3, 4), _n(r, 4) + 0.05],
                    smooth=False),
    "minimum": Case(ops.Minimum, lambda a, b: fx.minimum(a, b), lambda r: [_n(r, 3, 4), _n(r, 4) + 0.05],
                    smooth=False),
    "where": Case(ops.Where, lambda a, b: fx.where(a.data > 0, a, b), lambda r: [_n(r, 3, 4), _n(r, 4)]),
    "cast": Case(ops.Cast, lambda a: a.astype("float32").astype("float64") * 0 + a.astype("float64"),
                 lambda r: [_n(r, 3)]),
    "tanh": Case(ops.Tanh, lambda a: a.tanh(), lambda r: [_n(r, 3, 4)]),
    "sigmoid": Case(ops.Sigmoid, lambda a: a.sigmoid(), lambda r: [_n(r, 3, 4) * 3]),
    "relu": Case(ops.ReLU, lambda a: a.relu(), lambda r: [_away_from_zero(r, 3, 4)], smooth=False),
    "leaky_relu": Case(ops.LeakyReLU, lambda a: a.leaky_relu(0.1), lambda r: [_away_from_zero(r, 3, 4)],
                       smooth=False),
    "improved_sigmoid": Case(ops.Tanh, lambda a: F.improved_sigmoid(a), lambda r: [_n(r, 3, 4)]),
    "sum (axis, keepdims)": Case(ops.Sum, lambda a: a.sum(axis=(0, 2), keepdims=True) * a.sum(1).sum(),
                                 lambda r: [_n(r, 2, 3, 4)]),
    "mean": Case(ops.Mean, lambda a: a.mean(axis=1) + a.mean(), lambda r: [_n(r, 3, 4)]),
    "max (axis)": Case(ops.Max, lambda a: a.max(axis=1) + a.max(), lambda r: [_distinct(r, 3, 4)], smooth=False),
    "min (axis)": Case(ops.Min, lambda a: a.min(axis=0, keepdims=True), lambda r: [_distinct(r, 3, 4)],
                       smooth=False),
    "reshape": Case(ops.Reshape, lambda a: a.reshape(6, 2).tanh(), lambda r: [_n(r, 3, 4)]),
    "transpose": Case(ops.Transpose, lambda a: a.permute(2, 0, 1) * a.T.sum(), lambda r: [_n(r, 2, 3, 4)]),
    "broadcast_to": Case(ops.BroadcastTo, lambda a: a.broadcast_to(2, 3, 4).tanh(), lambda r: [_n(r, 3, 1)]),
    "getitem (slices)": Case(ops.GetItem, lambda a: a[1:, ::2] * a[0, ::2], lambda r: [_n(r, 3, 4)]),
    "getitem (repeated indices)": Case(ops.GetItem, lambda a: a[np.array([0, 2, 0, 0]), 1:].tanh(),
                                       lambda r: [_n(r, 3, 4)]),
    "concatenate": Case(ops.Concatenate, lambda a, b: fx.concatenate([a, b, a], axis=1).tanh(),
                        lambda r: [_n(r, 3, 2), _n(r, 3, 4)]),
    "stack": Case(ops.Stack, lambda a, b: fx.stack([a, b], axis=1).tanh(), lambda r: [_n(r, 3, 4), _n(r, 3, 4)]),
    "softmax": Case(ops.Softmax, lambda a: F.softmax(a, axis=0), lambda r: [_n(r, 3, 4)]),
    "softmax (last dim)": Case(ops.Softmax, lambda a: F.softmax(a, dim=-1), lambda r: [_n(r, 2, 3, 5)]),
    "log_softmax": Case(ops.LogSoftmax, lambda a: F.log_softmax(a, dim=-1), lambda r: [_n(r, 4, 5)]),
    "cross_entropy": Case(ops.SoftmaxCrossEntropy, lambda a: F.cross_entropy(a, np.array([0, 3, 1, 3])),
                          lambda r: [_n(r, 4, 5)], eps=1e-5),
    "clone": Case(ops.Clone, lambda a: a.clone() * a, lambda r: [_n(r, 3, 4)]),
    "to device (cpu to cpu)": Case(ops.ToDevice, lambda a: ops.ToDevice.apply(a, device_type="cpu").tanh(),
                                   lambda r: [_n(r, 3)]),
    "embedding (repeated rows)": Case(
        ops.Embedding, lambda w: F.embedding(np.array([[0, 2, 2], [3, 0, 1]]), w).tanh(),
        lambda r: [_n(r, 4, 3)]),
    "conv2d": Case(ops.Conv2d, lambda x, w, b: F.conv2d(x, w, b, padding=1),
                   lambda r: [_n(r, 2, 3, 5, 5), _n(r, 4, 3, 3, 3), _n(r, 4)], eps=1e-3, order=4),
    "conv2d (stride 2, dilation 2, groups 2)": Case(
        ops.Conv2d, lambda x, w: F.conv2d(x, w, stride=2, padding=2, dilation=2, groups=2),
        lambda r: [_n(r, 2, 4, 7, 6), _n(r, 6, 2, 3, 2)], eps=1e-3, order=4),
    "conv2d (1×1, stride 2)": Case(ops.Conv2d, lambda x, w, b: F.conv2d(x, w, b, stride=2),
                                   lambda r: [_n(r, 2, 3, 5, 4), _n(r, 4, 3, 1, 1), _n(r, 4)], eps=1e-3, order=4),
    "max_pool2d (tiles)": Case(ops.MaxPool2d, lambda x: F.max_pool2d(x, 2), lambda r: [_distinct(r, 2, 2, 4, 6)],
                               smooth=False),
    "max_pool2d (3, stride 2, padding 1)": Case(ops.MaxPool2d, lambda x: F.max_pool2d(x, 3, 2, 1),
                                                lambda r: [_distinct(r, 2, 2, 5, 5)], smooth=False),
    "avg_pool2d (tiles)": Case(ops.AvgPool2d, lambda x: F.avg_pool2d(x, 2), lambda r: [_n(r, 2, 2, 4, 4)]),
    "avg_pool2d (3, stride 2, padding 1)": Case(ops.AvgPool2d, lambda x: F.avg_pool2d(x, 3, 2, 1),
                                                lambda r: [_n(r, 2, 2, 5, 5)]),
    "batch_norm (train, NCHW)": Case(
        ops.BatchNormTrain, lambda x, g, b: F.batch_norm(x, _full(3, 0.0), _full(3, 1.0), g, b, training=True),
        lambda r: [_n(r, 4, 3, 2, 2), _n(r, 3), _n(r, 3)], eps=1e-3, order=4, tiny=1e-3),
    "batch_norm (train, NC)": Case(
        ops.BatchNormTrain, lambda x, g, b: F.batch_norm(x, _full(3, 0.0), _full(3, 1.0), g, b, training=True),
        lambda r: [_n(r, 5, 3), _n(r, 3), _n(r, 3)], eps=1e-3, order=4, tiny=1e-3),
    "batch_norm + relu (fused)": Case(
        BatchNormReLU, lambda x, g, b: F.batch_norm_relu(x, _full(3, 0.0), _full(3, 1.0), g, b, training=True),
        lambda r: [_n(r, 4, 3, 2, 2), 0.1 * _positive(r, 3), np.array([1.5, -1.5, 1.2])], eps=1e-3, order=4,
        tiny=1e-3, smooth=False),
    "batch_norm (eval)": Case(
        ops.BatchNormEval, lambda x, g, b: F.batch_norm(x, _full(3, 0.2), _full(3, 1.5), g, b, training=False),
        lambda r: [_n(r, 4, 3, 2, 2), _n(r, 3), _n(r, 3)]),
    # a whole model: 6-5-3 MLP with tanh, cross-entropy and the reports' L2 penalty
    "model: MLP + cross-entropy + L2": Case(ops.Linear, lambda x, w1, b1, w2, b2: (
        F.cross_entropy(F.linear(F.linear(x, w1, b1).tanh(), w2, b2), np.array([0, 2, 1, 2]))
        + F.l2_penalty([w1, w2], reg=0.05)),
        lambda r: [_n(r, 4, 6), _n(r, 5, 6), _n(r, 5), _n(r, 3, 5), _n(r, 3)], eps=1e-5),
}
