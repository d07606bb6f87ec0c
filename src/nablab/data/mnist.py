"""MNIST and Fashion-MNIST: four gzip'd IDX files each, 60,000 training and 10,000 test images
of 28×28 grey pixels, labels 0–9.

Checksums: MNIST's are the publisher's (the md5s torchvision lists, and their sha256s);
Fashion-MNIST's md5s are the publisher's (zalandoresearch/fashion-mnist). ``content_sha256`` is
the digest of the uncompressed IDX bytes; Debian's ``dataset-fashion-mnist`` package ships the
same data gzip'd anew, which is recognised by it.
"""

from __future__ import annotations

import numpy as np

from .files import DatasetFiles, FileSpec
from .idx import read_idx_pair

MNIST = DatasetFiles(
    name="mnist",
    files=[
        FileSpec("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                 "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        FileSpec("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432",
                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                 "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        FileSpec("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                 "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        FileSpec("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                 "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ],
    subdirs=["mnist", "MNIST", "MNIST/raw"],
    mirrors=[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
        "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
        "http://yann.lecun.com/exdb/mnist/",  # the publisher's (403 for years)
    ],
)

FASHION_MNIST = DatasetFiles(
    name="fashion_mnist",
    files=[
        FileSpec("train-images-idx3-ubyte.gz", None, "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                 content_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        FileSpec("train-labels-idx1-ubyte.gz", None, "25c81989df183df01b3e8a0aad5dffbe",
                 content_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        FileSpec("t10k-images-idx3-ubyte.gz", None, "bef4ecab320f06d8554ea6380940ec79",
                 content_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        FileSpec("t10k-labels-idx1-ubyte.gz", None, "bb300cfdad3c16e7a12a480ee83cd310",
                 content_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ],
    subdirs=["fashion_mnist", "fashion-mnist", "FashionMNIST", "FashionMNIST/raw"],
    mirrors=[
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # the publisher's
    ],
    system_dirs=["/usr/share/datasets/fashion-mnist"],
)

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


def read_idx_set(folder) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) from the four files in ``folder``."""
    x_train, y_train = read_idx_pair(folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz")
    x_test, y_test = read_idx_pair(folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz")
    return x_train, y_train, x_test, y_test
