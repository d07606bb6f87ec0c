import numpy as np
import pytest

import nablab
from nablab import lab, nn, optim
from nablab.lab.checkpoint import read_checkpoint


def _model_and_opt():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    return model, opt


def test_round_trip_restores_weights_optimizer_schedule_and_rng(tmp_path):
    nablab.manual_seed(0)
    model, opt = _model_and_opt()
    sched = optim.lr_scheduler.ExponentialLR(opt, 0.5)
    x = nablab.randn(5, 3)
    for _ in range(3):
        loss = model(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()
    path = tmp_path / "ck.safetensors"
    lab.save_checkpoint(path, model, opt, sched, progress={"epoch": 7})
    expected_next = nablab.rand(3).data

    model2, opt2 = _model_and_opt()
    sched2 = optim.lr_scheduler.ExponentialLR(opt2, 0.5)
    assert lab.load_checkpoint(path, model2, opt2, sched2) == {"epoch": 7}
    np.testing.assert_array_equal(nablab.rand(3).data, expected_next)
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert opt2.param_groups[0]["lr"] == 0.005
    for a, b in zip(model.parameters(), model2.parameters()):
        sa, sb = opt.state[id(a)], opt2.state[id(b)]
        assert sa["step"] == sb["step"] == 3
        np.testing.assert_array_equal(sa["exp_avg_sq"], sb["exp_avg_sq"])
    assert not [p for p in tmp_path.iterdir() if p.name != "ck.safetensors"]  # no temporary files left


def test_checkpoints_are_safetensors_without_pickle(tmp_path):
    model, opt = _model_and_opt()
    path = tmp_path / "ck.safetensors"
    lab.save_checkpoint(path, model, opt)
    tensors, meta = read_checkpoint(path)
    assert set(tensors) == {f"model.{k}" for k in model.state_dict()}
    assert meta["format"] == "nablab-checkpoint-1"
    assert b"\x80\x04" not in path.read_bytes()[:8]  # no pickle protocol header


def test_foreign_or_damaged_files_are_clear_errors(tmp_path):
    model, opt = _model_and_opt()
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        lab.load_checkpoint(tmp_path / "missing.safetensors", model)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        lab.load_checkpoint(bad, model)
    from safetensors.numpy import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(2, np.float32)}, str(other))
    with pytest.raises(ValueError, match="not a nablab checkpoint"):
        lab.load_checkpoint(other, model)
    path = tmp_path / "ck.safetensors"
    lab.save_checkpoint(path, model, opt)
    with pytest.raises(ValueError, match="holds Adam state, not SGD"):
        lab.load_checkpoint(path, model, optim.SGD(model.parameters(), lr=0.1))
    wrong = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(KeyError, match=r"0.weight: the state has shape \(4, 3\), the model expects \(5, 3\)"):
        lab.load_checkpoint(path, wrong)


def test_old_checkpoints_with_1d_batch_counters_resume_and_load(tmp_path):
    """Earlier versions stored BatchNorm's 0-d num_batches_tracked as shape (1,): resuming and nablab.load
    both make it 0-d again (one shared fix-up, nablab.lab.checkpoint.model_state)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(nablab.randn(5, 3))
    path = tmp_path / "old.safetensors"
    lab.save_checkpoint(path, model, progress={"epoch": 1})
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    tensors = load_file(str(path))
    assert tensors["model.1.num_batches_tracked"].shape == ()
    tensors["model.1.num_batches_tracked"] = tensors["model.1.num_batches_tracked"].reshape(1)
    save_file(tensors, str(path), metadata=meta)

    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert lab.load_checkpoint(path, fresh) == {"epoch": 1}
    assert fresh[1].num_batches_tracked.shape == () and fresh[1].num_batches_tracked.item() == 1
    loaded = nablab.load(path)
    assert loaded["1.num_batches_tracked"].shape == () and loaded["1.num_batches_tracked"].item() == 1
    np.testing.assert_array_equal(loaded["1.running_mean"].numpy(), model[1].running_mean.numpy())
