"""Scratch buffers: reuse per purpose, dtype and thread, the byte budget, and convolutions and
pools (whose padded copies share one buffer) that give the same results with and without reuse."""

import threading

import numpy as np
import pytest

import nablab
from nablab import kernels, nn, scratch


@pytest.fixture(autouse=True)
def fresh_scratch():
    scratch.set_budget(2**20)
    yield
    scratch.set_budget(256 * 2**20)


def test_a_purpose_reuses_its_memory_for_any_shape_and_grows_when_needed():
    a = scratch.scratch(np, "t", (4, 8), np.float32)
    b = scratch.scratch(np, "t", (2, 16), "float32")
    assert b.shape == (2, 16) and b.flags.c_contiguous and np.shares_memory(a, b)
    assert not np.shares_memory(scratch.scratch(np, "u", (4, 8), np.float32), b)  # another purpose
    assert not np.shares_memory(scratch.scratch(np, "t", (4, 8), np.float64), b)  # another dtype
    bigger = scratch.scratch(np, "t", (64,), np.float32)
    assert not np.shares_memory(bigger, b) and np.shares_memory(scratch.scratch(np, "t", (3,), np.float32), bigger)
    other = []
    thread = threading.Thread(target=lambda: other.append(scratch.scratch(np, "t", (3,), np.float32)))
    thread.start()
    thread.join()
    assert not np.shares_memory(other[0], bigger)  # each thread has its own buffers


def test_requests_beyond_the_budget_get_arrays_that_are_not_kept():
    half = (2**20 // 2 // 4,)  # float32 elements in half the 1 MiB budget
    kept = scratch.scratch(np, "a", half, np.float32)
    scratch.scratch(np, "b", half, np.float32)
    assert scratch.retained_bytes() == 2**20
    extra = scratch.scratch(np, "c", (1,), np.float32)
    assert not np.shares_memory(extra, scratch.scratch(np, "c", (1,), np.float32))
    assert scratch.retained_bytes() == 2**20
    assert np.shares_memory(scratch.scratch(np, "a", half, np.float32), kept)


def test_budget_zero_turns_reuse_off_and_bad_budgets_are_errors():
    scratch.set_budget(0)
    assert not np.shares_memory(scratch.scratch(np, "t", (2,), np.float32), scratch.scratch(np, "t", (2,), np.float32))
    assert scratch.retained_bytes() == 0
    with pytest.raises(ValueError, match="whole number of bytes"):
        scratch.set_budget(-1)


def _two_same_shape_convolutions(steps=2):
    """Gradients of conv→relu→conv→padded max pool→conv (the first two convolutions share every scratch
    key) over two steps."""
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                          nn.MaxPool2d(3, 2, 1), nn.Conv2d(4, 6, 3, padding=1))
    rng = np.random.default_rng(1)
    grads = []
    for _ in range(steps):
        x = nablab.tensor(rng.standard_normal((3, 4, 8, 8)), dtype="float64", requires_grad=True)
        model.zero_grad()
        (model(x) ** 2).sum().backward()
        grads.append([x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()])
    return grads


def test_convolutions_reusing_scratch_match_fresh_arrays():
    with kernels.use_reference(False):  # the scratch buffers are the kernels'
        scratch.set_budget(64 * 2**20)
        reused = _two_same_shape_convolutions()
        assert scratch.retained_bytes() > 0
        scratch.set_budget(0)
        fresh = _two_same_shape_convolutions()
    for step_reused, step_fresh in zip(reused, fresh):
        for a, b in zip(step_reused, step_fresh):
            np.testing.assert_array_equal(a, b)
