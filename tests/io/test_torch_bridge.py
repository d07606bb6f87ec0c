"""nablab.io.from_torch / to_torch: the same weights in nablab and in a hand-written PyTorch model
give the same outputs, the same gradients, and the same outputs and gradients again after one
optimizer step — for an MLP, the small CNN (with and without batch norm) and the VGGNet.

Outputs and losses agree to 1e-5 (relative and absolute, float32). Gradients agree to 2e-5 in
relative norm per tensor, and every element to 5e-5 of the tensor's largest: through the VGG's
thirteen layers (batch norm over 8 values per channel at batch 2) float32 rounding alone moves
gradients by ~5e-6 relative in nablab and ~3e-6 in PyTorch, each measured against PyTorch in
float64, so an element-wise 1e-5 would fail on rounding, not on a wrong weight.
"""

from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import nn  # noqa: E402
from nablab.io import WeightsError, from_torch, to_torch  # noqa: E402
from nablab.models import MLP, SmallCNN, VGGNet  # noqa: E402
from nablab.nn import functional as F  # noqa: E402

pytestmark = pytest.mark.torch
TOL = dict(rtol=1e-5, atol=1e-5)
T = torch.nn


def torch_mlp():
    return T.Sequential(T.Linear(20, 16), T.ReLU(), T.Linear(16, 8), T.ReLU(), T.Linear(8, 5))


def _torch_block(cin, cout, batch_norm):
    layers = [T.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm)]
    return layers + ([T.BatchNorm2d(cout)] if batch_norm else []) + [T.ReLU()]


def torch_small_cnn(widths=(32, 64), hidden=None, batch_norm=False, classes=10):
    layers, cin = [], 3
    for w in widths:
        layers += _torch_block(cin, w, batch_norm) + _torch_block(w, w, batch_norm) + [T.MaxPool2d(2)]
        cin = w
    features = cin * (32 // 2 ** len(widths)) ** 2
    head = [T.Linear(features, hidden), T.ReLU(), T.Linear(hidden, classes)] if hidden else \
        [T.Linear(features, classes)]
    return T.Sequential(*layers, T.Flatten(), *head)


def torch_vgg(classes=10):
    layers, cin = [], 3
    for item in VGGNet.PLAN:
        if item == "pool":
            layers.append(T.MaxPool2d(3, stride=2, padding=1))
        else:
            layers += _torch_block(cin, item, batch_norm=True)
            cin = item
    return T.Sequential(*layers, T.Flatten(), T.Linear(cin, classes))


CASES = [
    pytest.param(lambda: MLP(20, [16, 8], 5), torch_mlp, (4, 20), 5, id="mlp"),
    pytest.param(SmallCNN, torch_small_cnn, (2, 3, 32, 32), 10, id="small_cnn"),
    pytest.param(lambda: SmallCNN(widths=(8, 16), hidden=32, batch_norm=True),
                 lambda: torch_small_cnn((8, 16), 32, True), (3, 3, 32, 32), 10, id="small_cnn_bn"),
    pytest.param(VGGNet, torch_vgg, (2, 3, 32, 32), 10, id="vgg"),
]


def _perturb_batch_norm(t_model):
    """Running statistics and affine parameters away from their initial values (else BN hides mistakes)."""
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for m in t_model.modules():
            if isinstance(m, T.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.num_batches_tracked.fill_(7)


def _compare_step(model, t_model, x, y, what):
    logits = model(nablab.tensor(x))
    t_logits = t_model(torch.tensor(x))
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), **TOL, err_msg=f"{what}: outputs")
    loss = F.cross_entropy(logits, y)
    t_loss = T.functional.cross_entropy(t_logits, torch.from_numpy(y))
    np.testing.assert_allclose(loss.item(), t_loss.item(), **TOL, err_msg=f"{what}: loss")
    loss.backward()
    t_loss.backward()
    t_params = dict(t_model.named_parameters())
    names = [name for name, _ in model.named_parameters()]
    assert names == list(t_params)
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, name
        ours, theirs = p.grad.numpy(), t_params[name].grad.numpy()
        assert np.linalg.norm(ours - theirs) <= 2e-5 * np.linalg.norm(theirs), f"{what}: d/d{name}"
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=5e-5 * np.abs(theirs).max() + 1e-12,
                                   err_msg=f"{what}: d/d{name}")


@pytest.mark.parametrize("make, make_torch, shape, classes", CASES)
def test_same_weights_same_outputs_and_gradients_before_and_after_a_step(make, make_torch, shape, classes):
    torch.manual_seed(0)
    t_model = make_torch()
    _perturb_batch_norm(t_model)
    model = make()
    assert from_torch(t_model, model) is model
    for name, value in model.state_dict().items():  # every tensor arrived, dtypes kept
        t_value = t_model.state_dict()[name].numpy()
        assert value.dtype == t_value.dtype and value.shape == t_value.shape, name
        np.testing.assert_array_equal(value.numpy(), t_value)

    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    model.eval()
    t_model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(model(nablab.tensor(x)).numpy(), t_model(torch.tensor(x)).numpy(), **TOL,
                                   err_msg="eval outputs (running statistics)")

    model.train()
    t_model.train()
    opt = nablab.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=1e-3, momentum=0.9)
    for step in range(2):  # the second comparison is after one SGD step on both
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, classes, shape[0])
        opt.zero_grad()
        t_opt.zero_grad()
        _compare_step(model, t_model, x, y, f"step {step}")
        opt.step()
        t_opt.step()

    # and back: the trained nablab weights (and BN statistics) into a fresh PyTorch model
    fresh = make_torch()
    assert to_torch(model, fresh) is fresh
    for name, t_value in fresh.state_dict().items():
        np.testing.assert_array_equal(t_value.numpy(), model.state_dict()[name].numpy(), err_msg=name)
    for name, t_value in t_model.state_dict().items():
        np.testing.assert_allclose(t_value.numpy(), fresh.state_dict()[name].numpy(), **TOL, err_msg=name)


class Named(T.Module):
    """The MLP written as a PyTorch class: other names, same tensors in the same order."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = T.Linear(6, 4), T.Linear(4, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def test_differently_named_models_pair_up_by_position():
    torch.manual_seed(2)
    t_model = Named()
    model = from_torch(t_model, MLP(6, [4], 3))
    x = np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32)
    np.testing.assert_allclose(model(nablab.tensor(x)).numpy(), t_model(torch.tensor(x)).detach().numpy(), **TOL)
    back = to_torch(model, Named())
    np.testing.assert_array_equal(back.fc2.weight.detach().numpy(), model[2].weight.numpy())


def test_mismatches_are_clear_errors():
    with pytest.raises(WeightsError, match=r"shapes differ: 0\.weight: \(4, 6\) given, \(5, 6\) expected"):
        from_torch(T.Sequential(T.Linear(6, 4), T.ReLU(), T.Linear(4, 3)), MLP(6, [5], 3))
    with pytest.raises(WeightsError, match=r"missing: 2\.weight, 2\.bias.*2 tensors given, 4 expected"):
        from_torch(T.Sequential(T.Linear(6, 4)), MLP(6, [4], 3))
    with pytest.raises(WeightsError, match=r"unexpected: fc1\.weight.*by position, fc2\.weight \(3, 4\) does not fit"):
        from_torch(Named(), MLP(6, [4], 2))
    with pytest.raises(WeightsError, match="nablab weights into Named"):
        to_torch(MLP(6, [5], 3), Named())
    with pytest.raises(TypeError, match="torch.nn.Module or a state dict"):
        from_torch(np.zeros(3))


def test_state_dicts_keep_names_and_dtypes():
    t_model = T.Sequential(T.Linear(3, 2).double(), T.BatchNorm1d(2))
    state = from_torch(t_model)
    assert list(state) == list(t_model.state_dict())
    assert state["0.weight"].dtype == np.float64 and state["1.num_batches_tracked"].dtype == np.int64
    assert state["1.num_batches_tracked"].shape == ()
    state["0.weight"].data[...] = 0  # a copy, not a view of PyTorch's memory
    assert t_model[0].weight.abs().sum() > 0

    model = nn.Sequential(nn.Linear(3, 2, dtype="float64"), nn.BatchNorm1d(2))
    t_state = to_torch(model)
    assert isinstance(t_state, OrderedDict) and list(t_state) == list(t_model.state_dict())
    assert t_state["0.weight"].dtype == torch.float64 and t_state["1.num_batches_tracked"].dtype == torch.int64
    t_model.load_state_dict(t_state)
    from_torch(t_model.state_dict(), model)  # a state dict of torch tensors works as well as a module


def test_dtypes_are_not_cast_silently():
    t_model = T.Sequential(T.Linear(6, 4), T.ReLU(), T.Linear(4, 3)).double()
    with pytest.raises(WeightsError, match=r"PyTorch weights into MLP: dtypes differ \(0\.weight: float64 given, "
                                           r"float32 expected.*\); pass cast=True"):
        from_torch(t_model, MLP(6, [4], 3))
    model = from_torch(t_model, MLP(6, [4], 3), cast=True)
    assert model[0].weight.dtype == np.float32
    np.testing.assert_allclose(model[0].weight.numpy(), t_model[0].weight.detach().numpy(), rtol=1e-7)

    with pytest.raises(WeightsError, match=r"nablab weights into Sequential: dtypes differ \(0\.weight: float32 "
                                           r"given, float64 expected"):
        to_torch(model, t_model)
    assert to_torch(model, t_model, cast=True) is t_model and t_model[0].weight.dtype == torch.float64
    with pytest.raises(WeightsError, match=r"nablab weights into Named: dtypes differ \(fc1\.weight: float32"):
        to_torch(model, Named().double())  # paired by position: checked all the same
