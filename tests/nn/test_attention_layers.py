"""nn.MultiheadAttention, the transformer layers and the position embeddings on their own: shapes,
errors, initialisation, state-dict names, what the masks do, dropout in training and evaluation,
and gradients against central differences (PyTorch parity is in tests/torch_parity)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablab
import nablab.nn.functional as F
from nablab import nn
from nablab.errors import ShapeError

E, H = 8, 2


def t64(a):
    return nablab.tensor(a, dtype="float64")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- MultiheadAttention: parameters
@pytest.mark.parametrize(("kwargs", "names"), [
    ({}, ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]),
    ({"kdim": 5, "vdim": 3}, ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
                              "out_proj.bias"]),
    ({"kdim": E, "vdim": 3}, ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
                              "out_proj.bias"]),
    ({"bias": False}, ["in_proj_weight", "out_proj.weight"]),
    ({"add_bias_kv": True}, ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
                             "out_proj.bias"]),
])
def test_state_dict_names_and_order_are_torchs(kwargs, names):
    assert list(nn.MultiheadAttention(E, H, **kwargs).state_dict()) == names


def test_parameter_shapes_and_initialisation():
    nablab.manual_seed(0)
    mha = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = mha.in_proj_weight.numpy()
    assert w.shape == (192, 64) and w.dtype == np.float32
    bound = math.sqrt(6.0 / (64 + 192))  # Xavier-uniform over (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    assert np.abs(mha.out_proj.weight.numpy()).max() <= 1 / 8  # the Linear default, U(±1/√E)
    assert mha.bias_k.shape == (1, 1, 64) and mha.bias_k.numpy().std() > 0.05
    separate = nn.MultiheadAttention(6, 3, kdim=4, vdim=2, dtype="float64")
    assert separate.k_proj_weight.shape == (6, 4) and separate.v_proj_weight.shape == (6, 2)
    assert separate.in_proj_weight is None and separate.k_proj_weight.dtype == np.float64
    assert nn.MultiheadAttention(6, 3).bias_k is None


@pytest.mark.parametrize(("args", "match"), [((8, 3), "divisible"), ((0, 1), "positive"), ((8, 0), "positive")])
def test_bad_constructor_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        nn.MultiheadAttention(*args)
    with pytest.raises(ValueError, match="dropout"):
        nn.MultiheadAttention(8, 2, dropout=1.5)


# --------------------------------------------------------------------------- MultiheadAttention: shapes
@pytest.mark.parametrize("batch_first", [False, True])
def test_output_and_weight_shapes(batch_first, rng):
    mha = nn.MultiheadAttention(E, H, kdim=5, vdim=3, batch_first=batch_first)
    n, length, source = 3, 4, 6

    def shape(seq, d):
        return (n, seq, d) if batch_first else (seq, n, d)

    q = nablab.tensor(rng.standard_normal(shape(length, E)))
    k = nablab.tensor(rng.standard_normal(shape(source, 5)))
    v = nablab.tensor(rng.standard_normal(shape(source, 3)))
    out, w = mha(q, k, v)
    assert out.shape == shape(length, E) and w.shape == (n, length, source)
    assert mha(q, k, v, average_attn_weights=False)[1].shape == (n, H, length, source)
    assert mha(q, k, v, need_weights=False)[1] is None
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-6)
    out1, w1 = mha(q[0] if batch_first else q[:, 0], k[0] if batch_first else k[:, 0],
                   v[0] if batch_first else v[:, 0])  # one unbatched sample: the batch's first
    assert out1.shape == (length, E) and w1.shape == (length, source)
    np.testing.assert_allclose(out1.numpy(), (out[0] if batch_first else out[:, 0]).numpy(), rtol=1e-5, atol=1e-6)


def test_bias_kv_and_zero_attention_add_keys(rng):
    x = nablab.tensor(rng.standard_normal((4, 2, E)))
    for kwargs, extra in (({"add_bias_kv": True}, 1), ({"add_zero_attn": True}, 1),
                          ({"add_bias_kv": True, "add_zero_attn": True}, 2)):
        _, w = nn.MultiheadAttention(E, H, **kwargs)(x, x, x)
        assert w.shape == (2, 4, 4 + extra)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda m, x: m(x, x[0], x), ShapeError, "3-D too"),
    (lambda m, x: m(x[..., :4], x[..., :4], x[..., :4]), ShapeError, "embedding dimension 8"),
    (lambda m, x: m(x[0, 0], x[0, 0], x[0, 0]), ShapeError, "3-D"),
    (lambda m, x: m(x, x[:3], x), ShapeError, r"\(S, N\)"),
    (lambda m, x: m(x, x[..., :5], x[..., :5]), ShapeError, "the key has 5 features"),
    (lambda m, x: m(x, x, x, attn_mask=nablab.zeros(4, 5)), ShapeError, r"expected \(4, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=nablab.zeros(2, 4, 4)), ShapeError, r"expected \(4, 4, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=nablab.zeros(1, 1, 4, 4)), ShapeError, "2-D"),
    (lambda m, x: m(x, x, x, key_padding_mask=nablab.zeros(4)), ShapeError, r"2-D \(N, S\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=nablab.zeros(2, 5)), ShapeError, r"expected \(N, S\) = \(2, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=nablab.zeros(4, 4, dtype="int64")), TypeError, "boolean or floating"),
    (lambda m, x: m(x, x, x, is_causal=True), ValueError, "give attn_mask"),
])
def test_bad_inputs_say_what_is_wrong(call, error, match, rng):
    mha = nn.MultiheadAttention(E, H)
    with pytest.raises(error, match=match):
        call(mha, nablab.tensor(rng.standard_normal((4, 2, E))))


# --------------------------------------------------------------------------- MultiheadAttention: masks
def test_key_padding_mask_removes_keys(rng):
    """A padded key gets weight 0, and changing its value changes nothing."""
    mha = nn.MultiheadAttention(E, H, dtype="float64")
    x = rng.standard_normal((5, 2, E))
    pad = np.zeros((2, 5), dtype=bool)
    pad[0, 3:] = True
    out, w = mha(t64(x), t64(x), t64(x), key_padding_mask=nablab.tensor(pad))
    assert np.all(w.numpy()[0, :, 3:] == 0) and np.all(w.numpy()[1] > 0)
    changed = x.copy()
    changed[3:, 0] += 10.0
    out2, _ = mha(t64(x), t64(changed), t64(changed), key_padding_mask=nablab.tensor(pad))
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=1e-12, atol=1e-12)
    float_pad = np.where(pad, -np.inf, 0.0)
    out3, w3 = mha(t64(x), t64(x), t64(x), key_padding_mask=t64(float_pad))
    np.testing.assert_array_equal(w3.numpy(), w.numpy())


def test_boolean_attn_mask_is_minus_infinity_where_true(rng):
    mha = nn.MultiheadAttention(E, H, dtype="float64")
    x = t64(rng.standard_normal((4, 3, E)))
    causal = nn.generate_square_subsequent_mask(4, dtype="float64")
    _, w_float = mha(x, x, x, attn_mask=causal)
    _, w_bool = mha(x, x, x, attn_mask=nablab.tensor(np.triu(np.ones((4, 4), dtype=bool), 1)))
    np.testing.assert_array_equal(w_bool.numpy(), w_float.numpy())
    below = np.tril(np.ones((4, 4), dtype=bool))
    assert np.all(w_float.numpy()[:, ~below] == 0) and np.all(w_float.numpy()[:, below] > 0)
    out_hint, _ = mha(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    np.testing.assert_allclose(out_hint.numpy(), mha(x, x, x, attn_mask=causal)[0].numpy(), rtol=1e-12)


def test_per_head_attn_mask(rng):
    """A 3-D mask (N·H, L, S) masks each head on its own: head 1 of sample 0 sees only key 0."""
    mha = nn.MultiheadAttention(E, H, dtype="float64")
    x = t64(rng.standard_normal((4, 2, E)))
    mask = np.zeros((2 * H, 4, 4), dtype=bool)
    mask[1, :, 1:] = True  # row n·H + h
    _, w = mha(x, x, x, attn_mask=nablab.tensor(mask), average_attn_weights=False)
    np.testing.assert_array_equal(w.numpy()[0, 1, :, 0], 1.0)
    assert np.all(w.numpy()[0, 0] > 0) and np.all(w.numpy()[1] > 0)


# --------------------------------------------------------------------------- MultiheadAttention: dropout and gradients
def test_dropout_only_in_training(rng):
    mha = nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = nablab.tensor(rng.standard_normal((2, 6, E)))
    mha.eval()
    out_a, w_a = mha(x, x, x)
    out_b, _ = mha(x, x, x)
    np.testing.assert_array_equal(out_a.numpy(), out_b.numpy())
    np.testing.assert_allclose(w_a.numpy().sum(-1), 1.0, rtol=1e-6)
    mha.train()
    nablab.manual_seed(1)
    out_c, w_c = mha(x, x, x, average_attn_weights=False)
    weights = w_c.numpy()
    assert (weights == 0).mean() > 0.3 and not np.allclose(weights.sum(-1), 1.0)  # dropped, the rest scaled by 2
    assert not np.allclose(out_c.numpy(), out_a.numpy())
    nablab.manual_seed(1)
    np.testing.assert_array_equal(mha(x, x, x, average_attn_weights=False)[1].numpy(), weights)  # seeded


@pytest.mark.parametrize("kwargs", [{}, {"kdim": 3, "vdim": 5, "add_bias_kv": True, "add_zero_attn": True}])
def test_gradients_match_central_differences(kwargs, rng):
    """The gradients of query, key, value and every parameter, against central differences in float64."""
    mha = nn.MultiheadAttention(4, 2, dtype="float64", **kwargs)
    inputs = [t64(rng.standard_normal((3, 2, d))).requires_grad_()
              for d in (4, kwargs.get("kdim", 4), kwargs.get("vdim", 4))]
    mask = t64(rng.standard_normal((3, 3)))
    keys = 3 + (2 if kwargs else 0)  # bias_k and the zero key add one each
    weights = rng.standard_normal((3, 2, 4)), rng.standard_normal((2, 2, 3, keys))

    def loss():
        out, w = mha(*inputs, attn_mask=mask, average_attn_weights=False)
        return (out * t64(weights[0])).sum() + (w * t64(weights[1])).sum()

    loss().backward()
    leaves = inputs + list(mha.parameters())
    for leaf in leaves:
        numeric = nablab.gradcheck.numerical_gradient(lambda: loss().numpy(), leaf.data)
        np.testing.assert_allclose(leaf.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- transformer layers
def test_encoder_layer_names_are_torchs():
    layer = nn.TransformerEncoderLayer(E, H, 16)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
        "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
        "norm2.weight", "norm2.bias"]
    assert [name for name, _ in layer.named_children()] == ["self_attn", "linear1", "dropout", "linear2", "norm1",
                                                          "norm2", "dropout1", "dropout2"]
    assert layer.linear1.weight.shape == (16, E) and layer.dropout.p == 0.1
    assert list(nn.TransformerEncoderLayer(E, H, 16, bias=False).state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight", "norm1.weight",
        "norm2.weight"]


def test_decoder_layer_names_are_torchs():
    layer = nn.TransformerDecoderLayer(E, H, 16)
    children = [name for name, _ in layer.named_children()]
    assert children == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3",
                        "dropout1", "dropout2", "dropout3"]
    assert len(layer.state_dict()) == 18


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_layers_keep_the_shape(batch_first, norm_first, rng):
    enc = nn.TransformerEncoderLayer(E, H, 16, batch_first=batch_first, norm_first=norm_first, activation="gelu")
    dec = nn.TransformerDecoderLayer(E, H, 16, batch_first=batch_first, norm_first=norm_first)
    src = nablab.tensor(rng.standard_normal((2, 5, E) if batch_first else (5, 2, E)))
    tgt = nablab.tensor(rng.standard_normal((2, 3, E) if batch_first else (3, 2, E)))
    assert enc(src).shape == src.shape
    assert dec(tgt, enc(src), tgt_mask=nn.generate_square_subsequent_mask(3)).shape == tgt.shape
    assert enc(src[0]).shape == (src.shape[1], E)  # unbatched


def test_post_norm_output_is_normalised_and_pre_norm_is_not(rng):
    src = nablab.tensor(rng.standard_normal((5, 2, E)) * 3 + 1)
    post = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0)(src).numpy()
    np.testing.assert_allclose(post.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(post.std(-1), 1.0, rtol=1e-3)
    pre = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, norm_first=True)(src).numpy()
    assert np.abs(pre.mean(-1)).max() > 0.1  # the residual stream is not normalised


def test_activation_choices():
    assert nn.TransformerEncoderLayer(E, H, activation="gelu").activation is F.gelu
    assert nn.TransformerDecoderLayer(E, H).activation is F.relu
    layer = nn.TransformerEncoderLayer(E, H, activation=nn.GELU())
    assert isinstance(layer.activation, nn.GELU) and "activation" in dict(layer.named_children())
    with pytest.raises(ValueError, match="'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(E, H, activation="swish")
    with pytest.raises(TypeError, match="callable"):
        nn.TransformerDecoderLayer(E, H, activation=3)


def test_layer_dropout_only_in_training(rng):
    layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.5)
    src = nablab.tensor(rng.standard_normal((5, 2, E)))
    layer.eval()
    np.testing.assert_array_equal(layer(src).numpy(), layer(src).numpy())
    layer.train()
    assert not np.allclose(layer(src).numpy(), layer(src).numpy())
    assert all(m.training for m in layer.modules())


# --------------------------------------------------------------------------- stacks and the Transformer
def test_encoder_stack_holds_independent_copies(rng):
    layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0)
    stack = nn.TransformerEncoder(layer, 3, nn.LayerNorm(E))
    assert [name for name, _ in stack.named_children()] == ["layers", "norm"]
    assert len(stack.layers) == 3 and stack.num_layers == 3
    a, b = stack.layers[0].linear1.weight, stack.layers[1].linear1.weight
    assert a is not b and a is not layer.linear1.weight
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # copies of one layer start equal
    assert "layers.2.self_attn.in_proj_weight" in stack.state_dict() and "norm.weight" in stack.state_dict()
    src = nablab.tensor(rng.standard_normal((5, 2, E)))
    expected = src
    for each in stack.layers:
        expected = each(expected)
    np.testing.assert_allclose(stack(src).numpy(), stack.norm(expected).numpy(), rtol=1e-6)
    a.data[...] = 0.0
    assert np.any(b.numpy() != 0)
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(layer, 0)
    with pytest.raises(TypeError, match="Module"):
        nn.TransformerDecoder("layer", 2)


def test_transformer_shapes_names_and_errors(rng):
    model = nn.Transformer(E, H, 2, 1, 16, batch_first=True)
    names = list(model.state_dict())
    assert names[0] == "encoder.layers.0.self_attn.in_proj_weight" and names[-1] == "decoder.norm.bias"
    assert "decoder.layers.0.multihead_attn.out_proj.weight" in names and "encoder.layers.1.norm2.bias" in names
    assert not any(n.startswith("decoder.layers.1") for n in names)
    src = nablab.tensor(rng.standard_normal((2, 5, E)))
    tgt = nablab.tensor(rng.standard_normal((2, 3, E)))
    assert model(src, tgt, tgt_mask=model.generate_square_subsequent_mask(3)).shape == (2, 3, E)
    with pytest.raises(ShapeError, match="same batch size"):
        model(src, tgt[:1])
    with pytest.raises(ShapeError, match="d_model = 8"):
        model(src[..., :4], tgt[..., :4])
    bound = math.sqrt(6.0 / (16 + E))  # every matrix re-initialised Xavier-uniform
    assert np.abs(model.encoder.layers[0].linear1.weight.numpy()).max() <= bound


def test_square_subsequent_mask():
    m = nn.generate_square_subsequent_mask(3)
    assert m.dtype == np.float32
    assert nn.Transformer.generate_square_subsequent_mask is nn.generate_square_subsequent_mask
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])


# --------------------------------------------------------------------------- position embeddings
def test_sinusoidal_encoding_follows_the_formula():
    d, max_len = 6, 50
    pe = nn.SinusoidalPositionalEncoding(d, max_len, dtype="float64")
    table = pe.pe.numpy()
    assert table.shape == (max_len, d) and list(pe.state_dict()) == ["pe"] and not list(pe.parameters())
    for pos in (0, 1, 17, 49):
        for i in range(d // 2):
            np.testing.assert_allclose(table[pos, 2 * i], math.sin(pos / 10000 ** (2 * i / d)), rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(table[pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / d)), rtol=1e-14,
                                       atol=1e-15)
    odd = nn.SinusoidalPositionalEncoding(5, 10).pe.numpy()
    np.testing.assert_allclose(odd[3, 4], math.sin(3 / 10000 ** (4 / 5)), rtol=1e-6)
    assert odd.dtype == np.float32


@pytest.mark.parametrize("layer", [lambda bf: nn.SinusoidalPositionalEncoding(E, 10, batch_first=bf),
                                   lambda bf: nn.LearnedPositionalEmbedding(10, E, batch_first=bf)])
def test_positions_are_added_along_the_sequence_axis(layer, rng):
    x = rng.standard_normal((4, 3, E)).astype(np.float32)
    seq_first, batch_first = layer(False), layer(True)
    batch_first.load_state_dict(seq_first.state_dict())
    table = next(iter(seq_first.state_dict().values())).numpy()
    np.testing.assert_allclose(seq_first(nablab.tensor(x)).numpy(), x + table[:4, None, :], rtol=1e-6)
    np.testing.assert_allclose(batch_first(nablab.tensor(x)).numpy(), x + table[None, :3, :], rtol=1e-6)
    np.testing.assert_allclose(seq_first(nablab.tensor(x[:, 0])).numpy(), x[:, 0] + table[:4], rtol=1e-6)
    with pytest.raises(ShapeError, match="more than max_len = 10"):
        seq_first(nablab.zeros(11, 2, E))
    with pytest.raises(ShapeError, match="d_model=8"):
        batch_first(nablab.zeros(2, 3, 4))


def test_learned_embedding_trains_the_rows_it_used():
    nablab.manual_seed(0)
    emb = nn.LearnedPositionalEmbedding(10, 4, batch_first=True)
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (10, 4)
    np.testing.assert_allclose(emb.weight.numpy().std(), 1.0, rtol=0.5)  # N(0, 1), as nn.Embedding
    x = nablab.zeros(3, 6, 4, requires_grad=True)
    emb(x).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:6], 3.0)  # summed over the batch of 3
    np.testing.assert_array_equal(emb.weight.grad.numpy()[6:], 0.0)
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)


def test_sinusoidal_buffer_follows_the_module_dtype():
    pe = nn.SinusoidalPositionalEncoding(4, 8).double()
    assert pe.pe.dtype == np.float64
    assert pe(nablab.zeros(3, 1, 4, dtype="float64")).dtype == np.float64
    with pytest.raises(ValueError, match="positive"):
        nn.LearnedPositionalEmbedding(0, 4)
