"""The tensor's Python and PyTorch protocol: sizes, numbers, formatting, iteration, devices, dtype
conversions and comparison methods, each against what PyTorch does."""

import math

import numpy as np
import pytest

import nablab
from nablab.errors import DimError


def test_size_is_a_tuple_with_numel_and_dim_lookup():
    x = nablab.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.shape == (2, 3, 4)
    assert isinstance(x.size(), tuple) and x.size().numel() == 24 and isinstance(x.shape[1:], nablab.Size)
    assert (x.size(0), x.size(-1), x.size(1)) == (2, 4, 3)
    assert x.dim() == x.ndimension() == 3 and x.numel() == x.nelement() == 24 and x.element_size() == 4
    with pytest.raises(IndexError, match=r"range of \[-3, 2\], but got 3"):
        x.size(3)
    with pytest.raises(DimError):
        x.size(-4)
    s = nablab.tensor(2.0)
    assert s.size() == () and s.numel() == 1 and s.dim() == 0
    with pytest.raises(IndexError, match="no dimensions"):
        s.size(0)
    assert repr(x.size()) == "nablab.Size([2, 3, 4])" and nablab.Size([]).numel() == 1


def test_python_numbers_and_formatting():
    loss = nablab.tensor(0.123456)
    assert float(loss) == pytest.approx(0.123456) and f"{loss:.3f}" == "0.123" and int(nablab.tensor(3.9)) == 3
    assert "{:.1f}".format(nablab.tensor([[2.25]]).sum()) == "2.2"  # noqa: UP032 - str.format, as scripts write it
    assert abs(nablab.tensor([-1.5, 2.0])).tolist() == [1.5, 2.0]
    assert list(range(10))[nablab.tensor(3)] == 3 and math.floor(float(nablab.tensor(2.5))) == 2
    with pytest.raises(TypeError, match="integer tensors"):
        list(range(3))[nablab.tensor(1.0)]
    with pytest.raises(ValueError, match="one-element"):
        float(nablab.tensor([1.0, 2.0]))
    assert f"{nablab.tensor([1.0, 2.0])}".startswith("tensor(")
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{nablab.tensor([2.5]):.3f}"
    with pytest.raises(RuntimeError, match="one element"):
        nablab.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(nablab.tensor([1.0, 2.0]))
    assert np.asarray(nablab.tensor([1, 2])).tolist() == [1, 2]


def test_len_and_iteration_follow_the_first_dimension_and_stay_differentiable():
    x = nablab.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(x) == 3 and [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    (rows[0] * 2 + rows[2]).sum().backward()
    assert x.grad.tolist() == [[2, 2], [0, 0], [1, 1]]
    with pytest.raises(TypeError, match="0-d"):
        len(nablab.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(nablab.tensor(1.0))


def test_devices_on_a_machine_without_a_gpu():
    x = nablab.ones(2)
    assert x.device == nablab.device("cpu") == "cpu" and str(x.device) == "cpu" and not x.is_cuda
    assert x.get_device() == -1 and x.to("cpu") is x and x.cpu() is x and x.to(nablab.device("cpu")) is x
    assert repr(nablab.device("cuda", 1)) == "device(type='cuda', index=1)" and nablab.device("cuda:1").index == 1
    with pytest.raises(RuntimeError, match="unknown device type"):
        nablab.device("tpu")
    if not nablab.cuda.is_available():
        assert not nablab.accelerator.is_available() and nablab.accelerator.current_accelerator() is None
        assert nablab.cuda.device_count() == 0
        with pytest.raises(RuntimeError, match="no CUDA device"):
            x.cuda()


def test_dtype_conversions_and_names():
    x = nablab.tensor([1.7, -2.2], requires_grad=True)
    assert x.long().dtype == nablab.long == nablab.int64 and x.int().dtype == nablab.int32
    assert x.double().dtype == nablab.float64 and x.half().dtype == nablab.float16 and x.bool().dtype == nablab.bool
    assert x.to(nablab.float64).dtype == nablab.double and x.to("cpu", nablab.float64).dtype == nablab.float64
    assert x.to(dtype=nablab.int16).dtype == np.int16
    assert x.type_as(nablab.zeros(1, dtype=nablab.uint8)).dtype == np.uint8
    assert x.type() == "nablab.FloatTensor" and x.long().type() == "nablab.LongTensor"
    assert x.is_floating_point() and not x.long().is_floating_point()
    x.double().sum().backward()  # the conversion is differentiable, the gradient comes back in float32
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]
    assert x.to(nablab.float32) is x and x.to(nablab.float32, copy=True) is not x


def test_comparison_methods_and_clone():
    a, b = nablab.tensor([1, 2, 3]), nablab.tensor([3, 2, 1])
    assert a.eq(b).tolist() == [False, True, False] and a.ne(b).tolist() == [True, False, True]
    assert a.lt(b).tolist() == [True, False, False] and a.ge(2).tolist() == [False, True, True]
    assert a.eq(b).dtype == nablab.bool and a.equal(a.clone()) and not a.equal(b)
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.data is not x.data and c.tolist() == x.tolist()
    (c * c).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_arithmetic_methods_with_alpha_and_rounding():
    a = nablab.tensor([7, -7])
    assert a.add(2, alpha=3).tolist() == [13, -1] and a.sub(1, alpha=2).tolist() == [5, -9]
    assert a.div(2).tolist() == [3.5, -3.5] and a.div(2).dtype == nablab.float32
    assert a.div(2, rounding_mode="floor").tolist() == [3, -4] and a.div(2, rounding_mode="floor").dtype == np.int64
    assert a.div(2, rounding_mode="trunc").tolist() == [3, -3]
    with pytest.raises(ValueError, match="rounding_mode"):
        a.div(2, rounding_mode="round")


def test_new_tensors_take_dtype_and_device_from_self():
    x = nablab.zeros(2, dtype=nablab.float64)
    assert x.new_zeros(3).dtype == np.float64 and x.new_ones((2, 2)).tolist() == [[1, 1], [1, 1]]
    assert x.new_full((2,), 7).tolist() == [7, 7] and x.new_tensor([1, 2]).dtype == np.float64


@pytest.mark.torch
def test_protocol_answers_as_torch():
    torch = pytest.importorskip("torch")
    for shape in [(), (1,), (2, 3), (2, 1, 4)]:
        n, t = nablab.zeros(shape), torch.zeros(shape)
        assert n.size() == tuple(t.size()) and n.dim() == t.dim() and n.numel() == t.numel()
        for d in range(-len(shape), len(shape)):
            assert n.size(d) == t.size(d)
    v = [0.5, -1.25]
    assert f"{nablab.tensor(v).sum():.4f}" == f"{torch.tensor(v).sum():.4f}"
    for method in ["long", "int", "double", "half", "bool", "short", "byte", "char", "float"]:
        n, t = getattr(nablab.tensor(v), method)(), getattr(torch.tensor(v), method)()
        assert str(n.dtype) == str(t.dtype).removeprefix("torch.") and n.tolist() == t.tolist(), method
        assert n.type().removeprefix("nablab.") == t.type().removeprefix("torch."), method
