"""torchvision-style data sets (nablab.data.datasets) on small files in torchvision's and nablab's layouts."""

import numpy as np
import pytest
from datafiles import cifar_archive, write_cifar, write_mnist

import nablab
from nablab.data import DataError, DataNotFoundError, cifar10, datasets, transforms


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_in_torchvisions_layout(tmp_path, gz):
    written = write_mnist(tmp_path / "MNIST" / "raw", n_train=12, n_test=6, gz=gz)
    ds = datasets.MNIST(tmp_path, train=True)
    x, y = written["train"]
    assert len(ds) == 12
    image, label = ds[3]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    np.testing.assert_array_equal(image, x[3])
    assert type(label) is int and label == y[3]
    assert ds[-1][1] == y[-1]
    assert isinstance(ds.data, nablab.Tensor) and ds.data.dtype == np.uint8 and ds.data.shape == (12, 28, 28)
    assert ds.data.data.flags.writeable and ds.targets.data.flags.writeable
    assert ds.targets.dtype == np.int64 and ds.targets.data.tolist() == y.tolist()
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert ds.raw_folder == tmp_path / "MNIST" / "raw"
    test = datasets.MNIST(str(tmp_path), train=False)
    assert len(test) == 6 and test[0][1] == written["t10k"][1][0]
    with pytest.raises(IndexError):
        ds[12]


def test_samples_are_copies_and_pass_through_the_transforms(tmp_path):
    x, y = write_mnist(tmp_path / "MNIST" / "raw")["train"]
    seen = []
    ds = datasets.MNIST(tmp_path, transform=lambda img: seen.append(img.copy()) or img * 0,
                        target_transform=lambda t: t + 100)
    image, label = ds[0]
    np.testing.assert_array_equal(seen[0], x[0])
    assert not image.any() and label == y[0] + 100
    image[:] = 7  # the data set keeps its pixels
    np.testing.assert_array_equal(ds.data.data[0], x[0])
    tensor_ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor())
    assert tensor_ds[0][0].shape == (1, 28, 28) and tensor_ds[0][0].dtype == np.float32
    assert repr(tensor_ds).splitlines() == ["Dataset MNIST", "    Number of datapoints: 12",
                                            f"    Root location: {tmp_path}", "    Split: Train",
                                            "    Transform: ToTensor()"]


def test_fashion_mnist_in_its_own_folder(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", seed=1)
    x, y = write_mnist(tmp_path / "FashionMNIST" / "raw", seed=2, gz=False)["train"]
    ds = datasets.FashionMNIST(tmp_path)
    np.testing.assert_array_equal(ds.data.data, x)
    assert ds.classes[9] == "Ankle boot" and len(ds.classes) == 10
    assert ds.raw_folder == tmp_path / "FashionMNIST" / "raw"


def test_nablab_search_order_after_torchvisions_layout(tmp_path, monkeypatch):
    nablab_layout = write_mnist(tmp_path / "root" / "mnist", seed=1)["train"]
    ds = datasets.MNIST(tmp_path / "root")
    np.testing.assert_array_equal(ds.data.data, nablab_layout[0])
    torchvision_layout = write_mnist(tmp_path / "root" / "MNIST" / "raw", seed=2, gz=False)["train"]
    np.testing.assert_array_equal(datasets.MNIST(tmp_path / "root").data.data, torchvision_layout[0])
    elsewhere = write_mnist(tmp_path / "shared" / "mnist", seed=3)["train"]
    monkeypatch.setenv("NABLAB_DATA", str(tmp_path / "shared"))
    np.testing.assert_array_equal(datasets.MNIST(tmp_path / "empty").data.data, elsewhere[0])


def test_missing_files_name_every_place_searched(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        datasets.MNIST(tmp_path, train=False)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, DataError)
    assert "t10k-images-idx3-ubyte[.gz]" in message and "download=True" in message
    for place in (tmp_path / "MNIST" / "raw", tmp_path / "mnist", tmp_path):
        assert f"\n  {place}\n" in message
    with pytest.raises(DataNotFoundError, match="cifar-10-batches-bin"):
        datasets.CIFAR10(tmp_path)


def test_verify_checks_the_official_checksums(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", gz=False)
    assert len(datasets.MNIST(tmp_path)) == 12  # found files are read without digesting them by default
    with pytest.raises(DataError, match="train-images-idx3-ubyte: checksum mismatch .* ba891046"):
        datasets.MNIST(tmp_path, verify=True)
    write_mnist(tmp_path / "gz" / "MNIST" / "raw")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: checksum mismatch"):
        datasets.MNIST(tmp_path / "gz", verify=True)


def test_download_fetches_into_torchvisions_folder(tmp_path, monkeypatch):
    calls = []

    def fake_download(spec, dest):
        calls.append((spec.name, dest))
        write_mnist(dest)
        return dest

    monkeypatch.setattr(datasets, "download_files", fake_download)
    ds = datasets.MNIST(tmp_path, download=True)
    assert calls == [("mnist", tmp_path / "MNIST" / "raw")] and len(ds) == 12
    datasets.MNIST(tmp_path, download=True)  # found now: nothing fetched again
    assert len(calls) == 1


def test_cifar10_from_the_binary_batches(tmp_path):
    written = write_cifar(tmp_path / "cifar-10-batches-bin", per_file=3)
    ds = datasets.CIFAR10(tmp_path, train=True)
    assert len(ds) == 15 and ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    assert ds.data.flags.writeable and ds.data.flags.c_contiguous
    x1, y1 = written["data_batch_1.bin"]
    image, label = ds[1]
    assert image.shape == (32, 32, 3) and type(label) is int and label == y1[1]
    np.testing.assert_array_equal(image, x1[1].transpose(1, 2, 0))
    np.testing.assert_array_equal(ds.data[3], written["data_batch_2.bin"][0][0].transpose(1, 2, 0))
    assert isinstance(ds.targets, list) and all(type(t) is int for t in ds.targets)
    assert ds.classes == cifar10.CLASSES and ds.class_to_idx["truck"] == 9
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    assert len(test) == 3 and test[0][0].shape == (3, 32, 32)
    np.testing.assert_array_equal(test[0][0].data, written["test_batch.bin"][0][0] / np.float32(255))
    with pytest.raises(DataError, match="data_batch_1.bin: checksum mismatch"):
        datasets.CIFAR10(tmp_path, verify=True)


def test_cifar10_archive_is_extracted_into_root(tmp_path):
    written = write_cifar(tmp_path / "src", per_file=2)
    members = {f"cifar-10-batches-bin/{p.name}": p.read_bytes() for p in (tmp_path / "src").iterdir()}
    cifar_archive(tmp_path / "root", members)
    ds = datasets.CIFAR10(tmp_path / "root", train=False)
    assert (tmp_path / "root" / "cifar-10-batches-bin" / "test_batch.bin").is_file()
    np.testing.assert_array_equal(ds.data[0], written["test_batch.bin"][0][0].transpose(1, 2, 0))


def test_cifar10_pickled_version_is_never_read(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x04not read")
    with pytest.raises(DataNotFoundError, match="pickled Python version, which nablab never reads"):
        datasets.CIFAR10(tmp_path)


def test_cifar10_download_fetches_the_archive_into_root(tmp_path, monkeypatch):
    written = write_cifar(tmp_path / "src", per_file=2)
    members = {f"cifar-10-batches-bin/{p.name}": p.read_bytes() for p in (tmp_path / "src").iterdir()}
    calls = []

    def fake_download(spec, dest):
        calls.append((spec.files[0].name, dest))
        cifar_archive(dest, members)
        return dest

    monkeypatch.setattr(datasets, "download_files", fake_download)
    ds = datasets.CIFAR10(tmp_path / "root", train=False, download=True)
    assert calls == [("cifar-10-binary.tar.gz", tmp_path / "root")]
    np.testing.assert_array_equal(ds.data[1], written["test_batch.bin"][0][1].transpose(1, 2, 0))
    assert len(datasets.CIFAR10(tmp_path / "root", train=True, download=True)) == 10 and len(calls) == 1
