"""The factories' signatures, result dtypes and values against PyTorch's."""

import numpy as np
import pytest

import nablab

CALLS = [  # (name, args, kwargs): called on nablab and on torch alike
    ("zeros", (2, 3), {}), ("zeros", ((2, 3),), {"dtype": "int64"}), ("ones", (4,), {}), ("ones", ((),), {}),
    ("full", ((2, 2), 7), {}), ("full", ((2,), 1.5), {}), ("full", ((3,), True), {}),
    ("full", ((1,), 2), {"dtype": "float64"}),
    ("eye", (3,), {}), ("eye", (2, 4), {}), ("arange", (5,), {}), ("arange", (1, 4, 0.5), {}),
    ("arange", (0, 1, 0.1), {}),
    ("arange", (10, 0, -3), {}), ("linspace", (0, 1, 5), {}), ("linspace", (-1, 1, 1), {}), ("logspace", (0, 2, 3), {}),
    ("empty", (2, 2), {}),
]


def _torch_dtype(torch, kwargs):
    return {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}


@pytest.mark.torch
@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=[f"{c[0]}{c[1]}" for c in CALLS])
def test_factories_as_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    n = getattr(nablab, name)(*args, **kwargs)
    t = getattr(torch, name)(*args, **_torch_dtype(torch, kwargs))
    assert str(n.dtype) == str(t.dtype).removeprefix("torch.") and n.shape == tuple(t.shape)
    if name != "empty":
        np.testing.assert_allclose(n.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.torch
def test_like_forms_and_random_dtypes_as_torch():
    torch = pytest.importorskip("torch")
    for name in ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]:
        for dtype in ["float32", "float64"]:
            n = getattr(nablab, name)(nablab.zeros(2, 3, dtype=dtype))
            t = getattr(torch, name)(torch.zeros(2, 3, dtype=getattr(torch, dtype)))
            assert str(n.dtype) == str(t.dtype).removeprefix("torch.") and n.shape == tuple(t.shape), name
    assert nablab.full_like(nablab.zeros(2, dtype="int32"), 3).dtype == torch.full_like(
        torch.zeros(2, dtype=torch.int32), 3).numpy().dtype
    assert str(nablab.randint(0, 5, (3,)).dtype) == str(torch.randint(0, 5, (3,)).dtype).removeprefix("torch.")
    assert str(nablab.randperm(4).dtype) == str(torch.randperm(4).dtype).removeprefix("torch.")
    assert str(nablab.rand(2).dtype) == "float32" and str(nablab.randn(2, dtype=nablab.float64).dtype) == "float64"


def test_random_factories_draw_from_the_seeded_generator():
    nablab.manual_seed(3)
    a = (nablab.rand(3), nablab.randn(2, 2), nablab.randint(10, (4,)), nablab.randperm(5))
    nablab.manual_seed(3)
    b = (nablab.rand(3), nablab.randn(2, 2), nablab.randint(10, (4,)), nablab.randperm(5))
    assert all(x.equal(y) for x, y in zip(a, b))
    assert sorted(nablab.randperm(6).tolist()) == list(range(6))
    v = nablab.randint(3, 7, size=(1000,))
    assert v.min().item() == 3 and v.max().item() == 6
    assert nablab.randint_like(nablab.zeros(5), 2).dtype == np.float32


def test_factory_arguments_and_errors():
    x = nablab.zeros(2, requires_grad=True, device="cpu")
    assert x.requires_grad and x.device == "cpu"
    with pytest.raises(ValueError, match="non-negative"):
        nablab.zeros(-1)
    with pytest.raises(ValueError, match="low < high"):
        nablab.randint(5, 5, (2,))
    with pytest.raises(ValueError, match="step"):
        nablab.arange(0, 1, 0)
    with pytest.raises(TypeError, match="NumPy array"):
        nablab.from_numpy([1, 2])
    a = np.arange(3.0)
    assert nablab.from_numpy(a).data is a and nablab.as_tensor(a).dtype == np.float64 and nablab.as_tensor(a).data is a
    assert nablab.tensor(a).dtype == np.float64 and nablab.tensor([0.5]).dtype == np.float32
    assert nablab.tensor(np.float64(2.0)).dtype == np.float64 and nablab.Tensor(a).dtype == np.float32
    t = nablab.tensor([1.0])
    assert nablab.as_tensor(t) is t and nablab.as_tensor([1, 2], dtype=nablab.float64).dtype == np.float64
    assert nablab.tensor([1, 2], dtype=nablab.float16, device="cpu").dtype == np.float16


def test_a_generator_of_its_own_leaves_the_global_stream_alone():
    nablab.manual_seed(5)
    expected = nablab.rand(3)
    nablab.manual_seed(5)
    g = nablab.Generator().manual_seed(42)
    a = nablab.randn(4, generator=g)
    assert nablab.rand(3).equal(expected), "drawing from g must not move the global generator"
    assert a.equal(nablab.randn(4, generator=nablab.Generator().manual_seed(42))) and g.initial_seed() == 42
    ds = nablab.utils.data.TensorDataset(nablab.arange(10))
    split = lambda: [list(s.indices) for s in nablab.utils.data.random_split(  # noqa: E731
        ds, [0.7, 0.3], generator=nablab.Generator().manual_seed(1))]
    assert split() == split()
    with pytest.raises(TypeError, match="nablab.Generator or a numpy"):
        nablab.rand(2, generator=42)
