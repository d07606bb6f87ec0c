"""The `nablab` command's error boundary: one line `nablab: error: …`, exit 2 for usage and 1 for failures,
`--debug` / NABLAB_DEBUG=1 for the traceback; bad settings refused before any work; --data-dir everywhere."""

import errno
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from nablab.cli import main
from nablab.cli.errors import describe, floating_point_notes
from nablab.lab import ConfigError, Run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "data"))
from datafiles import write_mnist  # noqa: E402

QUICK = ["--epochs", "1", "--quiet", "--no-plots", "--train-eval-size", "50"]


def _fails(argv, capsys, status):
    """Run ``nablab argv``; it must end with ``status`` and print exactly one line on stderr; returns that line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == status
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nablab: error: "), err
    assert str(info.value) == err[0]
    return err[0]


@pytest.mark.parametrize(("options", "message"), [
    (["--grad-clip", "-1"], "[train] grad_clip = -1.0 is not allowed: expected a finite number > 0"),
    (["--patience", "-1"], "[train] patience = -1 is not allowed: expected a positive integer"),
    (["--dataset", "mnist", "--split", "hlcv"], "split = 'hlcv' is CIFAR-10's split"),
    (["--momentum", "5"], "[optim] momentum = 5.0 is not allowed"),
    (["--lr", "nan"], "[optim] lr = nan is not allowed"),
    (["--lr", "1e400"], "[optim] lr = inf is not allowed"),
    (["--dropout", "1.5"], "[model] dropout = 1.5 is not allowed"),
    (["--dataset", "mnist", "--val-size", "60000"], "val_size = 60000 is not allowed: mnist's training set has"),
    (["--val-size", "10"], "val_size = 10 does not apply: digits has a fixed split"),
])
def test_nonsense_settings_are_refused_before_any_work(options, message, tmp_path, capsys, monkeypatch):
    import nablab.data.sets as sets

    monkeypatch.setattr(sets, "download_files", lambda *a, **k: pytest.fail("a download was attempted"))
    line = _fails(["train", "--runs-dir", str(tmp_path / "runs"), *options], capsys, 2)
    assert message in line
    assert not (tmp_path / "runs").exists()


def test_a_missing_data_dir_is_named_and_nothing_is_downloaded(tmp_path, capsys, monkeypatch):
    import nablab.data.sets as sets

    monkeypatch.setattr(sets, "download_files", lambda *a, **k: pytest.fail("a download was attempted"))
    line = _fails(["train", "--dataset", "mnist", "--data-dir", "/nowhere", "--runs-dir", str(tmp_path)], capsys, 2)
    assert "data_dir = '/nowhere' is not allowed: there is no such folder" in line
    with pytest.raises(SystemExit) as info:
        main(["data", "info", "mnist", "--data-dir", "/nowhere"])
    assert info.value.code == 2 and "argument --data-dir: no such folder: /nowhere (see `nablab data info --help`)" \
        in capsys.readouterr().err


def test_reproduce_and_sweep_take_data_dir(tmp_path, capsys):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text('kind = "train"\n[base.data]\ndataset = "digits"\ntrain_eval_size = 50\n'
                          '[base.train]\nepochs = 1\n[[variants]]\nlabel = "only"\n')
    data = tmp_path / "data"
    data.mkdir()
    assert main(["reproduce", str(experiment), "--quiet", "--out", str(tmp_path / "out"), "--data-dir", str(data)]) == 0
    (run_dir,) = [p for p in (tmp_path / "out").glob("*/*") if (p / "config.toml").is_file()]
    assert Run(run_dir).read_config()["data"]["data_dir"] == str(data)
    line = _fails(["sweep", str(experiment), "--data-dir", "/nowhere"], capsys, 2)
    assert "no such folder: /nowhere" in line


def test_a_checksum_error_suggests_the_cli_option_and_no_verify_reads_own_files(tmp_path, capsys):
    write_mnist(tmp_path / "mine", n_train=5010)  # the official format, not the official files
    line = _fails(["data", "info", "mnist", "--data-dir", str(tmp_path / "mine")], capsys, 1)
    assert "checksum mismatch" in line and "--no-verify" in line and "verify=False" not in line
    assert main(["data", "info", "mnist", "--data-dir", str(tmp_path / "mine"), "--no-verify"]) == 0


def test_toy_is_listed_by_data_info_and_trained_by_train(tmp_path, capsys):
    assert main(["data", "info", "toy"]) == 0
    assert main(["train", "--dataset", "toy", "--runs-dir", str(tmp_path), *QUICK]) == 0
    assert "test accuracy:" in capsys.readouterr().out
    line = _fails(["train", "--dataset", "toy", "--model", "small_cnn", "--runs-dir", str(tmp_path)], capsys, 2)
    assert "needs images; toy holds 2-D points" in line


def _experiment(tmp_path, text):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return str(path)


def test_bad_experiment_files_are_one_line_usage_errors(tmp_path, capsys):
    path = _experiment(tmp_path, 'kind = "train"\n[base\n')
    line = _fails(["reproduce", path, "--out", str(tmp_path / "out")], capsys, 2)
    assert path in line and "line 2, column" in line
    path = _experiment(tmp_path, 'kind = "train"\nepochs = 3\n[base]\n[[variants]]\nlabel = "a"\n')
    assert "unknown top-level key(s) epochs" in _fails(["reproduce", path], capsys, 2)
    path = _experiment(tmp_path, 'kind = "train"\n[[variants]]\nlabel = "a"\n')
    assert "needs a [base] table" in _fails(["reproduce", path], capsys, 2)
    path = _experiment(tmp_path, 'kind = "train"\n[base.model]\nlayers = 3\n[[variants]]\nlabel = "a"\n')
    assert "unknown key(s) layers in [model]" in _fails(["reproduce", path], capsys, 2)
    assert "no experiment 'nope'" in _fails(["reproduce", "nope"], capsys, 2)


def test_a_full_disk_while_checkpointing_is_one_line(tmp_path, capsys, monkeypatch):
    import safetensors.numpy
    from safetensors import SafetensorError

    def full(*args, **kwargs):
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: '
                              '"No space left on device" })')

    monkeypatch.setattr(safetensors.numpy, "save_file", full)  # every safetensors write of the run
    line = _fails(["train", "--runs-dir", str(tmp_path), *QUICK], capsys, 1)
    assert "no space left on device" in line and "--resume" in line


def test_os_errors_name_the_file_and_give_a_hint():
    assert describe(OSError(errno.ENOSPC, "No space left on device", "runs/x/metrics.jsonl")) == (
        1, "runs/x/metrics.jsonl: No space left on device; the disk is full: free some space and run the command "
           "again (a run continues with `nablab train --resume RUN_DIR`)")
    status, line = describe(PermissionError(errno.EACCES, "Permission denied", "/runs"))
    assert status == 1 and line.startswith("/runs: Permission denied; choose a folder you may write to")
    assert describe(ConfigError("[x] y = 1 is bad"))[0] == 2
    status, line = describe(KeyError("boom"))
    assert status == 1 and "unexpected KeyError" in line and "--debug" in line


def test_resume_passes_the_settings_given_again_and_names_a_broken_config_toml(tmp_path, capsys):
    assert main(["train", "--runs-dir", str(tmp_path / "runs"), "--name", "r", *QUICK]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    line = _fails(["train", "--resume", str(run_dir), "--lr", "0.5"], capsys, 1)
    assert "cannot be resumed with other settings (optim.lr 0.05 → 0.5)" in line
    assert main(["train", "--resume", str(run_dir), "--epochs", "2", "--quiet", "--no-plots"]) == 0
    folder = tmp_path / "r"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.toml").write_text("seed = \n")
    line = _fails(["train", "--resume", str(folder)], capsys, 2)
    assert f"{folder}/config.toml: " in line and "line 1, column 8" in line


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="grad_clip"):
        main(["--debug", "train", "--grad-clip", "-1"])
    with pytest.raises(ConfigError, match="grad_clip"):
        main(["train", "--grad-clip", "-1", "--debug"])
    monkeypatch.setenv("NABLAB_DEBUG", "1")
    with pytest.raises(ConfigError, match="grad_clip"):
        main(["train", "--grad-clip", "-1"])


def test_the_command_line_exit_statuses_and_one_line():
    env = {**os.environ, "NABLAB_DEBUG": ""}
    bad = subprocess.run([sys.executable, "-m", "nablab.cli", "train", "--dropout", "1.5"], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("nablab: error: [model] dropout = 1.5 is not allowed")


def test_numpy_floating_point_warnings_become_one_note(capsys):
    with warnings.catch_warnings(record=True) as caught, floating_point_notes():
        warnings.simplefilter("always")
        big = np.full(4, 1e38, dtype=np.float32)
        for _ in range(3):
            big * np.float32(10)  # overflow
        np.log(np.zeros(2))  # divide by zero
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nablab: note: NumPy reported floating-point trouble during training")
    assert "overflow 3×" in err[0] and "divide by zero 2×" in err[0] or "divide by zero 1×" in err[0]


def test_training_runs_under_the_floating_point_note(tmp_path, capsys, monkeypatch):
    import nablab.lab

    def overflowing_train(*args, **kwargs):
        np.full(2, 1e38, dtype=np.float32) * np.float32(10)
        raise nablab.lab.TrainingDiverged("the loss became inf")

    monkeypatch.setattr(nablab.lab, "train", overflowing_train)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SystemExit) as info:
            main(["train", "--runs-dir", str(tmp_path)])
    assert info.value.code == 1 and not caught
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("nablab: note: NumPy reported") and err[1] == "nablab: error: training stopped: the " \
                                                                          "loss became inf"


def test_a_missing_data_set_is_one_line_listing_the_files_and_folders(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NABLAB_DATA", raising=False)
    import nablab.data.sets as sets

    def offline(*args, **kwargs):
        raise sets.DataError(sets.missing_files_message(sets.mnist.MNIST, str(tmp_path)))

    monkeypatch.setattr(sets, "download_files", offline)
    line = _fails(["data", "info", "mnist", "--data-dir", str(tmp_path)], capsys, 1)
    assert "Put these files: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in line
    assert f"holding them): {tmp_path}, {tmp_path / 'mnist'}" in line


def test_sweep_data_dir_reaches_the_sweep_and_its_workers(tmp_path, capsys, monkeypatch):
    import nablab.lab.sweep

    seen = {}

    def fake_sweep(name, **kwargs):
        seen["NABLAB_DATA"] = os.environ.get("NABLAB_DATA")
        return tmp_path / "sweep.md"

    monkeypatch.setattr(nablab.lab.sweep, "run_sweep", fake_sweep)
    monkeypatch.setenv("NABLAB_DATA", "/elsewhere")
    assert main(["sweep", "hlcv-grid", "--data-dir", str(tmp_path)]) == 0
    assert seen["NABLAB_DATA"] == str(tmp_path) and os.environ["NABLAB_DATA"] == "/elsewhere"


def test_report_skips_folders_that_are_not_runs(tmp_path, capsys):
    (tmp_path / "leftover").mkdir()
    line = _fails(["report", str(tmp_path / "leftover")], capsys, 2)
    assert "none of the folders given is a run folder" in line
