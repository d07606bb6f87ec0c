"""``print(model)``: every layer's repr is PyTorch's, character for character.

A student compares the printout of a model with a tutorial's, and PyTorch code reads a layer's
settings back (``conv.kernel_size[0]``, ``conv.padding``); both are checked here for the layers of
``nablab.nn`` built with the same arguments as their ``torch.nn`` namesakes, and for containers
(``ModuleList`` folds a run of equal children into one ``(0-2): 3 x …`` line, as PyTorch's does).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch

LAYERS = [
    ("Linear", (4, 3), {}), ("Linear", (4, 3), {"bias": False}), ("Identity", (), {}),
    ("Conv1d", (2, 4, 3), {}), ("Conv2d", (1, 32, 3, 1), {}),
    ("Conv2d", (2, 4, (3, 5)), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv2d", (2, 4, 3), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv1d", (2, 4, 3), {"padding": "valid"}),
    ("ConvTranspose2d", (2, 4, 3), {"stride": 2, "output_padding": 1}), ("ConvTranspose1d", (2, 4, 3), {}),
    ("MaxPool1d", (2,), {}), ("MaxPool2d", (2,), {}), ("MaxPool2d", ((3, 2), 2, 1), {"ceil_mode": True}),
    ("MaxPool2d", (3, 2, 1), {"dilation": 2, "return_indices": True}),
    ("AvgPool1d", (3,), {"stride": 2}), ("AvgPool2d", (2,), {}), ("AvgPool2d", (3, 2, 1), {"count_include_pad": False}),
    ("AdaptiveAvgPool2d", ((1, 1),), {}), ("AdaptiveAvgPool2d", (1,), {}), ("AdaptiveMaxPool2d", (2,), {}),
    ("AdaptiveAvgPool1d", (4,), {}), ("MaxUnpool1d", (2,), {}), ("MaxUnpool2d", (2,), {}),
    ("BatchNorm1d", (4,), {}), ("BatchNorm2d", (4,), {}),
    ("BatchNorm2d", (4,), {"eps": 1e-3, "affine": False, "track_running_stats": False, "momentum": None}),
    ("LayerNorm", (8,), {}), ("LayerNorm", ((2, 8),), {"elementwise_affine": False}),
    ("LayerNorm", (8,), {"bias": False}), ("GroupNorm", (2, 4), {}), ("GroupNorm", (2, 4), {"affine": False}),
    ("InstanceNorm1d", (4,), {}), ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}),
    ("Dropout", (), {}), ("Dropout", (0.25,), {}), ("Dropout1d", (0.1,), {}), ("Dropout2d", (0.1,), {}),
    ("AlphaDropout", (0.2,), {}),
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}),
    ("ELU", (), {}), ("SELU", (), {}), ("CELU", (), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (), {}), ("Softplus", (2.0, 10.0), {}), ("Softsign", (), {}),
    ("Hardswish", (), {}), ("Hardsigmoid", (), {}), ("Hardtanh", (), {}), ("ReLU6", (), {}), ("LogSigmoid", (), {}),
    ("PReLU", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softmax", (), {"dim": 1}), ("Softmax", (), {}),
    ("LogSoftmax", (1,), {}),
    ("Flatten", (), {}), ("Flatten", (0, 2), {}), ("Unflatten", (1, (2, 3)), {}),
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"size": (4, 4), "mode": "bilinear", "align_corners": False}),
    ("ZeroPad2d", (1,), {}), ("ZeroPad1d", ((1, 2),), {}), ("ConstantPad2d", (1, 0.5), {}),
    ("ReflectionPad2d", (2,), {}), ("ReplicationPad2d", ((1, 2, 3, 4),), {}), ("CircularPad1d", (1,), {}),
    ("Embedding", (10, 3), {}), ("Embedding", (10, 3), {"padding_idx": 0}),
    ("LSTM", (4, 8), {}), ("LSTM", (4, 8, 2), {"batch_first": True, "bidirectional": True}), ("GRU", (4, 8), {}),
    ("RNN", (4, 8), {}), ("LSTMCell", (4, 8), {}), ("GRUCell", (4, 8), {}), ("RNNCell", (4, 8), {}),
    ("CrossEntropyLoss", (), {}), ("CrossEntropyLoss", (), {"label_smoothing": 0.1}), ("NLLLoss", (), {}),
    ("MSELoss", (), {"reduction": "sum"}), ("L1Loss", (), {}), ("BCELoss", (), {}), ("BCEWithLogitsLoss", (), {}),
    ("SmoothL1Loss", (), {}), ("HuberLoss", (), {}), ("KLDivLoss", (), {"reduction": "batchmean"}),
]


def _label(case):
    name, args, kwargs = case
    return f"{name}{args}{kwargs or ''}"


@pytest.mark.parametrize("case", LAYERS, ids=_label)
def test_a_layer_prints_as_in_pytorch(case):
    name, args, kwargs = case
    assert repr(getattr(nablab.nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv2d", (1, 8, 3), {}), ("Conv2d", (1, 8, (3, 5)), {"stride": (2, 1), "padding": 1}),
    ("Conv2d", (1, 8, 3), {"padding": "same"}), ("ConvTranspose2d", (1, 8, 3), {"output_padding": 0}),
    ("Conv1d", (1, 8, 3), {"dilation": 2}), ("MaxPool2d", (2,), {}), ("AvgPool1d", (3,), {}),
    ("MaxUnpool2d", (2, 1), {}),
])
def test_a_layer_keeps_its_sizes_as_pytorch_does(name, args, kwargs):
    """Tuples per spatial dim for convolutions, 1-D average pools and unpools; as given for max pools."""
    ours, theirs = getattr(nablab.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    for attribute in ("kernel_size", "stride", "padding", "dilation", "output_padding"):
        if hasattr(theirs, attribute):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
            assert type(getattr(ours, attribute)) is type(getattr(theirs, attribute)), attribute


def _containers(nn):
    return [
        nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.Linear(2, 2)]),
        nn.ModuleList(), nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Tanh()]),
        nn.ModuleDict({"a": nn.ReLU(), "b": nn.Sequential(nn.Linear(2, 3), nn.Tanh())}),
        nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), nn.Dropout(0.5)),
        nn.Sequential(),
        # pytorch/examples mnist/main.py's Net, as nn.Sequential
        nn.Sequential(nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                      nn.Linear(128, 10), nn.LogSoftmax(dim=1)),
        nn.TransformerDecoderLayer(8, 2, 16, batch_first=True),
    ]


@pytest.mark.parametrize("index", range(len(_containers(nablab.nn))))
def test_a_container_prints_as_in_pytorch(index):
    # the one documented difference (nablab.compat): PyTorch's attention projection has a class of its own
    theirs = repr(_containers(torch.nn)[index]).replace("NonDynamicallyQuantizableLinear(", "Linear(")
    assert repr(_containers(nablab.nn)[index]) == theirs


def test_a_module_with_settings_and_children_prints_its_settings_first():
    """PyTorch's layout for a user's module whose ``extra_repr`` is set and which has children."""
    def make(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = 2.0
                self.body = nn.Linear(3, 3)

            def extra_repr(self):
                return f"scale={self.scale}\nnote=two lines"

        return Block()

    assert repr(make(nablab.nn)) == repr(make(torch.nn))


def test_numpy_integer_sizes_are_kept_as_python_ints():
    """A size read from an array (``np.int64``) is stored as PyTorch would store the int."""
    assert nablab.nn.AvgPool1d(np.int64(3)).kernel_size == (3,)
    assert nablab.nn.MaxUnpool2d(np.int64(2)).stride == (2, 2)
    assert nablab.nn.Conv2d(1, 2, np.int64(3)).kernel_size == (3, 3)
    assert repr(nablab.nn.AvgPool1d(np.int64(3))) == repr(torch.nn.AvgPool1d(3))
