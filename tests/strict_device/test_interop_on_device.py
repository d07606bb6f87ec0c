"""Weights leave and enter a model on the stand-in device through host copies: safetensors, PyTorch
and ONNX see the same numbers as from the CPU model."""

import numpy as np
import pytest
from device_checks import assert_same

import nablab
from nablab import io, models
from nablab.io.onnx_export import run_onnx

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def test_to_and_from_torch_with_a_model_on_the_device():
    nablab.manual_seed(0)
    model = models.MLP(6, [5], 3)
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    io.to_torch(model.cuda(), t_model)
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    with nablab.no_grad():
        ours = model(nablab.tensor(x).cuda()).numpy()
    np.testing.assert_allclose(t_model(torch.from_numpy(x)).detach().numpy(), ours, rtol=1e-6, atol=1e-6)
    back = io.from_torch(t_model, models.MLP(6, [5], 3).cuda())
    assert all(p.device.type == "cuda" for p in back.parameters())
    for a, b in zip(model.state_dict().values(), back.state_dict().values()):
        assert_same(a.numpy(), b.numpy())


def test_onnx_export_of_a_model_on_the_device(tmp_path):
    pytest.importorskip("onnxruntime")
    nablab.manual_seed(0)
    model = models.MLP(6, [5], 3).cuda()
    x = nablab.randn(2, 6).cuda()
    io.to_onnx(model, x, tmp_path / "m.onnx")  # checks onnxruntime against the model itself
    with nablab.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", x.numpy()), expected, rtol=1e-5, atol=1e-6)
