"""The run figures say what they show: how many of the first layer's units, whole epochs on the axis."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from nablab.lab import plots  # noqa: E402


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions make, kept instead of written."""
    kept = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: kept.append(fig))
    return kept


def test_plots_leave_pyplot_and_its_backend_alone(tmp_path):
    """A notebook that wrote a run's plots still draws its own figures inline: the run's figures are made
    without pyplot, so no backend is switched and no figure is left open in pyplot."""
    import matplotlib
    import matplotlib.pyplot as plt

    backend, open_figures = matplotlib.get_backend(), plt.get_fignums()
    plots.plot_loss(np.linspace(2.0, 0.5, 40), tmp_path / "loss.png")
    plots.plot_confusion(np.eye(3, dtype=int) * 5, ["a", "b", "c"], tmp_path / "confusion.png")
    assert matplotlib.get_backend() == backend and plt.get_fignums() == open_figures
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_weights_title_says_how_many_units_of_how_many(figures, tmp_path):
    plots.plot_weights(np.random.default_rng(0).standard_normal((128, 16)), (1, 4, 4), tmp_path / "w.png")
    plots.plot_weights(np.random.default_rng(0).standard_normal((10, 16)), (1, 4, 4), tmp_path / "w.png")
    titles = [fig.axes[0].get_title() for fig in figures]
    assert "the first 64 of 128 units" in titles[0]
    assert "(10 units," in titles[1]


def test_epoch_axes_have_whole_epochs_only(figures, tmp_path):
    epochs = [{"epoch": e, "val_acc": 0.5 + e / 10, "train_acc": 0.4 + e / 10} for e in (1, 2, 3)]
    plots.plot_accuracy(epochs, tmp_path / "a.png")
    plots.plot_compare([("run", epochs)], tmp_path / "c.png")
    for fig in figures:
        ax = fig.axes[0]
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
