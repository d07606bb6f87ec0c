"""nablab.save / nablab.load / nablab.models.load: safetensors files, names, dtypes, metadata,
models rebuilt from their constructor arguments, and clear errors for files that do not fit."""

import json

import interop_runs
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import nablab
from nablab import nn
from nablab.io import WeightsError, read_metadata
from nablab.models import MLP, SmallCNN

cnn_run = interop_runs.cnn_run  # a shared fixture (see interop_runs)
digits_run = interop_runs.digits_run  # a shared fixture (see interop_runs)


class Outside(nn.Module):
    """A model class that is not part of nablab."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, width), nn.ReLU())

    def forward(self, x):
        return self.body(x)


def _randomise(model, seed=0):
    rng = np.random.default_rng(seed)
    for name, value in model.state_dict().items():
        if name.endswith("running_var"):
            value.data[...] = rng.uniform(0.5, 2.0, value.shape)
        elif value.dtype.kind == "f":
            value.data[...] = rng.standard_normal(value.shape)
        else:
            value.data[...] = rng.integers(1, 100, value.shape)
    return model


MODELS = [
    pytest.param(lambda: MLP(20, [16, 8], 5, activation="tanh", dropout=0.25), (3, 20), id="mlp"),
    pytest.param(lambda: SmallCNN(1, 4, widths=(4, 8), hidden=16, batch_norm=True, image_size=8), (2, 1, 8, 8),
                 id="small_cnn"),
    pytest.param(lambda: nn.Sequential(nn.Linear(6, 4, dtype="float64"), nn.LeakyReLU(0.2),
                                       nn.BatchNorm1d(4, dtype="float64"), nn.Linear(4, 2, bias=False,
                                                                                      dtype="float64")),
                 (3, 6), id="sequential-f64"),
]


@pytest.mark.parametrize("make, shape", MODELS)
def test_save_then_rebuild_keeps_names_dtypes_values_and_outputs(tmp_path, make, shape):
    model = _randomise(make().eval())
    path = nablab.save(model, tmp_path / "m.safetensors")

    # a standard safetensors file: any reader sees the state dict's names, shapes and dtypes
    raw = load_file(str(path))
    state = model.state_dict()
    assert list(sorted(raw)) == sorted(state)
    for name, value in state.items():
        assert raw[name].dtype == value.dtype and raw[name].shape == value.shape, name
        np.testing.assert_array_equal(raw[name], value.data)

    loaded = nablab.load(path)
    assert sorted(loaded) == sorted(state)
    assert all(isinstance(v, nablab.Tensor) for v in loaded.values())
    for name, value in state.items():
        assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape, name

    before = nablab.random.get_rng_state()
    rebuilt = nablab.models.load(path)
    assert nablab.random.get_rng_state() == before  # building the model drew no random numbers
    assert type(rebuilt) is type(model) and repr(rebuilt) == repr(model)
    dtype = next(model.parameters()).dtype
    x = nablab.tensor(np.random.default_rng(1).standard_normal(shape), dtype=dtype)
    expected = model(x).numpy()
    assert np.isfinite(expected).all()
    np.testing.assert_array_equal(rebuilt.eval()(x).numpy(), expected)


def test_metadata_holds_version_class_and_arguments(tmp_path):
    model = SmallCNN(1, 4, widths=(4, 8), batch_norm=True, image_size=8)
    nablab.save(model, tmp_path / "m.safetensors", metadata={"note": "hello", "epochs": 3})
    meta = read_metadata(tmp_path / "m.safetensors")
    assert meta["format"] == "nablab-weights-1" and meta["nablab"] == nablab.__version__
    assert meta["model_class"] == "nablab.models.cnn.SmallCNN"
    assert meta["model"]["kwargs"]["widths"] == {"tuple": [4, 8]} and meta["model"]["kwargs"]["batch_norm"] is True
    assert meta["user"] == {"note": "hello", "epochs": 3}
    assert nablab.models.load(tmp_path / "m.safetensors").config == model.config


def test_batch_norm_counter_stays_a_0d_int64(tmp_path):
    model = nn.BatchNorm2d(3)
    model(nablab.randn(2, 3, 4, 4))
    nablab.save(model, tmp_path / "bn.safetensors")
    counter = nablab.load(tmp_path / "bn.safetensors")["num_batches_tracked"]
    assert counter.shape == () and counter.dtype == np.int64 and counter.item() == 1


def test_containers_are_saved_as_they_are_now(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3))
    layers = nn.ModuleList([nn.Linear(3, 3)])
    layers.append(nn.Linear(3, 2))  # added after construction
    model = nn.Sequential(model, nn.Sigmoid(), layers[0], layers[1])
    nablab.save(model, tmp_path / "m.safetensors")
    rebuilt = nablab.models.load(tmp_path / "m.safetensors")
    assert repr(rebuilt) == repr(model)


def test_a_plain_state_dict_round_trips(tmp_path):
    state = {"a": np.arange(6, dtype=np.int32).reshape(2, 3), "b": nablab.tensor([1.5, 2.5], dtype="float64"),
             "c": np.array([True, False])}
    nablab.save(state, tmp_path / "s.safetensors")
    loaded = nablab.load(tmp_path / "s.safetensors")
    assert loaded["a"].dtype == np.int32 and loaded["b"].dtype == np.float64 and loaded["c"].dtype == np.bool_
    np.testing.assert_array_equal(loaded["a"].numpy(), state["a"])
    with pytest.raises(WeightsError, match="records no model to rebuild"):
        nablab.models.load(tmp_path / "s.safetensors")


def test_models_from_outside_nablab_need_their_class(tmp_path):
    model = Outside(5)
    nablab.save(model, tmp_path / "o.safetensors")
    with pytest.raises(WeightsError, match="Outside, which is not part of nablab"):
        nablab.models.load(tmp_path / "o.safetensors")
    rebuilt = nablab.models.load(tmp_path / "o.safetensors", classes=[Outside])
    assert isinstance(rebuilt, Outside)
    np.testing.assert_array_equal(rebuilt.body[0].weight.numpy(), model.body[0].weight.numpy())

    class Local(nn.Linear):
        pass

    nablab.save(Local(2, 2), tmp_path / "l.safetensors")  # the weights are saved all the same
    assert sorted(nablab.load(tmp_path / "l.safetensors")) == ["bias", "weight"]
    with pytest.raises(WeightsError, match="defined inside a function"):
        nablab.models.load(tmp_path / "l.safetensors")


def _tampered(tmp_path, change):
    """A weights file of MLP(4, [3], 2) whose tensors ``change`` edits (metadata kept)."""
    path = tmp_path / "m.safetensors"
    nablab.save(MLP(4, [3], 2), path)
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path), metadata=meta)
    return path


def test_missing_extra_and_misshapen_tensors_are_named(tmp_path):
    """Checked against the file's header before the model is built (see tests/io/test_weights_limits.py)."""
    path = _tampered(tmp_path, lambda t: t.pop("2.bias"))
    with pytest.raises(WeightsError, match=r"describes layer 2's bias of shape 2, the file holds no tensor 2\.bias"):
        nablab.models.load(path)
    with pytest.raises(KeyError, match=r"missing keys: 2\.bias"):
        MLP(4, [3], 2).load_state_dict(nablab.load(path))

    path = _tampered(tmp_path, lambda t: t.update(extra=np.zeros(3, np.float32)))
    with pytest.raises(WeightsError, match="the file holds extra, which the model its metadata describes does not"):
        nablab.models.load(path)

    path = _tampered(tmp_path, lambda t: t.update({"0.weight": np.zeros((3, 5), np.float32)}))
    with pytest.raises(WeightsError, match=r"describes layer 0's weight of shape 3×4, the file's 0\.weight is 3×5"):
        nablab.models.load(path)


def test_files_that_are_not_weights_are_clear_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("not a safetensors file at all")
    with pytest.raises(WeightsError, match="notes.txt is not a safetensors file"):
        nablab.load(tmp_path / "notes.txt")
    with pytest.raises(WeightsError, match="not a safetensors file"):
        nablab.models.load(tmp_path / "notes.txt")

    nablab.save(MLP(4, [3], 2), tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) - 10])
    with pytest.raises(WeightsError, match="cut.safetensors is not a safetensors file"):
        nablab.load(tmp_path / "cut.safetensors")

    with pytest.raises(FileNotFoundError, match="no safetensors file"):
        nablab.load(tmp_path / "missing.safetensors")
    with pytest.raises(WeightsError, match="is a folder"):
        nablab.load(tmp_path)
    with pytest.raises(TypeError, match="takes a Module or a state dict"):
        nablab.save([1, 2], tmp_path / "x.safetensors")


def test_metadata_that_is_not_a_model_description_is_refused(tmp_path):
    path = _tampered(tmp_path, lambda t: None)
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    meta["model"] = json.dumps({"class": "os.system", "args": ["echo hi"], "kwargs": {}})
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(WeightsError, match="os.system, which is not part of nablab"):
        nablab.models.load(path)


def test_run_folders_and_their_checkpoints(digits_run, cnn_run):
    """nablab.models.load takes weights files; run folders are the lab's (the CLI's load_source decides)."""
    from nablab.lab import Run
    from nablab.lab.inference import run_model
    from nablab.lab.model_source import load_source

    for run in (digits_run, cnn_run):
        model = run_model(Run(run))
        weights = nablab.load(run / "checkpoints" / "best.safetensors")  # the model's tensors of a checkpoint
        assert sorted(weights) == sorted(model.state_dict())
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(value.numpy(), weights[name].numpy())
        again, _ = load_source(run / "checkpoints" / "last.safetensors")
        assert type(again) is type(model)
        with pytest.raises(WeightsError, match="is a folder; nablab.load and nablab.models.load read one"):
            nablab.models.load(run)
        with pytest.raises(WeightsError, match="is a training checkpoint: it records no architecture"):
            nablab.models.load(run / "checkpoints" / "last.safetensors")
        with pytest.raises(WeightsError, match="is a folder"):
            nablab.io.inference_info(run)
    assert type(load_source(cnn_run)[0]).__name__ == "SmallCNN"
    assert run_model(Run(cnn_run))[1].num_batches_tracked.shape == ()


def _change_last_layer(model):
    model._modules["1"] = nn.Tanh()  # MLP(4, [3], 2) is Linear, ReLU, Linear: the ReLU swapped


def _change_dropout(model):
    model[2].p = 0.5


def _change_batch_norm(model):
    model[1].eps, model[1].momentum = 1e-3, 0.3


@pytest.mark.parametrize("make, change, difference", [
    (lambda: MLP(4, [3], 2), _change_last_layer, r"1 was a Tanh, the rebuilt model has a ReLU there"),
    (lambda: MLP(4, [3], 2, dropout=0.25), _change_dropout, r"2 \(Dropout\) was saved as \(p=0\.5, inplace=False\), "
                                                             r"the rebuilt one is \(p=0\.25, inplace=False\)"),
    (lambda: SmallCNN(1, 2, widths=(2,), batch_norm=True, image_size=4), _change_batch_norm,
     r"1 \(BatchNorm2d\) was saved as \(2, eps=0\.001, momentum=0\.3, affine=True, bias=True, "
     r"track_running_stats=True\), the rebuilt one is \(2, eps=1e-05, momentum=0\.1, affine=True"),
])
def test_changes_after_construction_are_not_rebuilt_silently(tmp_path, make, change, difference):
    """The constructor arguments miss changes made after construction; the recorded modules catch them."""
    model = make()
    change(model)
    path = nablab.save(model, tmp_path / "m.safetensors")
    assert read_metadata(path)["modules"][0] == ["", type(model).__module__ + "." + type(model).__name__, ""]
    with pytest.raises(WeightsError, match=f"m.safetensors: the model rebuilt from its constructor arguments is "
                                           f"not the one saved: {difference}"):
        nablab.models.load(path)
    model.load_state_dict(nablab.load(path))  # the weights themselves still load into the changed model


def test_files_without_recorded_modules_still_load(tmp_path):
    path = _tampered(tmp_path, lambda t: None)
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    del meta["modules"]  # written before modules were recorded
    save_file(load_file(str(path)), str(path), metadata=meta)
    assert isinstance(nablab.models.load(path), MLP)


def _older_layout(path, edit):
    """The file rewritten as an older nablab wrote it: no ``modules_format``, settings strings in the
    former spelling, then ``edit`` applied to the recorded layout."""
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    assert meta.pop("modules_format") == "2"
    layout = json.loads(meta["modules"])
    edit(layout)
    meta["modules"] = json.dumps(layout)
    save_file(load_file(str(path)), str(path), metadata=meta)


def test_layouts_of_the_older_settings_format_compare_names_and_classes_only(tmp_path):
    """Before layout format 2 the settings were nablab's own strings (``p=0.25``, ``2, eps=1e-05,
    momentum=0.1``): such a file still loads, and a swapped layer is still caught."""
    path = nablab.save(MLP(4, [3], 2, dropout=0.25), tmp_path / "m.safetensors")
    assert read_metadata(path)["modules"][3] == ["2", "nablab.nn.dropout.Dropout", "p=0.25, inplace=False"]

    def former_spelling(layout):
        layout[3][2] = "p=0.25"

    _older_layout(path, former_spelling)
    model = nablab.models.load(path)
    assert model[2].p == 0.25

    def swapped(layout):
        layout[2][1] = "nablab.nn.activation.Tanh"

    _older_layout(nablab.save(MLP(4, [3], 2, dropout=0.25), path), swapped)
    with pytest.raises(WeightsError, match="1 was a Tanh, the rebuilt model has a ReLU there"):
        nablab.models.load(path)


def test_dtypes_are_not_cast_silently(tmp_path):
    path = _tampered(tmp_path, lambda t: t.update({"0.weight": t["0.weight"].astype(np.float64)}))
    with pytest.raises(WeightsError, match=r"does not fit the MLP: dtypes differ \(0\.weight: float64 given, "
                                           r"float32 expected\); pass cast=True"):
        nablab.models.load(path)
    model = nablab.models.load(path, cast=True)
    assert model[0].weight.dtype == np.float32
    np.testing.assert_array_equal(model[0].weight.numpy(), nablab.load(path)["0.weight"].numpy().astype(np.float32))
