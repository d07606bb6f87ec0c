"""A weights file whose metadata describes a bigger model than its tensors is refused before anything
is built: nablab.models.load compares the described tensors with the file's header first."""

import os
import resource

import numpy as np
import pytest
from described_files import described_as

import nablab
from nablab import nn
from nablab.io import WeightsError
from nablab.io.expected_state import expected_state
from nablab.io.spec import module_spec
from nablab.models import MLP, SmallCNN, VGGNet


def _linear(n_in, n_out):
    return {"class": "nablab.nn.linear.Linear", "args": [n_in, n_out], "kwargs": {}}


def _limited_memory():
    """Address space capped at 2 GiB above what the process uses now (Linux), so a 37 GiB allocation fails."""
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    return used + 2 * 2**30


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux")
def test_a_huge_model_in_the_metadata_is_refused_before_anything_is_allocated(tmp_path):
    """The issue's file: Sequential(Linear(100000, 100000), …) in the metadata, a tiny MLP's tensors in the file."""
    huge = {"class": "nablab.nn.container.Sequential", "args": [
        {"module": _linear(100000, 100000)}, {"module": {"class": "nablab.nn.activation.ReLU", "args": [],
                                                          "kwargs": {}}},
        {"module": _linear(100000, 100000)}], "kwargs": {}}
    path = described_as(tmp_path, MLP(4, [3], 2), huge)
    assert path.stat().st_size < 10_000
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_limited_memory(), hard))
    try:
        with pytest.raises(WeightsError) as caught:
            nablab.models.load(path)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    message = str(caught.value)
    assert "layer 0's weight of shape 100000×100000" in message and "the file's 0.weight is 3×4" in message


def test_a_ready_made_model_with_other_arguments_is_named(tmp_path):
    described = module_spec(MLP(4, [100000], 2))
    path = described_as(tmp_path, MLP(4, [3], 2), described)
    with pytest.raises(WeightsError, match=r"layer 0's weight of shape 100000×4, the file's 0\.weight is 3×4"):
        nablab.models.load(path)


def test_more_elements_than_the_file_holds_are_refused(tmp_path):
    """A module the rules cannot name (inside a ModuleDict) still counts against what the file holds."""
    described = {"class": "nablab.nn.container.ModuleDict", "args": [
        {"dict": {"big": {"module": _linear(100000, 100000)}}}], "kwargs": {}}
    path = described_as(tmp_path, MLP(4, [3], 2), described)
    with pytest.raises(WeightsError, match=r"has 10,000,100,000 tensor elements, the file holds 23"):
        nablab.models.load(path)


def test_bad_arguments_in_the_metadata_are_weights_errors(tmp_path):
    path = described_as(tmp_path, MLP(4, [3], 2), _linear(-5, 3))
    with pytest.raises(WeightsError, match="in_features must be a non-negative integer, got -5"):
        nablab.models.load(path)
    path = described_as(tmp_path, MLP(4, [3], 2), {**_linear(4, 3), "kwargs": {"colour": 1}})
    with pytest.raises(WeightsError, match="Linear cannot take the recorded arguments"):
        nablab.models.load(path)


MODELS = [
    lambda: MLP(784, [64, 32], 10, init="normal", dropout=0.1),
    lambda: SmallCNN(widths=[8, 16], hidden=32, batch_norm=True),
    lambda: VGGNet(1, 3),
    lambda: nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.LayerNorm([4, 5]), nn.Embedding(5, 3),
                          nn.GroupNorm(2, 4), nn.PReLU(3), nn.InstanceNorm2d(4, affine=True),
                          nn.ConvTranspose1d(4, 6, 2, groups=2), nn.BatchNorm1d(3, affine=False),
                          nn.Linear(3, 2, bias=False, dtype="float64"), nn.Conv1d(2, 2, (3,))),
    lambda: nn.Sequential(nn.ModuleList([nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1))]),
                          nn.LayerNorm(3, bias=False)),
]


@pytest.mark.parametrize("make", MODELS)
def test_the_worked_out_tensors_are_those_the_model_holds(make):
    model = make()
    expected, unknown = expected_state(module_spec(model))
    held = {k: (np.dtype(v.dtype).name, tuple(v.shape)) for k, v in model.state_dict().items()}
    assert {k: (v.dtype, v.shape) for k, v in expected.items()} == held and unknown == []


def test_honest_files_still_load(tmp_path):
    for i, make in enumerate(MODELS):
        model = make()
        nablab.save(model, tmp_path / f"{i}.safetensors")
        again = nablab.models.load(tmp_path / f"{i}.safetensors")
        for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


#: nn classes that hold tensors only as given to them (never sized by numbers in a description)
GIVEN_TENSORS = {"ParameterList", "ParameterDict", "_WeightedLoss", "BCEWithLogitsLoss"}


def test_every_nn_layer_that_creates_tensors_has_a_shape_rule():
    """A layer that makes Parameters or buffers from its arguments, without a rule in expected_state.RULES,
    would be built before its size is checked: a new one must get a rule (or be listed above)."""
    import ast
    import importlib
    from pathlib import Path

    from nablab.io.expected_state import RULES

    missing = []
    for path in sorted((Path(nn.__file__).parent).glob("*.py")):
        module = importlib.import_module(f"nablab.nn.{path.stem}") if path.stem != "__init__" else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if module else ():
            if not isinstance(node, ast.ClassDef) or node.name in GIVEN_TENSORS:
                continue
            calls = {getattr(c.func, "id", None) or getattr(c.func, "attr", None)
                     for c in ast.walk(node) if isinstance(c, ast.Call)}
            if calls & {"Parameter", "register_buffer", "register_parameter"}:
                if not any(issubclass(getattr(module, node.name), base) for base, _ in RULES):
                    missing.append(f"nablab.nn.{path.stem}.{node.name}")
    assert not missing, f"layers without a shape rule in nablab.io.expected_state.RULES: {missing}"
