"""Run folders a user cannot corrupt: one writer per folder, no empty or half-set-up folders, no
stale temporary files, resumes that say what they continue and refuse what they cannot do, and
divergence that is noticed (a non-finite loss, or one far above the first epoch's)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from nablab.cli import main
from nablab.lab import TrainingDiverged, resolve, session
from nablab.lab.lock import holder, is_locked
from nablab.lab.run import Run, RunError
from nablab.lab.trainer import Trainer

TINY = {"model": {"hidden": [16]}, "data": {"train_eval_size": 200}, "train": {"epochs": 1}}


def _config(name="t", **train):
    return {**TINY, "name": name, "train": {**TINY["train"], **train}}


def _train(root, name="t", log=None, **train):
    return session.train(_config(name, **train), runs_root=root, progress=False, log=log, plots=False)


def _weights(run):
    return {k: v for k, v in load_file(str(run.last_checkpoint)).items() if k.startswith("model.")}


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


def _kinds(run):
    return [r["kind"] for r in run.read_metrics()]


# ------------------------------------------------------------------ one writer per run folder
RESUME_FOR_LONG = textwrap.dedent("""
    import sys
    from nablab.lab import session
    session.train({"train": {"epochs": 1000}}, resume=sys.argv[1], progress=False, log=None, plots=False)
""")


def test_a_second_resume_is_refused_naming_the_first_and_a_killed_writers_lock_is_taken_over(tmp_path):
    run, _ = _train(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", RESUME_FOR_LONG, str(run.path)])
    try:
        deadline = time.time() + 120
        while holder(run.path / ".lock") != proc.pid and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert is_locked(run.path) and holder(run.path / ".lock") == proc.pid
        with pytest.raises(RunError, match=rf"is in use by process {proc.pid}, which is training into it"):
            session.train({"train": {"epochs": 1000}}, resume=run.path, progress=False, log=None, plots=False)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not is_locked(run.path)  # the kernel dropped the killed process's lock: it is taken over
    epochs = _kinds(run).count("epoch") + 1
    session.train({"train": {"epochs": epochs}}, resume=run.path, progress=False, log=None, plots=False)
    assert holder(run.path / ".lock") == os.getpid()
    records = run.read_metrics()
    steps = [r["step"] for r in records if r["kind"] == "step"]
    assert steps == list(range(1, 40 * epochs + 1)) and _kinds(run).count("final") == 1  # each step once
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == list(range(1, epochs + 1))


def test_a_run_holds_its_lock_while_it_trains_and_gives_it_back(tmp_path):
    seen = []
    session.train(_config(), runs_root=tmp_path, progress=False, log=None, plots=False,
                  on_epoch=lambda record: seen.append(is_locked(next(tmp_path.iterdir()))))
    assert seen == [True]
    assert not is_locked(next(tmp_path.iterdir()))


# ------------------------------------------------------------------ no empty or half-set-up folders
def test_a_start_that_fails_before_training_leaves_no_folder(tmp_path, monkeypatch):
    def no_data(*args, **kwargs):
        raise OSError("the data could not be read")

    with monkeypatch.context() as m:  # the data (build) fails
        m.setattr(session, "build", no_data)
        with pytest.raises(OSError, match="could not be read"):
            _train(tmp_path)
    assert list(tmp_path.glob("*")) == []

    def full_disk(run, transform):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:  # setting the folder up fails (config.toml is written, preprocessing is not)
        m.setattr(session, "_save_preprocessing", full_disk)
        with pytest.raises(OSError, match="No space left"):
            _train(tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its hidden setup folder

    def crash(self, x, y):
        raise RuntimeError("a bug in the model")

    with monkeypatch.context() as m:  # the first step fails: nothing was trained
        m.setattr(Trainer, "_step", crash)
        with pytest.raises(RuntimeError, match="a bug"):
            _train(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_setup_killed_midway_leaves_only_a_hidden_folder_that_the_next_start_removes(tmp_path):
    killed = tmp_path / ".t-20260101-000000.abc123.setup"
    (killed / "checkpoints").mkdir(parents=True)
    (killed / ".lock").write_text("999999\n")  # its process is gone: nobody holds the lock
    young = tmp_path / ".t-20260101-000001.def456.setup"  # a start that is making its folder right now
    young.mkdir()
    os.utime(killed, (0, 0))
    run, _ = _train(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [young.name, run.name]
    assert run.config_path.is_file() and (run.path / "preprocessing.safetensors").is_file()


def test_report_of_every_folder_with_unfinished_runs_among_them(tmp_path, capsys):
    done, _ = _train(tmp_path, name="done")

    def stopped_after_one_epoch(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.train(_config("stopped", epochs=2), runs_root=tmp_path, progress=False, log=None, plots=False,
                      on_epoch=stopped_after_one_epoch)
    killed = Run.create(tmp_path, "killed", config=resolve(_config("killed")))  # SIGKILLed before its first step
    killed.release()
    assert main(["report", *sorted(str(p) for p in tmp_path.iterdir()), "--output", str(tmp_path / "cmp")]) == 0
    [stopped] = [p for p in tmp_path.iterdir() if p.name.startswith("stopped-")]
    assert ("**Status: unfinished — 1 of 2 epoch(s), 40 steps; continue it with `nablab train --resume"
            in (stopped / "report.md").read_text())
    assert "**Status: unfinished — 0 of 1 epoch(s), 0 steps" in killed.report_path.read_text()
    assert "Status" not in done.report_path.read_text()
    assert (tmp_path / "cmp" / "compare.md").read_text().count("| killed-") == 1


# ------------------------------------------------------------------ resuming
def test_resuming_a_folder_without_config_toml_says_what_it_is_and_leaves_it_alone(tmp_path):
    (tmp_path / "old" / "checkpoints").mkdir(parents=True)  # what a failed start used to leave
    with pytest.raises(FileNotFoundError, match=r"old has no config\.toml, so it is not a run folder .*delete it"):
        session.train(resume=tmp_path / "old", progress=False, log=None, plots=False)
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["checkpoints"]


def test_stale_temp_files_are_removed_on_resume(tmp_path):
    run, _ = _train(tmp_path)
    stale = [run.path / "checkpoints" / ".best.safetensors.k2j4_x9a.tmp.safetensors",
             run.path / "plots" / ".loss.png.3hd8s0qz.tmp.png", run.path / ".metrics.jsonl.a1b2c3d4.tmp.jsonl"]
    for path in stale:
        path.write_bytes(b"half a file")
    session.train({"train": {"epochs": 2}}, resume=run.path, progress=False, log=None, plots=False)
    assert not any(path.exists() for path in stale)
    assert run.best_checkpoint.is_file() and run.config_path.is_file()


def test_a_run_stopped_before_its_first_checkpoint_resumes_from_its_start(tmp_path, monkeypatch):
    full, _ = _train(tmp_path / "full", epochs=2)

    def killed_at_the_checkpoint(self, path):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:  # epoch 1's steps, its record and best.safetensors, but no last.safetensors
        m.setattr(Trainer, "_save", killed_at_the_checkpoint)
        with pytest.raises(KeyboardInterrupt):
            _train(tmp_path / "parts", epochs=2)
    [folder] = list((tmp_path / "parts").iterdir())
    run = Run(folder)
    assert not run.last_checkpoint.is_file() and "step" in _kinds(run)
    log = []
    session.train(resume=folder, progress=False, log=log.append, plots=False)
    assert any("from its start: it was stopped before its first checkpoint" in line for line in log)
    _assert_same_weights(full, run)
    steps = [r["step"] for r in run.read_metrics() if r["kind"] == "step"]
    assert steps == list(range(1, steps[-1] + 1)) and _kinds(run).count("epoch") == 2


def test_a_damaged_checkpoint_is_one_clear_error(tmp_path):
    run, _ = _train(tmp_path)
    run.last_checkpoint.write_bytes(b"\x00" * 100)
    with pytest.raises(RunError, match=r"cannot continue .* from .*last\.safetensors: .* is damaged.*Delete that file "
                                       "to train the run again from its start"):
        session.train({"train": {"epochs": 2}}, resume=run.path, progress=False, log=None, plots=False)
    run.last_checkpoint.unlink()  # as the message says: the run trains again from its start
    session.train({"train": {"epochs": 2}}, resume=run.path, progress=False, log=None, plots=False)
    assert _kinds(run).count("epoch") == 2 and _kinds(run).count("final") == 1


def test_resume_refuses_changed_settings_but_extends_a_finished_run_with_more_epochs(tmp_path):
    reference, _ = _train(tmp_path / "two", epochs=2)
    run, _ = _train(tmp_path / "one", epochs=1)
    records = run.metrics_path.read_text()
    with pytest.raises(RunError, match=r"cannot be resumed with other settings \(optim\.lr 0\.05 → 0\.5; seed 0 → 3\)"
                                       r".*Only train\.epochs \(to train longer or shorter\)"):
        session.train({"optim": {"lr": 0.5}, "seed": 3, "train": {"epochs": 2}}, resume=run.path, progress=False,
                      log=None, plots=False)
    with pytest.raises(RunError, match=r"has already finished \(1 epoch\(s\), 40 steps, test accuracy 0\.\d+\): "
                                       r"there is nothing to resume\. To train it longer, resume it with a larger "
                                       r"train\.epochs \(--epochs N, N > 1\)"):
        session.train(resume=run.path, progress=False, log=None, plots=False)
    assert run.metrics_path.read_text() == records  # neither trained nor logged anything
    log = []
    session.train({"name": "other", "optim": {"lr": 0.05}, "train": {"epochs": 2}}, resume=run.path, progress=False,
                  log=log.append, plots=False)  # the same lr given again is no change
    assert log[0].startswith(f"resuming {run.path}: training the finished run on from epoch 1 of 2, step 40, "
                             "from last.safetensors, train.epochs now 2")
    _assert_same_weights(reference, run)  # 1 epoch, then 1 more: as 2 epochs at once
    assert _kinds(run).count("final") == 1 and _kinds(run).count("epoch") == 2
    assert run.read_config()["train"]["epochs"] == 2


def test_a_run_killed_mid_epoch_says_where_it_continues(tmp_path, monkeypatch):
    calls = []

    def killed_after_two_epochs(record):
        calls.append(record)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.train(_config(epochs=3), runs_root=tmp_path, progress=False, log=None, plots=False,
                      on_epoch=killed_after_two_epochs)
    [folder] = list(tmp_path.iterdir())
    with pytest.raises(RunError, match="has trained 2 epochs already: train.epochs 1 would end it before where it is"):
        session.train({"train": {"epochs": 1}}, resume=folder, progress=False, log=None, plots=False)
    log = []
    session.train(resume=folder, progress=False, log=log.append, plots=False)
    assert log[0] == f"resuming {folder}: continuing with epoch 3 of 3, step 80, from last.safetensors"


def test_a_run_killed_after_its_last_epoch_is_evaluated_on_resume(tmp_path):
    def killed_before_the_test_evaluation(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.train(_config(), runs_root=tmp_path, progress=False, log=None, plots=False,
                      on_epoch=killed_before_the_test_evaluation)
    [folder] = list(tmp_path.iterdir())
    log = []
    session.train(resume=folder, progress=False, log=log.append, plots=False)
    assert log == [f"resuming {folder}: its training is complete (step 40): evaluating it and writing its report, "
                   "from last.safetensors"]
    assert _kinds(Run(folder)).count("final") == 1


def test_a_full_disk_during_a_checkpoint_loses_nothing(tmp_path, monkeypatch):
    from nablab.atomic import atomic_path
    from nablab.lab import trainer as trainer_module

    full, _ = _train(tmp_path / "full", epochs=2, checkpoint_every=10)
    real, calls = trainer_module.save_checkpoint, []

    def disk_fills_up(path, *args, **kwargs):
        calls.append(path)
        if len(calls) < 3:
            return real(path, *args, **kwargs)
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"the first bytes of a checkpoint")
            raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(trainer_module, "save_checkpoint", disk_fills_up)
        with pytest.raises(OSError, match="No space left"):
            _train(tmp_path / "parts", epochs=2, checkpoint_every=10)
    [folder] = list((tmp_path / "parts").iterdir())
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["last.safetensors"]  # no half-written file
    session.train(resume=folder, progress=False, log=None, plots=False)
    _assert_same_weights(full, Run(folder))


# ------------------------------------------------------------------ divergence
@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_a_huge_finite_loss_is_divergence_and_the_message_says_which_checkpoint_is_kept(tmp_path):
    config = {**_config(epochs=2), "optim": {"lr": 1e8}}
    with pytest.raises(TrainingDiverged, match=r"the loss became \d\.\d+e\+\d+ at epoch 1, step 2 \(over 100× the "
                                               r"first epoch's mean loss \d\.\d+, the divergence_factor; .*No "
                                               "checkpoint was written before it, so .* has none to keep or resume"):
        session.train(config, runs_root=tmp_path / "a", progress=False, log=None, plots=False)
    [folder] = list((tmp_path / "a").iterdir())  # the diverged run's folder and report stay, for a look
    assert "**Status: diverged:" in (folder / "report.md").read_text()
    with pytest.raises(RunError, match="it stopped: diverged: .* resuming it would only diverge again"):
        session.train(resume=folder, progress=False, log=None, plots=False)

    config["train"]["checkpoint_every"] = 1
    with pytest.raises(TrainingDiverged, match=r"The last checkpoint, of step 1 \(0 epoch\(s\) done\), is kept in "
                                               r".*last\.safetensors"):
        session.train(config, runs_root=tmp_path / "b", progress=False, log=None, plots=False)
    [folder] = list((tmp_path / "b").iterdir())
    assert all(np.isfinite(v).all() for v in _weights(Run(folder)).values())


def test_the_divergence_factor_is_a_setting_of_the_trainer():
    with pytest.raises(ValueError, match="divergence_factor must be a number above 1"):
        Trainer(None, None, [], divergence_factor=0.5)


def test_run_files_get_the_usual_permissions_not_private_ones(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    run, _ = _train(tmp_path)
    assert run.path.stat().st_mode & 0o777 == 0o777 & ~umask
    for path in (run.config_path, run.report_path, run.metrics_path, run.last_checkpoint):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name
