"""nablab.nn.modes.evaluating: evaluation mode for a block, then every module's own mode back."""

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.lab.evaluate import evaluate
from nablab.nn.modes import evaluating


def _net():
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Dropout(0.5), nn.Linear(3, 2))


def test_every_module_gets_its_own_mode_back():
    model = _net()
    model[1].eval()  # a frozen BatchNorm inside a training model
    before = [m.training for m in model.modules()]
    assert before == [True, True, False, True, True]
    with evaluating(model) as inside:
        assert inside is model
        assert not any(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == before


def test_modes_come_back_when_the_block_raises():
    model = _net().eval()
    model[2].train()
    with pytest.raises(RuntimeError, match="boom"), evaluating(model):
        raise RuntimeError("boom")
    assert [m.training for m in model.modules()] == [False, False, False, True, False]


def test_a_frozen_batchnorm_stays_frozen_after_evaluation():
    """lab.evaluate used model.train(was_training), which set the frozen BatchNorm training again."""
    nablab.manual_seed(0)
    model = _net()
    model[1].eval()
    x = nablab.tensor(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
    y = nablab.tensor(np.array([0, 1] * 4))
    running_mean = model[1].running_mean.numpy().copy()
    loss, accuracy = evaluate(model, [(x, y)])
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    assert model.training and not model[1].training
    model(x)  # a training step's forward: the frozen BatchNorm must not update its statistics
    np.testing.assert_array_equal(model[1].running_mean.numpy(), running_mean)
