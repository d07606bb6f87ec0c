"""The published toy figures of the TwoLayerNet, its closed-form gradients against central
differences, and against the autodiff gradients of the same network built from nablab.nn."""

import numpy as np
import pytest

import nablab
from nablab.gradcheck import numerical_gradient, relative_error
from nablab.models.two_layer import toy_problem
from nablab.nn import functional as F

PUBLISHED_SCORES = np.array([
    [0.3644621, 0.22911264, 0.40642526],
    [0.47590629, 0.17217039, 0.35192332],
    [0.43035767, 0.26164229, 0.30800004],
    [0.41583127, 0.2983228, 0.28584593],
    [0.36328815, 0.32279939, 0.31391246],
])


@pytest.fixture
def toy():
    return toy_problem()


def test_published_probabilities(toy):
    net, X, _ = toy
    np.testing.assert_allclose(net.loss(X), PUBLISHED_SCORES, rtol=0, atol=1e-7)


def test_published_loss(toy):
    net, X, y = toy
    loss, _ = net.loss(X, y, reg=0.05)
    assert abs(loss - 1.30378789133) < 1e-10


@pytest.mark.parametrize("key", ["W1", "b1", "W2", "b2"])
def test_closed_form_gradients_against_central_differences(toy, key):
    net, X, y = toy
    _, grads = net.loss(X, y, reg=0.05)
    numeric = numerical_gradient(lambda: net.loss(X, y, reg=0.05)[0], net.params[key], eps=1e-5)
    assert relative_error(grads[key], numeric) < 1e-8


def test_closed_form_gradients_equal_autodiff(toy):
    net, X, y = toy
    reg = 0.05
    _, grads = net.loss(X, y, reg=reg)
    model = net.to_module()
    fc1, fc2 = model[0], model[2]
    x = nablab.tensor(X, dtype="float64")
    loss = F.cross_entropy(model(x), y) + F.l2_penalty(model, reg)
    loss.backward()
    assert abs(loss.item() - 1.30378789133) < 1e-10
    np.testing.assert_allclose(F.softmax(model(x), dim=1).data, net.loss(X), rtol=0, atol=1e-12)
    for ours, key, transpose in [(fc1.weight, "W1", True), (fc1.bias, "b1", False),
                                 (fc2.weight, "W2", True), (fc2.bias, "b2", False)]:
        expected = grads[key].T if transpose else grads[key]
        np.testing.assert_allclose(ours.grad.data, expected, rtol=0, atol=1e-10)


def test_training_fits_the_toy_data(toy):
    net, X, y = toy
    np.random.seed(0)  # noqa: NPY002 - TwoLayerNet.train samples from NumPy's global generator
    history = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
    assert history["loss_history"][-1] < 0.02
    assert len(history["loss_history"]) == 100
    assert history["val_acc_history"][-1] == 1.0
    assert np.array_equal(net.predict(X), y)


def test_bad_labels_are_rejected(toy):
    net, X, _ = toy
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        net.loss(X, np.array([0, 1]))
