"""CIFAR-10 binary files: batches, the archive, splits and the corrupt-input cases."""

import numpy as np
import pytest
from datafiles import cifar_archive, cifar_bytes, write_cifar

from nablab import data
from nablab.data import cifar10
from nablab.data.files import DataError, FileSpec


def test_loads_extracted_batches(tmp_path):
    written = write_cifar(tmp_path / "cifar-10-batches-bin")
    ds = data.load("cifar10", data_dir=tmp_path, verify=False, val_size=4, download=False)
    assert ds.train.x.shape == (16, 3, 32, 32) and ds.train.x.dtype == np.uint8
    assert len(ds.val) == 4 and len(ds.test) == 4
    assert ds.classes[0] == "airplane" and len(ds.classes) == 10  # trailing blank line ignored
    np.testing.assert_array_equal(ds.test.x, written["test_batch.bin"][0])


def test_hlcv_split_keeps_file_order(tmp_path):
    written = write_cifar(tmp_path, per_file=400)
    ds = data.load("cifar10", data_dir=tmp_path, verify=False, split="hlcv", download=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (1000, 1000, 400)
    np.testing.assert_array_equal(ds.val.x[-400:], written["data_batch_5.bin"][0])
    np.testing.assert_array_equal(ds.train.x[:400], written["data_batch_1.bin"][0])


def test_record_count_must_be_whole(tmp_path):
    write_cifar(tmp_path)
    path = tmp_path / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"data_batch_3.bin: 12287 bytes is not a whole number of 3073-byte"):
        data.load("cifar10", data_dir=tmp_path, verify=False, download=False)


def test_labels_must_be_0_to_9(tmp_path):
    write_cifar(tmp_path)
    bad = cifar_bytes(np.zeros((2, 3, 32, 32), np.uint8), [3, 12])
    (tmp_path / "test_batch.bin").write_bytes(bad)
    with pytest.raises(DataError, match="test_batch.bin: record 1 has label 12, outside 0–9"):
        data.load("cifar10", data_dir=tmp_path, verify=False, download=False)


def test_wrong_meta_file(tmp_path):
    write_cifar(tmp_path, meta="cat\ndog\n")
    with pytest.raises(DataError, match="expected 10 class names, found 2"):
        data.load("cifar10", data_dir=tmp_path, verify=False, download=False)


def test_official_checksums_are_checked(tmp_path):
    write_cifar(tmp_path)
    with pytest.raises(DataError, match="data_batch_1.bin: checksum mismatch — expected sha256 cee91656"):
        data.load("cifar10", data_dir=tmp_path, download=False)


def test_loads_from_the_archive_into_the_cache(tmp_path, monkeypatch):
    src = tmp_path / "batches"
    written = write_cifar(src)
    members = {f"cifar-10-batches-bin/{p.name}": p.read_bytes() for p in src.iterdir()}
    members["../evil.txt"] = b"never extracted"
    archive = cifar_archive(tmp_path / "downloads", members)
    monkeypatch.setattr(cifar10, "CIFAR10_ARCHIVE", cifar10.DatasetFiles(
        "cifar10", [FileSpec(archive.name, md5="0" * 32)], subdirs=[]))
    ds = data.load("cifar10", data_dir=tmp_path / "downloads", verify=False, val_size=1, download=False)
    extracted = data.cache_dir() / "cifar10" / "cifar-10-batches-bin"
    assert ds.info["source"] == str(extracted)
    assert sorted(p.name for p in extracted.iterdir()) == sorted(p.name for p in src.iterdir())
    assert not (tmp_path / "evil.txt").exists() and not (data.cache_dir() / "evil.txt").exists()
    np.testing.assert_array_equal(ds.test.x, written["test_batch.bin"][0])


def test_incomplete_archive_leaves_nothing_behind(tmp_path):
    archive = cifar_archive(tmp_path, {"cifar-10-batches-bin/data_batch_1.bin": b"\x00" * 3073})
    dest = tmp_path / "out" / "cifar-10-batches-bin"
    with pytest.raises(DataError, match="lacks data_batch_2.bin"):
        cifar10.extract_archive(archive, dest)
    assert not dest.exists() and list((tmp_path / "out").iterdir()) == []
