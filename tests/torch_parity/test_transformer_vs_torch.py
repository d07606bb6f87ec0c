"""nn.MultiheadAttention, the transformer layers, their stacks and nn.Transformer against torch.nn.

Each nablab module gets the torch module's weights through nablab.io.from_torch (same state-dict
names, in the same order); then outputs, attention weights and the gradients of every input and
every parameter must agree: float64 to 1e-10, float32 at torch.testing.assert_close's defaults.

torch's encoder layer and MultiheadAttention take a "fast path" (fused kernels, nested tensors
that zero padded positions) in evaluation mode without gradients; the comparisons here run in
training mode with dropout 0, or in evaluation mode with gradients on, where torch takes its
ordinary path, the one nablab's layers follow.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import nn  # noqa: E402
from nablab.io import from_torch  # noqa: E402

pytestmark = pytest.mark.torch

#: (rtol, atol): float64 to ~1e-10; float32 as torch.testing.assert_close's defaults
TOL = {"float64": (1e-10, 1e-12), "float32": (1.3e-6, 1e-5)}
TORCH_DTYPE = {"float64": torch.float64, "float32": torch.float32}
E, H = 8, 2  # embed_dim, num_heads


def close(ours, theirs, dtype, what):
    rtol, atol = TOL[dtype]
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.numpy() if isinstance(ours, nablab.Tensor) else ours
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch's {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)


def twin(t_module, n_module):
    """Copy torch's weights into nablab's module (their state-dict names agree, in order)."""
    assert list(n_module.state_dict()) == list(t_module.state_dict())
    return from_torch(t_module, n_module)


def compare(t_module, n_module, arrays, run, dtype, masks=None, seed=0):
    """Run both modules on the same inputs (``arrays``, a dict of name → array; the same array
    object under two names becomes one tensor, as in self-attention) and masks; compare the
    outputs and the gradients of the inputs and of every parameter, after backpropagating the same
    random cotangent from the first output (and the attention weights, where there are any)."""
    masks = masks or {}
    t_in, n_in, seen = {}, {}, {}
    for name, a in arrays.items():
        if id(a) not in seen:
            seen[id(a)] = (torch.tensor(a, dtype=TORCH_DTYPE[dtype], requires_grad=True),
                           nablab.tensor(a, dtype=dtype, requires_grad=True))
        t_in[name], n_in[name] = seen[id(a)]
    t_masks = {k: None if m is None else torch.tensor(m, dtype=TORCH_DTYPE[dtype] if m.dtype.kind == "f" else None)
               for k, m in masks.items()}
    n_masks = {k: None if m is None else nablab.tensor(m, dtype=dtype if m.dtype.kind == "f" else None)
               for k, m in masks.items()}
    t_out, n_out = run(t_module, t_in, t_masks), run(n_module, n_in, n_masks)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    n_out = n_out if isinstance(n_out, tuple) else (n_out,)
    rng = np.random.default_rng(seed)
    t_loss, n_loss = 0, 0
    for i, (t, n) in enumerate(zip(t_out, n_out)):
        assert (t is None) == (n is None), f"output {i}: torch gives {t}, nablab {n}"
        if t is None:
            continue
        assert tuple(n.shape) == tuple(t.shape), f"output {i}: shape {tuple(n.shape)}, torch's {tuple(t.shape)}"
        close(n, t, dtype, f"output {i}")
        g = rng.standard_normal(tuple(t.shape))
        t_loss = t_loss + (t * torch.tensor(g, dtype=TORCH_DTYPE[dtype])).sum()
        n_loss = n_loss + (n * nablab.tensor(g, dtype=dtype)).sum()
    t_loss.backward()
    n_loss.backward()
    for t, n in {id(t): (t, n) for t, n in seen.values()}.values():
        close(n.grad, t.grad, dtype, "input gradient")
    ours = dict(n_module.named_parameters())
    for name, p in t_module.named_parameters():
        close(ours[name].grad, p.grad, dtype, f"gradient of {name}")


# --------------------------------------------------------------------------- MultiheadAttention
def bool_mask(rng, shape, keep_column):
    """A random boolean mask (True: masked out) that leaves key ``keep_column`` open in every row."""
    m = rng.random(shape) < 0.4
    m[..., keep_column] = False
    return m


def mha_masks(kind, rng, batch, length, source, unbatched=False):
    """attn_mask / key_padding_mask of one kind (batch·H rows for the 3-D attn_mask, H unbatched)."""
    rows = H if unbatched else batch * H
    kpm_shape = (source,) if unbatched else (batch, source)
    masks = {
        "none": {},
        "attn_bool": {"attn_mask": bool_mask(rng, (length, source), 0)},
        "attn_float": {"attn_mask": rng.standard_normal((length, source))},
        "attn_bool_3d": {"attn_mask": bool_mask(rng, (rows, length, source), 1)},
        "attn_float_3d": {"attn_mask": rng.standard_normal((rows, length, source))},
        "kpm_bool": {"key_padding_mask": bool_mask(rng, kpm_shape, 0)},
        "kpm_float": {"key_padding_mask": np.where(bool_mask(rng, kpm_shape, 0), -np.inf, 0.0)},
        "both": {"attn_mask": rng.standard_normal((length, source)), "key_padding_mask": bool_mask(rng, kpm_shape, 2)},
    }
    return masks[kind]


MHA_CASES = [
    # (id, constructor kwargs, cross-attention, unbatched, mask kinds)
    ("self", {}, False, False, ["none", "attn_bool", "attn_float", "attn_bool_3d", "attn_float_3d", "kpm_bool",
                                "kpm_float", "both"]),
    ("self_batch_first", {"batch_first": True}, False, False, ["none", "attn_bool", "kpm_bool", "both"]),
    ("cross", {}, True, False, ["none", "attn_float", "attn_bool_3d", "kpm_bool", "both"]),
    ("cross_batch_first", {"batch_first": True}, True, False, ["none", "kpm_float", "both"]),
    ("kdim_vdim", {"kdim": 5, "vdim": 3}, True, False, ["none", "attn_bool", "both"]),
    ("kdim_vdim_batch_first", {"kdim": 5, "vdim": 3, "batch_first": True}, True, False, ["kpm_bool"]),
    ("no_bias", {"bias": False}, True, False, ["none", "both"]),
    ("bias_kv", {"add_bias_kv": True}, True, False, ["none", "attn_float_3d", "both"]),
    ("zero_attn", {"add_zero_attn": True}, False, False, ["none", "kpm_bool", "both"]),
    ("bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True}, True, False, ["attn_bool", "both"]),
    ("unbatched", {}, False, True, ["none", "attn_bool", "attn_float_3d", "kpm_bool", "both"]),
    ("unbatched_cross", {"kdim": 5, "vdim": 3, "batch_first": True}, True, True, ["none", "both"]),
]


def mha_params():
    for name, kwargs, cross, unbatched, kinds in MHA_CASES:
        for kind in kinds:
            yield pytest.param(kwargs, cross, unbatched, kind, id=f"{name}-{kind}")


def mha_inputs(kwargs, cross, unbatched, rng, batch=3, length=4, source=6):
    """query, key and value arrays (one array for all three in self-attention)."""
    def shape(seq, features):
        if unbatched:
            return (seq, features)
        return (batch, seq, features) if kwargs.get("batch_first") else (seq, batch, features)

    query = rng.standard_normal(shape(length, E))
    if not cross:
        return {"query": query, "key": query, "value": query}, length, length
    return ({"query": query, "key": rng.standard_normal(shape(source, kwargs.get("kdim", E))),
             "value": rng.standard_normal(shape(source, kwargs.get("vdim", E)))}, length, source)


def run_mha(**options):
    def run(module, x, masks):
        return module(x["query"], x["key"], x["value"], **masks, **options)
    return run


@pytest.mark.parametrize(("kwargs", "cross", "unbatched", "mask_kind"), list(mha_params()))
@pytest.mark.parametrize(("need_weights", "average"), [(True, True), (True, False), (False, True)])
def test_multihead_attention_matches_torch(kwargs, cross, unbatched, mask_kind, need_weights, average):
    rng = np.random.default_rng(1)
    torch.manual_seed(0)
    t_mha = torch.nn.MultiheadAttention(E, H, **kwargs).double()
    mha = twin(t_mha, nn.MultiheadAttention(E, H, dtype="float64", **kwargs))
    arrays, length, source = mha_inputs(kwargs, cross, unbatched, rng)
    masks = mha_masks(mask_kind, rng, 3, length, source, unbatched)
    compare(t_mha, mha, arrays, run_mha(need_weights=need_weights, average_attn_weights=average), "float64", masks)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("key_padding", [False, True])
def test_multihead_attention_causal_hint_matches_torch(need_weights, key_padding):
    """is_causal with the causal attn_mask: torch applies the hint (or the mask) on its own paths."""
    rng = np.random.default_rng(2)
    t_mha = torch.nn.MultiheadAttention(E, H, batch_first=True).double()
    mha = twin(t_mha, nn.MultiheadAttention(E, H, batch_first=True, dtype="float64"))
    x = rng.standard_normal((2, 5, E))
    masks = {"attn_mask": np.triu(np.ones((5, 5), dtype=bool), 1)}
    if key_padding:
        masks["key_padding_mask"] = bool_mask(rng, (2, 5), 0)
    compare(t_mha, mha, {"query": x, "key": x, "value": x}, run_mha(need_weights=need_weights, is_causal=True),
            "float64", masks)


@pytest.mark.parametrize(("embed_dim", "heads", "batch", "length", "source"),
                         [(1, 1, 1, 1, 1), (4, 4, 1, 1, 3), (4, 1, 2, 3, 1), (6, 3, 1, 2, 2)])
def test_multihead_attention_size_one_dims_match_torch(embed_dim, heads, batch, length, source):
    """One sample, one query, one key, one head, heads of size 1."""
    rng = np.random.default_rng(16)
    t_mha = torch.nn.MultiheadAttention(embed_dim, heads, kdim=2, vdim=3).double()
    mha = twin(t_mha, nn.MultiheadAttention(embed_dim, heads, kdim=2, vdim=3, dtype="float64"))
    arrays = {"query": rng.standard_normal((length, batch, embed_dim)),
              "key": rng.standard_normal((source, batch, 2)), "value": rng.standard_normal((source, batch, 3))}
    masks = {"attn_mask": rng.standard_normal((length, source)),
             "key_padding_mask": bool_mask(rng, (batch, source), 0)}
    compare(t_mha, mha, arrays, run_mha(average_attn_weights=False), "float64", masks)


@pytest.mark.parametrize("cross", [False, True])
def test_multihead_attention_float32_matches_torch(cross):
    rng = np.random.default_rng(3)
    t_mha = torch.nn.MultiheadAttention(E, H, batch_first=True)
    mha = twin(t_mha, nn.MultiheadAttention(E, H, batch_first=True))
    arrays, length, source = mha_inputs({"batch_first": True}, cross, False, rng)
    masks = mha_masks("both", rng, 3, length, source)
    compare(t_mha, mha, arrays, run_mha(), "float32", masks)


def test_multihead_attention_eval_mode_with_gradients_matches_torch():
    rng = np.random.default_rng(4)
    t_mha = torch.nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True).double().eval()
    mha = twin(t_mha, nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True, dtype="float64")).eval()
    x = rng.standard_normal((3, 4, E))
    compare(t_mha, mha, {"query": x, "key": x, "value": x}, run_mha(), "float64",
            {"key_padding_mask": bool_mask(rng, (3, 4), 0)})


# --------------------------------------------------------------------------- encoder and decoder layers
def causal(length):
    return np.triu(np.full((length, length), -np.inf), 1)


LAYER_CASES = [
    # (norm_first, activation, batch_first)
    (False, "relu", False), (False, "gelu", True), (True, "relu", True), (True, "gelu", False),
]


def seq(rng, batch_first, length, batch=3, features=E):
    return rng.standard_normal((batch, length, features) if batch_first else (length, batch, features))


@pytest.mark.parametrize(("norm_first", "activation", "batch_first"), LAYER_CASES)
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "bool_both"])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first, masks):
    rng = np.random.default_rng(5)
    options = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
                   norm_first=norm_first)
    t_layer = torch.nn.TransformerEncoderLayer(E, H, **options).double()
    layer = twin(t_layer, nn.TransformerEncoderLayer(E, H, dtype="float64", **options))
    given = {"none": {}, "causal": {"src_mask": causal(5)},
             "padding": {"src_key_padding_mask": bool_mask(rng, (3, 5), 0)},
             "bool_both": {"src_mask": bool_mask(rng, (5, 5), 1), "src_key_padding_mask": bool_mask(rng, (3, 5), 1)},
             }[masks]
    hint = {"is_causal": True} if masks == "causal" else {}
    compare(t_layer, layer, {"src": seq(rng, batch_first, 5)},
            lambda m, x, k: m(x["src"], **k, **hint), "float64", given)


@pytest.mark.parametrize(("norm_first", "activation", "batch_first"), LAYER_CASES)
@pytest.mark.parametrize("masks", ["none", "causal", "all"])
def test_decoder_layer_matches_torch(norm_first, activation, batch_first, masks):
    rng = np.random.default_rng(6)
    options = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
                   norm_first=norm_first)
    t_layer = torch.nn.TransformerDecoderLayer(E, H, **options).double()
    layer = twin(t_layer, nn.TransformerDecoderLayer(E, H, dtype="float64", **options))
    given = {"none": {}, "causal": {"tgt_mask": causal(4)},
             "all": {"tgt_mask": causal(4), "memory_mask": bool_mask(rng, (4, 6), 0),
                     "tgt_key_padding_mask": bool_mask(rng, (3, 4), 0),
                     "memory_key_padding_mask": rng.standard_normal((3, 6))}}[masks]
    hint = {"tgt_is_causal": True} if masks != "none" else {}
    compare(t_layer, layer, {"tgt": seq(rng, batch_first, 4), "memory": seq(rng, batch_first, 6)},
            lambda m, x, k: m(x["tgt"], x["memory"], **k, **hint), "float64", given)


def test_unbatched_encoder_and_decoder_layers_match_torch():
    rng = np.random.default_rng(7)
    t_enc = torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0).double()
    enc = twin(t_enc, nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, dtype="float64"))
    compare(t_enc, enc, {"src": rng.standard_normal((5, E))}, lambda m, x, k: m(x["src"], **k), "float64",
            {"src_key_padding_mask": bool_mask(rng, (5,), 0)})
    t_dec = torch.nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, norm_first=True).double()
    dec = twin(t_dec, nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, norm_first=True, dtype="float64"))
    compare(t_dec, dec, {"tgt": rng.standard_normal((4, E)), "memory": rng.standard_normal((6, E))},
            lambda m, x, k: m(x["tgt"], x["memory"], **k), "float64", {"tgt_mask": causal(4)})


def test_layers_with_a_callable_activation_and_no_bias_match_torch():
    rng = np.random.default_rng(8)
    t_layer = torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=torch.nn.GELU(approximate="tanh"),
                                               bias=False, layer_norm_eps=1e-3).double()
    layer = twin(t_layer, nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=nn.GELU(approximate="tanh"),
                                                     bias=False, layer_norm_eps=1e-3, dtype="float64"))
    compare(t_layer, layer, {"src": seq(rng, False, 5)}, lambda m, x, k: m(x["src"], **k), "float64")


@pytest.mark.parametrize("norm_first", [False, True])
def test_layers_float32_match_torch(norm_first):
    rng = np.random.default_rng(9)
    t_layer = torch.nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, batch_first=True, norm_first=norm_first)
    layer = twin(t_layer, nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, batch_first=True, norm_first=norm_first))
    compare(t_layer, layer, {"tgt": seq(rng, True, 4), "memory": seq(rng, True, 6)},
            lambda m, x, k: m(x["tgt"], x["memory"], **k), "float32", {"tgt_mask": causal(4).astype(np.float32)})


def test_encoder_layer_in_eval_mode_with_gradients_matches_torch():
    """Evaluation mode with gradients on: torch's fast path is off, dropout (0.3 here) is off."""
    rng = np.random.default_rng(10)
    t_layer = torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.3, batch_first=True).double().eval()
    layer = twin(t_layer, nn.TransformerEncoderLayer(E, H, 16, dropout=0.3, batch_first=True, dtype="float64")).eval()
    compare(t_layer, layer, {"src": seq(rng, True, 5)}, lambda m, x, k: m(x["src"], **k), "float64",
            {"src_key_padding_mask": bool_mask(rng, (3, 5), 0)})


# --------------------------------------------------------------------------- stacks and the Transformer
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("final_norm", [False, True])
def test_encoder_stack_matches_torch(norm_first, final_norm):
    rng = np.random.default_rng(11)
    t_stack = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=True, norm_first=norm_first), 3,
        torch.nn.LayerNorm(E) if final_norm else None, enable_nested_tensor=False).double()
    stack = twin(t_stack, nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=True, norm_first=norm_first, dtype="float64"),
        3, nn.LayerNorm(E, dtype="float64") if final_norm else None))
    given = {"mask": causal(5), "src_key_padding_mask": bool_mask(rng, (3, 5), 0)}
    compare(t_stack, stack, {"src": seq(rng, True, 5)}, lambda m, x, k: m(x["src"], **k), "float64", given)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_stack_matches_torch(norm_first):
    rng = np.random.default_rng(12)
    t_stack = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, activation="gelu", norm_first=norm_first), 2,
        torch.nn.LayerNorm(E)).double()
    stack = twin(t_stack, nn.TransformerDecoder(
        nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, activation="gelu", norm_first=norm_first, dtype="float64"),
        2, nn.LayerNorm(E, dtype="float64")))
    given = {"tgt_mask": causal(4), "memory_key_padding_mask": bool_mask(rng, (3, 6), 0)}
    compare(t_stack, stack, {"tgt": seq(rng, False, 4), "memory": seq(rng, False, 6)},
            lambda m, x, k: m(x["tgt"], x["memory"], **k), "float64", given)


@pytest.mark.parametrize(("batch_first", "norm_first", "dtype"),
                         [(False, False, "float64"), (True, True, "float64"), (True, False, "float32")])
def test_transformer_matches_torch(batch_first, norm_first, dtype):
    rng = np.random.default_rng(13)
    options = dict(num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
                   batch_first=batch_first, norm_first=norm_first)
    t_model = torch.nn.Transformer(E, H, **options).to(TORCH_DTYPE[dtype])
    model = twin(t_model, nn.Transformer(E, H, dtype=dtype, **options))
    given = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype).numpy(),
             "src_key_padding_mask": bool_mask(rng, (3, 5), 0), "memory_key_padding_mask": bool_mask(rng, (3, 5), 1),
             "tgt_key_padding_mask": bool_mask(rng, (3, 4), 0)}
    compare(t_model, model, {"src": seq(rng, batch_first, 5), "tgt": seq(rng, batch_first, 4)},
            lambda m, x, k: m(x["src"], x["tgt"], **k), dtype, given)


def test_unbatched_transformer_matches_torch():
    rng = np.random.default_rng(14)
    t_model = torch.nn.Transformer(E, H, 1, 1, 16, dropout=0.0).double()
    model = twin(t_model, nn.Transformer(E, H, 1, 1, 16, dropout=0.0, dtype="float64"))
    compare(t_model, model, {"src": rng.standard_normal((5, E)), "tgt": rng.standard_normal((4, E))},
            lambda m, x, k: m(x["src"], x["tgt"], **k), "float64", {"tgt_mask": causal(4)})


@pytest.mark.parametrize("size", [1, 4])
def test_square_subsequent_mask_matches_torch(size):
    ours = nn.generate_square_subsequent_mask(size)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(size)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(size, dtype="float64").numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(size, dtype=torch.float64))


def test_weights_go_back_to_torch():
    """to_torch fills a torch Transformer from nablab's: the same outputs."""
    from nablab.io import to_torch

    nablab.manual_seed(0)
    model = nn.Transformer(E, H, 1, 1, 16, dropout=0.0, batch_first=True, dtype="float64")
    t_model = to_torch(model, torch.nn.Transformer(E, H, 1, 1, 16, dropout=0.0, batch_first=True).double())
    rng = np.random.default_rng(15)
    src, tgt = seq(rng, True, 5), seq(rng, True, 4)
    close(model(nablab.tensor(src, dtype="float64"), nablab.tensor(tgt, dtype="float64")),
          t_model(torch.tensor(src), torch.tensor(tgt)), "float64", "output")


@pytest.mark.parametrize("separate", [False, True])
def test_functional_multi_head_attention_matches_torch(separate):
    """F.multi_head_attention_forward called directly, with PyTorch's positional arguments."""
    rng = np.random.default_rng(17)
    kdim = 3 if separate else E
    arrays = {"query": rng.standard_normal((4, 2, E)), "key": rng.standard_normal((5, 2, kdim)),
              "value": rng.standard_normal((5, 2, kdim))}
    weights = {"in_proj_weight": rng.standard_normal((3 * E, E)), "in_proj_bias": rng.standard_normal(3 * E),
               "bias_k": rng.standard_normal((1, 1, E)), "bias_v": rng.standard_normal((1, 1, E)),
               "out_proj_weight": rng.standard_normal((E, E)), "out_proj_bias": rng.standard_normal(E),
               "q_proj_weight": rng.standard_normal((E, E)), "k_proj_weight": rng.standard_normal((E, kdim)),
               "v_proj_weight": rng.standard_normal((E, kdim))}
    mask = rng.standard_normal((4, 5))

    def run(lib, make):
        x = {k: make(a) for k, a in {**arrays, **weights}.items()}
        functional = torch.nn.functional if lib is torch else nablab.nn.functional
        out, w = functional.multi_head_attention_forward(
            x["query"], x["key"], x["value"], E, H, None if separate else x["in_proj_weight"], x["in_proj_bias"],
            x["bias_k"], x["bias_v"], True, 0.0, x["out_proj_weight"], x["out_proj_bias"], True, None, True,
            make(mask), separate, x["q_proj_weight"], x["k_proj_weight"], x["v_proj_weight"],
            average_attn_weights=False)
        (out.sum() + (w * w).sum()).backward()
        unused = {"in_proj_weight"} if separate else {"q_proj_weight", "k_proj_weight", "v_proj_weight"}
        return [out, w] + [x[k].grad for k in x if k not in unused]

    theirs = run(torch, lambda a: torch.tensor(a, requires_grad=True))
    ours = run(nablab, lambda a: nablab.tensor(a, dtype="float64", requires_grad=True))
    for i, (n, t) in enumerate(zip(ours, theirs)):
        close(n, t, "float64", f"result {i}")


def test_torch_fast_path_agrees_except_at_padded_positions():
    """In evaluation without gradients torch runs its fused encoder (the fast path) and, with a key
    padding mask, nested tensors that return 0 at padded positions; nablab always computes those
    positions as torch's ordinary path does. Every other position agrees."""
    rng = np.random.default_rng(18)
    t_stack = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, 16, batch_first=True), 2).double()
    stack = twin(t_stack, nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 16, batch_first=True,
                                                                           dtype="float64"), 2))
    t_stack.eval()
    stack.eval()
    x = seq(rng, True, 5)
    pad = np.zeros((3, 5), dtype=bool)
    pad[0, 3:] = True
    with torch.no_grad():
        fast = t_stack(torch.tensor(x)).numpy()
        nested = t_stack(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
    close(stack(nablab.tensor(x, dtype="float64")), fast, "float64", "fast path")
    ours = stack(nablab.tensor(x, dtype="float64"), src_key_padding_mask=nablab.tensor(pad)).numpy()
    close(ours[~pad], nested[~pad], "float64", "unpadded positions")
    assert np.all(nested[pad] == 0) and np.all(ours[pad] != 0)
