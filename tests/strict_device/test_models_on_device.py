"""nablab's models train on the stand-in device exactly as on the CPU reference: the same losses and
the same parameters after optimizer steps, bit for bit; optimizer state lives on the device; and a
training step waits for the device only where a loss checks its targets."""

import copy

import numpy as np
import pytest
from device_checks import assert_same, assert_syncs

import nablab
import nablab.nn.functional as F
from nablab import models, nn, optim
from nablab.testing import strict_device


def image_batch(shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, classes, shape[0])


def classifier_loss(model, x, y):
    return F.cross_entropy(model(x), y)


def language_loss(model, x, y):
    logits = model(x)
    logits = logits[0] if isinstance(logits, tuple) else logits
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def text_batch(vocab, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, (3, 8))
    return x, np.roll(x, -1, axis=1)


MODELS = {
    "MLP": (lambda: models.MLP(12, [16, 8], 4, dropout=0.3), lambda: image_batch((6, 12), 4), classifier_loss),
    "batch norm net": (lambda: nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4)),
                       lambda: image_batch((6, 12), 4), classifier_loss),
    "conv + batch norm + pools": (lambda: nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 1),
        nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4, 5)),
        lambda: image_batch((3, 3, 8, 8), 5), classifier_loss),
    "SmallCNN": (lambda: models.SmallCNN(3, 10, widths=(4, 8)), lambda: image_batch((2, 3, 32, 32), 10),
                 classifier_loss),
    "CharRNN (LSTM)": (lambda: models.CharRNN(11, embed_dim=6, hidden_size=8), lambda: text_batch(11),
                       language_loss),
    "TinyGPT": (lambda: models.TinyGPT(11, block_size=8, n_layer=1, n_head=2, n_embd=8, dropout=0.1),
                lambda: text_batch(11), language_loss),
}
OPTIMIZERS = {
    "SGD (Nesterov, weight decay)": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": lambda p: optim.Adam(p, lr=1e-2),
    "AdamW": lambda p: optim.AdamW(p, lr=1e-2),
}


def train(model, batch, loss_fn, make_optimizer, device, steps=2):
    nablab.manual_seed(1)
    model = model.to(device)
    opt = make_optimizer(model.parameters())
    x, y = (nablab.tensor(a).to(device) for a in batch)
    losses = []
    with strict_device.count_syncs() as count:
        for _ in range(steps):
            loss = loss_fn(model, x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.detach())
    return model, opt, [float(v) for v in losses], count


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_steps_on_the_device_equal_the_cpu_reference(name, optimizer):
    make_model, make_batch, loss_fn = MODELS[name]
    nablab.manual_seed(0)
    model = make_model()
    twin = copy.deepcopy(model)
    with nablab.kernels.use_reference():
        host, _, host_losses, _ = train(model, make_batch(), loss_fn, OPTIMIZERS[optimizer], "cpu")
        device, opt, losses, count = train(twin, make_batch(), loss_fn, OPTIMIZERS[optimizer], "cuda")
    assert_same(losses, host_losses)
    for (key, h), d in zip(host.state_dict().items(), device.state_dict().values()):
        assert d.device == "cuda:0", key
        assert_same(d.numpy(), h.numpy(), err_msg=key)
    for state in opt.state.values():
        for key, value in state.items():
            if hasattr(value, "shape") and getattr(value, "ndim", 0):
                assert not isinstance(getattr(value, "data", value), np.ndarray), f"optimizer state {key} on the host"
    assert_syncs(count, 2 * 2, at_most=True)  # two steps


def test_a_module_on_the_cpu_given_a_device_batch_is_an_error():
    model = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="same device"):
        model(nablab.ones(4, 3).cuda())
