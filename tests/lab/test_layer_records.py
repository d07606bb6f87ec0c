"""A run that records its layers (``[train] monitor_every``): per-epoch layer statistics in its
records, the same after a resume, plots and a Layers section in its report; and the Trainer's
live plot outside a notebook."""

import os

import numpy as np
import pytest

import nablab
from nablab import nn, optim
from nablab.data import DataLoader
from nablab.lab import Trainer, experiments, session

CONFIG = {"data": {"dataset": "digits"}, "model": {"kind": "mlp", "hidden": [32, 32, 32], "activation": "sigmoid"},
          "train": {"epochs": 2, "monitor_every": 5}}


def _epochs(run):
    return [r for r in run.read_metrics() if r["kind"] == "epoch"]


def test_a_monitored_run_records_plots_and_reports_its_layers(tmp_path):
    run, _ = session.train(dict(CONFIG, name="watched"), runs_root=tmp_path, progress=False, log=None)
    epochs = _epochs(run)
    assert all("layers" in r for r in epochs)
    layers = epochs[-1]["layers"]
    linear = [name for name, v in layers.items() if v["layer"] == "Linear"]
    assert linear == ["0", "2", "4", "6"] and all(layers[n]["grad_norm"] > 0 for n in linear)
    assert all(0 <= v["act_saturated"] <= 1 for v in layers.values() if v["layer"] == "Sigmoid")
    # three sigmoid layers: the first layer's gradient is far smaller than the last's
    assert layers["6"]["grad_norm"] > 20 * layers["0"]["grad_norm"]
    report = run.report_path.read_text()
    assert "## Layers" in report
    assert "Gradient per weight (‖dL/dθ‖/√n) of the last layer with parameters (6) over the first's (0)" in report
    assert all(layers[n]["grad_rms"] == pytest.approx(layers[n]["grad_norm"] / np.sqrt(n_weights))
               for n, n_weights in (("0", 64 * 32 + 32), ("6", 32 * 10 + 10)))
    for picture in ("gradient_norms.png", "layer_outputs.png"):
        assert (run.plots_dir / picture).is_file() and f"plots/{picture}" in report


def test_a_run_without_monitor_every_records_no_layers(tmp_path):
    config = {**CONFIG, "train": {"epochs": 1}, "name": "plain"}
    run, _ = session.train(config, runs_root=tmp_path, progress=False, log=None)
    assert not any("layers" in r for r in _epochs(run))
    assert "## Layers" not in run.report_path.read_text() and not (run.plots_dir / "gradient_norms.png").exists()


def test_a_resumed_run_records_the_layers_an_uninterrupted_one_does(tmp_path):
    full, _ = session.train(dict(CONFIG, name="full"), runs_root=tmp_path / "a", progress=False, log=None)
    first = {**CONFIG, "train": {**CONFIG["train"], "epochs": 1}, "name": "parts"}
    part, _ = session.train(first, runs_root=tmp_path / "b", progress=False, log=None)
    resumed, _ = session.train({"train": {"epochs": 2}}, resume=part.path, progress=False, log=None)
    assert [r["layers"] for r in _epochs(resumed)] == [r["layers"] for r in _epochs(full)]


def test_monitor_every_is_checked_like_every_setting(tmp_path):
    with pytest.raises(ValueError, match=r"\[train\] monitor_every = 0 is not allowed: expected a positive integer"):
        session.train({**CONFIG, "train": {"monitor_every": 0}}, runs_root=tmp_path, progress=False, log=None)


def test_live_outside_a_notebook_warns_once_and_keeps_the_epoch_records():
    nablab.manual_seed(0)
    x, y = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32), np.arange(64) % 3
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    loader = DataLoader((x, y), batch_size=16)
    with pytest.warns(UserWarning, match="only in a Jupyter notebook"):
        trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), loader, epochs=2, live=True, progress=False,
                          log=None)
    trainer.fit()
    assert [r["epoch"] for r in trainer.live.records] == [1, 2]


@pytest.mark.skipif(not os.environ.get("NABLAB_DATA"), reason="NABLAB_DATA does not point at MNIST")
def test_the_ntnu_ten_layer_study_shows_its_gradients_through_the_depth(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    report = experiments.reproduce("ntnu-mnist", out_root=tmp_path, quick=True, log=None, variants=("ten",))
    text = report.read_text()
    assert "## Gradients through the depth" in text
    rows = [line for line in text.splitlines() if line.startswith("| ten ")]
    assert len(rows) >= 2 + 2  # each variant in the metrics table and in the gradients table
    ratios = {line.split(" | ")[0][2:]: float(line.split(" | ")[1].rstrip("×"))
              for line in rows if line.rstrip().endswith("× |")}
    # σ′ ≤ ¼ and small weights shrink the gradient at each of the ten layers: it vanishes
    assert ratios["ten sigmoid layers of 64, PyTorch's default init"] > 100 * ratios["ten layers of 64"]
    assert text.count("plots/gradient_norms.png") == 2
