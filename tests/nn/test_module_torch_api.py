"""Module's PyTorch API: to(device | dtype) in place, cpu/float/double, zero_grad(set_to_none),
named_children, add_module, get_submodule, parameters(recurse), load_state_dict's result."""

import numpy as np
import pytest

import nablab
from nablab import nn, optim


def _net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_to_casts_floating_parameters_and_buffers_in_place():
    net = _net()
    params = list(net.parameters())
    opt = optim.SGD(net.parameters(), lr=0.1)
    assert net.to(nablab.float64) is net
    assert all(p.dtype == np.float64 for p in net.parameters()) and list(net.parameters())[0] is params[0]
    assert net[1].running_mean.dtype == np.float64
    loss = net(nablab.randn(5, 3, dtype=nablab.float64)).sum()
    loss.backward()
    opt.step()  # the optimizer made before the cast still holds the same parameters
    assert params[0].grad.dtype == np.float64
    assert net.float() is net and net[0].weight.dtype == np.float32
    assert net.to("cpu") is net and net.cpu() is net and net.to(nablab.device("cpu"), nablab.float32) is net
    with pytest.raises(TypeError, match="takes a device, a dtype or a tensor"):
        net.to(3.5)


def test_zero_grad_and_traversal():
    net = _net()
    net(nablab.randn(5, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert [name for name, _ in net.named_children()] == ["0", "1", "2", "3"]
    assert len(list(net.parameters(recurse=False))) == 0 and len(list(net[0].parameters(recurse=False))) == 2
    outer = nn.Module()
    outer.add_module("body", net)
    assert outer.get_submodule("body.3") is net[3] and outer.get_submodule("") is outer
    with pytest.raises(AttributeError, match="no sub-module '7'"):
        outer.get_submodule("body.7")
    with pytest.raises(TypeError, match="not a Module"):
        outer.add_module("x", 3)


def test_load_state_dict_returns_named_keys_and_raises_runtime_error():
    a, b = _net(), _net()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert np.array_equal(a[0].weight.numpy(), b[0].weight.numpy())
    state = a.state_dict()
    del state["0.bias"]
    with pytest.raises(RuntimeError, match="missing keys: 0.bias"):
        b.load_state_dict(state)
    assert b.load_state_dict(state, strict=False).missing_keys == ["0.bias"]


@pytest.mark.torch
def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    ours = _net()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 2))
    assert set(ours.state_dict()) <= set(theirs.state_dict())
    assert set(theirs.state_dict()) - set(ours.state_dict()) <= {"1.num_batches_tracked"}


def test_forward_hooks_record_and_replace():
    net = _net()
    seen = []
    handle = net[0].register_forward_hook(lambda m, args, out: seen.append((type(m).__name__, tuple(out.shape))))
    net[3].register_forward_hook(lambda m, args, out: out * 0)
    pre = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = net.eval()(nablab.randn(5, 3))
    assert seen == [("Linear", (5, 4))] and not out.numpy().any()
    handle.remove()
    pre.remove()
    net(nablab.randn(5, 3))
    assert len(seen) == 1


def test_forward_hooks_on_fused_layers_of_a_sequential_still_run():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = nablab.randn(5, 3)
    plain = net(x).numpy()
    seen = []
    net[0].register_forward_hook(lambda m, args, out: seen.append(out.numpy().min()))
    net[1].register_forward_hook(lambda m, args, out: seen.append(out.numpy().min()))
    assert np.allclose(net(x).numpy(), plain)
    assert len(seen) == 2 and seen[1] >= 0.0, "the Linear's hook saw the pre-activation, the ReLU's its output"


def test_older_batch_norm_state_dicts_still_load():
    net = _net()
    old = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert net.load_state_dict(old).missing_keys == []  # strict: the count starts at 0
    plain = nn.BatchNorm1d(4, affine=False)
    legacy = dict(plain.state_dict(), weight=nablab.ones(4), bias=nablab.zeros(4))  # what affine=False once saved
    plain.load_state_dict(legacy)
    with pytest.raises(RuntimeError, match="unexpected keys: weight"):
        plain.load_state_dict(dict(legacy, weight=nablab.full((4,), 2.0)))  # not the identity: refused


def test_a_sequential_fuses_its_layers_again_once_their_hooks_are_removed():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = nablab.randn(5, 3, requires_grad=True)
    handle = net[0].register_forward_hook(lambda m, args, out: None)
    assert type(net(x).creator.input_creators[0]).__name__ != "LinearReLU"  # the hook sees the Linear's own output
    handle.remove()
    assert type(net(x).creator.input_creators[0]).__name__ == "LinearReLU"  # one node again
