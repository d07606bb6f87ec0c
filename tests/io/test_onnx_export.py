"""nablab.io.to_onnx: the graph passes onnx.checker, and onnxruntime gives nablab's outputs (1e-5)
on random inputs of another batch size; unsupported layers and models that are not chains of
their layers are clear errors."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import nablab
from nablab import nn
from nablab.io import ExportError, to_onnx
from nablab.models import MLP, SmallCNN, VGGNet

TOL = dict(rtol=1e-5, atol=1e-5)


def _randomise_batch_norm(model, seed=0):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.data[...] = rng.normal(0, 0.5, c)
            m.running_var.data[...] = rng.uniform(0.5, 2.0, c)
            if m.affine:
                m.weight.data[...] = rng.uniform(0.5, 1.5, c)
                m.bias.data[...] = rng.normal(0, 0.5, c)
    return model


class Features(nn.Module):
    """Two Sequentials run one after the other: a chain, though not a Sequential."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(4 * 4 * 4, 6), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(self.features(x))


MODELS = [
    pytest.param(lambda: MLP(20, [16, 8], 5, activation="improved_sigmoid", dropout=0.3), (20,), id="mlp"),
    pytest.param(lambda: nn.Sequential(nn.Linear(10, 12), nn.BatchNorm1d(12), nn.Sigmoid(), nn.Dropout(0.5),
                                       nn.Linear(12, 4), nn.Softmax(dim=-1)), (10,), id="mlp-bn-softmax"),
    pytest.param(lambda: SmallCNN(3, 10, widths=(4, 8), hidden=16, batch_norm=True, image_size=16), (3, 16, 16),
                 id="small_cnn"),
    pytest.param(lambda: nn.Sequential(
        nn.Conv2d(2, 6, 3, stride=2, padding=1, groups=2), nn.LeakyReLU(0.2), nn.AvgPool2d(3, 2, 1), nn.Tanh(),
        nn.Conv2d(6, 6, 3, padding=2, dilation=2, bias=False), nn.BatchNorm2d(6), nn.AdaptiveAvgPool2d(2),
        nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), nn.Linear(6, 4, bias=False), nn.LogSoftmax(dim=1)),
        (2, 16, 16), id="conv-pool-zoo"),
    pytest.param(lambda: nn.Sequential(  # eps other than ONNX's default 1e-5; momentum does not matter in eval
        nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3, eps=1e-3, momentum=0.3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5),
        nn.BatchNorm1d(5, eps=0.5, momentum=0.01)), (1, 6, 6), id="batch-norm-eps"),
    pytest.param(lambda: nn.Sequential(nn.Flatten(2, 3), nn.Linear(25, 3), nn.ReLU()), (4, 5, 5),
                 id="linear-on-3d"),
    pytest.param(Features, (1, 8, 8), id="nested-chain"),
    pytest.param(lambda: nn.Sequential(  # PyTorch's tuple arguments and the options a torch user sets
        nn.Conv2d(2, 4, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(1, 1)),
        nn.MaxPool2d((2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True), nn.Conv2d(4, 4, (2, 3), padding="same"),
        nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), nn.BatchNorm2d(4, affine=False),
        nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(), nn.Linear(8, 3), nn.Softmax(dim=1)), (2, 11, 13),
        id="torch-options"),
    pytest.param(VGGNet, (3, 32, 32), id="vgg"),
]


@pytest.mark.parametrize("make, shape", MODELS)
def test_onnxruntime_gives_nablabs_outputs(tmp_path, make, shape):
    nablab.manual_seed(0)
    model = _randomise_batch_norm(make())
    assert model.training
    rng = np.random.default_rng(1)
    path = tmp_path / "model.onnx"
    proto = to_onnx(model, rng.standard_normal((1, *shape)).astype(np.float32), path)
    assert model.training  # the mode is left as it was

    written = onnx.load(str(path))
    onnx.checker.check_model(written, full_check=True)
    assert written.SerializeToString() == proto.SerializeToString()
    assert [o.version for o in written.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert written.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = rng.standard_normal((5, *shape)).astype(np.float32)  # another batch size than the example
    (got,) = session.run(None, {"input": x})
    model.eval()
    expected = model(nablab.tensor(x)).numpy()
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, **TOL)


def test_each_modules_own_mode_is_restored():
    model = MLP(8, [6], 3, dropout=0.5)
    model[1].eval()  # one layer frozen by hand inside a model that trains
    to_onnx(model, np.zeros((1, 8), np.float32))
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    model.eval()
    model[0].train()
    to_onnx(model, np.zeros((1, 8), np.float32))
    assert [m.training for m in model.modules()] == [False, True, False, False, False]


def test_names_and_metadata_carry_over():
    model = MLP(4, [3], 2)
    proto = to_onnx(model, np.zeros((1, 4), np.float32), metadata={"classes": '["a", "b"]'}, opset=18)
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert {p.key: p.value for p in proto.metadata_props}["classes"] == '["a", "b"]'
    assert proto.opset_import[0].version == 18 and proto.producer_name == "nablab"
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    np.testing.assert_array_equal(weights["2.weight"], model[2].weight.numpy())
    with pytest.raises(ValueError, match="opset 16 is too old"):
        to_onnx(model, np.zeros((1, 4), np.float32), opset=16)


class Square(nn.Module):
    def forward(self, x):
        return x * x


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

    def forward(self, x):
        return x + self.inner(x)


class FlattensInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Conv2d(1, 2, 3)
        self.classifier = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


@pytest.mark.parametrize("layer, shape, message", [
    (nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), (1, 6, 6), "padding_mode='reflect'"),
    (nn.AvgPool2d(2, divisor_override=3), (1, 6, 6), "divisor_override"),
    (nn.AdaptiveAvgPool2d(4), (1, 6, 6), "uneven tiles"),
    (nn.BatchNorm2d(1, track_running_stats=False), (1, 6, 6), "without running statistics"),
])
def test_options_onnx_cannot_express_are_refused(tmp_path, layer, shape, message):
    with pytest.raises(ExportError, match=message):
        to_onnx(nn.Sequential(layer), np.zeros((1, *shape), np.float32), tmp_path / "m.onnx")


def test_an_unsupported_layer_is_named():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), Square()), nn.Linear(4, 2))
    with pytest.raises(ExportError, match=r"unsupported layer\(s\) 1\.1 \(Square\); supported: .*Conv2d"):
        to_onnx(model, np.zeros((1, 4), np.float32))


def test_a_model_that_is_not_a_chain_is_refused():
    with pytest.raises(ExportError, match=r"the model \(Residual\) is not a plain chain of its layers"):
        to_onnx(Residual(), np.ones((2, 4), np.float32))
    with pytest.raises(ExportError, match=r"FlattensInForward\) is not a plain chain.*classifier \(Linear\)"):
        to_onnx(FlattensInForward(), np.ones((1, 1, 6, 6), np.float32))
    with pytest.raises(ExportError, match=r"does not run through 0 \(Linear\)"):
        to_onnx(MLP(4, [3], 2), np.ones((1, 5), np.float32))  # an example of the wrong size


def test_the_export_input_shape_of_a_first_linear_layer_needs_no_image_size():
    """An MLP of 5 features (not the pixels of any image) exports as N × 5 without --input-shape."""
    from nablab.io.onnx_export import export_input_shape
    from nablab.io.weights import WeightsError

    assert export_input_shape(MLP(5, [3], 2)) == (5,)
    assert export_input_shape(nn.Sequential(nn.Linear(784, 10))) == (784,)
    assert export_input_shape(nn.Sequential(nn.Flatten(), nn.Linear(7, 10))) == (7,)
    info = {"input_shape": [1, 8, 8], "flatten": True}
    assert export_input_shape(MLP(64, [3], 2), info) == (64,)
    assert export_input_shape(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten()), {**info, "flatten": False}) == (1, 8, 8)
    with pytest.raises(WeightsError, match="pass --input-shape"):  # a conv net: the image size is guessed
        export_input_shape(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(9, 2)))
