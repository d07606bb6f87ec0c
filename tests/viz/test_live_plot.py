"""``LivePlot``: shows its picture once and replaces it after each epoch in a notebook, says once
that it draws nothing elsewhere, and works as the Trainer's ``on_epoch`` (with a LayerMonitor)."""

import warnings

import pytest

pytest.importorskip("matplotlib")

import nablab  # noqa: E402
from nablab import data, optim  # noqa: E402
from nablab.lab import Trainer  # noqa: E402
from nablab.lab.monitor import LayerMonitor  # noqa: E402
from nablab.models import MLP  # noqa: E402
from nablab.viz import live  # noqa: E402


def _records(n):
    return [{"kind": "epoch", "epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "val_acc": 0.5 + e / 20,
             "train_running_acc": 0.4 + e / 20} for e in range(1, n + 1)]


class _Handle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, image):
        self.shown.append(("update", image))


def test_in_a_notebook_it_displays_once_then_updates_in_place(monkeypatch):
    ipython_display = pytest.importorskip("IPython.display")
    shown = []

    def display(image, display_id=False):
        assert display_id is True
        shown.append(("display", image))
        return _Handle(shown)

    monkeypatch.setattr(ipython_display, "display", display)
    plot = live.LivePlot(notebook=True)
    for record in _records(3):
        plot(record)
    plot({"kind": "step", "step": 7, "loss": 0.1})  # not an epoch record: ignored
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    assert all(image.data.startswith(b"\x89PNG") for _, image in shown)
    assert len(plot.records) == 3


def test_the_figure_draws_the_panels_that_have_data():
    plot = live.LivePlot(notebook=True)
    for record in _records(4):
        plot.records.append(record)
    assert [label for label, _ in plot.shown_panels()] == ["cross-entropy loss", "accuracy"]
    fig = plot.figure()
    loss, accuracy = fig.axes
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ["training (running, during the epoch)",
                                                                     "validation"]
    assert list(loss.get_lines()[1].get_xdata()) == [1, 2, 3, 4]
    assert fig._suptitle.get_text() == "Training: epoch 4"
    with pytest.raises(ValueError, match="no epoch records"):
        live.LivePlot(notebook=True).figure()


def test_outside_a_notebook_it_says_so_once_keeps_the_records_and_can_save_them(tmp_path):
    assert not live.in_notebook()  # pytest is no Jupyter kernel
    with pytest.warns(UserWarning, match="draws only in a Jupyter notebook"):
        plot = live.LivePlot()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for record in _records(2):
            plot(record)
    assert len(plot.records) == 2
    plot.save(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_a_jupyter_kernel_is_recognised(monkeypatch):
    ipython = pytest.importorskip("IPython")

    class Kernel:
        config = {"IPKernelApp": {"connection_file": "kernel.json"}}

    class Terminal:
        config = {"TerminalIPythonApp": {}}

    monkeypatch.setattr(ipython, "get_ipython", lambda: Kernel())
    assert live.in_notebook()
    monkeypatch.setattr(ipython, "get_ipython", lambda: Terminal())
    assert not live.in_notebook()


def test_as_the_trainers_on_epoch_beside_a_layer_monitor():
    nablab.manual_seed(0)
    ds = data.load("spiral", seed=0)
    train = data.DataLoader(ds.train, 32, shuffle=True, seed=0)
    val = data.DataLoader(ds.val, 256)
    model = MLP(2, [16, 16], 3, activation="tanh")
    monitor = LayerMonitor(model, every=5)
    with pytest.warns(UserWarning):
        plot = live.LivePlot()
    layers_per_epoch = []

    def on_epoch(record):
        plot(record)
        layers_per_epoch.append(monitor.epoch_summary())
        monitor.reset()

    Trainer(model, optim.SGD(model.parameters(), lr=0.1), train, val, epochs=3, progress=False, log=None,
            on_epoch=on_epoch).fit()
    assert [r["epoch"] for r in plot.records] == [1, 2, 3] and "val_acc" in plot.records[0]
    assert len(layers_per_epoch) == 3
    assert set(layers_per_epoch[0]) == {"0", "1", "2", "3", "4"}
    assert all(summary["0"]["grad_norm"] > 0 for summary in layers_per_epoch)
    monitor.detach()
