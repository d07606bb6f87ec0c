"""The stand-in keeps CuPy's rules: no implicit conversion to NumPy, no mixing with host arrays, and
every host sync counted; its arithmetic is NumPy's, bit for bit."""

import numpy as np
import pytest
from device_checks import ON_GPU

import nablab
from nablab.testing import strict_device

pytestmark = pytest.mark.skipif(ON_GPU, reason="the stand-in's own rules (NABLAB_TEST_GPU=cupy runs on a real GPU)")


def test_implicit_conversion_to_numpy_raises(stand_in_gpu):
    a = stand_in_gpu.asarray(np.arange(6.0))
    for convert in (np.asarray, np.array, np.ascontiguousarray):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
            convert(a)
    np.testing.assert_array_equal(a.get(), np.arange(6.0))


def test_an_op_mixing_host_and_device_arrays_raises(stand_in_gpu):
    a = stand_in_gpu.asarray(np.ones((2, 3)))
    for mix in (lambda: a + np.ones(3), lambda: np.ones(3) * a, lambda: stand_in_gpu.maximum(a, np.zeros(3)),
                lambda: stand_in_gpu.add.at(a, (0, 0), np.ones(1)), lambda: np.concatenate([a, np.ones((1, 3))])):
        with pytest.raises(TypeError, match=r"host \(NumPy\) array of shape"):
            mix()
    assert float((a + 1.5).sum()) == 15.0  # Python and NumPy scalars are fine


def test_every_host_sync_is_counted(stand_in_gpu):
    a = stand_in_gpu.asarray(np.array([1.0, -2.0, 3.0]))
    with strict_device.count_syncs() as count:
        b = (a * 2).sum()  # stays on the device
        assert count.syncs == 0 and type(b) is strict_device.StrictArray and b.shape == ()
        float(b), b.item(), bool(b > 0), a.get(), a.tolist(), int(a[0])
    assert count.where == ["float", "item", "bool", "get", "tolist", "int"]


def test_results_are_numpy_results_bit_for_bit(stand_in_gpu):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    dx, dw = stand_in_gpu.asarray(x), stand_in_gpu.asarray(w)
    np.testing.assert_array_equal(stand_in_gpu.tanh(dx @ dw).get(), np.tanh(x @ w))
    np.testing.assert_array_equal(stand_in_gpu.asnumpy(dx.sum(axis=0, keepdims=True)), x.sum(axis=0, keepdims=True))
    dx[1:3] = 0.0
    x[1:3] = 0.0
    np.testing.assert_array_equal(dx.get(), x)


def test_enable_makes_it_the_cuda_device():
    assert nablab.cuda.is_available()  # inside the autouse fixture
    t = nablab.ones(2, 3).to("cuda")
    assert t.device == nablab.device("cuda", 0) and t.is_cuda and t.get_device() == 0
    assert type(t.data) is strict_device.StrictArray
    back = t.cpu()
    assert back.device == "cpu" and isinstance(back.data, np.ndarray)


def test_tensors_on_two_devices_in_one_op_is_an_error_naming_both():
    a, b = nablab.ones(2, 3), nablab.ones(2, 3).cuda()
    with pytest.raises(RuntimeError, match=r"same device.*cpu \(a tensor of shape \(2, 3\)\) and cuda:0"):
        a + b
    assert float((b * nablab.tensor(2.0)).sum()) == 12.0  # a 0-d CPU tensor may join, as in PyTorch


def test_default_device():
    nablab.set_default_device("cuda")
    try:
        made = [nablab.zeros(2), nablab.tensor([1, 2]), nablab.randn(3), nablab.arange(4.0),
                nablab.nn.Linear(3, 2).weight]
    finally:
        nablab.set_default_device(None)
    assert all(t.device == "cuda:0" for t in made)
    assert nablab.get_default_device() == "cpu" and nablab.zeros(2).device == "cpu"


def test_deferred_checks_wait_for_a_read_but_not_for_ever(stand_in_gpu):
    from nablab import backend

    backend.settle_checks()
    flag = stand_in_gpu.asarray(np.array(False))
    with strict_device.count_syncs() as count:
        for _ in range(backend.MAX_PENDING - 1):
            backend.check(flag, IndexError, lambda: "never")
        assert count.syncs == 0 and len(backend._pending) == backend.MAX_PENDING - 1
        backend.check(flag, IndexError, lambda: "never")
    assert count.syncs == 1 and not backend._pending  # settled in one download
    backend.check(stand_in_gpu.asarray(np.array(True)), IndexError, lambda: "index 9 is out of range")
    with pytest.raises(IndexError, match="index 9 is out of range"):
        backend.settle_checks()
