"""nn.Sequential runs a Linear directly followed by a ReLU as one fused node (kernels.cpu.fusion.LinearReLU):
outputs and gradients must be exactly those of the two layers run one after the other."""

import copy

import numpy as np
import pytest

import nablab
from nablab import kernels, nn, ops
from nablab.kernels.cpu.fusion import LinearReLU
from nablab.nn import functional as F


def _mlp(dtype):
    nablab.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8, dtype=dtype), nn.ReLU(), nn.Linear(8, 8, dtype=dtype), nn.ReLU(),
                         nn.Linear(8, 3, dtype=dtype), nn.ReLU())


def _layer_by_layer(model, x):
    for layer in model:
        x = layer(x)
    return x


def _grads(model, run, x, y, reduce):
    model.zero_grad()
    out = run(model, x)
    loss = F.cross_entropy(out, y) if reduce == "cross-entropy" else (out * out).sum() + out.sum()
    loss.backward()
    return out.numpy().copy(), [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduce", ["cross-entropy", "used twice"])  # dL/dy owned by the node / shared
def test_fused_sequential_equals_layer_by_layer_exactly(dtype, reduce):
    model = _mlp(dtype)
    rng = np.random.default_rng(1)
    x = nablab.tensor(rng.standard_normal((16, 6)), dtype=dtype)
    y = rng.integers(0, 3, 16)
    fused_out, fused_grads = _grads(model, lambda m, t: m(t), x, y, reduce)
    plain_out, plain_grads = _grads(model, _layer_by_layer, x, y, reduce)
    assert [relu is not None for _, relu in model._plan] == [True, True, True]
    np.testing.assert_array_equal(fused_out, plain_out)
    assert (fused_out == 0).any() and (fused_out > 0).any()  # both sides of the kink are exercised
    for fused, plain in zip(fused_grads, plain_grads, strict=True):
        np.testing.assert_array_equal(fused, plain)


def test_the_fused_pair_is_one_graph_node_and_two_on_the_reference_path():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU())
    with kernels.use_reference(False):
        out = model(nablab.tensor(np.ones((2, 4)), requires_grad=True))
    assert type(out.creator) is LinearReLU
    assert [type(t.creator) for t in out.creator.inputs] == [type(None)] * 3
    with kernels.use_reference():
        out = model(nablab.tensor(np.ones((2, 4)), requires_grad=True))
    assert type(out.creator) is ops.ReLU and type(out.creator.inputs[0].creator) is ops.Linear


def test_only_a_linear_directly_followed_by_a_plain_relu_is_fused():
    class DoubledReLU(nn.ReLU):
        def forward(self, x):
            return super().forward(x) * 2

    model = nn.Sequential(nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.ReLU(), nn.Linear(3, 3), DoubledReLU(),
                          nn.Linear(3, 3))
    model(nablab.tensor(np.ones((2, 3))))
    assert [relu is not None for _, relu in model._plan] == [False] * 7
    x = nablab.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    np.testing.assert_array_equal(model(x).numpy(), _layer_by_layer(model, x).numpy())


def test_changing_the_layers_fuses_again():
    model = _mlp("float64")
    x = nablab.tensor(np.random.default_rng(2).standard_normal((4, 6)), dtype="float64")
    model(x)
    setattr(model, "1", nn.Tanh())  # the first pair is no longer Linear → ReLU
    np.testing.assert_array_equal(model(x).numpy(), _layer_by_layer(model, x).numpy())
    assert [type(m).__name__ for m in model][:3] == ["Linear", "Tanh", "Linear"]  # replaced in place
    assert [relu is not None for _, relu in model._plan] == [False, False, True, True]
    delattr(model, "5")
    np.testing.assert_array_equal(model(x).numpy(), _layer_by_layer(model, x).numpy())
    assert [relu is not None for _, relu in model._plan] == [False, False, True, False]


def test_a_deep_copy_runs_its_own_layers():
    model = _mlp("float64")
    x = nablab.tensor(np.random.default_rng(3).standard_normal((4, 6)), dtype="float64")
    before = model(x).numpy().copy()
    twin = copy.deepcopy(model)
    for p in twin.parameters():
        p.data[...] = 0.5
    np.testing.assert_array_equal(model(x).numpy(), before)
    np.testing.assert_array_equal(twin(x).numpy(), _layer_by_layer(twin, x).numpy())
    assert not np.array_equal(twin(x).numpy(), before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_batch_norm_relu_equals_layer_by_layer_exactly_and_updates_the_running_statistics(dtype):
    def make():
        nablab.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, dtype=dtype), nn.BatchNorm2d(4, dtype=dtype), nn.ReLU(),
                             nn.Flatten(), nn.Linear(64, 3, dtype=dtype), nn.BatchNorm1d(3, dtype=dtype), nn.ReLU())

    rng = np.random.default_rng(2)
    x = nablab.tensor(rng.standard_normal((5, 3, 4, 4)), dtype=dtype)
    gy = rng.standard_normal((5, 3)).astype(dtype)
    results = []
    for run in (lambda m, t: m(t), _layer_by_layer):
        model = make()
        with kernels.use_reference(False):
            out = run(model, x)
            out.backward(gy)
        results.append([out.numpy()] + [p.grad.numpy() for p in model.parameters()]
                       + [b.numpy() for b in model.buffers()])
    assert [relu is not None for _, relu in make()._fuse()] == [False, True, False, False, True]
    for fused, plain in zip(*results, strict=True):
        np.testing.assert_array_equal(fused, plain)
