"""The published facts of the real data sets, where the official files are present
(``NABLAB_DATA`` pointing at a folder with them; CI sets it to ../shared/data, and installs
Debian's dataset-fashion-mnist)."""

import os

import numpy as np
import pytest

from nablab import data
from nablab.data.files import find_folder
from nablab.data.mnist import FASHION_MNIST

ROOT = os.environ.get("NABLAB_DATA")  # read before conftest's fixture hides it from the loaders
needs_data = pytest.mark.skipif(not ROOT, reason="NABLAB_DATA does not point at the official data files")


@needs_data
def test_mnist_published_facts():
    ds = data.load("mnist", data_dir=ROOT, download=False)
    counts = np.bincount(np.concatenate([ds.train.y, ds.val.y]), minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(ds.test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert (len(ds.train), len(ds.val), len(ds.test)) == (55_000, 5_000, 10_000)
    pixels = np.concatenate([ds.train.x, ds.val.x])
    assert pixels.mean() == pytest.approx(33.318, abs=1e-3)
    assert pixels.std() == pytest.approx(78.567, abs=1e-3)


@needs_data
def test_cifar10_published_facts():
    ds = data.load("cifar10", data_dir=ROOT, split="hlcv", download=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (49_000, 1_000, 1_000)
    train = np.concatenate([ds.train.x, ds.val.x])
    labels = np.concatenate([ds.train.y, ds.val.y])
    assert np.bincount(labels).tolist() == [5000] * 10
    np.testing.assert_allclose(train.mean(axis=(0, 2, 3)), [125.307, 122.950, 113.865], atol=1e-3)
    assert labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert ds.test.y[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    full = data.load("cifar10", data_dir=ROOT, download=False)
    assert (len(full.train), len(full.val), len(full.test)) == (45_000, 5_000, 10_000)


@pytest.mark.skipif(find_folder(FASHION_MNIST) is None,
                    reason="no Fashion-MNIST files (apt install dataset-fashion-mnist)")
def test_fashion_mnist_facts():
    ds = data.load("fashion_mnist", download=False)
    counts = np.bincount(np.concatenate([ds.train.y, ds.val.y]))
    assert counts.tolist() == [6000] * 10
    assert np.bincount(ds.test.y).tolist() == [1000] * 10
    assert ds.classes[9] == "Ankle boot"


@needs_data
def test_torchvision_style_mnist_and_cifar10_on_the_official_files():
    from nablab.data import datasets

    train = datasets.MNIST(ROOT, train=True, verify=True)
    assert len(train) == 60_000 and len(datasets.MNIST(ROOT, train=False)) == 10_000
    assert np.bincount(train.targets.data).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    image, label = train[0]
    assert label == 5 and image.shape == (28, 28) and image.dtype == np.uint8
    cifar = datasets.CIFAR10(ROOT, train=True)
    assert len(cifar) == 50_000 and cifar.data.shape == (50_000, 32, 32, 3)
    assert cifar.targets[:10] == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    np.testing.assert_allclose(cifar.data.mean(axis=(0, 1, 2)), [125.307, 122.950, 113.865], atol=1e-3)
    assert datasets.CIFAR10(ROOT, train=False).targets[:10] == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]


@pytest.mark.skipif(find_folder(FASHION_MNIST) is None,
                    reason="no Fashion-MNIST files (apt install dataset-fashion-mnist)")
def test_torchvision_style_fashion_mnist(tmp_path):
    from nablab.data import datasets

    train = datasets.FashionMNIST(tmp_path, train=True, verify=True)  # found in the system folder
    assert len(train) == 60_000 and np.bincount(train.targets.data).tolist() == [6000] * 10
    assert train[0][1] == 9 and train.classes[9] == "Ankle boot"
    assert len(datasets.FashionMNIST(tmp_path, train=False)) == 10_000
