"""Whole runs through the command line: run folder contents, report, comparison, and a run
killed with SIGKILL and resumed, which must end bit for bit where an uninterrupted run ends."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from nablab.cli import main
from nablab.lab import ConfigError, Run, resolve
from nablab.lab.config import build, resolve_saved


def test_run_folder_has_everything_a_report_needs(tmp_path, capsys):
    assert main(["train", "--epochs", "3", "--quiet", "--runs-dir", str(tmp_path), "--name", "t"]) == 0
    [folder] = list(tmp_path.iterdir())
    run = Run(folder)
    for name in ("config.toml", "metrics.jsonl", "report.md", "preprocessing.safetensors",
                 "checkpoints/last.safetensors", "checkpoints/best.safetensors",
                 "plots/loss.png", "plots/accuracy.png", "plots/weights.png", "plots/confusion.png"):
        assert (folder / name).is_file(), name
    config = run.read_config()
    assert config["data"]["dataset"] == "digits" and config["meta"]["nablab"]
    report = run.report_path.read_text()
    assert "test accuracy (final weights)" in report and "![loss](plots/loss.png)" in report
    (folder / "report.md").unlink()
    (folder / "plots" / "loss.png").unlink()
    assert main(["report", str(folder)]) == 0
    assert run.report_path.read_text() == report and (folder / "plots" / "loss.png").is_file()


def test_comparison_of_several_runs(tmp_path, capsys):
    for hidden in ("16", "64"):
        main(["train", "--epochs", "2", "--hidden", hidden, "--quiet", "--runs-dir", str(tmp_path / "runs"),
              "--name", f"h{hidden}", "--no-plots"])
    runs = sorted(str(p) for p in (tmp_path / "runs").iterdir())
    assert main(["report", *runs, "--output", str(tmp_path / "cmp")]) == 0
    text = (tmp_path / "cmp" / "compare.md").read_text()
    assert text.count("| h16-") == 1 and text.count("| h64-") == 1
    assert (tmp_path / "cmp" / "compare_val_acc.png").is_file()


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) layers in \[model\]; expected: activation"):
        resolve({"model": {"layers": [3]}})
    with pytest.raises(ConfigError, match="unknown configuration key 'epochs'"):
        resolve({"epochs": 3})
    with pytest.raises(ConfigError, match=r"\[optim\] optimizer = 'lbfgs' is not one of"):
        resolve({"optim": {"optimizer": "lbfgs"}})
    with pytest.raises(ConfigError, match="positive integer"):
        resolve({"train": {"epochs": 0}})


def test_the_run_seed_leaves_the_split_alone_and_split_seed_draws_it():
    def built(**overrides):
        ds, _, _, model, *_ = build(resolve(overrides), progress=False)
        return ds, model.state_dict()["0.weight"]

    ds0, w0 = built(seed=0)
    ds2, w2 = built(seed=2)
    for name in ("train", "val", "test"):  # --seed 2: the same 70/15/15 split of the digits
        np.testing.assert_array_equal(getattr(ds0, name).x, getattr(ds2, name).x)
        np.testing.assert_array_equal(getattr(ds0, name).y, getattr(ds2, name).y)
    assert not np.array_equal(w0, w2)  # but another initialisation
    ds_other, w_other = built(data={"split_seed": 1})
    assert not np.array_equal(ds0.test.x, ds_other.test.x)
    np.testing.assert_array_equal(w0, w_other)


def test_a_run_folder_from_before_split_seed_keeps_the_split_of_its_seed(tmp_path):
    run = Run.create(tmp_path, "old")
    run.write_config({"name": "old", "seed": 3, "data": {"dataset": "digits"}, "meta": {}})  # no split_seed
    saved = run.read_config()
    saved.pop("meta")
    assert resolve_saved(saved)["data"]["split_seed"] == 3
    assert resolve_saved({"seed": 3, "data": {"split_seed": 1}})["data"]["split_seed"] == 1
    assert resolve_saved({})["data"]["split_seed"] == 0


def test_resume_of_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no run folder"):
        main(["train", "--resume", str(tmp_path / "nope")])


ARGS = ["train", "--hidden", "512,512", "--epochs", "3", "--batch-size", "16", "--dropout", "0.2", "--lr-decay",
        "0.9", "--checkpoint-every", "10", "--seed", "3", "--quiet", "--no-plots"]


def _weights(root):
    [folder] = list(root.iterdir())
    tensors = load_file(str(folder / "checkpoints" / "last.safetensors"))
    return {k: v for k, v in tensors.items() if k.startswith("model.")}


def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path):
    cli = [sys.executable, "-m", "nablab.cli"]
    subprocess.run(cli + ARGS + ["--runs-dir", str(tmp_path / "full")], check=True, capture_output=True)
    proc = subprocess.Popen(cli + ARGS + ["--runs-dir", str(tmp_path / "killed")], stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    metrics = None
    while time.time() < deadline and proc.poll() is None:
        folders = list((tmp_path / "killed").glob("*/metrics.jsonl"))
        if folders and folders[0].read_text().count('"kind": "epoch"') >= 1:
            metrics = folders[0]
            break
        time.sleep(0.01)
    assert metrics is not None and proc.poll() is None, "the run ended before it could be killed"
    time.sleep(0.15)  # somewhere in the second epoch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = metrics.read_text().count('"kind": "epoch"')
    assert done < 3, "the run finished before the kill"
    [folder] = list((tmp_path / "killed").iterdir())
    subprocess.run(cli + ["train", "--resume", str(folder), "--quiet", "--no-plots"], check=True,
                   capture_output=True)
    full, resumed = _weights(tmp_path / "full"), _weights(tmp_path / "killed")
    assert full.keys() == resumed.keys()
    for key in full:
        np.testing.assert_array_equal(full[key], resumed[key], err_msg=key)
    steps = [line for line in metrics.read_text().splitlines() if '"kind": "step"' in line]
    assert len(steps) == 3 * 79
