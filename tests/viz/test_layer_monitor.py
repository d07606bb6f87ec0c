"""``LayerMonitor``: per-layer activation statistics and gradient norms, sampled every k steps; the
ten-layer sigmoid net's vanishing gradient shows in them, the ReLU net's much less."""

import numpy as np
import pytest

import nablab
import nablab.nn.functional as F
from nablab import nn, optim
from nablab.lab.monitor import LayerMonitor
from nablab.models import MLP


def _train(model, steps=4, monitor_every=1, seed=0):
    nablab.manual_seed(seed)
    monitor = LayerMonitor(model, every=monitor_every)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = nablab.randn(64, 32), nablab.tensor([i % 10 for i in range(64)])
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return monitor


def _first_over_last(summary) -> float:
    norms = [s["grad_norm"] for s in summary.values() if s["layer"] == "Linear"]
    assert len(norms) == 11
    return norms[0] / norms[-1]


def test_the_sigmoid_nets_first_layers_get_orders_of_magnitude_smaller_gradients_than_relus():
    nablab.manual_seed(0)
    sigmoid = MLP(32, [64] * 10, 10, activation="sigmoid", init="kaiming_normal")
    nablab.manual_seed(0)
    relu = MLP(32, [64] * 10, 10, activation="relu", init="kaiming_normal")
    sigmoid_ratio = _first_over_last(_train(sigmoid).epoch_summary())
    relu_ratio = _first_over_last(_train(relu).epoch_summary())
    assert sigmoid_ratio < 1e-3, sigmoid_ratio  # measured ≈ 7e-6: σ' ≤ 1/4 at each of ten layers
    assert relu_ratio > 1e-2, relu_ratio  # measured ≈ 0.2
    assert relu_ratio / sigmoid_ratio > 1e3


def test_the_statistics_are_those_of_the_layer_outputs_and_parameter_gradients():
    nablab.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())
    monitor = LayerMonitor(model)
    x = nablab.randn(8, 3)
    h = model[1](model[0](x)).numpy()  # the same numbers, outside the monitor (not a training forward)
    out = model(x)
    (out * out).sum().backward()
    summary = monitor.epoch_summary()
    assert list(summary) == ["0", "1", "2", "3"]
    assert [s["layer"] for s in summary.values()] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    assert summary["1"]["act_mean"] == pytest.approx(h.mean(), rel=1e-6)
    assert summary["1"]["act_std"] == pytest.approx(h.std(), rel=1e-6)
    assert summary["1"]["act_zeros"] == (h == 0).mean()
    y = out.numpy()
    assert summary["3"]["act_saturated"] == ((y <= 0.01) | (y >= 0.99)).mean()
    assert "act_saturated" not in summary["1"] and "grad_norm" not in summary["1"]
    w, b = model[0].weight, model[0].bias
    assert summary["0"]["weight.grad_norm"] == pytest.approx(np.linalg.norm(w.grad.numpy()), rel=1e-6)
    assert summary["0"]["weight.norm"] == pytest.approx(np.linalg.norm(w.numpy()), rel=1e-6)
    both = np.sqrt(np.linalg.norm(w.grad.numpy()) ** 2 + np.linalg.norm(b.grad.numpy()) ** 2)
    assert summary["0"]["grad_norm"] == pytest.approx(both, rel=1e-6)
    assert summary["0"]["grad_ratio"] == pytest.approx(summary["0"]["grad_norm"] / summary["0"]["param_norm"])


def test_tanh_saturation_counts_outputs_beyond_099():
    model = nn.Sequential(nn.Tanh())
    monitor = LayerMonitor(model)
    x = nablab.tensor([-5.0, -0.5, 0.0, 0.5, 2.0, 3.0], requires_grad=True)
    model(x)
    assert monitor.epoch_summary()["0"]["act_saturated"] == pytest.approx(2 / 6)  # tanh 3 ≈ 0.995, tanh 2 ≈ 0.964


def test_a_parameter_used_twice_gets_the_sum_of_its_gradients():
    layer = nn.Linear(2, 2, bias=False)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    monitor = LayerMonitor(model)
    model(nablab.randn(3, 2)).sum().backward()
    assert list(monitor.epoch_summary()) == ["0", "1"]  # the shared layer once, by its first name
    assert monitor.epoch_summary()["0"]["weight.grad_norm"] == pytest.approx(
        np.linalg.norm(layer.weight.grad.numpy()), rel=1e-6)


def test_every_k_samples_one_training_step_in_k_and_skips_evaluation():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    monitor = LayerMonitor(model, every=3)
    sampled = []
    x = nablab.randn(4, 3)
    for _ in range(7):
        model(x).sum().backward()
        with nablab.no_grad():
            model(x)  # evaluation: neither counted nor sampled
        sampled.append(bool(monitor.epoch_summary()))
        monitor.reset()
    assert monitor.steps == 7
    assert sampled == [True, False, False, True, False, False, True]
    model.eval()
    model(x).sum().backward()
    assert monitor.steps == 7 and not monitor.epoch_summary()


def test_the_summary_averages_the_sampled_steps_and_reset_starts_over():
    model = nn.Sequential(nn.Sigmoid())
    monitor = LayerMonitor(model)
    model(nablab.tensor([0.0], requires_grad=True))  # σ(0) = 0.5
    model(nablab.tensor([20.0], requires_grad=True))  # σ(20) ≈ 1, saturated
    summary = monitor.epoch_summary()["0"]
    assert summary["act_mean"] == pytest.approx(0.75) and summary["act_saturated"] == 0.5
    monitor.reset()
    assert monitor.epoch_summary() == {}


def test_between_samples_the_model_runs_as_without_a_monitor_and_detach_takes_every_hook_off():
    from nablab.viz import graph

    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    monitor = LayerMonitor(model, every=2)
    x = nablab.randn(4, 3)
    sampled = model(x)  # step 1: hooks on the layers, so Linear and ReLU run as two nodes
    source = graph(sampled).source
    assert "LinearReLU" not in source and ("label=ReLU " in source or "label=ReLUInPlace " in source)
    sampled.sum().backward()
    unsampled = model(x)  # step 2: no layer hooks, Sequential fuses Linear and ReLU again
    source = graph(unsampled).source
    assert "LinearReLU" in source and "label=ReLU" not in source
    monitor.detach()
    assert all("_hooks" not in m.__dict__ for m in model.modules())


def test_activation_samples_are_drawn_from_the_latest_sampled_steps_outputs_without_touching_nablabs_generator():
    model = nn.Sequential(nn.Identity())
    monitor = LayerMonitor(model, layers=["0"], hist_values=50)
    model(nablab.arange(10.0).requires_grad_())
    np.testing.assert_array_equal(monitor.activation_samples()["0"], np.arange(10.0))  # fewer than 50: all
    nablab.manual_seed(3)
    model(nablab.arange(1000.0).reshape(10, 100).requires_grad_() + 5000)
    after_monitor = nablab.randn(3).numpy()
    samples = monitor.activation_samples()["0"]
    assert samples.shape == (50,) and np.all((samples >= 5000) & (samples < 6000))
    assert len(np.unique(samples % 100)) > 20  # many units, not every k-th column
    nablab.manual_seed(3)
    np.testing.assert_array_equal(nablab.randn(3).numpy(), after_monitor)


def test_a_recurrent_layers_tuple_output_is_read_from_its_first_tensor():
    lstm = nn.LSTM(3, 4, batch_first=True)
    monitor = LayerMonitor(nn.Sequential(lstm))
    out, _ = monitor.model(nablab.randn(2, 5, 3))
    out.sum().backward()
    summary = monitor.epoch_summary()["0"]
    assert summary["act_mean"] == pytest.approx(out.numpy().mean(), rel=1e-5)
    assert summary["grad_norm"] > 0


def test_bad_arguments_say_what_was_expected():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="every"):
        LayerMonitor(model, every=0)
    with pytest.raises(ValueError, match="sub-modules of the model"):
        LayerMonitor(model, layers=[nn.Linear(2, 2)])
    with pytest.raises(AttributeError, match="no sub-module"):
        LayerMonitor(model, layers=["fc"])
    with pytest.raises(ValueError, match="no layers to watch"):
        LayerMonitor(nn.Sequential(nn.Flatten()))
