"""diff, kron, cross, cdist (values and gradients) and bincount, histc, searchsorted, bucketize
(values and dtypes) against PyTorch."""

import numpy as np
import pytest

import nablab

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")]

R = np.random.default_rng(0)
CASES = {
    "diff": (lambda m, a: m.diff(a, dim=0), [(4, 3)]),
    "diff n=2 prepend": (lambda m, a, p: m.diff(a, n=2, dim=-1, prepend=p), [(3, 5), (3, 1)]),
    "kron 2-D": (lambda m, a, b: m.kron(a, b), [(2, 3), (3, 2)]),
    "kron 1-D with 2-D": (lambda m, a, b: m.kron(a, b), [(3,), (2, 2)]),
    "cross": (lambda m, a, b: m.cross(a, b, dim=1), [(4, 3), (4, 3)]),
    "cross default dim": (lambda m, a, b: m.cross(a, b, dim=None), [(3, 5), (3, 5)]),
    "cdist p=2": (lambda m, a, b: m.cdist(a, b), [(4, 3), (5, 3)]),
    "cdist p=1 batched": (lambda m, a, b: m.cdist(a, b, p=1.0), [(2, 4, 3), (2, 5, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name):
    fn, shapes = CASES[name]
    arrays = [R.standard_normal(s) for s in shapes]
    ours = [nablab.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = fn(nablab, *ours), fn(torch, *theirs)
    g = R.standard_normal(tuple(yt.shape))
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_counting_and_searching_match_torch():
    x = R.integers(0, 6, 20)
    for kwargs in ({}, {"minlength": 9}):
        ours, theirs = nablab.bincount(nablab.tensor(x), **kwargs), torch.bincount(torch.tensor(x), **kwargs)
        assert ours.tolist() == theirs.tolist() and ours.dtype == np.int64
    w = R.standard_normal(20)
    np.testing.assert_allclose(nablab.bincount(nablab.tensor(x), weights=nablab.tensor(w)).numpy(),
                               torch.bincount(torch.tensor(x), weights=torch.tensor(w)).numpy())
    v = R.standard_normal(50).astype(np.float32)
    for kwargs in ({"bins": 5}, {"bins": 4, "min": -1.0, "max": 1.0}):
        n, t = nablab.histc(nablab.tensor(v), **kwargs), torch.histc(torch.tensor(v), **kwargs)
        assert n.tolist() == t.tolist() and str(n.dtype) == "float32"
    seq, values = np.array([1.0, 2.0, 2.0, 5.0]), np.array([0.5, 2.0, 3.0, 6.0])
    for right in (False, True):
        n = nablab.searchsorted(nablab.tensor(seq), nablab.tensor(values), right=right)
        t = torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right)
        assert n.tolist() == t.tolist() and n.dtype == np.int64
        n = nablab.bucketize(nablab.tensor(values), nablab.tensor(seq), right=right)
        t = torch.bucketize(torch.tensor(values), torch.tensor(seq), right=right)
        assert n.tolist() == t.tolist()
    rows, queries = np.sort(R.standard_normal((3, 5)), axis=1), R.standard_normal((3, 2))
    assert nablab.searchsorted(nablab.tensor(rows), nablab.tensor(queries)).tolist() == torch.searchsorted(
        torch.tensor(rows), torch.tensor(queries)).tolist()
