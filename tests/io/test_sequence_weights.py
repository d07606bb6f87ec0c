"""Weights files of the sequence layers (attention, transformers, position embeddings, recurrent layers
and cells): the tensors worked out from their arguments are those their state dicts hold, files load
back into equal models, and a file whose metadata describes more than it holds is refused first."""


import numpy as np
import pytest
from described_files import described_as

import nablab
from nablab import nn
from nablab.io import WeightsError
from nablab.io.expected_state import expected_state
from nablab.io.spec import SpecError, module_spec
from nablab.nn.rnn import RNNBase


def _encoder_layer(**kwargs):
    return nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0, **kwargs)


def _decoder_layer(**kwargs):
    return nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, **kwargs)


def _transformer(**kwargs):
    return nn.Transformer(d_model=8, nhead=2, dim_feedforward=12, dropout=0.0, **kwargs)


CONFIGURATIONS = {
    "mha": lambda: nn.MultiheadAttention(8, 2),
    "mha-no-bias": lambda: nn.MultiheadAttention(8, 4, bias=False),
    "mha-kdim-vdim": lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=3),
    "mha-kdim-only": lambda: nn.MultiheadAttention(6, 3, kdim=4, batch_first=True),
    "mha-bias-kv-f64": lambda: nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, dtype="float64"),
    "mha-bias-kv-no-bias": lambda: nn.MultiheadAttention(4, 1, bias=False, add_bias_kv=True, vdim=2),
    "encoder-layer": lambda: _encoder_layer(),
    "encoder-layer-pre-norm-no-bias": lambda: _encoder_layer(norm_first=True, bias=False),
    "encoder-layer-f64-gelu": lambda: _encoder_layer(activation="gelu", dtype="float64"),
    "encoder-layer-prelu": lambda: _encoder_layer(activation=nn.PReLU(1)),
    "decoder-layer": lambda: _decoder_layer(batch_first=True),
    "decoder-layer-no-bias-gelu-module": lambda: _decoder_layer(bias=False, activation=nn.GELU()),
    "encoder": lambda: nn.TransformerEncoder(_encoder_layer(norm_first=True), 3, nn.LayerNorm(8)),
    "encoder-no-norm": lambda: nn.TransformerEncoder(_encoder_layer(bias=False), 1),
    "decoder": lambda: nn.TransformerDecoder(_decoder_layer(), 2, norm=nn.LayerNorm(8, bias=False)),
    "transformer": lambda: _transformer(num_encoder_layers=2, num_decoder_layers=1),
    "transformer-pre-norm-no-bias-f64": lambda: _transformer(num_encoder_layers=1, num_decoder_layers=3,
                                                             norm_first=True, bias=False, dtype="float64"),
    "transformer-prelu": lambda: _transformer(num_encoder_layers=1, num_decoder_layers=1,
                                              activation=nn.PReLU(2)),
    "transformer-custom-encoder": lambda: _transformer(
        num_decoder_layers=2, custom_encoder=nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8))),
    "transformer-custom-both": lambda: _transformer(custom_encoder=nn.TransformerEncoder(_encoder_layer(), 2),
                                                    custom_decoder=nn.TransformerDecoder(_decoder_layer(), 1)),
    "sinusoidal": lambda: nn.SinusoidalPositionalEncoding(6, max_len=10),
    "sinusoidal-odd-f64": lambda: nn.SinusoidalPositionalEncoding(5, 7, dtype="float64"),
    "learned-positions": lambda: nn.LearnedPositionalEmbedding(10, 6, batch_first=True),
    "learned-positions-f64": lambda: nn.LearnedPositionalEmbedding(3, 2, dtype="float64"),
    "rnn": lambda: nn.RNN(3, 4),
    "rnn-relu-3-layers-bidirectional": lambda: nn.RNN(3, 4, num_layers=3, nonlinearity="relu", bidirectional=True),
    "rnn-no-bias": lambda: nn.RNN(3, 4, 2, bias=False, batch_first=True),
    "lstm": lambda: nn.LSTM(3, 5),
    "lstm-2-layers-bidirectional-f64": lambda: nn.LSTM(3, 5, 2, bidirectional=True, dtype="float64"),
    "lstm-no-bias-3-layers": lambda: nn.LSTM(2, 3, num_layers=3, bias=False, dropout=0.5),
    "gru": lambda: nn.GRU(3, 4),
    "gru-2-layers-no-bias": lambda: nn.GRU(3, 4, num_layers=2, bias=False),
    "gru-bidirectional": lambda: nn.GRU(6, 2, bidirectional=True, batch_first=True),
    "rnn-base-gru": lambda: RNNBase("GRU", 3, 4, num_layers=2),
    "rnn-cell": lambda: nn.RNNCell(3, 4),
    "rnn-cell-relu-no-bias": lambda: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
    "lstm-cell": lambda: nn.LSTMCell(3, 4),
    "lstm-cell-f64-no-bias": lambda: nn.LSTMCell(2, 5, bias=False, dtype="float64"),
    "gru-cell": lambda: nn.GRUCell(3, 4),
    "gru-cell-f64": lambda: nn.GRUCell(4, 3, dtype="float64"),
    "sequential": lambda: nn.Sequential(nn.Embedding(11, 8), nn.LearnedPositionalEmbedding(6, 8),
                                        nn.TransformerEncoder(_encoder_layer(), 2), nn.Linear(8, 11)),
}


def _held(model):
    return {name: (np.dtype(value.dtype).name, tuple(value.shape)) for name, value in model.state_dict().items()}


@pytest.mark.parametrize("make", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_the_worked_out_tensors_are_those_the_layer_holds(make):
    model = make()
    expected, unknown = expected_state(module_spec(model))
    assert {name: (info.dtype, info.shape) for name, info in expected.items()} == _held(model)
    assert unknown == []


def _randomise(model, seed=0):
    rng = np.random.default_rng(seed)
    for value in model.state_dict().values():
        value.data[...] = rng.standard_normal(value.shape) * 0.5
    return model


def _tokens(rng):
    return rng.standard_normal((5, 2, 8))


#: (a small model of each family, its inputs, the output tensors to compare)
ROUND_TRIPS = {
    "mha": (lambda: nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True),
            lambda r: (r.standard_normal((4, 2, 8)), r.standard_normal((6, 2, 3)), r.standard_normal((6, 2, 5)))),
    "encoder": (lambda: nn.TransformerEncoder(_encoder_layer(norm_first=True), 2, nn.LayerNorm(8)),
                lambda r: (_tokens(r),)),
    "decoder": (lambda: nn.TransformerDecoder(_decoder_layer(activation="gelu"), 2),
                lambda r: (_tokens(r), r.standard_normal((3, 2, 8)))),
    "transformer": (lambda: _transformer(num_encoder_layers=1, num_decoder_layers=2, bias=False, dtype="float64"),
                    lambda r: (_tokens(r), r.standard_normal((3, 2, 8)))),
    "positions": (lambda: nn.Sequential(nn.SinusoidalPositionalEncoding(8, 16), nn.LearnedPositionalEmbedding(16, 8)),
                  lambda r: (_tokens(r),)),
    "rnn": (lambda: nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True),
            lambda r: (r.standard_normal((5, 2, 3)),)),
    "lstm": (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype="float64"),
             lambda r: (r.standard_normal((2, 5, 3)),)),
    "gru": (lambda: nn.GRU(3, 4, bias=False), lambda r: (r.standard_normal((5, 2, 3)),)),
    "cells": (lambda: nn.Sequential(nn.GRUCell(3, 4), nn.RNNCell(4, 4), nn.LSTMCell(4, 2)),
              lambda r: (r.standard_normal((2, 3)),)),
}


def _outputs(result):
    """The arrays of a layer's result, nested tuples (output, (h, c)) flattened; None (no weights) left out."""
    if isinstance(result, (tuple, list)):
        return [array for part in result for array in _outputs(part)]
    return [] if result is None else [result.numpy()]


@pytest.mark.parametrize("make, inputs", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_save_then_rebuild_gives_the_same_outputs(tmp_path, make, inputs):
    model = _randomise(make().eval())
    dtype = next(iter(model.state_dict().values())).dtype
    xs = [nablab.tensor(x, dtype=dtype) for x in inputs(np.random.default_rng(1))]
    path = nablab.save(model, tmp_path / "m.safetensors")
    rebuilt = nablab.models.load(path)
    assert type(rebuilt) is type(model) and repr(rebuilt) == repr(model)
    assert _held(rebuilt) == _held(model)
    if isinstance(model, nn.Sequential) and isinstance(model[0], nn.RNNCellBase):  # cells in turn
        expected, got = xs[0], xs[0]
        for cell, again in zip(model, rebuilt.eval()):
            expected, got = cell(expected), again(got)
            expected, got = (expected[0], got[0]) if isinstance(expected, tuple) else (expected, got)
        expected, got = [expected.numpy()], [got.numpy()]
    else:
        expected, got = _outputs(model(*xs)), _outputs(rebuilt.eval()(*xs))
    assert expected and all(np.isfinite(e).all() for e in expected)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_array_equal(g, e)


def test_a_bigger_model_in_the_metadata_is_refused_before_building(tmp_path):
    """Only the descriptions are built here (small); the file's tensors are those of the smaller layer."""
    path = described_as(tmp_path, nn.LSTM(3, 4), module_spec(nn.LSTM(3, 40)))
    with pytest.raises(WeightsError, match=r"describes the model's weight_ih_l0 of shape 160×3, the file's "
                                           r"weight_ih_l0 is 16×3"):
        nablab.models.load(path)
    path = described_as(tmp_path, nn.GRU(3, 4), module_spec(nn.GRU(3, 4, bidirectional=True)))
    with pytest.raises(WeightsError, match=r"the file holds no tensor weight_ih_l0_reverse"):
        nablab.models.load(path)
    layer = _encoder_layer()
    path = described_as(tmp_path, nn.TransformerEncoder(layer, 2), module_spec(nn.TransformerEncoder(layer, 3)))
    with pytest.raises(WeightsError, match=r"describes layer layers\.2\.self_attn's in_proj_weight of shape 24×8, "
                                           r"the file holds no tensor layers\.2\.self_attn\.in_proj_weight"):
        nablab.models.load(path)
    path = described_as(tmp_path, nn.MultiheadAttention(8, 2), module_spec(nn.MultiheadAttention(8, 2, kdim=4)))
    with pytest.raises(WeightsError, match=r"the model's q_proj_weight of shape 8×8, the file holds no tensor"):
        nablab.models.load(path)
    path = described_as(tmp_path, nn.Transformer(8, 2, 1, 1, dim_feedforward=12),
                        module_spec(nn.Transformer(8, 2, 1, 1, dim_feedforward=50)))
    with pytest.raises(WeightsError, match=r"layer encoder\.layers\.0\.linear1's weight of shape 50×8, the file's "
                                           r"encoder\.layers\.0\.linear1\.weight is 12×8"):
        nablab.models.load(path)


def _spec(cls, *args, **kwargs):
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "args": list(args), "kwargs": kwargs}


@pytest.mark.parametrize("spec, message", [
    (_spec(RNNBase, "CONV", 3, 4), r"the model \(RNNBase\): mode must be one of \['GRU', 'LSTM', 'RNN_RELU', "
                                   r"'RNN_TANH'\], got 'CONV'"),
    (_spec(nn.LSTM, 3, -4), r"the model \(LSTM\): hidden_size must be a non-negative integer, got -4"),
    (_spec(nn.TransformerEncoder, 5, 2), r"the model \(TransformerEncoder\): encoder_layer must be a module, got 5"),
    (_spec(nn.TransformerDecoder, {"module": module_spec(_decoder_layer())}, 1.5),
     r"the model \(TransformerDecoder\): num_layers must be a non-negative integer, got 1\.5"),
    (_spec(nn.MultiheadAttention, 8, 2, kdim="4"), r"the model \(MultiheadAttention\): kdim must be a non-negative "
                                                   r"integer, got '4'"),
    (_spec(nn.Transformer, 8, 2, 1, 1, 16, custom_encoder=[]), r"custom_encoder must be a module, got \[\]"),
])
def test_descriptions_that_cannot_be_built_are_named(spec, message):
    with pytest.raises(SpecError, match=message):
        expected_state(spec)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's note on its fast path, not a shape
@pytest.mark.parametrize("name", ["mha-kdim-vdim", "mha-bias-kv-no-bias", "encoder-layer-pre-norm-no-bias",
                                  "decoder-layer", "transformer-pre-norm-no-bias-f64",
                                  "rnn-relu-3-layers-bidirectional", "lstm-2-layers-bidirectional-f64",
                                  "gru-2-layers-no-bias", "lstm-cell-f64-no-bias", "gru-cell"])
def test_the_worked_out_tensors_are_those_pytorch_holds(name):
    """The same constructor arguments in torch.nn give the same names, shapes and dtypes."""
    torch = pytest.importorskip("torch")
    model = CONFIGURATIONS[name]()
    args, kwargs = model.init_args
    kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    reference = getattr(torch.nn, type(model).__name__)(*args, **kwargs)
    expected, _ = expected_state(module_spec(model))
    held = {k: (str(v.dtype).removeprefix("torch."), tuple(v.shape)) for k, v in reference.state_dict().items()}
    assert {k: (v.dtype, v.shape) for k, v in expected.items()} == held
