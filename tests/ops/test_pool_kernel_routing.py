"""The CPU pooling kernels take only the calls they compute (square windows, dilation 1, no ceil_mode,
no indices; average tiles without a divisor_override; adaptive averages over equal tiles but the
global one); every other call runs the reference, and both give the same numbers."""

import numpy as np
import pytest

import nablab
from nablab import kernels, ops
from nablab.nn import functional as F
from nablab.ops.adaptive_pooling import AdaptiveAvgPool2d

CALLS = [
    # (call, the node's class on the kernel path)
    (lambda x: F.max_pool2d(x, 2), "MaxPool2dViews"),
    (lambda x: F.max_pool2d(x, 3, 2, 1), "MaxPool2dViews"),
    (lambda x: F.max_pool2d(x, (3, 3), (2, 2), (1, 1)), "MaxPool2dViews"),  # equal pairs are square
    (lambda x: F.max_pool2d(x, (3, 2)), "MaxPool2d"),
    (lambda x: F.max_pool2d(x, 3, (2, 1)), "MaxPool2d"),
    (lambda x: F.max_pool2d(x, 3, 2, (1, 0)), "MaxPool2d"),
    (lambda x: F.max_pool2d(x, 2, dilation=2), "MaxPool2d"),
    (lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True), "MaxPool2d"),
    (lambda x: F.max_pool2d(x, 2, return_indices=True)[0], "MaxPool2d"),
    (lambda x: F.max_pool1d(x.reshape(2, 3, 64), 2), "MaxPool2d"),
    (lambda x: F.avg_pool2d(x, 2), "AvgPool2dTiles"),
    (lambda x: F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False), "AvgPool2dTiles"),  # no effect on tiles
    (lambda x: F.avg_pool2d(x, 2, divisor_override=3), "AvgPool2d"),
    (lambda x: F.avg_pool2d(x, 3), "AvgPool2d"),  # 8 is not a multiple of 3
    (lambda x: F.avg_pool2d(x, 2, 1), "AvgPool2d"),
    (lambda x: F.avg_pool2d(x, 3, 2, 1), "AvgPool2d"),
    (lambda x: F.adaptive_avg_pool2d(x, (4, 2)), "AdaptiveAvgPool2dTiles"),
    (lambda x: F.adaptive_avg_pool2d(x, 1), "AdaptiveAvgPool2d"),  # global: the reference, bit for bit on both
    (lambda x: F.adaptive_avg_pool2d(x, 3), "AdaptiveAvgPool2d"),  # uneven tiles
]


POOLS = (ops.MaxPool2d, ops.AvgPool2d, AdaptiveAvgPool2d)


@pytest.mark.parametrize("call, node", CALLS)
def test_each_call_runs_where_it_should_with_the_same_numbers(call, node):
    data = np.random.default_rng(0).standard_normal((2, 3, 8, 8))
    results, expected = {}, {"kernels": node, "reference": node.replace("Views", "").replace("Tiles", "")}
    for path in ("kernels", "reference"):
        with kernels.use_reference(path == "reference"):
            x = nablab.tensor(data, dtype="float64", requires_grad=True)
            y = call(x)
            pool = y.creator if isinstance(y.creator, POOLS) else y.creator.inputs[0].creator
            assert type(pool).__name__ == expected[path]
            y.backward(np.cos(np.arange(y.data.size)).reshape(y.shape))
            results[path] = y.data, x.grad.data
    for ours, reference in zip(results["kernels"], results["reference"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
