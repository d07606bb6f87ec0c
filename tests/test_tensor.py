import numpy as np
import pytest

import nablab
from nablab import Tensor, ops


def test_default_dtypes():
    assert nablab.tensor([1.0, 2.0]).dtype == np.float32
    assert nablab.tensor(np.zeros(3)).dtype == np.float64  # an array keeps its dtype, as torch.tensor does
    assert nablab.Tensor(np.zeros(3)).dtype == np.float32  # the constructor gives the default float, as torch.Tensor
    assert nablab.tensor([1.0], dtype="float64").dtype == np.float64
    assert nablab.tensor([1, 2]).dtype == np.int64
    assert nablab.tensor([True]).dtype == bool


def test_tensor_copies_and_from_numpy_shares():
    a = np.ones(3, dtype=np.float32)
    t, s = nablab.tensor(a), nablab.from_numpy(a)
    a[0] = 5
    assert t.data[0] == 1 and s.data[0] == 5


def test_only_floating_tensors_require_grad():
    with pytest.raises(TypeError, match="floating"):
        nablab.tensor([1, 2], requires_grad=True)


def test_scalar_operands_keep_the_dtype():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.5 + np.float64(1.0) - 3) / 2 + 2**x
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_numpy_array_on_the_left_dispatches_to_tensor():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_gradients_accumulate_until_reset():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_shared_leaf_gradient_arrays_are_not_aliased():
    a = nablab.tensor([1.0], requires_grad=True)
    b = nablab.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    (a * 2).sum().backward()
    assert a.grad.item() == 3.0 and b.grad.item() == 1.0


def test_a_node_used_twice_sums_its_gradients():
    x = nablab.tensor(3.0, dtype="float64", requires_grad=True)
    y = x * x
    z = y * y + y  # x⁴ + x² → 4x³ + 2x = 114
    z.backward()
    assert x.grad.item() == pytest.approx(114.0)


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, 20.0])
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(3))


def test_backward_twice_needs_retain_graph():
    x = nablab.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_frees_saved_arrays():
    x = nablab.tensor(np.ones(4), requires_grad=True)
    y = (x * x).exp()
    fn = y.creator
    y.sum().backward()
    assert not hasattr(fn, "y") and fn.released


def test_a_20000_op_chain_has_no_recursion_limit():
    x = nablab.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**20_000, rel=1e-9)


def test_no_grad_records_nothing():
    x = nablab.tensor([1.0], requires_grad=True)
    with nablab.no_grad():
        y = x * 2
        with nablab.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.creator is None
    assert z.requires_grad
    assert nablab.is_grad_enabled()


def test_backward_without_requires_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nablab.tensor(1.0).backward()


def test_detach_cuts_the_graph():
    x = nablab.tensor([2.0], requires_grad=True)
    y = x * x.detach()
    y.sum().backward()
    assert x.grad.item() == 2.0


def test_comparisons_give_boolean_tensors_outside_the_graph():
    x = nablab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 1.5, x >= 2, x < 2, x <= 1, x == 2, x != 2):
        assert result.dtype == bool and not result.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])


def test_item_numpy_and_shape_helpers():
    x = nablab.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and x.size() == (2, 3) and len(x) == 2
    assert x.sum().item() == 15.0
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises(ValueError, match="one element"):
        x.item()
    assert x.flatten().shape == (6,)
    assert x.T.shape == (3, 2)
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,)
    assert x.broadcast_to(4, 2, 3).shape == (4, 2, 3)
    assert "tensor(" in repr(x)


def test_integer_array_indexing_sums_repeats():
    x = nablab.tensor(np.arange(4.0), requires_grad=True)
    x[np.array([0, 0, 3, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 0.0, 1.0])
    x.grad = None
    x[nablab.tensor([1, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 0.0, 0.0])


def test_boolean_mask_indexing():
    x = nablab.tensor([1.0, -2.0, 3.0], requires_grad=True)
    x[x.data > 0].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


def test_free_functions():
    a = nablab.tensor([[1.0, 2.0]], requires_grad=True)
    b = nablab.tensor([[3.0, 0.5]], requires_grad=True)
    out = nablab.cat([a, b], axis=0).sum() + nablab.stack([a, b]).max() + nablab.where(a > 1.5, a, b).sum()
    out.backward()
    np.testing.assert_allclose(a.grad.data, [[1.0, 2.0]])
    np.testing.assert_allclose(b.grad.data, [[3.0, 1.0]])


def test_shape_errors_name_the_shapes():
    x = nablab.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="out of range"):
        x.sum(axis=2)


def test_in_place_backward_never_touches_shared_or_callers_gradients():
    """ReLU masks dL/dy in place only when the sweep owns it (it came from one op that returns
    new arrays); a caller's gradient and a gradient fanned out by Add stay untouched."""
    x = nablab.tensor([[-1.0, 2.0, 3.0]], requires_grad=True)
    w = nablab.tensor(np.eye(3), requires_grad=True)
    g = np.array([[5.0, 6.0, 7.0]], dtype=np.float32)
    y = nablab.nn.functional.linear(x, w).relu()
    y.backward(g)
    np.testing.assert_array_equal(g, [[5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(x.grad.data, [[0.0, 6.0, 7.0]])

    a = nablab.tensor([[-1.0, 2.0]], requires_grad=True)
    h = nablab.nn.functional.linear(a, nablab.tensor(np.eye(2)))
    (h.relu() + h.relu() * 3).sum().backward()  # Add hands one array to both branches
    np.testing.assert_array_equal(a.grad.data, [[0.0, 4.0]])


def test_owned_gradient_is_masked_in_place_correctly():
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    x = nablab.tensor(x0, dtype="float64", requires_grad=True)
    w = nablab.tensor(w0, dtype="float64", requires_grad=True)
    h = nablab.nn.functional.linear(x, w)  # Linear returns new arrays: ReLU below owns its dL/dy
    relu_node = h.relu()
    out = nablab.nn.functional.linear(relu_node, nablab.tensor(np.ones((1, 2)), dtype="float64")).sum()
    out.backward()
    upstream = np.ones((4, 2)) * (x0 @ w0.T > 0)
    np.testing.assert_allclose(w.grad.data, upstream.T @ x0)
    np.testing.assert_allclose(x.grad.data, upstream @ w0)


def test_a_leaf_gradient_owned_by_the_sweep_is_added_into_in_place_and_nothing_else_is(monkeypatch):
    """Two ops that return new arrays reach one leaf in one sweep: the second gradient is added
    into the first one's array, and the result is the sum. A ``.grad`` from an earlier
    backward, which the caller may hold, is never written into; after the sweep nothing is owned."""
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    x = nablab.tensor(x0, dtype="float64")
    w = nablab.tensor(w0, dtype="float64", requires_grad=True)
    loss = nablab.nn.functional.linear(x, w).sum() + nablab.nn.functional.l2_penalty([w], 0.5)
    loss.backward()
    first = w.grad
    np.testing.assert_allclose(first.data, np.ones((5, 4)).T @ x0 + w0)
    assert not w._owned_grad
    kept = first.data.copy()

    returned = []
    backward = ops.reduction.SumOfSquares.backward

    def spy(self, gy):
        returned.append(backward(self, gy)[0])
        return (returned[-1],)

    v = nablab.tensor(w0, dtype="float64", requires_grad=True)
    with monkeypatch.context() as patch:
        patch.setattr(ops.reduction.SumOfSquares, "backward", spy)
        nablab.nn.functional.l2_penalty([v, v], 0.5).backward()
    assert len(returned) == 2 and any(v.grad.data is a for a in returned)  # the second added into the first
    np.testing.assert_allclose(v.grad.data, 2 * w0)

    (nablab.nn.functional.linear(x, w).sum() + nablab.nn.functional.l2_penalty([w], 0.5)).backward()
    np.testing.assert_array_equal(first.data, kept)  # the caller's .grad untouched: out of place
    np.testing.assert_allclose(w.grad.data, 2 * kept)


def test_a_hook_sees_a_leaf_gradient_that_later_accumulation_leaves_alone():
    w = nablab.tensor(np.ones((1, 3)), dtype="float64", requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(g))
    x = nablab.tensor(np.ones((2, 3)), dtype="float64")
    (nablab.nn.functional.linear(x, w).sum() + nablab.nn.functional.l2_penalty([w], 1.0)).backward()
    np.testing.assert_allclose(w.grad.data, [[4.0, 4.0, 4.0]])
    assert [s.data.tolist() for s in seen] == [[[2.0, 2.0, 2.0]]] * 2
