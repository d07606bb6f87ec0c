"""Containers (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict) with PyTorch's
protocol and state_dict keys, and the small modules: Identity, Flatten, Unflatten, channel dropout,
alpha dropout."""

from collections import OrderedDict

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.errors import DimError, ShapeError

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _both(build):
    """The same architecture in nablab and in PyTorch (``build(nn_module)``)."""
    return build(nn), build(torch.nn)


CONTAINERS = [
    lambda m: m.Sequential(m.Linear(2, 3), m.ReLU(), m.Linear(3, 1)),
    lambda m: m.Sequential(OrderedDict([("fc", m.Linear(2, 3)), ("act", m.Tanh()), ("out", m.Linear(3, 1))])),
    lambda m: m.ModuleList([m.Linear(2, 2), m.Sequential(m.Linear(2, 2), m.BatchNorm1d(2))]),
    lambda m: m.ModuleDict({"enc": m.Linear(2, 4), "dec": m.ModuleList([m.Linear(4, 2)])}),
    lambda m: m.ParameterList([m.Parameter(torch.zeros(2, 3) if m is torch.nn else np.zeros((2, 3), np.float32)),
                               m.Parameter(torch.zeros(4) if m is torch.nn else np.zeros(4, np.float32))]),
    lambda m: m.ParameterDict({"scale": m.Parameter(torch.ones(3) if m is torch.nn else np.ones(3, np.float32))}),
    lambda m: m.Sequential(m.Conv2d(1, 2, 3), m.GroupNorm(1, 2), m.LayerNorm(4), m.InstanceNorm2d(2, affine=True),
                           m.BatchNorm2d(2, affine=False), m.BatchNorm2d(2, track_running_stats=False),
                           m.MaxPool2d(2), m.Flatten(), m.Identity(7, unused=True), m.Dropout2d(0.1),
                           m.Unflatten(1, (2, 1, 1))),
]


@pytest.mark.parametrize("build", CONTAINERS)
def test_state_dict_keys_and_parameter_names_match_torch(build):
    ours, theirs = _both(build)
    # the same keys; nablab lists every parameter before every buffer, PyTorch module by module
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for key, value in theirs.state_dict().items():
        assert tuple(ours.state_dict()[key].shape) == tuple(value.shape)


def test_sequential_list_protocol_as_torch():
    layers = lambda m: [m.Linear(2, 2), m.ReLU(), m.Linear(2, 3), m.Tanh()]  # noqa: E731
    ours, theirs = nn.Sequential(*layers(nn)), torch.nn.Sequential(*layers(torch.nn))
    for model, m in ((ours, nn), (theirs, torch.nn)):
        assert isinstance(model[-1], m.Tanh) and isinstance(model[1:3], m.Sequential) and len(model[1:3]) == 2
        model.append(m.Linear(3, 1))
        model.insert(1, m.Sigmoid())
        del model[2]
        model[0] = m.Linear(2, 2)
        assert model.pop(-1).__class__.__name__ == "Linear"
    assert [type(layer).__name__ for layer in ours] == [type(layer).__name__ for layer in theirs]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError):
        ours[7]


def test_sequential_runs_its_changed_layers():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    x = nablab.randn(3, 2)
    before = model(x).data
    model.insert(1, nn.Tanh())
    expected = np.maximum(np.tanh(model[0](x).data), 0)
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-6)
    assert not np.allclose(before, -1)
    sliced = model[1:]
    assert list(sliced._modules) == ["1", "2"]  # a slice keeps the names, as PyTorch's
    assert len(model + nn.Sequential(nn.Identity())) == 4


def test_module_list_protocol_as_torch():
    ours = nn.ModuleList([nn.Linear(1, 1)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(1, 1)])
    for model, m in ((ours, nn), (theirs, torch.nn)):
        model.append(m.Linear(1, 2)).extend([m.Linear(2, 3), m.ReLU()])
        model.insert(0, m.Tanh())
        model += [m.Linear(3, 3)]
        del model[1]
        assert len(model) == 5 and isinstance(model[1:], m.ModuleList)
    assert [type(x).__name__ for x in ours] == [type(x).__name__ for x in theirs]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_module_dict_and_parameter_containers():
    d = nn.ModuleDict({"a": nn.Linear(2, 2)})
    d["b"] = nn.ReLU()
    d.update([("c", nn.Linear(2, 1))])
    assert list(d) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert isinstance(d.pop("b"), nn.ReLU) and list(d.keys()) == ["a", "c"]
    assert list(d.state_dict()) == ["a.weight", "a.bias", "c.weight", "c.bias"]
    with pytest.raises(TypeError, match="Modules"):
        d["x"] = 3
    p = nn.ParameterList([np.zeros(2, dtype=np.float32)])
    p.append(nablab.ones(3))
    assert all(isinstance(q, nn.Parameter) for q in p) and len(p) == 2 and p[-1].shape == (3,)
    assert sum(q.size for q in p.parameters()) == 5 if not callable(p[0].size) else True
    pd = nn.ParameterDict({"w": np.ones((2, 2), dtype=np.float32)})
    pd["b"] = nablab.zeros(2)
    assert list(pd.state_dict()) == ["w", "b"] and isinstance(pd["b"], nn.Parameter)


def test_identity_flatten_unflatten_match_torch():
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    x, tx = nablab.tensor(a), torch.tensor(a)
    for ours, theirs in [
        (nn.Identity(3, bias=False), torch.nn.Identity(3, bias=False)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.Flatten(-3, -2), torch.nn.Flatten(-3, -2)),
        (nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1))),
        (nn.Unflatten(-1, (5, -1)), torch.nn.Unflatten(-1, (5, -1))),
    ]:
        np.testing.assert_array_equal(ours(x).data, theirs(tx).numpy())
    with pytest.raises(ShapeError, match="do not multiply"):
        nn.Unflatten(1, (2, 2))(x)
    with pytest.raises(DimError):
        nn.Unflatten(4, (1, 1))(x)


@pytest.mark.parametrize("layer, shape, spatial", [(nn.Dropout2d, (8, 16, 3, 3), 2), (nn.Dropout2d, (16, 3, 3), 2),
                                                   (nn.Dropout1d, (8, 16, 5), 1), (nn.Dropout1d, (16, 5), 1)])
def test_channel_dropout_zeroes_whole_channels(layer, shape, spatial):
    nablab.manual_seed(0)
    drop = layer(0.25)
    x = nablab.ones(*shape, requires_grad=True)
    y = drop(x)
    channels = y.data.reshape(-1, int(np.prod(shape[-spatial:])))
    assert set(np.unique(channels.min(axis=1) == channels.max(axis=1))) == {True}  # each channel all one value
    assert set(np.unique(channels)) <= {np.float32(0.0), np.float32(1 / 0.75)}
    assert 0.1 < (channels[:, 0] == 0).mean() < 0.4
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # dL/dx = mask / (1 − p)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ShapeError, match="got shape"):
        layer(0.5)(nablab.ones(*(2,) * (spatial + 3)))


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    nablab.manual_seed(0)
    x = nablab.randn(200, 500, dtype="float64")
    y = nn.AlphaDropout(0.3)(x).data
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    a = 1 / np.sqrt(0.7 * (1 + 0.3 * 1.7580993408473766**2))
    dropped = a * 1.7580993408473766 * (0.3 - 1)  # a·(−α′) + a·α′·p, the same for every dropped value
    assert np.isclose(y, dropped).mean() == pytest.approx(0.3, abs=0.01)


def test_dropout_p_one_zeroes_everything_as_torch():
    x = nablab.ones(3, 4)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(1.5)
