import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.models import MLP


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.register_buffer("steps", np.zeros(1, dtype=np.float32))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_parameters_are_registered_in_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert len(list(Net().parameters())) == 3


def test_parameter_counts_of_the_report_networks():
    # weights and biases counted separately (PyTorch's convention)
    assert nn.count_parameters(MLP(784, [64], 10)) == 50_890
    assert nn.count_parameters(MLP(784, [59, 59], 10)) == 50_455
    # the NTNU report folds one bias into a 785th input and has no other biases:
    # 785·64 + 64·10 = 50,880 and 785·59 + 59·59 + 59·10 = 50,386 for the same networks


def test_state_dict_round_trip_and_buffers():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight"]  # PyTorch's order: own entries first
    b.load_state_dict(sd)
    x = nablab.randn(5, 4)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    b.fc1.weight.data[0, 0] = 99  # loading copies: the two models stay independent
    assert a.fc1.weight.data[0, 0] != 99


def test_load_state_dict_is_strict_and_names_the_problem():
    net, sd = Net(), Net().state_dict()
    missing = {k: v for k, v in sd.items() if k != "fc1.bias"}
    with pytest.raises(KeyError, match=r"missing keys: fc1.bias \(the model's shape \(3,\)\)"):
        net.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys: extra \(shape \(2, 1\)\)") as info:
        net.load_state_dict({**sd, "extra": np.zeros((2, 1))})
    assert str(info.value).startswith("load_state_dict into Net failed")  # printed without KeyError's quotes
    with pytest.raises(KeyError, match=r"fc1.weight: the state has shape \(4, 4\), the model expects \(3, 4\)"):
        net.load_state_dict({**sd, "fc1.weight": np.zeros((4, 4))})
    assert net.load_state_dict(missing, strict=False) == (["fc1.bias"], [])


def test_train_eval_and_zero_grad():
    net = Net()
    net.eval()
    assert not net.training and not net.fc1.training
    net.train()
    assert net.fc2.training
    loss = net(nablab.randn(2, 4)).sum()
    loss.backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_repr_is_readable():
    text = repr(Net())
    assert "(fc1): Linear(in_features=4, out_features=3, bias=True)" in text
    assert "(fc2): Linear(in_features=3, out_features=2, bias=False)" in text


def test_module_without_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_sequential_indexing_and_dropout_modes():
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 10), nn.Dropout(0.5))
    assert isinstance(model[0], nn.Linear) and len(model) == 2 and len(model[:1]) == 1
    x = nablab.ones(4, 10)
    model.eval()
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    model.train()
    assert (model(x).data == 0).any()
    with pytest.raises(TypeError, match="Modules"):
        nn.Sequential(nn.Linear(2, 2), "relu")


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match="input of shape \\(3, 5\\) has 5 features"):
        nn.Linear(4, 2)(nablab.randn(3, 5))
    with pytest.raises(RuntimeError, match="has 5 features"):  # PyTorch's exception type, as for matmul
        nablab.nn.functional.linear(nablab.randn(5), nablab.randn(2, 4))
    with pytest.raises(RuntimeError, match="has no features"):
        nablab.nn.functional.linear(nablab.tensor(1.0), nablab.randn(2, 1))


def test_manual_seed_makes_initialisation_reproducible():
    nablab.manual_seed(3)
    a = MLP(8, [5], 2).state_dict()
    nablab.manual_seed(3)
    b = MLP(8, [5], 2).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k].data, b[k].data)


def test_mlp_options():
    model = MLP(6, [5, 4], 3, activation="improved_sigmoid", init="xavier_normal", dropout=0.2)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ImprovedSigmoid", "Dropout", "Linear", "ImprovedSigmoid", "Dropout", "Linear"]
    assert np.all(model[0].bias.data == 0)
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(2, [2], 2, activation="swish")
    with pytest.raises(ValueError, match="unknown init"):
        MLP(2, [2], 2, init="orthogonal")


def test_replacing_a_layer_keeps_its_place_and_a_buffer_stays_a_buffer():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    setattr(model, "1", nn.Tanh())
    assert [type(layer).__name__ for layer in model] == ["Linear", "Tanh", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    bn = nn.BatchNorm2d(3)
    bn.running_mean = nablab.tensor(np.ones(3))
    assert "running_mean" in bn.state_dict()
    np.testing.assert_array_equal(bn.state_dict()["running_mean"], np.ones(3))
