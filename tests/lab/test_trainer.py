import math

import numpy as np
import pytest

import nablab
from nablab import data, lab, nn, optim
from nablab.data import batch_transforms as transforms
from nablab.lab import Run, Trainer, TrainingDiverged
from nablab.models import MLP


def _setup(seed=0, lr=0.5, dropout=0.0, activation="tanh"):
    nablab.manual_seed(seed)
    ds = data.load("spiral", seed=seed)
    tf = transforms.Compose([transforms.Scale(1.0)])
    train = data.DataLoader(ds.train, 32, shuffle=True, seed=seed, transform=tf)
    val = data.DataLoader(ds.val, 256, shuffle=False, transform=tf)
    model = MLP(2, [32, 32], 3, activation=activation, dropout=dropout)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return ds, train, val, model, opt


def test_trainer_learns_the_spiral_and_keeps_the_best_weights(tmp_path):
    _, train, val, model, opt = _setup()
    sched = optim.lr_scheduler.ExponentialLR(opt, 0.97)
    run = Run.create(tmp_path, "spiral")
    trainer = Trainer(model, opt, train, val, epochs=40, scheduler=sched, run=run, progress=False, log=None,
                      train_eval_loader=val)
    records = trainer.fit()
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert len(epochs) == 40 and epochs[-1]["val_acc"] > 0.9
    assert epochs[-1]["lr"] == pytest.approx(0.5 * 0.97**39)
    assert len(trainer.step_losses()) == 40 * len(train)
    assert trainer.state["best_val_acc"] == max(r["val_acc"] for r in epochs)
    assert run.best_checkpoint.is_file() and run.last_checkpoint.is_file()
    assert [r["kind"] for r in run.read_metrics()].count("epoch") == 40
    trainer.use_best_weights()
    assert lab.evaluate(model, val)[1] == trainer.state["best_val_acc"]


def test_early_stopping():
    _, train, val, model, opt = _setup(lr=1e-6)  # too small to improve anything
    trainer = Trainer(model, opt, train, val, epochs=50, patience=2, progress=False, log=None)
    trainer.fit()
    assert trainer.state["stopped_early"] and trainer.state["epoch"] < 10


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    _, train, val, model, opt = _setup(lr=1e12, activation="relu")
    run = Run.create(tmp_path, "diverge")
    trainer = Trainer(model, opt, train, val, epochs=5, run=run, checkpoint_every=1, progress=False, log=None,
                      divergence_factor=None)  # only the non-finite rule (test_run_safety tests the 100× one)
    with pytest.raises(TrainingDiverged, match=r"the loss became (nan|inf) at epoch 1, step \d+ .*learning rate"):
        trainer.fit()
    good = nn.Sequential(*[type(m)() if not isinstance(m, nn.Linear) else m for m in model])
    lab.load_checkpoint(run.last_checkpoint, good)
    assert all(np.all(np.isfinite(p.data)) for p in good.parameters())


def test_gradient_clipping_bounds_the_norm():
    x = nablab.tensor(np.ones(4), requires_grad=True)
    y = nablab.tensor(np.ones(3), requires_grad=True)
    ((x * 3).sum() + (y * 4).sum()).backward()
    norm = nn.clip_grad_norm_([x, y], 1.0)
    assert norm == pytest.approx(math.sqrt(4 * 9 + 3 * 16))
    total = math.sqrt(float((x.grad.data**2).sum() + (y.grad.data**2).sum()))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_in_process_resume_equals_an_uninterrupted_run(tmp_path):
    def run_for(epochs, run, resume=False):
        _, train, val, model, opt = _setup(seed=1, dropout=0.2)
        sched = optim.lr_scheduler.StepLR(opt, 2, 0.5)
        trainer = Trainer(model, opt, train, val, epochs=epochs, scheduler=sched, run=run, checkpoint_every=7,
                          progress=False, log=None)
        if resume:
            trainer.resume()
        trainer.fit()
        return model

    full = run_for(5, Run.create(tmp_path, "full"))
    run = Run.create(tmp_path, "parts")
    run_for(2, run)
    resumed = run_for(5, run, resume=True)
    for (name, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    steps = [r["step"] for r in run.read_metrics() if r["kind"] == "step"]
    assert steps == list(range(1, steps[-1] + 1))  # nothing logged twice, nothing missing


def test_the_trainer_takes_a_settings_object_and_keywords_for_its_fields():
    from nablab.lab import TrainingSettings

    settings = TrainingSettings(epochs=3, patience=2, grad_clip=1.0)
    trainer = Trainer(None, None, [0, 1], settings=settings, epochs=5)
    assert trainer.settings == TrainingSettings(epochs=5, patience=2, grad_clip=1.0) and trainer.epochs == 5
    assert TrainingSettings.from_config({"epochs": 4, "steps": 6, "grad_clip": None, "patience": None,
                                         "checkpoint_every": 2}).max_steps == 6
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        Trainer(None, None, [0], epoch=3)
