"""Scratch buffers: reuse per (purpose, shape, dtype) and thread, the byte budget (least recently
used dropped first), and convolutions that give the same results with and without reuse."""

import threading

import numpy as np
import pytest

import nablab
from nablab import nn, scratch


@pytest.fixture(autouse=True)
def fresh_scratch():
    scratch.set_budget(2**20)
    yield
    scratch.set_budget(512 * 2**20)


def test_the_same_request_gets_the_same_memory_and_others_do_not():
    a = scratch.scratch(np, "t", (4, 8), np.float32)
    assert scratch.scratch(np, "t", (4, 8), "float32") is a
    assert scratch.scratch(np, "t", (8, 4), np.float32) is not a
    assert scratch.scratch(np, "t", (4, 8), np.float64) is not a
    assert scratch.scratch(np, "u", (4, 8), np.float32) is not a
    other = []
    thread = threading.Thread(target=lambda: other.append(scratch.scratch(np, "t", (4, 8), np.float32)))
    thread.start()
    thread.join()
    assert other[0] is not a  # each thread has its own buffers


def test_filled_buffers_start_filled():
    assert not scratch.scratch(np, "z", (3, 5), np.float64, fill=0).any()
    assert (scratch.scratch(np, "m", (2, 2), np.float32, fill=-np.inf) == -np.inf).all()


def test_the_budget_keeps_the_most_recently_used():
    quarter = (2**18 // 4,)  # float32 elements in a quarter of the 1 MiB budget
    first = scratch.scratch(np, "a", quarter, np.float32)
    second = scratch.scratch(np, "b", quarter, np.float32)
    third = scratch.scratch(np, "c", quarter, np.float32)
    assert scratch.scratch(np, "a", quarter, np.float32) is first  # used again: now the most recent
    scratch.scratch(np, "d", (2**18 // 2,), np.float32)  # half the budget: "b", the least recent, makes room
    assert scratch.retained_bytes() == 2**20
    assert scratch.scratch(np, "c", quarter, np.float32) is third
    assert scratch.scratch(np, "b", quarter, np.float32) is not second
    assert scratch.scratch(np, "huge", (2**20,), np.float32).nbytes > 2**20  # over budget: not kept
    assert scratch.retained_bytes() <= 2**20


def test_budget_zero_turns_reuse_off_and_bad_budgets_are_errors():
    scratch.set_budget(0)
    assert scratch.scratch(np, "t", (2,), np.float32) is not scratch.scratch(np, "t", (2,), np.float32)
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
    scratch.set_budget(64 * 2**20)
    reused = _two_same_shape_convolutions()
    assert scratch.retained_bytes() > 0
    scratch.set_budget(0)
    fresh = _two_same_shape_convolutions()
    for step_reused, step_fresh in zip(reused, fresh):
        for a, b in zip(step_reused, step_fresh):
            np.testing.assert_array_equal(a, b)
