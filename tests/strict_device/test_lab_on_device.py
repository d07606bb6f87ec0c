"""The lab on the stand-in device: whole runs (`nablab train --device cuda`) give the records and weights
of the same run on the CPU reference path; the trainer reads the device once per `sync_every` steps;
checkpoints are written from host copies and load on either device; checks of device values wait
for the next read, as PyTorch's device-side asserts do."""

import json

import numpy as np
import pytest
from device_checks import assert_same, assert_syncs, same_records
from safetensors.numpy import load_file

import nablab
import nablab.nn.functional as F
from nablab import nn, optim
from nablab.backend import on_host, set_gpu_module
from nablab.cli import main
from nablab.data import DataLoader
from nablab.lab import Trainer, TrainingDiverged
from nablab.lab.checkpoint import load_checkpoint, save_checkpoint
from nablab.testing import strict_device

TIMING = ("seconds", "samples_per_s")


def loaders(n=96, batch=8):
    """The lab's loaders over host arrays: they yield host batches, which the trainer moves."""
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((n, 10)).astype(np.float32), rng.integers(0, 3, n))
    return DataLoader(data, batch_size=batch, shuffle=True, seed=0), DataLoader(data, batch_size=32)


def fit(device, **settings):
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 3)).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train, val = loaders()
    trainer = Trainer(model, opt, train, val, epochs=2, progress=False, log=None, **settings)
    with strict_device.count_syncs() as count:
        records = trainer.fit()
    return model, [{k: v for k, v in r.items() if k not in TIMING} for r in records], count, trainer


def test_training_on_the_device_gives_the_cpu_run_records_and_weights_reading_it_once_per_interval():
    with nablab.kernels.use_reference():
        host, host_records, _, _ = fit("cpu")
        device, records, count, trainer = fit("cuda", sync_every=5)
    assert trainer.sync_every == 5 and fit("cuda")[3].sync_every == 50  # a GPU's default
    same_records(records, host_records)
    for (key, h), d in zip(host.state_dict().items(), device.state_dict().values()):
        assert_same(d.numpy(), h.numpy(), err_msg=key)
    steps = sum(r["kind"] == "step" for r in records)
    # per epoch: 12 steps read in 3 downloads (5, 5, 2), and one for the validation sums, each download
    # settling the deferred target checks too
    assert steps == 24
    assert_syncs(count, 2 * (3 + 1))


def test_a_diverged_loss_read_late_names_its_step_and_that_later_steps_were_taken():
    model = nn.Linear(10, 3).cuda()
    with nablab.no_grad():
        model.weight.fill_(float("nan"))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), loaders()[0], epochs=1, progress=False,
                      log=None, sync_every=4)
    with pytest.raises(TrainingDiverged, match=r"step 1 \(not a finite number.*every 4 steps \(sync_every\), so "
                                               r"the steps after it until step 4 were taken"):
        trainer.fit()


def test_a_bad_target_on_the_device_fails_at_the_next_read_with_its_message():
    logits = nablab.randn(4, 3).cuda()
    loss = F.cross_entropy(logits, nablab.tensor([0, 1, -1, 2]).cuda())  # no error yet: the check is on the device
    with pytest.raises(IndexError, match="target -1 is out of range: there are 3 classes"):
        loss.item()
    assert float(F.cross_entropy(logits, nablab.tensor([0, 1, 2, 2]).cuda())) > 0  # settled: nothing pending


def test_checkpoints_are_written_from_host_copies_and_load_on_either_device(tmp_path):
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 2)).cuda()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    F.cross_entropy(model(nablab.randn(6, 4).cuda()), nablab.tensor([0, 1] * 3).cuda()).backward()
    opt.step()
    save_checkpoint(tmp_path / "c.safetensors", model, opt, progress={"step": 1})
    saved = load_file(tmp_path / "c.safetensors")
    assert all(isinstance(v, np.ndarray) for v in saved.values()) and "optimizer.0.exp_avg" in saved
    for device in ("cpu", "cuda"):
        twin = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 2)).to(device)
        twin_opt = optim.Adam(twin.parameters(), lr=1e-2)
        assert load_checkpoint(tmp_path / "c.safetensors", twin, twin_opt) == {"step": 1}
        for (key, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
            assert b.device.type == device, key
            assert_same(a.numpy(), b.numpy(), err_msg=key)
        assert on_host(twin_opt.state[twin[0].weight]["exp_avg"]) == (device == "cpu")
    nablab.save(model, tmp_path / "w.safetensors")
    assert_same(nablab.load(tmp_path / "w.safetensors")["0.weight"].numpy(), model[0].weight.numpy())


def test_nablab_train_on_the_device_matches_the_cpu_run(tmp_path):
    args = ["train", "--epochs", "2", "--limit-train", "300", "--quiet", "--no-plots", "--seed", "1"]
    with nablab.kernels.use_reference():
        assert main(args + ["--runs-dir", str(tmp_path / "cpu")]) == 0
        assert main(args + ["--runs-dir", str(tmp_path / "cuda"), "--device", "cuda", "--sync-every", "7"]) == 0
    records = {}
    for device in ("cpu", "cuda"):
        [folder] = (tmp_path / device).iterdir()
        lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        records[device] = [{k: v for k, v in r.items() if k not in TIMING} for r in lines]
        records[device + " weights"] = load_file(folder / "checkpoints" / "last.safetensors")
    same_records(records["cuda"], records["cpu"])
    for key, value in records["cpu weights"].items():
        assert_same(records["cuda weights"][key], value, err_msg=key)


def test_nablab_train_on_a_missing_gpu_is_a_one_line_error(capsys, tmp_path):
    previous = set_gpu_module(None)  # no CuPy, no stand-in
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["train", "--epochs", "1", "--quiet", "--device", "cuda", "--runs-dir", str(tmp_path)])
    finally:
        set_gpu_module(previous)
    assert exit_.value.code == 1 and "nablab: error: nablab has no CUDA device" in str(exit_.value)
