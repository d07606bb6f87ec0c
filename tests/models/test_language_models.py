"""The language models: TinyGPT's shapes, weight tying, initialisation, attention maps and parity with a
hand-built PyTorch forward loaded with the same weights; CharRNN's shapes, state, tying and parity with
torch.nn.LSTM on its weights; generation
(determinism, temperature and top-k semantics) for both."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.models import CharRNN, TinyGPT, from_config
from nablab.models.sampling import draw, next_token_probabilities

needs_lstm = pytest.mark.skipif(not hasattr(nn, "LSTM"), reason="nablab.nn.LSTM is not built yet")


def _gpt(**kwargs):
    nablab.manual_seed(0)
    options = dict(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.0, bias=True) | kwargs
    return TinyGPT(**options)


def _ids(n, t, vocab=13, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, (n, t))


# ----------------------------------------------------------------- TinyGPT
@pytest.mark.parametrize("n, t", [(3, 5), (1, 1), (2, 8)])
def test_tiny_gpt_maps_ids_to_logits_per_position(n, t):
    model = _gpt()
    logits = model(_ids(n, t))
    assert logits.shape == (n, t, 13) and logits.dtype == np.float32


def test_tiny_gpt_is_causal_a_later_token_does_not_change_earlier_logits():
    model = _gpt()
    ids = _ids(2, 6)
    changed = ids.copy()
    changed[:, 4:] = (changed[:, 4:] + 1) % 13
    a, b = model(ids).data, model(changed).data
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-6, atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_tiny_gpt_refuses_sequences_beyond_its_block_and_bad_settings():
    model = _gpt()
    with pytest.raises(ValueError, match="longer than block_size 8"):
        model(_ids(1, 9))
    with pytest.raises(ValueError, match="shape \\(N, T\\)"):
        model(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="multiple of n_head"):
        _gpt(n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="n_layer must be a positive integer"):
        _gpt(n_layer=0)


def test_tiny_gpt_ties_its_head_to_the_token_embedding_once():
    model = _gpt()
    assert model.lm_head.weight is model.transformer.wte.weight
    params = list(model.parameters())
    assert sum(p is model.transformer.wte.weight for p in params) == 1
    # 13·16 + 8·16 + 2 blocks · (2·32 + 16·48+48 + 16·16+16 + 16·64+64 + 64·16+16) + 32: the head adds nothing
    assert nn.count_parameters(model) == 13 * 16 + 8 * 16 + 2 * (64 + 816 + 272 + 1088 + 1040) + 32
    state = model.state_dict()
    assert "transformer.wte.weight" in state and "lm_head.weight" not in state
    model(_ids(2, 4)).sum().backward()  # the head's and the embedding's gradient are one sum
    assert model.lm_head.weight.grad is model.transformer.wte.weight.grad


def test_the_tie_survives_load_state_dict_and_a_safetensors_round_trip(tmp_path):
    model = _gpt()
    other = _gpt()
    nablab.manual_seed(5)
    donor = TinyGPT(13, 8, 2, 2, 16)
    other.load_state_dict(donor.state_dict())
    assert other.lm_head.weight is other.transformer.wte.weight
    np.testing.assert_array_equal(other.lm_head.weight.data, donor.transformer.wte.weight.data)
    path = nablab.save(model, tmp_path / "gpt.safetensors")  # one copy of the shared tensor
    state = nablab.load(path)
    assert "lm_head.weight" not in state
    loaded = _gpt()
    nablab.manual_seed(9)
    loaded.load_state_dict(state)
    assert loaded.lm_head.weight is loaded.transformer.wte.weight
    ids = _ids(2, 5)
    np.testing.assert_array_equal(loaded(ids).data, model(ids).data)


def test_tiny_gpt_starts_from_gpt2_initialisation():
    model = _gpt(n_layer=4, n_embd=64, n_head=4, vocab_size=200, block_size=64)
    std = model.transformer.h[0].attn.c_attn.weight.data.std()
    assert abs(std - 0.02) < 0.002
    for block in model.transformer.h:
        for proj in (block.attn.c_proj, block.mlp.c_proj):
            assert abs(proj.weight.data.std() - 0.02 / math.sqrt(8)) < 0.0015
            assert not proj.bias.data.any()
    assert abs(model.transformer.wte.weight.data.std() - 0.02) < 0.002
    np.testing.assert_array_equal(model.transformer.ln_f.weight.data, 1)


def test_tiny_gpt_without_bias_has_none_in_its_linears_and_norms():
    model = _gpt(bias=False)
    assert all(getattr(m, "bias", None) is None for m in model.modules() if isinstance(m, (nn.Linear, nn.LayerNorm)))


def test_attention_maps_are_causal_distributions_per_layer_and_head():
    model = _gpt()
    maps = model.attention_maps(_ids(3, 6))
    assert len(maps) == 2 and all(m.shape == (3, 2, 6, 6) for m in maps)
    for m in maps:
        np.testing.assert_allclose(m.sum(axis=-1), 1.0, rtol=1e-6)
        assert not np.triu(np.ones((6, 6)), 1)[None, None].astype(bool).__and__(m > 0).any()


def _torch_gpt_forward(torch, model, ids, n_head):
    """The same network written with torch's functional ops over the model's own weights (float64)."""
    tf = torch.nn.functional
    w = {k: torch.tensor(v.data.astype(np.float64), requires_grad=True) for k, v in model.state_dict().items()}
    idx = torch.tensor(ids)
    n, t = ids.shape
    c = w["transformer.wte.weight"].shape[1]
    x = tf.embedding(idx, w["transformer.wte.weight"]) + w["transformer.wpe.weight"][:t]
    for i in range(len(model.transformer.h)):
        p = f"transformer.h.{i}."
        u = tf.layer_norm(x, (c,), w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        q, k, v = tf.linear(u, w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"]).split(c, dim=2)
        q, k, v = (z.view(n, t, n_head, c // n_head).transpose(1, 2) for z in (q, k, v))
        y = tf.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(n, t, c)
        x = x + tf.linear(y, w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"])
        u = tf.layer_norm(x, (c,), w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        h = tf.gelu(tf.linear(u, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"]))
        x = x + tf.linear(h, w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])
    x = tf.layer_norm(x, (c,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"])
    return tf.linear(x, w["transformer.wte.weight"]), w


@pytest.mark.torch
@pytest.mark.parametrize("n, t", [(2, 7), (1, 1)])
def test_tiny_gpt_matches_the_same_network_in_pytorch_with_its_weights(n, t):
    torch = pytest.importorskip("torch")
    model = _gpt().double()
    ids = _ids(n, t)
    ours = model(ids)
    theirs, w = _torch_gpt_forward(torch, model, ids, n_head=2)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    target = _ids(n, t, seed=1)
    nablab.nn.functional.cross_entropy(ours.reshape(-1, 13), nablab.tensor(target.reshape(-1))).backward()
    torch.nn.functional.cross_entropy(theirs.reshape(-1, 13), torch.tensor(target.reshape(-1))).backward()
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad.data, w[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    # the attention maps are the weights torch's attention applies
    q, k, _ = (torch.tensor(z.data) for z in model.transformer.h[0].attn._heads(model.transformer.h[0].ln_1(
        model._embed(nablab.tensor(ids)))))
    expected = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(8) + torch.full((t, t), -math.inf).triu(1), -1)
    np.testing.assert_allclose(model.attention_maps(ids)[0], expected.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------- sampling and generate
def test_temperature_sharpens_and_flattens_the_next_token_distribution():
    logits = np.array([[2.0, 1.0, 0.0, -1.0]])
    p1 = next_token_probabilities(logits, 1.0)
    np.testing.assert_allclose(p1, np.exp(logits) / np.exp(logits).sum())
    cold, hot = next_token_probabilities(logits, 0.1), next_token_probabilities(logits, 10.0)
    assert cold[0, 0] > 0.999 and hot.max() - hot.min() < 0.1
    np.testing.assert_allclose(next_token_probabilities(logits, 0.5), np.exp(2 * logits) / np.exp(2 * logits).sum())


def test_top_k_keeps_only_the_k_most_likely_tokens():
    logits = np.array([[0.5, 3.0, 1.0, 2.0], [4.0, 0.0, 0.0, 1.0]])
    p = next_token_probabilities(logits, 1.0, top_k=2)
    assert (p[0, [0, 2]] == 0).all() and (p[1, [1, 2]] == 0).all()
    np.testing.assert_allclose(p[0, [1, 3]], np.exp([3.0, 2.0]) / np.exp([3.0, 2.0]).sum())
    draws = draw(np.repeat(p[:1], 2000, axis=0), nablab.Generator().manual_seed(0))
    assert set(np.unique(draws)) == {1, 3}
    assert abs((draws == 1).mean() - p[0, 1]) < 0.04
    greedy = next_token_probabilities(logits, 1.0, top_k=1)
    np.testing.assert_array_equal(greedy.argmax(axis=1), [1, 0])


def test_generate_is_deterministic_for_a_seed_and_keeps_the_prompt():
    model = _gpt()
    prompt = _ids(2, 3)
    a = model.generate(prompt, 12, generator=nablab.Generator().manual_seed(3))
    b = model.generate(prompt, 12, generator=nablab.Generator().manual_seed(3))
    c = model.generate(prompt, 12, generator=nablab.Generator().manual_seed(4))
    assert a.shape == (2, 15) and a.dtype == np.int64
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, :3], prompt)
    assert not np.array_equal(a, c)
    assert ((a >= 0) & (a < 13)).all()


def test_generate_crops_the_context_to_the_block_and_greedy_follows_the_argmax():
    model = _gpt()
    out = model.generate(_ids(1, 8), 5, top_k=1)  # 13 tokens from a model with a block of 8
    assert out.shape == (1, 13)
    for i in range(8, 13):
        expected = model(out[:, max(i - 8, 0):i]).data[0, -1].argmax()
        assert out[0, i] == expected


def test_generate_refuses_bad_sampling_settings():
    model = _gpt()
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        model.generate(_ids(1, 2), 3, temperature=0)
    with pytest.raises(ValueError, match="top_k must be an integer from 1 to the vocabulary size 13"):
        model.generate(_ids(1, 2), 3, top_k=14)
    with pytest.raises(ValueError, match="T ≥ 1"):
        model.generate(np.zeros((1, 0), dtype=np.int64), 3)


def test_generate_leaves_the_training_mode_and_records_no_graph():
    model = _gpt(dropout=0.1)
    model.train()
    model.generate(_ids(1, 2), 2)
    assert model.training and all(p.grad is None for p in model.parameters())


def test_from_config_builds_the_language_models():
    table = {"kind": "tiny_gpt", "n_layer": 1, "n_head": 2, "n_embd": 8, "block_size": None, "dropout": 0.0,
             "bias": True}
    model = from_config(table, [16], 11)
    assert isinstance(model, TinyGPT) and model.block_size == 16 and model.vocab_size == 11
    with pytest.raises(ValueError, match="block_size = 4 is shorter than the sequences of 16"):
        from_config({**table, "block_size": 4}, [16], 11)
    with pytest.raises(ValueError, match="needs sequences of token ids"):
        from_config(table, [1, 8, 8], 11)


# ----------------------------------------------------------------- CharRNN
def _rnn(**kwargs):
    nablab.manual_seed(0)
    return CharRNN(**(dict(vocab_size=13, embed_dim=8, hidden_size=12, num_layers=2, dropout=0.0) | kwargs))


@needs_lstm
def test_char_rnn_maps_ids_to_logits_and_returns_its_state():
    model = _rnn()
    logits, (h, c) = model(_ids(3, 5), return_state=True)
    assert logits.shape == (3, 5, 13) and h.shape == (2, 3, 12) and c.shape == (2, 3, 12)
    assert model(_ids(3, 5)).shape == (3, 5, 13)


@needs_lstm
def test_char_rnn_carrying_the_state_equals_reading_the_whole_sequence():
    model = _rnn()
    ids = _ids(2, 7)
    whole = model(ids).data
    first, state = model(ids[:, :4], return_state=True)
    rest = model(ids[:, 4:], state)
    np.testing.assert_allclose(np.concatenate([first.data, rest.data], axis=1), whole, rtol=1e-5, atol=1e-6)


@needs_lstm
def test_char_rnn_ties_its_decoder_to_the_embedding():
    model = _rnn(embed_dim=12, tie_weights=True)
    assert model.decoder.weight is model.embedding.weight
    assert sum(p is model.embedding.weight for p in model.parameters()) == 1
    assert "decoder.weight" not in model.state_dict()
    with pytest.raises(ValueError, match="tie_weights needs hidden_size == embed_dim"):
        _rnn(embed_dim=8, hidden_size=12, tie_weights=True)


@needs_lstm
def test_char_rnn_generate_is_deterministic_and_greedy_follows_the_argmax():
    model = _rnn()
    prompt = _ids(1, 3)
    a = model.generate(prompt, 6, generator=nablab.Generator().manual_seed(1))
    np.testing.assert_array_equal(a, model.generate(prompt, 6, generator=nablab.Generator().manual_seed(1)))
    greedy = model.generate(prompt, 4, top_k=1)
    for i in range(3, 7):
        assert greedy[0, i] == model(greedy[:, :i]).data[0, -1].argmax()


@pytest.mark.torch
@pytest.mark.parametrize("num_layers, tie", [(1, False), (2, True)])
def test_char_rnn_matches_the_same_network_in_pytorch_with_its_weights(num_layers, tie):
    torch = pytest.importorskip("torch")
    model = _rnn(embed_dim=12, hidden_size=12, num_layers=num_layers, tie_weights=tie).double()
    w = {k: torch.tensor(v.data, requires_grad=True) for k, v in model.state_dict().items()}
    lstm = torch.nn.LSTM(12, 12, num_layers, batch_first=True).double()
    lstm_state = {k.split(".", 1)[1]: v for k, v in w.items() if k.startswith("lstm.")}
    ids = _ids(3, 6)
    emb = torch.nn.functional.embedding(torch.tensor(ids), w["embedding.weight"])
    out, _ = torch.func.functional_call(lstm, lstm_state, (emb,))
    decoder = w["embedding.weight"] if tie else w["decoder.weight"]
    theirs = torch.nn.functional.linear(out, decoder, w["decoder.bias"])
    ours = model(ids)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    target = _ids(3, 6, seed=2)
    nablab.nn.functional.cross_entropy(ours.reshape(-1, 13), nablab.tensor(target.reshape(-1))).backward()
    torch.nn.functional.cross_entropy(theirs.reshape(-1, 13), torch.tensor(target.reshape(-1))).backward()
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad.data, w[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
