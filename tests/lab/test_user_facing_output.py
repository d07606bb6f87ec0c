"""What a user reads from the lab: published figures with their own digits, folder names without runs of
dashes, a report that lists the settings of its kind of model, and the budget caps of smoke runs."""

import pytest

from nablab.lab import budget, train
from nablab.lab.experiments import published_and_ours, reproduce, slug


@pytest.mark.parametrize(("published", "ours", "shown"), [
    (1.30378789133, 1.3037878913321, ("1.30378789133", "1.30378789133")),
    (0.97, 0.96831, ("0.97", "0.97")),
    (0.5, 0.4321, ("0.5", "0.4")),
    (3.6e-09, 7.14e-09, ("3.6e-09", "7.1e-09")),
    (None, 0.96831, ("—", "0.9683")),
    (50890, 50890, ("50890", "50890")),
])
def test_published_figures_keep_their_digits_and_ours_match_them(published, ours, shown):
    assert published_and_ours(published, ours) == shown


def test_reproduce_shows_the_published_loss_as_published(tmp_path):
    report = reproduce("hlcv-toy", out_root=tmp_path, log=None).read_text()
    row = next(line for line in report.splitlines() if "| loss |" in line)
    assert "| 1.30378789133 | 1.30378789133 |" in row, row  # was 1.3038 | 1.3038


@pytest.mark.parametrize(("text", "name"), [
    ("ntnu-mnist-+ fan-in init", "ntnu-mnist-fan-in-init"),
    ("ntnu-mnist-baseline", "ntnu-mnist-baseline"),
    ("uva-cnn-lr 1e-3 / batch norm", "uva-cnn-lr-1e-3-batch-norm"),
    ("x--y  (z)", "x-y-z"),
])
def test_folder_names_have_no_runs_of_dashes(text, name):
    assert slug(text) == name


def _settings_rows(run):
    return [line.split("|")[1].strip() for line in run.report_path.read_text().splitlines()
            if line.startswith("| model.")]


def test_an_mlp_report_lists_only_mlp_settings(tmp_path):
    run, _ = train({"model": {"hidden": [8]}, "train": {"epochs": 1, "steps": 3}}, runs_root=tmp_path,
                   progress=False, log=None, plots=False)
    rows = _settings_rows(run)
    assert "model.hidden" in rows and "model.activation" in rows
    assert "model.widths" not in rows and "model.batch_norm" not in rows


def test_a_cnn_report_lists_only_cnn_settings(tmp_path):
    run, _ = train({"model": {"kind": "small_cnn", "widths": [4, 8], "hidden": []}, "train": {"epochs": 1, "steps": 2}},
                   runs_root=tmp_path, progress=False, log=None, plots=False)
    rows = _settings_rows(run)
    assert "model.widths" in rows and "model.batch_norm" in rows
    assert "model.activation" not in rows and "model.dropout" not in rows


def test_budget_caps_lower_epochs_and_steps_only(monkeypatch):
    monkeypatch.delenv("NABLAB_MAX_EVAL", raising=False)
    monkeypatch.setenv("NABLAB_MAX_EPOCHS", "2")
    monkeypatch.setenv("NABLAB_MAX_STEPS", "40")
    assert budget.capped({"train": {"epochs": 5}})["train"] == {"epochs": 2, "steps": 40}
    assert budget.capped({"train": {"epochs": 1, "steps": 10}})["train"] == {"epochs": 1, "steps": 10}
    assert budget.capped({})["train"] == {"epochs": 2, "steps": 40}
    monkeypatch.setenv("NABLAB_MAX_STEPS", "-3")
    with pytest.raises(ValueError, match="NABLAB_MAX_STEPS must be a positive integer"):
        budget.caps()


def test_budget_caps_the_evaluation(monkeypatch):
    for variable in ("NABLAB_MAX_EPOCHS", "NABLAB_MAX_STEPS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NABLAB_MAX_EVAL", "500")
    capped = budget.capped({"data": {"dataset": "mnist", "limit_test": 2000}, "train": {"epochs": 3}})
    assert capped["data"] == {"dataset": "mnist", "limit_test": 500, "train_eval_size": 500, "val_size": 500}
    assert capped["train"] == {"epochs": 3}
    hlcv = budget.capped({"data": {"dataset": "cifar10", "split": "hlcv"}})["data"]  # holds out exactly 1,000
    assert hlcv == {"dataset": "cifar10", "split": "hlcv", "limit_test": 500, "train_eval_size": 500}
    assert "val_size" not in budget.capped({})["data"]  # the digits' split is fixed


def test_budget_caps_a_resume_to_that_many_more(monkeypatch):
    monkeypatch.setenv("NABLAB_MAX_STEPS", "40")
    monkeypatch.setenv("NABLAB_MAX_EPOCHS", "2")
    records = [{"kind": "step", "step": 40}, {"kind": "epoch", "epoch": 1, "step": 40},
               {"kind": "final", "step": 40}]
    assert budget.capped_resume({"train": {"epochs": 30}}, records)["train"] == {"epochs": 3, "steps": 80}
    assert budget.capped_resume({}, records) == {}  # a finished run resumed as it is: not trained again
    assert budget.capped_resume({}, records[:2])["train"] == {"steps": 80}


def test_without_caps_nothing_changes(monkeypatch):
    monkeypatch.delenv("NABLAB_MAX_EPOCHS", raising=False)
    monkeypatch.delenv("NABLAB_MAX_STEPS", raising=False)
    config = {"train": {"epochs": 30}}
    assert budget.capped(config) is config
