"""The activation and loss modules: PyTorch's constructor arguments, exports and settings."""

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn import activation, loss


def test_every_activation_and_loss_module_is_exported_by_nn():
    for module in (activation, loss):
        for name in module.__all__:
            assert getattr(nn, name) is getattr(module, name)


IN_PLACE = [nn.ReLU, nn.ReLU6, nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.SELU, nn.ELU, nn.CELU,
            nn.LeakyReLU, nn.Hardtanh]


@pytest.mark.parametrize("cls", IN_PLACE)
def test_inplace_overwrites_the_input_as_torch(cls):
    layer = cls(inplace=True)
    assert "inplace=True" in repr(layer)
    data = np.array([-4.0, -2.0, -0.5, 0.5, 2.0, 7.0])
    expected = cls()(nablab.tensor(data)).numpy()
    x = nablab.tensor(data)
    version = x._version
    y = layer(x)
    assert y is x and x._version == version + 1
    np.testing.assert_array_equal(x.numpy(), expected)


@pytest.mark.parametrize("cls", IN_PLACE)
def test_inplace_in_a_graph_keeps_the_gradient(cls):
    data = np.array([-4.0, -2.0, -0.5, 0.5, 2.0, 7.0])
    w = nablab.tensor(data, dtype="float64", requires_grad=True)
    cls(inplace=True)(w * 1.0).sum().backward()
    expected = nablab.tensor(data, dtype="float64", requires_grad=True)
    cls()(expected * 1.0).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), expected.grad.numpy())
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        cls(inplace=True)(w)


def test_modules_keep_their_settings():
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus(2.0, 10.0)) == "Softplus(beta=2.0, threshold=10.0)"
    assert repr(nn.Hardtanh(-2.0, 3.0)) == "Hardtanh(min_val=-2.0, max_val=3.0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)" and nn.Softmax().dim is None
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("erf")(nablab.tensor(np.zeros(2)))


def test_prelu_parameters_and_dtype():
    layer = nn.PReLU(4, init=0.1, dtype="float64")
    assert layer.weight.dtype == np.float64 and layer.weight.shape == (4,)
    np.testing.assert_array_equal(layer.weight.numpy(), np.full(4, 0.1))
    assert nn.count_parameters(layer) == 4
    layer.weight.data[...] = 0.5
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.numpy(), np.full(4, 0.1))


def test_loss_modules_keep_torch_constructor_arguments():
    ce = nn.CrossEntropyLoss(weight=np.ones(3), ignore_index=2, label_smoothing=0.1, reduction="sum")
    assert (ce.ignore_index, ce.label_smoothing, ce.reduction) == (2, 0.1, "sum")
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn.NLLLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.HuberLoss(delta=0.5).delta == 0.5
    assert nn.KLDivLoss(reduction="batchmean", log_target=True).log_target
    bce = nn.BCEWithLogitsLoss(pos_weight=np.ones(2))
    assert list(bce.state_dict()) == ["pos_weight"] and bce.weight is None
    assert list(ce.state_dict()) == ["weight"] and not list(nn.NLLLoss().state_dict())
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.L1Loss(reduction="avg")(nablab.tensor(np.zeros(2)), nablab.tensor(np.zeros(2)))


def test_the_mlp_takes_the_new_activations_by_name():
    assert {"gelu", "silu", "mish", "hardswish"} <= set(nn.ACTIVATIONS)
    for name, cls in nn.ACTIVATIONS.items():
        assert not list(cls().parameters()), f"{name} has parameters"
