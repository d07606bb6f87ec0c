"""nablab.nn.utils (the gradient and parameter utilities used around optimizer steps) against
torch.nn.utils: clip_grad_norm_ (every norm order, the return value, non-finite norms),
clip_grad_value_, get_total_norm, clip_grads_with_norm_, parameters_to_vector, vector_to_parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import nn  # noqa: E402
from nablab.errors import ShapeError  # noqa: E402

pytestmark = pytest.mark.torch

SHAPES = [(3, 4), (5,), (), (2, 1, 3)]


def pairs(scale=1.0, dtype="float64", seed=0, shapes=SHAPES):
    """The same parameters and gradients in nablab and torch."""
    rng = np.random.default_rng(seed)
    values = [np.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes]
    grads = [np.asarray(scale * rng.standard_normal(s), dtype=dtype) for s in shapes]
    ours = [nn.Parameter(v.copy(), dtype=dtype) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = nablab.tensor(g, dtype=dtype), torch.from_numpy(g.copy())
    return ours, theirs


def assert_grads_equal(ours, theirs, rtol=1e-12):
    for p, q in zip(ours, theirs):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is None:
            continue
        assert p.grad.dtype == np.dtype(str(q.grad.dtype).removeprefix("torch."))
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", -math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clipped", "unclipped"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = pairs()
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, nablab.Tensor) and total.shape == () and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert_grads_equal(ours, theirs)


def test_the_returned_norm_is_a_0d_array_that_in_place_ops_can_change_as_in_torch():
    ours, theirs = pairs()
    total, expected = nn.utils.clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert type(total.numpy()) is type(expected.numpy()) is np.ndarray
    total.mul_(2)
    expected.mul_(2)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)


def test_clip_grad_norm_float32_single_tensor_and_skipped_params():
    ours, theirs = pairs(scale=10.0, dtype="float32")
    ours[1].grad = theirs[1].grad = None
    total = nn.utils.clip_grad_norm_(ours, 2.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 2.0)
    assert total.dtype == np.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    assert ours[1].grad is None
    assert_grads_equal(ours, theirs, rtol=1e-6)
    single = nn.utils.clip_grad_norm_(ours[0], 0.1)  # a tensor, not a list, as torch allows
    np.testing.assert_allclose(single.item(), torch.nn.utils.clip_grad_norm_(theirs[0], 0.1).item(), rtol=1e-6)


def test_clip_grad_norm_without_gradients_is_zero_like_torch():
    p = nn.Parameter(np.ones(3))
    total = nn.utils.clip_grad_norm_([p], 1.0)
    expected = torch.nn.utils.clip_grad_norm_([torch.ones(3, requires_grad=True)], 1.0)
    assert total.item() == expected.item() == 0.0 and total.dtype == np.float32


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_non_finite(bad):
    ours, theirs = pairs()
    ours[0].grad.data[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite|cannot be clipped"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_equal(total.item(), expected.item())
    for p, q in zip(ours, theirs):
        np.testing.assert_equal(p.grad.numpy(), q.grad.numpy())


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = pairs(scale=3.0)
    total = nn.utils.get_total_norm([p.grad for p in ours], norm_type=3.0)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs], norm_type=3.0)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    nn.utils.clip_grads_with_norm_(ours, 1.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.5, expected)
    assert_grads_equal(ours, theirs)


def test_clipping_replaces_shared_gradient_arrays_instead_of_writing_into_them():
    ours, _ = pairs(scale=10.0)
    shared = ours[0].grad.data
    before = shared.copy()
    nn.utils.clip_grad_norm_(ours, 1.0)
    nn.utils.clip_grad_value_(ours, 0.01)
    np.testing.assert_array_equal(shared, before)


@pytest.mark.parametrize("clip_value", [0.3, 2, 0.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = pairs()
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_equal(ours, theirs)


def test_parameters_to_vector_and_back_match_torch():
    ours, theirs = pairs()
    vec = nn.utils.parameters_to_vector(ours)
    t_vec = torch.nn.utils.parameters_to_vector(theirs)
    assert vec.shape == tuple(t_vec.shape) == (12 + 5 + 1 + 6,)
    np.testing.assert_array_equal(vec.numpy(), t_vec.detach().numpy())
    (vec * nablab.arange(vec.shape[0], dtype="float64")).sum().backward()  # differentiable, as in torch
    (t_vec * torch.arange(t_vec.shape[0], dtype=torch.float64)).sum().backward()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)

    new = np.linspace(-1.0, 1.0, vec.shape[0])
    versions = [p._version for p in ours]
    nn.utils.vector_to_parameters(nablab.tensor(new, dtype="float64"), ours)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.from_numpy(new.copy()), theirs)
    for p, q in zip(ours, theirs):
        assert p.shape == tuple(q.shape) and p.dtype == np.float64
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
    assert [p._version - v for p, v in zip(ours, versions)] == [1] * len(ours)


def test_vector_to_parameters_bad_input():
    ours, _ = pairs()
    with pytest.raises(TypeError, match="Tensor"):
        nn.utils.vector_to_parameters(np.zeros(24), ours)
    with pytest.raises(ShapeError, match="24 elements"):
        nn.utils.vector_to_parameters(nablab.zeros(23, dtype="float64"), ours)
    with pytest.raises(ShapeError, match="1-D"):
        nn.utils.vector_to_parameters(nablab.zeros(4, 6, dtype="float64"), ours)
