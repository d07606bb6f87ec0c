"""The gradient checks of the losses and activations of nablab.nn.functional."""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..ops.activations_piecewise import Hardshrink, Hardsigmoid, Hardswish, Hardtanh, PReLU, Softshrink, Threshold
from ..ops.activations_smooth import ELU, GELU, LogSigmoid, Mish, SiLU, Softplus, Softsign
from ..ops.loss import LogSoftmax
from ..ops.losses_binary import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from ..ops.losses_kl import KLDivergence
from ..ops.losses_nll import NLLLoss
from ..ops.losses_regression import Huber, SmoothL1
from ..ops.normalize import Normalize
from .case import Case
from .case import normal as _n
from .case import positive as _positive


def _away_from(rng, shape, kinks, scale=3.0, margin=0.1):
    """Normal values times ``scale``, each moved at least ``margin`` away from every kink."""
    x = rng.standard_normal(shape) * scale
    for k in kinks:
        near = np.abs(x - k) < margin
        x = np.where(near, k + np.where(x >= k, margin, -margin) + (x - k), x)
    return x


def _probabilities(rng, *shape):
    return rng.uniform(0.2, 0.8, shape)


def _distribution(rng, *shape, axis=1):
    p = rng.uniform(0.5, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


_LABELS_K = np.array([[[0, 2], [1, -100]], [[2, 2], [0, 1]]])  # (N=2, d1=2, d2=2), one ignored
_WEIGHT = np.array([0.5, 2.0, 1.5])

CASES: dict[str, Case] = {
    # activations
    "gelu (exact)": Case(GELU, lambda a: F.gelu(a), lambda r: [_n(r, 3, 4) * 2]),
    "gelu (tanh)": Case(GELU, lambda a: F.gelu(a, approximate="tanh"), lambda r: [_n(r, 3, 4) * 2]),
    "silu": Case(SiLU, lambda a: F.silu(a), lambda r: [_n(r, 3, 4) * 2]),
    "mish": Case(Mish, lambda a: F.mish(a), lambda r: [_n(r, 3, 4) * 2]),
    "softsign": Case(Softsign, lambda a: F.softsign(a), lambda r: [_away_from(r, (3, 4), [0.0], 1.0)], smooth=False),
    "logsigmoid": Case(LogSigmoid, lambda a: F.logsigmoid(a), lambda r: [_n(r, 3, 4) * 3]),
    "softplus (beta 2, threshold 3)": Case(Softplus, lambda a: F.softplus(a, beta=2.0, threshold=3.0),
                                           lambda r: [_away_from(r, (3, 4), [1.5], 2.0)], smooth=False),
    "elu": Case(ELU, lambda a: F.elu(a, alpha=0.7), lambda r: [_away_from(r, (3, 4), [0.0], 1.0)], smooth=False),
    "selu": Case(ELU, lambda a: F.selu(a), lambda r: [_away_from(r, (3, 4), [0.0], 1.0)], smooth=False),
    "celu": Case(ELU, lambda a: F.celu(a, alpha=1.5), lambda r: [_away_from(r, (3, 4), [0.0], 1.0)], smooth=False),
    "hardtanh (−0.5, 1.5)": Case(Hardtanh, lambda a: F.hardtanh(a, -0.5, 1.5),
                                 lambda r: [_away_from(r, (3, 4), [-0.5, 1.5], 1.0)], smooth=False),
    "relu6": Case(Hardtanh, lambda a: F.relu6(a), lambda r: [_away_from(r, (3, 4), [0.0, 6.0], 4.0)], smooth=False),
    "hardsigmoid": Case(Hardsigmoid, lambda a: F.hardsigmoid(a), lambda r: [_away_from(r, (3, 4), [-3.0, 3.0])],
                        smooth=False),
    "hardswish": Case(Hardswish, lambda a: F.hardswish(a), lambda r: [_away_from(r, (3, 4), [-3.0, 3.0])],
                      smooth=False),
    "prelu (per channel)": Case(PReLU, lambda x, w: F.prelu(x, w),
                                lambda r: [_away_from(r, (2, 3, 4), [0.0], 1.0), _positive(r, 3)], smooth=False),
    "prelu (one slope)": Case(PReLU, lambda x, w: F.prelu(x, w),
                              lambda r: [_away_from(r, (2, 3), [0.0], 1.0), _positive(r, 1)], smooth=False),
    "threshold": Case(Threshold, lambda a: F.threshold(a, 0.3, -2.0), lambda r: [_away_from(r, (3, 4), [0.3], 1.0)],
                      smooth=False),
    "hardshrink": Case(Hardshrink, lambda a: F.hardshrink(a, 0.4), lambda r: [_away_from(r, (3, 4), [-0.4, 0.4], 1.0)],
                       smooth=False),
    "softshrink": Case(Softshrink, lambda a: F.softshrink(a, 0.4), lambda r: [_away_from(r, (3, 4), [-0.4, 0.4], 1.0)],
                       smooth=False),
    "normalize (p=2, dim 1)": Case(Normalize, lambda a: F.normalize(a), lambda r: [_n(r, 2, 5, 3) + 0.5],
                                   eps=1e-3, order=4),
    "normalize (p=3, dim −1)": Case(Normalize, lambda a: F.normalize(a, p=3, dim=-1),
                                    lambda r: [_away_from(r, (2, 3, 4), [0.0], 1.0)], smooth=False),
    "cosine_similarity (broadcast)": Case(Normalize, lambda a, b: F.cosine_similarity(a, b, dim=-1),
                                          lambda r: [_n(r, 3, 4), _n(r, 1, 4)]),
    # losses
    "nll_loss (K-dim, weight, ignore_index, mean)": Case(
        NLLLoss, lambda a: F.nll_loss(a, _LABELS_K, weight=_WEIGHT), lambda r: [_n(r, 2, 3, 2, 2)], eps=1e-5),
    "nll_loss (N, C), mean": Case(NLLLoss, lambda a: F.nll_loss(a, np.array([1, 0, 2, 2])), lambda r: [_n(r, 4, 3)],
                                  eps=1e-5),
    "nll_loss (none)": Case(NLLLoss, lambda a: F.nll_loss(a, np.array([1, 0, 2]), reduction="none"),
                            lambda r: [_n(r, 3, 3)]),
    "cross_entropy (K-dim, weight, smoothing)": Case(
        NLLLoss, lambda a: F.cross_entropy(a, _LABELS_K, weight=_WEIGHT, label_smoothing=0.2),
        lambda r: [_n(r, 2, 3, 2, 2)], eps=1e-5),
    "cross_entropy (labels, smoothing, sum)": Case(
        NLLLoss, lambda a: F.cross_entropy(a, np.array([1, 0, 2, 2]), reduction="sum", label_smoothing=0.1),
        lambda r: [_n(r, 4, 3)], eps=1e-5),
    "cross_entropy (probability targets, K-dim, smoothing)": Case(
        LogSoftmax, lambda a, t: F.cross_entropy(a, t, label_smoothing=0.1),
        lambda r: [_n(r, 2, 3, 2), _distribution(r, 2, 3, 2)], eps=1e-5),
    "binary_cross_entropy (weight)": Case(
        BinaryCrossEntropy, lambda x, t: F.binary_cross_entropy(x, t, weight=np.array([0.5, 1.0, 2.0])),
        lambda r: [_probabilities(r, 4, 3), _probabilities(r, 4, 3)], eps=1e-5),
    "binary_cross_entropy_with_logits (pos_weight)": Case(
        BinaryCrossEntropyWithLogits,
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=np.array([0.5, 1.0, 3.0]), reduction="sum"),
        lambda r: [_n(r, 4, 3) * 3, _probabilities(r, 4, 3)], eps=1e-5),
    "binary_cross_entropy_with_logits (none)": Case(
        BinaryCrossEntropyWithLogits, lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda r: [_n(r, 4, 3) * 3, _probabilities(r, 4, 3)]),
    "smooth_l1_loss (beta 0.5)": Case(
        SmoothL1, lambda x, t: F.smooth_l1_loss(x, t, reduction="none", beta=0.5),
        lambda r: [_n(r, 3, 4), _n(r, 3, 4) * 0.3], smooth=False),
    "huber_loss (delta 0.7, broadcast target)": Case(
        Huber, lambda x, t: F.huber_loss(x, t.broadcast_to(3, 4), reduction="none", delta=0.7),
        lambda r: [_n(r, 3, 4), _n(r, 1, 4)], smooth=False),
    "kl_div (batchmean)": Case(KLDivergence, lambda x, t: F.kl_div(x, t, reduction="batchmean"),
                               lambda r: [np.log(_distribution(r, 3, 4)), _distribution(r, 3, 4)], eps=1e-5),
    "kl_div (log_target, none)": Case(KLDivergence, lambda x, t: F.kl_div(x, t, reduction="none", log_target=True),
                                      lambda r: [_n(r, 3, 4), _n(r, 3, 4)]),
}
