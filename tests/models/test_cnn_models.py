import numpy as np
import pytest

import nablab
from nablab.lab import ConfigError, resolve
from nablab.lab.config import build
from nablab.models import SmallCNN, VGGNet
from nablab.nn import count_parameters


def test_parameter_counts():
    assert count_parameters(SmallCNN()) == 106_538
    assert count_parameters(SmallCNN(hidden=256)) == 1_116_970
    # conv weights without biases (BatchNorm follows), 2 BN parameters per channel, linear 512→10
    convs = [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)]
    expected = sum(9 * i * o + 2 * o for i, o in convs) + 512 * 10 + 10
    assert count_parameters(VGGNet()) == expected == 9_228_362


def test_vgg_shapes_and_training_step():
    nablab.manual_seed(0)
    model = VGGNet()
    x = nablab.randn(2, 3, 32, 32)
    logits = model(x)
    assert logits.shape == (2, 10)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    assert model(x).shape == (2, 10)


def test_small_cnn_learns_digits_through_the_config(tmp_path):
    config = resolve({"data": {"dataset": "digits"}, "model": {"kind": "small_cnn", "hidden": [], "widths": [8, 16],
                                                                "batch_norm": True}})
    ds, (train_tf, _), loaders, model, *_ = build(config, progress=False)
    x, _ = next(iter(loaders["train"]))
    assert x.shape == (32, 1, 8, 8)
    assert isinstance(model, SmallCNN) and model.config["batch_norm"]


def test_cnn_needs_images():
    with pytest.raises(ConfigError, match="needs .*images"):
        build(resolve({"data": {"dataset": "spiral"}, "model": {"kind": "vgg"}}), progress=False)


def test_from_config_builds_the_model_of_a_model_table():
    from nablab.models import MLP, from_config

    table = {"kind": "mlp", "hidden": [128], "activation": "relu", "init": None, "init_scale": 1.0, "dropout": 0.0,
             "widths": [32, 64], "batch_norm": False}
    mlp = from_config({**table, "hidden": [5]}, (1, 4, 4), 3)
    assert isinstance(mlp, MLP) and mlp.config["in_features"] == 16 and mlp.config["hidden"] == [5]
    cnn = from_config({**table, "kind": "small_cnn", "widths": [2, 4], "hidden": []}, (3, 8, 8), 2)
    assert isinstance(cnn, SmallCNN) and cnn.config["image_size"] == 8
    with pytest.raises(ValueError, match=r"kind = 'small_cnn' needs square images, the data has shape \(2,\)"):
        from_config({**table, "kind": "small_cnn"}, (2,), 2)
    with pytest.raises(ValueError, match="kind = 'resnet' is not one of"):
        from_config({**table, "kind": "resnet"}, (2,), 2)


def test_batch_norm_cnn_eval_is_deterministic():
    nablab.manual_seed(1)
    model = SmallCNN(widths=(4, 8), batch_norm=True)
    x = nablab.randn(4, 3, 32, 32)
    model(x)
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
