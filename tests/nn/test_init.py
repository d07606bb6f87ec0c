import math

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import init


def _weight(shape=(400, 300)):
    return nn.Parameter(np.empty(shape, dtype=np.float32))


@pytest.mark.parametrize(
    "scheme, std",
    [
        (lambda w: init.normal_(w, std=0.05), 0.05),
        (init.lecun_normal_, 1 / math.sqrt(300)),
        (init.xavier_normal_, math.sqrt(2 / 700)),
        (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    ],
)
def test_normal_schemes_have_the_right_std(scheme, std):
    nablab.manual_seed(0)
    w = scheme(_weight())
    assert abs(w.data.mean()) < 0.02 * std * 10
    assert w.data.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize(
    "scheme, bound",
    [
        (lambda w: init.uniform_(w, -0.3, 0.3), 0.3),
        (init.fan_in_uniform_, 1 / math.sqrt(300)),
        (init.xavier_uniform_, math.sqrt(6 / 700)),
        (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(6 / 300)),
    ],
)
def test_uniform_schemes_have_the_right_bounds(scheme, bound):
    nablab.manual_seed(0)
    w = scheme(_weight())
    assert np.abs(w.data).max() <= bound
    assert np.abs(w.data).max() > 0.99 * bound


def test_fans_of_a_conv_kernel():
    nablab.manual_seed(0)
    w = init.fan_in_uniform_(_weight((64, 16, 3, 3)))
    assert np.abs(w.data).max() <= 1 / math.sqrt(16 * 9)


def test_init_keeps_dtype_and_rejects_unknown_gain():
    w = init.normal_(nn.Parameter(np.zeros(3, dtype=np.float64)))
    assert w.dtype == np.float64
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        init.calculate_gain("swish")
