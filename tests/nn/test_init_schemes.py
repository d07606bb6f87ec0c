"""nn.init's in-place schemes against PyTorch's formulas: fans, gains, the statistics of large draws,
orthogonality, and that each writes into the tensor, keeps its dtype and returns it."""

import math

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import init

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _weight(shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("shape", [(3, 5), (7, 4, 3), (8, 2, 3, 5), (2, 3, 1, 1, 4)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(_weight(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_need_two_dimensions(shape):
    with pytest.raises(ValueError, match="fewer than 2"):
        init._calculate_fan_in_and_fan_out(_weight(shape))


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
    ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None)])
def test_gains_match_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_bad_gain_arguments():
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


SHAPE = (300, 200, 3)  # fan_in 600, fan_out 900
FAN_IN, FAN_OUT = 600, 900

STATISTICS = [
    # (scheme, expected mean, expected std, bound or None)
    (lambda w: init.uniform_(w, -0.5, 1.5), 0.5, 2 / math.sqrt(12), (-0.5, 1.5)),
    (lambda w: init.normal_(w, 0.3, 0.02), 0.3, 0.02, None),
    (lambda w: init.xavier_uniform_(w, gain=2.0), 0.0, 2.0 * math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    (lambda w: init.xavier_normal_(w), 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 0.0, math.sqrt(2 / 6 / FAN_IN), None),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), 0.0, math.sqrt(2 / FAN_OUT), None),
    (lambda w: init.kaiming_normal_(w, a=0.1, nonlinearity="leaky_relu"), 0.0,
     math.sqrt(2 / (1 + 0.01) / FAN_IN), None),
    # N(0, 1) truncated to [−2, 2]: std √(1 − 2·2φ(2)/(Φ(2) − Φ(−2)))
    (lambda w: init.trunc_normal_(w), 0.0, math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / 0.9544997),
     (-2, 2)),
    (lambda w: init.trunc_normal_(w, mean=1.0, std=0.5, a=0.5, b=3.0), None, None, (0.5, 3.0)),
]


@pytest.mark.parametrize("scheme, mean, std, bound", STATISTICS)
def test_statistics_of_large_draws(scheme, mean, std, bound):
    nablab.manual_seed(0)
    w = _weight(SHAPE, np.float64)
    assert scheme(w) is w
    values = w.data
    if mean is not None:
        assert values.mean() == pytest.approx(mean, abs=0.01 * (std or 1))
        assert values.std() == pytest.approx(std, rel=0.01)
    if bound is not None:
        assert values.min() >= bound[0] and values.max() <= bound[1]


def test_trunc_normal_matches_torchs_distribution():
    """The same conditional law as PyTorch's inverse-CDF draw: mean and std of a shifted, asymmetric case."""
    nablab.manual_seed(1)
    torch.manual_seed(1)
    ours = init.trunc_normal_(_weight((400, 500), np.float64), mean=1.0, std=0.5, a=0.5, b=3.0).data
    theirs = torch.nn.init.trunc_normal_(torch.empty(400, 500, dtype=torch.float64), mean=1.0, std=0.5, a=0.5,
                                         b=3.0).numpy()
    assert ours.mean() == pytest.approx(theirs.mean(), abs=2e-3)
    assert ours.std() == pytest.approx(theirs.std(), abs=2e-3)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 3, 2, 2), (5, 5)])
def test_orthogonal_rows_or_columns(shape):
    nablab.manual_seed(2)
    w = init.orthogonal_(_weight(shape, np.float64), gain=1.5)
    flat = w.data.reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 1.5**2 * np.eye(small.shape[0]), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more"):
        init.orthogonal_(_weight((4,)))


def test_constant_ones_zeros_eye_dirac_match_torch():
    for ours, theirs in [
        (init.constant_(_weight((3, 4)), 0.25), torch.nn.init.constant_(torch.empty(3, 4), 0.25)),
        (init.ones_(_weight((2, 3))), torch.nn.init.ones_(torch.empty(2, 3))),
        (init.zeros_(_weight((2, 3))), torch.nn.init.zeros_(torch.empty(2, 3))),
        (init.eye_(_weight((3, 5))), torch.nn.init.eye_(torch.empty(3, 5))),
        (init.eye_(_weight((4, 2))), torch.nn.init.eye_(torch.empty(4, 2))),
        (init.dirac_(_weight((4, 3, 3, 3))), torch.nn.init.dirac_(torch.empty(4, 3, 3, 3))),
        (init.dirac_(_weight((6, 2, 5)), groups=2), torch.nn.init.dirac_(torch.empty(6, 2, 5), groups=2)),
    ]:
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(ValueError, match="2-D"):
        init.eye_(_weight((2, 2, 2)))


def test_schemes_keep_the_dtype_write_in_place_and_record_no_graph():
    w = nn.Parameter(np.zeros((4, 3), dtype=np.float64))
    data = w.data
    out = init.kaiming_uniform_(w, a=math.sqrt(5))
    assert out is w and w.data is data and w.dtype == np.float64 and w.creator is None and w.grad is None
    assert init.kaiming_normal_(_weight((0, 3))).shape == (0, 3)  # empty: left as it is


def test_a_generator_gives_reproducible_draws():
    a = init.normal_(_weight((5, 5)), generator=np.random.default_rng(3)).data
    b = init.normal_(_weight((5, 5)), generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)
