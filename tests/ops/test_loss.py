import numpy as np
import pytest

import nablab
from nablab.errors import ShapeError
from nablab.nn import functional as F


def test_cross_entropy_value_and_gradient():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = np.array([1, 2])
    x = nablab.tensor(logits, dtype="float64", requires_grad=True)
    loss = F.cross_entropy(x, y)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss.item() == pytest.approx(-np.log(p[[0, 1], y]).mean(), rel=1e-12)
    loss.backward()
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(x.grad.data, (p - onehot) / 2, rtol=1e-12)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_cross_entropy_is_stable_for_huge_logits(scale):
    x = nablab.tensor(np.array([[scale, 0.0, -scale], [0.0, scale, 1.0]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([2, 1]))
    loss.backward()
    assert np.isfinite(loss.item())
    assert np.all(np.isfinite(x.grad.data))


def test_sum_reduction():
    x = nablab.tensor(np.zeros((4, 3)))
    assert F.cross_entropy(x, np.zeros(4, dtype=int), reduction="sum").item() == pytest.approx(4 * np.log(3))


@pytest.mark.parametrize(
    "labels, error, match",
    [
        (np.array([0, 3]), IndexError, "cross_entropy: target 3 is out of range: there are 3 classes"),
        (np.array([0, -1]), IndexError, "target -1 is out of range"),
        (np.array([0, 1, 2]), ShapeError, r"needs a target of shape \(2,\), got \(3,\)"),
    ],
)
def test_cross_entropy_rejects_bad_labels(labels, error, match):
    with pytest.raises(error, match=match):
        F.cross_entropy(nablab.tensor(np.zeros((2, 3))), labels)


def test_cross_entropy_rejects_integer_labels_given_as_floats_of_another_shape():
    """A floating target is a probability target, which must have the logits' shape."""
    with pytest.raises(ShapeError, match=r"target's shape \(2,\) differs from the input's \(2, 3\)"):
        F.cross_entropy(nablab.tensor(np.zeros((2, 3))), np.array([0.0, 1.0]))


def test_cross_entropy_rejects_0d_logits_and_bad_targets_for_unbatched_ones():
    with pytest.raises(ShapeError, match="class dimension"):
        F.cross_entropy(nablab.tensor(np.zeros(())), np.array(0))
    with pytest.raises(ShapeError, match=r"shape \(3,\) needs a target of shape \(\), got \(1,\)"):
        F.cross_entropy(nablab.tensor(np.zeros(3)), np.array([0]))


def test_the_fused_op_checks_its_labels_itself():
    from nablab import ops

    x = nablab.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="target 3 is out of range"):
        ops.SoftmaxCrossEntropy.apply(x, labels=np.array([0, 3]))
    with pytest.raises(TypeError, match="integer class labels, got dtype float64"):
        ops.SoftmaxCrossEntropy.apply(x, labels=np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"logits of shape \(N, C\)"):
        ops.SoftmaxCrossEntropy.apply(nablab.tensor(np.zeros(3)), labels=np.array([0]))


def test_softmax_rows_sum_to_one_and_log_softmax_agrees():
    x = nablab.tensor(np.array([[1000.0, 0.0], [-5.0, 5.0]]))
    p = F.softmax(x, dim=1)
    np.testing.assert_allclose(p.data.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(F.log_softmax(x, dim=-1).data), p.data, rtol=1e-6)


def test_improved_sigmoid_values():
    x = nablab.tensor([-1.0, 0.0, 1.0], dtype="float64")
    np.testing.assert_allclose(F.improved_sigmoid(x).data, 1.7159 * np.tanh(2 * x.data / 3))
    assert F.improved_sigmoid(x).data[2] == pytest.approx(1.0, abs=2e-4)


def test_l2_penalty_counts_weights_only_and_has_gradient_2_reg_w():
    from nablab import nn

    model = nn.Sequential(nn.Linear(3, 4, dtype="float64"), nn.ReLU(), nn.Linear(4, 2, dtype="float64"))
    penalty = F.l2_penalty(model, reg=0.1)
    w1, w2 = model[0].weight.data, model[2].weight.data
    assert penalty.item() == pytest.approx(0.1 * ((w1**2).sum() + (w2**2).sum()))
    penalty.backward()
    np.testing.assert_allclose(model[0].weight.grad.data, 2 * 0.1 * w1)
    assert model[0].bias.grad is None


def test_dropout_scales_and_is_off_in_eval():
    nablab.manual_seed(0)
    x = nablab.tensor(np.ones((200, 50)), requires_grad=True)
    y = F.dropout(x, 0.3, training=True)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match="probability"):
        F.dropout(x, 1.5)


def test_the_fused_cross_entropy_op_names_a_wrong_logits_shape_as_a_shape_error():
    with pytest.raises(ShapeError, match=r"logits of shape \(N, C\), got \(2, 3, 4\)"):
        nablab.ops.SoftmaxCrossEntropy.apply(nablab.zeros(2, 3, 4), labels=np.zeros(2, dtype=np.int64))
