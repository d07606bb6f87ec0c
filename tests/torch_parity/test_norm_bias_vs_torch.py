"""``bias=False`` of the normalization layers (PyTorch 2.x's keyword): γ without β.

``BatchNorm*``, ``InstanceNorm*`` and ``GroupNorm`` take it keyword-only, ``LayerNorm`` as its fourth
argument; ``device`` comes before ``dtype`` in each, as in PyTorch. The layer's parameters, its
output and every gradient are PyTorch's, and a saved model rebuilds with the same parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch

LAYERS = [
    ("BatchNorm1d", (3,), (4, 3, 5)), ("BatchNorm2d", (3,), (4, 3, 2, 2)), ("InstanceNorm2d", (3,), (2, 3, 4, 4)),
    ("GroupNorm", (1, 3), (2, 3, 4)),
]


@pytest.mark.parametrize("name, args, shape", LAYERS)
@pytest.mark.parametrize("training", [True, False])
def test_a_layer_without_bias_matches_pytorch(name, args, shape, training):
    kwargs = {"bias": False} if name == "GroupNorm" else {"bias": False, "affine": True}
    ours = getattr(nablab.nn, name)(*args, **kwargs).double()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight"]
    assert ours.bias is None and theirs.bias is None
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    rng = np.random.default_rng(0)
    weight = rng.uniform(0.5, 1.5, size=ours.weight.shape)
    ours.weight.data[...] = weight
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(weight))
    ours.train(training)
    theirs.train(training)
    x = rng.standard_normal(shape)
    gy = rng.standard_normal(shape)
    a = nablab.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    y, z = ours(a), theirs(b)
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.backward(nablab.tensor(gy))
    z.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name, args", [
    ("BatchNorm2d", (3, 1e-5, 0.1, True, True)), ("InstanceNorm1d", (3, 1e-5, 0.1, True, False)),
    ("GroupNorm", (1, 3, 1e-5, True)), ("LayerNorm", (3, 1e-5, True, True))])
def test_device_comes_before_dtype_as_in_pytorch(name, args):
    layer = getattr(nablab.nn, name)(*args, "cpu", nablab.float64)
    assert len(list(layer.parameters())) == 2
    assert all(p.dtype == np.float64 and p.device == nablab.device("cpu") for p in layer.parameters())
    assert getattr(torch.nn, name)(*args, "cpu", torch.float64).weight.dtype == torch.float64


def test_a_saved_layer_without_bias_rebuilds(tmp_path):
    model = nablab.nn.Sequential(nablab.nn.Conv2d(1, 3, 3, bias=False), nablab.nn.BatchNorm2d(3, bias=False),
                                 nablab.nn.GroupNorm(1, 3, bias=False))
    path = nablab.save(model, tmp_path / "m.safetensors")
    again = nablab.models.load(path)
    assert [n for n, _ in again.named_parameters()] == ["0.weight", "1.weight", "2.weight"]
    assert repr(again) == repr(model)
