"""In-place methods and version counters: the results, the gradients through them and the errors,
as in PyTorch."""

import numpy as np
import pytest

import nablab


def test_in_place_under_no_grad_writes_the_memory_and_counts_versions():
    p = nablab.tensor([1.0, 2.0], requires_grad=True)
    data = p.data
    with nablab.no_grad():
        assert p.mul_(2) is p and p.add_(1, alpha=0.5).sub_(0.5) is p
    assert p.data is data and p.tolist() == [2.0, 4.0] and p._version == 3 and p.is_leaf and p.requires_grad
    d = p.detach()
    d.zero_()
    assert p.tolist() == [0.0, 0.0] and p._version == 4, "detach shares memory and the version counter"
    x = nablab.zeros(3)
    x.fill_(2.5).clamp_(max=1.0)
    assert x.tolist() == [1.0, 1.0, 1.0] and x._version == 2


def test_a_leaf_that_requires_grad_refuses_in_place_ops_while_recording():
    w = nablab.ones(2, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.mul_(w), lambda: w.copy_(nablab.zeros(2))):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            op()
    assert w.tolist() == [1.0, 1.0] and w._version == 0


def test_in_place_results_keep_the_dtype_or_refuse_a_higher_category():
    i = nablab.tensor([1, 2, 3])
    i.add_(2)
    assert i.tolist() == [3, 4, 5] and i.dtype == np.int64
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.mul_(0.5)
    f = nablab.zeros(2)
    f.add_(nablab.ones(2, dtype=nablab.float64))
    assert f.dtype == np.float32 and f.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        nablab.zeros(2).add_(nablab.ones(3, 2))


def test_changing_a_saved_input_between_forward_and_backward_is_an_error():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with nablab.no_grad():
        w.mul_(3)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: input 0 of Mul .* version 1"):
        y.backward()


def test_changing_a_saved_output_is_an_error():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    e = w.exp()
    loss = (e * 2).sum()
    with nablab.no_grad():
        e.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_copy_is_differentiable_in_its_source():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    buf = nablab.zeros(2, 2)
    buf.copy_(w * 3)
    assert not buf.is_leaf and buf.tolist() == [[3.0, 6.0], [3.0, 6.0]]
    buf.sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]


def test_random_fills_are_seeded():
    nablab.manual_seed(0)
    a = nablab.zeros(10_000).uniform_(-2, 2)
    nablab.manual_seed(0)
    b = nablab.zeros(10_000).uniform_(-2, 2)
    assert a.equal(b) and -2 <= a.min().item() and a.max().item() < 2
    n = nablab.zeros(20_000, dtype=nablab.float64).normal_(1.0, 0.5)
    assert abs(n.mean().item() - 1.0) < 0.02 and abs(n.numpy().std() - 0.5) < 0.02


@pytest.mark.torch
def test_gradients_through_in_place_ops_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([0.5, -1.5, 2.0])

    def run(lib, make):
        w = make(values)
        y = w * 2
        y.add_(1)
        y.mul_(w)
        y.clamp_(min=-1.0)
        z = y**2
        z.sub_(w, alpha=0.5)
        (z.sum() + y.sum()).backward()
        return z.detach().numpy(), w.grad.numpy()

    n = run(nablab, lambda v: nablab.tensor(v, dtype=nablab.float64, requires_grad=True))
    t = run(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    np.testing.assert_allclose(n[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(n[1], t[1], rtol=1e-12)


@pytest.mark.torch
def test_the_same_in_place_misuse_is_an_error_in_both():
    torch = pytest.importorskip("torch")
    for lib in (nablab, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (w * w).sum()
        with lib.no_grad():
            w.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|modified by an in-place operation"):
            y.backward()
        with pytest.raises(RuntimeError, match="leaf"):
            w.add_(1)


def test_ops_that_never_read_their_inputs_do_not_mind_a_later_change():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    x = w * 1
    y = (x + 1).sum() + (-x).sum() + (x - 2).sum()
    with nablab.no_grad():
        x.mul_(10)  # Add, Neg and Sub kept only shapes: their backward is still right
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_full_reductions_are_0d_arrays_that_take_in_place_ops():
    s = nablab.tensor([1.0, 2.0]).sum()
    assert isinstance(s.numpy(), np.ndarray) and s.numpy().shape == ()
    assert s.add_(1).item() == 4.0


def test_the_fused_linear_relu_reads_its_output():
    net = nablab.nn.Sequential(nablab.nn.Linear(3, 4), nablab.nn.ReLU())
    y = net(nablab.randn(2, 3))
    loss = (y * 2).sum()
    with nablab.no_grad():
        y.mul_(0)  # the node's mask y > 0 would change: backward must refuse
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_an_empty_batch_goes_through_a_convolution_and_back():
    conv = nablab.nn.Conv2d(2, 3, 3, padding=1)
    out = conv(nablab.zeros(0, 2, 5, 5))
    assert out.shape == (0, 3, 5, 5)
    out.sum().backward()
    assert conv.weight.grad.shape == (3, 2, 3, 3) and not conv.weight.grad.numpy().any()


def test_a_broadcast_copy_leaves_the_tensor_writable():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    buf = nablab.zeros(2, 2)
    buf.copy_(w * 3)  # broadcast from (2,) while the graph is recorded
    with nablab.no_grad():
        buf.add_(1)  # writes into buf's own memory, which must not be a read-only view of w * 3
    assert buf.tolist() == [[4.0, 7.0], [4.0, 7.0]]
