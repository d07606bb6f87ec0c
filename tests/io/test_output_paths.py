"""Exported files go into folders that exist: a missing folder is an error naming it, and none is created."""

import pytest

import nablab
from nablab.models import MLP


def test_save_into_a_missing_folder_is_refused_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no folder .*nowhere/deeper to write the weights x.safetensors"):
        nablab.save(MLP(4, [3], 2), tmp_path / "nowhere" / "deeper" / "x.safetensors")
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(IsADirectoryError, match="is a folder: give a file name for the weights"):
        nablab.save(MLP(4, [3], 2), tmp_path)
    assert nablab.save(MLP(4, [3], 2), tmp_path / "x.safetensors").is_file()


def test_onnx_into_a_missing_folder_is_refused_and_creates_nothing(tmp_path):
    pytest.importorskip("onnx")
    import numpy as np

    from nablab.io import to_onnx

    example = np.zeros((1, 4), np.float32)
    with pytest.raises(FileNotFoundError, match=r"no folder .*nowhere to write the ONNX graph x.onnx into"):
        to_onnx(MLP(4, [3], 2), example, tmp_path / "nowhere" / "x.onnx")
    assert not (tmp_path / "nowhere").exists()
    to_onnx(MLP(4, [3], 2), example, tmp_path / "x.onnx")
    assert (tmp_path / "x.onnx").is_file()
