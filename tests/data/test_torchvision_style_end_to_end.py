"""pytorch/examples' MNIST data pipeline with only the imports changed, on small IDX files in
torchvision's layout: ``datasets.MNIST`` → ``transforms.Compose([ToTensor(), Normalize(...)])`` →
``nablab.utils.data.DataLoader(batch_size=64, shuffle=True)``."""

import numpy as np
from datafiles import write_mnist

import nablab
from nablab.data import datasets, transforms
from nablab.utils.data import DataLoader

MEAN, STD = 0.1307, 0.3081


def _torchvision_formula(images: np.ndarray) -> np.ndarray:
    """What torchvision computes for uint8 N×28×28 images: float32(x) / 255, then (x − mean) / std,
    each step in float32 — with torch's own ops where torch is installed (torchvision is not)."""
    try:
        import torch
    except ImportError:
        x = images[:, None].astype(np.float32) / np.float32(255)
        return (x - np.float32(MEAN)) / np.float32(STD)
    x = torch.from_numpy(images[:, None].copy()).to(torch.float32).div(255)
    mean = torch.as_tensor((MEAN,), dtype=torch.float32).view(-1, 1, 1)
    std = torch.as_tensor((STD,), dtype=torch.float32).view(-1, 1, 1)
    return x.sub_(mean).div_(std).numpy()


def test_mnist_pipeline_gives_torchvisions_batches(tmp_path):
    images, labels = write_mnist(tmp_path / "MNIST" / "raw", n_train=130, n_test=4, gz=False)["train"]
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    dataset = datasets.MNIST(tmp_path, train=True, transform=transform)
    nablab.manual_seed(1)
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    assert loader.dataset is dataset and len(loader) == 3
    where = {image.tobytes(): i for i, image in enumerate(images)}
    expected = _torchvision_formula(images)
    seen = []
    for b, (data, target) in enumerate(loader):
        size = 64 if b < 2 else 2
        assert isinstance(data, nablab.Tensor) and data.shape == (size, 1, 28, 28) and data.dtype == np.float32
        assert isinstance(target, nablab.Tensor) and target.shape == (size,) and target.dtype == np.int64
        index = [where[np.rint((d[0] * STD + MEAN) * 255).astype(np.uint8).tobytes()] for d in data.data]
        np.testing.assert_array_equal(data.data, expected[index])
        np.testing.assert_array_equal(target.data, labels[index])
        seen += index
    assert sorted(seen) == list(range(130)) and seen != list(range(130))  # every image once, shuffled
    nablab.manual_seed(1)
    again = DataLoader(dataset, batch_size=64, shuffle=True)
    np.testing.assert_array_equal(next(iter(again))[1].data, labels[seen[:64]])  # reproducible from the seed
