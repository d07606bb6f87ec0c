"""F.scaled_dot_product_attention against PyTorch: outputs and the gradients of query, key and value,
with no mask, a boolean mask, an additive mask, causal masking and a custom scale."""

import numpy as np
import pytest

import nablab
import nablab.nn.functional as F

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
@pytest.mark.parametrize("shapes", [((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)), ((4, 8), (4, 8), (4, 2))])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_attention_matches_torch(mask, shapes, scale):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in shapes)
    length, source = shapes[0][-2], shapes[1][-2]
    m = {"none": None, "bool": rng.random((length, source)) > 0.3, "float": rng.standard_normal((length, source)),
         "causal": None}[mask]
    if mask == "bool":
        m[:, 0] = True  # every query attends to something
    g = rng.standard_normal(shapes[0][:-1] + shapes[2][-1:])

    def run(lib, make, mask_of):
        ts = [make(a) for a in (q, k, v)]
        out = (F if lib is nablab else torch.nn.functional).scaled_dot_product_attention(
            *ts, attn_mask=None if m is None else mask_of(m), is_causal=mask == "causal", scale=scale)
        out.backward(make(g).detach() if lib is torch else nablab.tensor(g, dtype=nablab.float64))
        return [out.detach().numpy()] + [t.grad.numpy() for t in ts]

    ours = run(nablab, lambda a: nablab.tensor(a, dtype=nablab.float64, requires_grad=True), nablab.tensor)
    theirs = run(torch, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True), torch.tensor)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
