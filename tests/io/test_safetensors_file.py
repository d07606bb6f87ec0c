"""nablab.io.safetensors_file: the one module that reads and writes safetensors files."""

import ast
from pathlib import Path

import numpy as np
import pytest

from nablab.io import safetensors_file as stf
from nablab.io.safetensors_file import TensorInfo, WeightsError

SRC = Path(__file__).resolve().parents[2] / "src" / "nablab"

#: modules that still call the safetensors library themselves; each should use nablab.io.safetensors_file
#: (save_checkpoint / read_checkpoint: write / read with CHECKPOINT_FORMAT; the preprocessing file: write / read)
STILL_DIRECT = set()


def test_header_write_and_read(tmp_path):
    tensors = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "n": np.zeros((), np.int64),
               "m": np.ones(2, bool)}
    path = stf.write(tmp_path / "t.safetensors", tensors, {"format": stf.WEIGHTS_FORMAT, "k": "v"})
    infos, meta = stf.read_header(path)
    assert infos == {"a": TensorInfo("float32", (3, 4)), "n": TensorInfo("int64", ()), "m": TensorInfo("bool", (2,))}
    assert meta == {"format": stf.WEIGHTS_FORMAT, "k": "v"}
    read, _ = stf.read(path)
    for name, value in tensors.items():
        assert read[name].dtype == value.dtype and read[name].shape == value.shape
        np.testing.assert_array_equal(read[name], value)
    assert [p.name for p in tmp_path.iterdir()] == ["t.safetensors"]  # no temporary file left


def test_missing_damaged_and_folder_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="no safetensors file at"):
        stf.read_header(tmp_path / "missing.safetensors")
    with pytest.raises(WeightsError, match="is a folder"):
        stf.read(tmp_path)
    (tmp_path / "bad.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    with pytest.raises(WeightsError, match="bad.safetensors is not a safetensors file"):
        stf.read_header(tmp_path / "bad.safetensors")


def test_checkpoint_model_state_takes_the_model_entries_and_makes_old_counters_0d():
    tensors = {"model.0.weight": np.zeros((2, 2)), "model.1.num_batches_tracked": np.zeros(1, np.int64),
               "optimizer.0.momentum_buffer": np.zeros((2, 2))}
    state = stf.checkpoint_model_state(tensors)
    assert sorted(state) == ["0.weight", "1.num_batches_tracked"] and state["1.num_batches_tracked"].shape == ()


def test_only_this_module_calls_the_safetensors_library():
    direct = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n == "safetensors" or n.startswith("safetensors.") for n in names):
                direct.add(path.relative_to(SRC).as_posix())
    assert direct - {"io/safetensors_file.py"} == STILL_DIRECT
