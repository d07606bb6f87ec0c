"""Weights files of the language models TinyGPT and CharRNN: the tensors each declares from its
constructor arguments are those its state dict holds, files load back into models with the same
logits and the same weight tying, and a file whose metadata describes more than it holds is refused
before anything is built."""


import numpy as np
import pytest
from described_files import described_as

import nablab
import nablab.io.weights as weights_io
from nablab.io import WeightsError
from nablab.io.expected_state import expected_state
from nablab.io.spec import SpecError, module_spec
from nablab.models import CharRNN, TinyGPT

CONFIGURATIONS = {
    "gpt-defaults": lambda: TinyGPT(7),
    "gpt-1-layer-1-head": lambda: TinyGPT(5, block_size=3, n_layer=1, n_head=1, n_embd=4),
    "gpt-3-layers-no-bias": lambda: TinyGPT(9, block_size=6, n_layer=3, n_head=2, n_embd=8, bias=False),
    "gpt-dropout-positional-args": lambda: TinyGPT(4, 5, 2, 3, 6, 0.1),
    "rnn-defaults": lambda: CharRNN(7),
    "rnn-2-layers-dropout": lambda: CharRNN(9, embed_dim=5, hidden_size=6, num_layers=2, dropout=0.2),
    "rnn-tied": lambda: CharRNN(6, embed_dim=4, hidden_size=4, tie_weights=True),
    "rnn-3-layers-tied-positional-args": lambda: CharRNN(5, 3, 3, 3, 0.0, True),
}


def _held(model):
    return [(name, (tuple(value.shape), np.dtype(value.dtype).name)) for name, value in model.state_dict().items()]


@pytest.mark.parametrize("make", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_the_declared_tensors_are_those_the_model_holds(make):
    model = make()
    args, kwargs = model.init_args
    declared = type(model).expected_state(*args, **kwargs)
    assert [(name, (tuple(shape), dtype)) for name, (shape, dtype) in declared.items()] == _held(model)
    expected, unknown = expected_state(module_spec(model))
    assert {name: (info.shape, info.dtype) for name, info in expected.items()} == dict(_held(model))
    assert unknown == []


def test_a_tied_weight_is_declared_once():
    assert "lm_head.weight" not in TinyGPT.expected_state(5, n_embd=4, n_head=2)
    assert "decoder.weight" in CharRNN.expected_state(5, 4, 4)
    assert "decoder.weight" not in CharRNN.expected_state(5, 4, 4, tie_weights=True)


def _randomise(model, seed=0):
    rng = np.random.default_rng(seed)
    for value in model.state_dict().values():
        value.data[...] = rng.standard_normal(value.shape) * 0.5
    return model


def _ties(model):
    """The pairs of module.parameter names that share one Parameter."""
    seen, ties = {}, []
    for module_name, module in model.named_modules():
        for name, param in module._parameters.items():  # (each module's own, a tied one under both names)
            full = f"{module_name}.{name}" if module_name else name
            if id(param) in seen:
                ties.append((seen[id(param)], full))
            else:
                seen[id(param)] = full
    return ties


@pytest.mark.parametrize("make", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_save_then_load_gives_the_same_logits_and_ties(tmp_path, make):
    model = _randomise(make().eval())
    ids = nablab.tensor(np.random.default_rng(1).integers(0, model.vocab_size, (2, 3)))
    path = nablab.save(model, tmp_path / "lm.safetensors")
    rebuilt = nablab.models.load(path)
    assert type(rebuilt) is type(model) and repr(rebuilt) == repr(model)
    assert _held(rebuilt) == _held(model)
    assert _ties(rebuilt) == _ties(model)
    expected, got = model(ids).numpy(), rebuilt.eval()(ids).numpy()
    assert np.isfinite(expected).all()
    np.testing.assert_array_equal(got, expected)


def test_the_head_of_a_loaded_tiny_gpt_is_its_token_embedding(tmp_path):
    model = _randomise(TinyGPT(6, block_size=4, n_layer=1, n_head=2, n_embd=4))
    rebuilt = nablab.models.load(nablab.save(model, tmp_path / "gpt.safetensors"))
    assert _ties(rebuilt) == [("transformer.wte.weight", "lm_head.weight")]
    assert rebuilt.lm_head.weight is rebuilt.transformer.wte.weight
    assert len(list(rebuilt.parameters())) == len(list(model.parameters()))
    np.testing.assert_array_equal(rebuilt.lm_head.weight.numpy(), model.transformer.wte.weight.numpy())
    rebuilt = nablab.models.load(nablab.save(CharRNN(5, 3, 3, tie_weights=True), tmp_path / "rnn.safetensors"))
    assert rebuilt.decoder.weight is rebuilt.embedding.weight


def _spec(cls, *args, **kwargs):
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "args": list(args), "kwargs": kwargs}


def GPT():
    return TinyGPT(11, block_size=4, n_layer=1, n_head=2, n_embd=8)


def RNN():
    return CharRNN(11, embed_dim=8, hidden_size=8)


#: (a maker of the model whose tensors the file holds, the model its metadata describes, the message)
BIGGER = {
    "gpt-wider": (GPT, _spec(TinyGPT, 11, block_size=4, n_layer=1, n_head=2, n_embd=16),
                  r"describes layer transformer\.wte's weight of shape 11×16, the file's transformer\.wte\.weight "
                  r"is 11×8"),
    "gpt-deeper": (GPT, _spec(TinyGPT, 11, block_size=4, n_layer=2, n_head=2, n_embd=8),
                   r"describes layer transformer\.h\.1\.ln_1's weight of shape 8, the file holds no tensor "
                   r"transformer\.h\.1\.ln_1\.weight"),
    "gpt-longer-context": (GPT, _spec(TinyGPT, 11, 4096, 1, 2, 8),
                           r"layer transformer\.wpe's weight of shape 4096×8, the file's transformer\.wpe\.weight "
                           r"is 4×8"),
    "gpt-3-sized": (GPT, _spec(TinyGPT, 50257, block_size=2048, n_layer=96, n_head=96, n_embd=12288),
                    r"layer transformer\.wte's weight of shape 50257×12288, the file's transformer\.wte\.weight "
                    r"is 11×8"),
    "rnn-wider": (RNN, _spec(CharRNN, 11, embed_dim=8, hidden_size=512),
                  r"layer lstm's weight_ih_l0 of shape 2048×8, the file's lstm\.weight_ih_l0 is 32×8"),
    "rnn-deeper": (RNN, _spec(CharRNN, 11, 8, 8, num_layers=2),
                   r"layer lstm's weight_ih_l1 of shape 32×8, the file holds no tensor lstm\.weight_ih_l1"),
    "rnn-bigger-vocabulary": (RNN, _spec(CharRNN, 100000, embed_dim=8, hidden_size=8),
                              r"layer embedding's weight of shape 100000×8, the file's embedding\.weight is 11×8"),
    "rnn-tied-in-the-metadata": (RNN, _spec(CharRNN, 11, embed_dim=8, hidden_size=8, tie_weights=True),
                                 r"the file holds decoder\.weight, which the model its metadata describes does not "
                                 r"have"),
}


@pytest.mark.parametrize("saved, described, message", BIGGER.values(), ids=BIGGER.keys())
def test_a_bigger_model_in_the_metadata_is_refused_before_building(tmp_path, monkeypatch, saved, described,
                                                                   message):
    path = described_as(tmp_path, saved(), described)

    def build_module(*_):
        raise AssertionError("the model was built before the file was checked")

    monkeypatch.setattr(weights_io, "build_module", build_module)
    with pytest.raises(WeightsError, match=message):
        nablab.models.load(path)


@pytest.mark.parametrize("spec, message", [
    (_spec(TinyGPT, 11, n_layers=2), r"the model \(TinyGPT\): TinyGPT cannot take the recorded arguments: .*n_layers"),
    (_spec(TinyGPT, 11, n_layer=1.5), r"the model \(TinyGPT\): 'float' object cannot be interpreted as an integer"),
    (_spec(TinyGPT, -3), r"the model \(TinyGPT\): num_embeddings must be a non-negative integer, got -3"),
    (_spec(CharRNN, 11, hidden_size="8"), r"the model \(CharRNN\): hidden_size must be a non-negative integer, "
                                          r"got '8'"),
    (_spec(CharRNN), r"the model \(CharRNN\): CharRNN cannot take the recorded arguments: .*vocab_size"),
])
def test_descriptions_that_cannot_be_built_are_named(spec, message):
    with pytest.raises(SpecError, match=message):
        expected_state(spec)
