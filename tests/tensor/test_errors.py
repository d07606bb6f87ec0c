"""Bad shapes and dims raise PyTorch's exception types (RuntimeError, IndexError), which are also
ValueErrors, with messages that name the shapes."""

import pytest

import nablab


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
                                lambda a, b: nablab.maximum(a, b), lambda a, b: nablab.where(a > 0, a, b)])
def test_broadcasting_mismatch_is_a_runtime_error_naming_both_shapes(op):
    a, b = nablab.ones(2, 3), nablab.ones(4)
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4,\) do not broadcast") as info:
        op(a, b)
    assert isinstance(info.value, ValueError)


@pytest.mark.torch
def test_torch_raises_the_same_types():
    torch = pytest.importorskip("torch")
    for lib in (nablab, torch):
        with pytest.raises(RuntimeError):
            lib.ones(2, 3) + lib.ones(4)
        with pytest.raises(RuntimeError):
            lib.ones(2, 3) @ lib.ones(4, 5)
        with pytest.raises(RuntimeError):
            lib.ones(2, 3).reshape(4, 2)
        with pytest.raises(IndexError):
            lib.ones(2, 3).sum(dim=2)
        with pytest.raises(IndexError):
            lib.ones(2, 3).size(5)
