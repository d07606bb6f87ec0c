"""MNIST-format (IDX) files: loading, the split, and every corrupt-input case."""

import gzip

import numpy as np
import pytest
from datafiles import idx_bytes, write_gz, write_mnist

from nablab import data
from nablab.data import mnist
from nablab.data.files import DataError, FileSpec


def test_loads_own_files_in_official_format(tmp_path):
    written = write_mnist(tmp_path / "mnist")
    ds = data.load("mnist", data_dir=tmp_path, verify=False, val_size=2, download=False)
    assert ds.train.x.dtype == np.uint8 and ds.train.x.shape == (10, 1, 28, 28)
    assert ds.train.y.dtype == np.int64 and len(ds.val) == 2 and len(ds.test) == 6
    x_train, y_train = written["train"]
    rebuilt = np.zeros_like(x_train)
    order = np.concatenate([np.flatnonzero(np.isin(np.arange(12), idx)) for idx in data.carve_validation(12, 2)])
    rebuilt[order] = np.concatenate([ds.train.x[:, 0], ds.val.x[:, 0]])
    np.testing.assert_array_equal(rebuilt, x_train)
    np.testing.assert_array_equal(ds.test.y, written["t10k"][1])
    assert ds.info["source"] == str(tmp_path / "mnist")


def test_files_directly_in_the_folder_and_via_nablab_data(tmp_path, monkeypatch):
    write_mnist(tmp_path)
    assert len(data.load("mnist", data_dir=tmp_path, verify=False, val_size=1, download=False).train) == 11
    monkeypatch.setenv("NABLAB_DATA", str(tmp_path))
    assert len(data.load("mnist", verify=False, val_size=1, download=False).train) == 11


def test_stratified_validation(tmp_path):
    write_mnist(tmp_path, n_train=200, labels_max=1)
    ds = data.load("mnist", data_dir=tmp_path, verify=False, val_size=50, stratified=True, download=False)
    counts = np.bincount(ds.val.y, minlength=2)
    total = np.bincount(np.concatenate([ds.train.y, ds.val.y]), minlength=2)
    np.testing.assert_allclose(counts / total, 0.25, atol=0.01)


def test_checksum_mismatch_names_file_and_digests(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: checksum mismatch — expected sha256 440fcabf"):
        data.load("mnist", data_dir=tmp_path, download=False)


def test_recompressed_official_data_is_recognised(tmp_path, monkeypatch):
    payload = idx_bytes(np.zeros((2, 28, 28), np.uint8), 0x803)
    path = write_gz(tmp_path / "x.gz", payload)
    import hashlib

    spec = FileSpec("x.gz", md5="0" * 32, content_sha256=hashlib.sha256(payload).hexdigest())
    assert data.files.verify_file(path, spec).startswith("uncompressed sha256")
    bad = FileSpec("x.gz", md5="0" * 32, content_sha256="f" * 64)
    with pytest.raises(DataError, match="or uncompressed sha256 ffff"):
        data.files.verify_file(path, bad)


def _gz(data: bytes) -> bytes:
    """gzip with a fixed timestamp: the same bytes in every process."""
    return gzip.compress(data, mtime=0)


def _corrupt(tmp_path, name, payload):
    write_mnist(tmp_path)
    path = tmp_path / name
    path.write_bytes(payload)
    return path


@pytest.mark.parametrize(
    "name, payload, match",
    [
        ("train-images-idx3-ubyte.gz", _gz(idx_bytes(np.zeros((12, 28, 28)), 0x801)),
         r"magic number 0x00000801, expected 0x00000803 \(images file\)"),
        ("train-labels-idx1-ubyte.gz", _gz(idx_bytes(np.zeros(12), 0x803)),
         r"magic number 0x00000803, expected 0x00000801 \(labels file\)"),
        ("train-images-idx3-ubyte.gz", _gz(idx_bytes(np.zeros((12, 28, 28)), 0x803)[:-100]),
         r"holds 9308 bytes of data, but its header promises 12 × 28 × 28 = 9408"),
        ("train-labels-idx1-ubyte.gz", _gz(idx_bytes(np.zeros(11), 0x801)),
         "holds 12 images but .* holds 11 labels"),
        ("train-labels-idx1-ubyte.gz", _gz(idx_bytes(np.full(12, 10), 0x801)), "label 10 is outside 0–9"),
        ("t10k-images-idx3-ubyte.gz", b"\x00\x00", "not a readable gzip file"),
        ("t10k-images-idx3-ubyte.gz", _gz(b"\x00\x00"), "too short for an IDX header"),
    ],
    # named, not by their bytes: a gzip payload's id would carry its timestamp, and pytest-xdist's
    # workers, collecting a second apart, would disagree on the test ids
    ids=["wrong images magic", "wrong labels magic", "truncated images", "too few labels", "label out of range",
         "not gzip", "too short"],
)
def test_corrupt_files_are_clear_errors(tmp_path, name, payload, match):
    path = _corrupt(tmp_path, name, payload)
    with pytest.raises(DataError, match=match) as err:
        data.load("mnist", data_dir=tmp_path, verify=False, val_size=1, download=False)
    assert str(path.name) in str(err.value)


def test_truncated_gzip_is_a_clear_error(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match="truncated"):
        data.load("mnist", data_dir=tmp_path, verify=False, val_size=1, download=False)


def test_offline_error_says_which_files_go_where(tmp_path):
    with pytest.raises(DataError) as err:
        data.load("mnist", data_dir=tmp_path, download=False)
    text = str(err.value)
    for f in mnist.MNIST.files:
        assert f.name in text
    assert str(tmp_path / "mnist") in text and "NABLAB_DATA" in text


def test_bad_split_arguments(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(ValueError, match="val_size must be between 0 and 11"):
        data.load("mnist", data_dir=tmp_path, verify=False, val_size=12, download=False)
    with pytest.raises(ValueError, match="unknown split"):
        data.load("mnist", data_dir=tmp_path, verify=False, split="random", download=False)
    with pytest.raises(ValueError, match="fixed split"):
        data.load("digits", val_size=3)
    with pytest.raises(ValueError, match="unknown data set 'imagenet'"):
        data.load("imagenet")
