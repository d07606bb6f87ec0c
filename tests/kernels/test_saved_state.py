"""What a node saves for backward is owned: no saved array shares memory with scratch buffers, and
none changes between the forward that saved it and the backward that reads it.

The second check snapshots every array each node of the graph holds after the forward pass, then
runs the backward sweep with each node's backward wrapped so that, just before it runs, its arrays
are compared with their snapshots. A saved view of scratch memory (the 1×1-convolution bug), a mask
written in place into a shared gradient, or any other overwrite fails it, whichever op caused it.
"""

import numpy as np
import pytest

import nablab
from nablab import gradcheck_cases, kernels, nn, scratch
from nablab.nn import functional as F


def _nodes(out):
    seen, stack, order = set(), [out.creator], []
    while stack:
        fn = stack.pop()
        if fn is not None and id(fn) not in seen:
            seen.add(id(fn))
            order.append(fn)
            stack.extend(t.creator for t in fn.inputs)
    return order


def _saved_arrays(fn):
    for name, value in vars(fn).items():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for i, item in enumerate(items):
            if isinstance(item, np.ndarray):
                yield f"{type(fn).__name__}.{name}[{i}]", item


def _backward_checking_saved_state(out, seed_grad):
    nodes = _nodes(out)
    buffers = scratch.buffers()
    for fn in nodes:
        for name, array in _saved_arrays(fn):
            shared = [b for b in buffers if np.shares_memory(array, b)]
            assert not shared, f"{name} {array.shape} is a view of scratch memory"
    snapshots = {id(fn): [(name, array, array.copy()) for name, array in _saved_arrays(fn)] for fn in nodes}
    for fn in nodes:
        def checked(gy, fn=fn, backward=fn.backward):
            for name, array, copy in snapshots[id(fn)]:
                assert np.array_equal(array, copy, equal_nan=True), f"{name} changed between forward and backward"
            return backward(gy)

        fn.backward = checked
    out.backward(seed_grad)


def _chains():
    """Networks where a node's saved state could be overwritten by a later op or by backward."""
    nablab.manual_seed(0)
    c1, c3 = nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3, padding=1)
    return {
        "1x1 after 1x1": lambda x: nn.Conv2d(4, 8, 1)(c1(x)),
        "1x1 applied twice": lambda x: c1(c1(x)),
        "1x1 after 3x3": lambda x: nn.Conv2d(4, 8, 1)(c3(x)),
        "3x3, relu, 3x3, pool, 1x1": lambda x: nn.Conv2d(4, 6, 1)(F.max_pool2d(c3(c3(x).relu()), 3, 2, 1)),
        "conv, bn, relu, residual": lambda x: (nn.BatchNorm2d(4)(c3(x)).relu() + x).relu(),
        "pools in a row": lambda x: F.avg_pool2d(F.max_pool2d(F.max_pool2d(x, 2), 1), 2, 1, 1),
        "linear, relu, linear, relu": lambda x: nn.Sequential(nn.Flatten(), nn.Linear(100, 16), nn.ReLU(),
                                                                 nn.Linear(16, 16), nn.ReLU())(x),
    }


@pytest.mark.parametrize("name", list(_chains()))
def test_chains_keep_their_saved_state_until_backward(name):
    net = _chains()[name]
    x = nablab.tensor(np.random.default_rng(0).standard_normal((3, 4, 5, 5)), requires_grad=True)
    with kernels.use_reference(False):
        out = net(x)
        _backward_checking_saved_state(out, np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype))


@pytest.mark.parametrize("name", list(gradcheck_cases.CASES))
def test_every_gradient_check_case_keeps_its_saved_state_until_backward(name):
    case = gradcheck_cases.CASES[name]
    inputs = [nablab.tensor(a, dtype="float64", requires_grad=a.dtype.kind == "f")
              for a in case.make_inputs(np.random.default_rng(0))]
    with kernels.use_reference(False):
        out = case.fn(*inputs)
        _backward_checking_saved_state(out, np.random.default_rng(1).standard_normal(out.shape))


def test_the_check_catches_a_saved_view_of_scratch_memory():
    class SavesScratch(nablab.function.Function):
        def forward(self, x):
            self.kept = scratch.scratch(np, "test", x.shape, x.dtype)
            self.kept[...] = x
            return x * 2

        def backward(self, gy):
            return (gy * 2,)

    x = nablab.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(AssertionError, match="view of scratch memory"):
        _backward_checking_saved_state(SavesScratch.apply(x), np.ones(3, dtype=np.float32))
