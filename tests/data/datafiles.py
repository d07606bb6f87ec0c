"""Writers of small files in the official formats, so the loaders are tested without the network."""

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np

from nablab.data.files import FileSpec


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, payload: bytes):
    with gzip.open(path, "wb") as fh:
        fh.write(payload)
    return path


def write_mnist(folder, n_train=12, n_test=6, labels_max=9, seed=0, gz=True):
    """The four MNIST files with random 28×28 images, gzip'd as published (or extracted, as
    torchvision leaves them, with ``gz=False``); returns the images and labels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, labels_max + 1, n, dtype=np.uint8)
        for kind, array, magic in (("images-idx3", x, 0x803), ("labels-idx1", y, 0x801)):
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                write_gz(folder / f"{name}.gz", idx_bytes(array, magic))
            else:
                (folder / name).write_bytes(idx_bytes(array, magic))
        out[prefix] = (x, y)
    return out


def cifar_bytes(images, labels) -> bytes:
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    return records.astype(np.uint8).tobytes()


STANDARD_META = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"


def write_cifar(folder, per_file=4, seed=0, meta=STANDARD_META):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    data = {}
    for name in names:
        x = rng.integers(0, 256, (per_file, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, per_file)
        (folder / name).write_bytes(cifar_bytes(x, y))
        data[name] = (x, y)
    if meta is not None:
        (folder / "batches.meta.txt").write_text(meta)
    return data


def cifar_archive(folder, members):
    """``cifar-10-binary.tar.gz`` in ``folder`` holding ``members`` ({name in the archive: bytes})."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cifar-10-binary.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def spec_of(path) -> FileSpec:
    """A FileSpec carrying the real digests of a test file."""
    raw = path.read_bytes()
    return FileSpec(path.name, len(raw), hashlib.md5(raw).hexdigest(), hashlib.sha256(raw).hexdigest())
