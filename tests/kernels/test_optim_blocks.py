"""The optimizers' CPU kernel (updates in cache-sized blocks) against the reference update rules
(nablab.optim.sgd.sgd_update, nablab.optim.adam.adam_update): identical, element for element,
whole or blocked, contiguous or strided."""

import numpy as np
import pytest

import nablab
from nablab import kernels, nn, optim
from nablab.kernels.cpu import blocks
from nablab.kernels.cpu.blocks import cache_blocks

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
]
SHAPES = [(7, 9), (5,), (2, 3, 4)]


def test_blocks_cover_the_array_in_order_and_write_through(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 5 * 8)
    a, b = np.arange(23, dtype=np.float64).reshape(23, 1), np.zeros((23, 1))
    pieces = list(cache_blocks(a, b))
    assert [len(x) for x, _ in pieces] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in pieces]), a.ravel())
    for x, y in pieces:
        y += x
    np.testing.assert_array_equal(b, a)
    with_temps = list(cache_blocks(a, b, temps=2))
    assert [(len(t), len(u)) for _, _, t, u in with_temps] == [(5, 5)] * 4 + [(3, 3)]
    assert not np.shares_memory(with_temps[0][2], with_temps[0][3])


def test_strided_or_small_arrays_come_whole(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 8)
    a = np.ones((4, 6))
    (whole,) = cache_blocks(a.T, a.T.copy())
    assert whole[0] is not None and whole[0].shape == (6, 4)
    (single,) = cache_blocks(np.ones(1), np.ones(1))
    assert single[0].shape == (1,)


def _run(name, kwargs, steps=6, strided=False):
    rng = np.random.default_rng(0)
    params = []
    for shape in SHAPES:
        value = rng.standard_normal(shape)
        p = nn.Parameter(value, dtype=np.float64)
        if strided:  # the same values, held as a transposed view
            p.data = np.ascontiguousarray(value.T).T
        params.append(p)
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(steps):
        grads = [rng.standard_normal(shape) for shape in SHAPES]
        for p, g in zip(params, grads):
            p.grad = nablab.tensor(g, dtype="float64")
        opt.step()
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad.data, g)  # the gradient is left as it was
    return [p.data.copy() for p in params], opt.state_dict()["state"]


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_blocked_update_equals_whole_array_update_and_the_reference_rule(monkeypatch, name, kwargs):
    with kernels.use_reference():
        reference_params, reference_state = _run(name, kwargs)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1 << 30)
    whole_params, whole_state = _run(name, kwargs)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 5 * 8)  # 5 elements: many blocks, a ragged last one
    blocked_params, blocked_state = _run(name, kwargs)
    strided_params, strided_state = _run(name, kwargs, strided=True)
    for reference, whole, blocked, strided in zip(reference_params, whole_params, blocked_params, strided_params):
        np.testing.assert_array_equal(whole, reference)
        np.testing.assert_array_equal(blocked, reference)
        np.testing.assert_array_equal(strided, reference)
    for i, entry in reference_state.items():
        assert set(entry) == set(whole_state[i])
        for key, value in entry.items():
            np.testing.assert_array_equal(whole_state[i][key], value, err_msg=key)
            np.testing.assert_array_equal(blocked_state[i][key], value, err_msg=key)
            np.testing.assert_array_equal(strided_state[i][key], value, err_msg=key)


def test_a_gradient_of_another_shape_is_a_clear_error():
    p = nn.Parameter(np.zeros((3, 2)))
    p.grad = nablab.tensor(np.zeros(6))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) has a gradient of shape \(6,\)"):
        optim.SGD([p], lr=0.1).step()
