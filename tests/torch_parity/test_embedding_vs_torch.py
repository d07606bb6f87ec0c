"""nn.Embedding / F.embedding against PyTorch: lookups of any index shape, repeated and negative-free
indices, padding_idx (its row gets no gradient), from_pretrained, and the errors."""

import numpy as np
import pytest

import nablab
import nablab.nn.functional as F
from nablab import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


@pytest.mark.parametrize("index_shape", [(), (4,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_matches_torch(index_shape, padding_idx, dtype):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 5)).astype(dtype)
    idx = rng.integers(0, 6, index_shape)
    g = rng.standard_normal(index_shape + (5,)).astype(dtype)
    wn = nablab.tensor(w, dtype=dtype, requires_grad=True)
    yn = F.embedding(nablab.tensor(idx), wn, padding_idx=padding_idx)
    yn.backward(g)
    wt = torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.embedding(torch.tensor(idx), wt, padding_idx=padding_idx)
    yt.backward(torch.tensor(g))
    assert yn.dtype == np.dtype(dtype) and yn.shape == tuple(yt.shape)
    np.testing.assert_array_equal(yn.numpy(), yt.detach().numpy())
    np.testing.assert_allclose(wn.grad.numpy(), wt.grad.numpy(), rtol=1e-6 if dtype == "float32" else 1e-12)


def test_module_init_padding_and_errors():
    nablab.manual_seed(0)
    e = nn.Embedding(10, 4, padding_idx=3)
    assert e.weight.shape == (10, 4) and not e.weight.numpy()[3].any() and e.weight.numpy().std() > 0.5
    frozen = nn.Embedding.from_pretrained(nablab.ones(3, 2))
    assert not frozen.weight.requires_grad and frozen(nablab.tensor([2])).tolist() == [[1.0, 1.0]]
    with pytest.raises(IndexError, match="index 10 is out of range for 10 embeddings"):
        e(nablab.tensor([1, 10]))
    with pytest.raises(IndexError, match=r"index -1 is out of range for 10 embeddings \(0..9\)"):
        e(nablab.tensor([1, -1]))  # as torch, which raises IndexError for negative indices
    with pytest.raises(IndexError):
        torch.nn.functional.embedding(torch.tensor([-1]), torch.zeros(10, 4))
    with pytest.raises(TypeError, match="integer indices"):
        e(nablab.tensor([1.0]))
    assert list(dict(e.named_parameters())) == ["weight"] == list(torch.nn.Embedding(10, 4).state_dict())
