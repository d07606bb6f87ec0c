"""The pictures of LayerMonitor's records: one line per layer on a log scale, the depth profile with
its spread in the title, activation statistics and histograms of the activation layers, PNG files
written atomically — from a real monitored ten-layer sigmoid net."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import nablab  # noqa: E402
import nablab.nn.functional as F  # noqa: E402
from nablab import optim  # noqa: E402
from nablab.lab.monitor import LayerMonitor  # noqa: E402
from nablab.models import MLP  # noqa: E402
from nablab.viz import layers  # noqa: E402


@pytest.fixture(scope="module")
def recorded():
    """Three epochs of a ten-layer sigmoid MLP: the summaries and the last epoch's samples."""
    nablab.manual_seed(0)
    model = MLP(16, [32] * 10, 4, activation="sigmoid")
    monitor = LayerMonitor(model, every=2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = nablab.randn(32, 16), nablab.tensor([i % 4 for i in range(32)])
    summaries = []
    for _ in range(3):
        for _ in range(4):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        summaries.append(monitor.epoch_summary())
        samples = monitor.activation_samples()
        monitor.reset()
    return summaries, samples


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions make, kept instead of written."""
    kept = []
    monkeypatch.setattr(layers, "save_png", lambda fig, path: kept.append(fig))
    return kept


def test_gradient_norms_one_log_line_per_layer_and_the_spread_across_the_depth(recorded, figures, tmp_path):
    summaries, _ = recorded
    layers.plot_gradient_norms(summaries, tmp_path / "grads.png")
    [fig] = figures
    over_time, over_depth = fig.axes
    assert over_time.get_yscale() == over_depth.get_yscale() == "log"
    assert len(over_time.get_lines()) == 11  # the eleven Linear layers; the activations have no parameters
    assert [t.get_text() for t in over_time.get_legend().get_texts()][:2] == ["0 (Linear)", "2 (Linear)"]
    assert len(over_depth.get_lines()) == 3  # epochs 1, 2 and 3
    last = [s["grad_norm"] for s in summaries[-1].values() if "grad_norm" in s]
    assert layers._times(max(last) / min(last)) in over_depth.get_title()
    assert max(last) / min(last) > 100  # the picture shows a vanishing gradient


def test_the_png_is_written_atomically(tmp_path):
    summaries = [{"0": {"layer": "Linear", "grad_norm": 1e-3}, "2": {"layer": "Linear", "grad_norm": 1.0}}]
    layers.plot_gradient_norms(summaries, tmp_path / "grads.png")
    assert (tmp_path / "grads.png").read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir()] == ["grads.png"]


def test_a_small_spread_is_not_drawn_as_steep(figures, tmp_path):
    summaries = [{"0": {"layer": "Linear", "grad_norm": 1.0}, "2": {"layer": "Linear", "grad_norm": 2.0}}]
    layers.plot_gradient_norms(summaries, tmp_path / "g.png")
    low, high = figures[0].axes[1].get_ylim()
    assert np.log10(high / low) >= 2 - 1e-9


def test_activation_statistics_show_the_activation_layers_by_default(recorded, figures, tmp_path):
    summaries, _ = recorded
    layers.plot_activation_stats(summaries, tmp_path / "a.png")
    layers.plot_activation_stats(summaries, tmp_path / "b.png", which="all")
    values, shares = figures[0].axes
    assert [t.get_text() for t in values.get_xticklabels()] == [f"{i} (Sigmoid)" for i in range(1, 20, 2)]
    assert [t.get_text() for t in shares.get_legend().get_texts()] == ["epoch 1: saturated", "epoch 3: saturated"]
    assert len(figures[1].axes[0].get_xticklabels()) == 21


def test_histograms_one_panel_per_activation_layer_titled_with_its_statistics(recorded, figures, tmp_path):
    summaries, samples = recorded
    layers.plot_activation_histograms(samples, tmp_path / "h.png", summary=summaries[-1])
    drawn = [ax for ax in figures[0].axes if ax.axison]
    assert len(drawn) == 10
    title = drawn[0].get_title()
    assert title.startswith("1 (Sigmoid)\nmean ") and title.endswith("% saturated")
    assert sum(p.get_height() for p in drawn[0].patches) == pytest.approx(1.0)  # shares of the values


def test_empty_or_unsuitable_records_say_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="no epoch summaries"):
        layers.plot_gradient_norms([], tmp_path / "g.png")
    with pytest.raises(ValueError, match="parameters that got gradients"):
        layers.plot_gradient_norms([{"1": {"layer": "ReLU", "act_mean": 0.1}}], tmp_path / "g.png")
    with pytest.raises(ValueError, match="2 numbers for 1 summaries"):
        layers.plot_gradient_norms([{"0": {"grad_norm": 1.0}}], tmp_path / "g.png", epochs=[1, 2])
    with pytest.raises(ValueError, match="which must be"):
        layers.plot_activation_stats([{"1": {"act_mean": 0.1}}], tmp_path / "a.png", which="some")
    with pytest.raises(ValueError, match="no activation samples"):
        layers.plot_activation_histograms({"1": np.array([np.nan])}, tmp_path / "h.png")
    assert not list(tmp_path.iterdir())
