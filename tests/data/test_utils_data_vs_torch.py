"""nablab.utils.data and the per-sample transforms against PyTorch: collation, split sizes, loader
lengths, and torchvision's ToTensor/Normalize arithmetic (written with torch ops: torchvision is
not installed)."""

import collections

import numpy as np
import pytest

import nablab
from nablab.data import transforms as T
from nablab.utils import data as ndata

torch = pytest.importorskip("torch")
tdata = pytest.importorskip("torch.utils.data")
pytestmark = pytest.mark.torch

Pair = collections.namedtuple("Pair", "a b")


def _plain(obj):
    """A comparable description of a collated batch, from either framework."""
    if isinstance(obj, torch.Tensor):
        return ("tensor", str(obj.dtype).removeprefix("torch."), tuple(obj.shape), obj.tolist())
    if isinstance(obj, nablab.Tensor):
        return ("tensor", str(obj.dtype), tuple(obj.shape), obj.data.tolist())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__,) + tuple(_plain(v) for v in obj)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_plain(v) for v in obj])
    return obj


BATCHES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0],
    "bools": [True, False],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 scalars": [np.int32(1), np.int32(3)],
    "float64 arrays": [np.zeros((2, 3)), np.ones((2, 3))],
    "uint8 arrays": [np.arange(4, dtype=np.uint8)] * 2,
    "(int, float) tuples": [(1, 2.0), (3, 4.0)],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    "strings": ["x", "y"],
    "namedtuples": [Pair(1, 2.0), Pair(3, 4.0)],
}


@pytest.mark.parametrize("name", BATCHES)
def test_default_collate_matches_torch(name):
    batch = BATCHES[name]
    assert _plain(ndata.default_collate(batch)) == _plain(tdata.default_collate(batch))


def test_default_collate_of_tensors_matches_torch():
    samples = [np.arange(6, dtype=np.float32).reshape(2, 3) + i for i in range(3)]
    ours = ndata.default_collate([(nablab.tensor(s), i) for i, s in enumerate(samples)])
    theirs = tdata.default_collate([(torch.tensor(s), i) for i, s in enumerate(samples)])
    assert _plain(ours) == _plain(theirs)


@pytest.mark.parametrize("sample", [np.zeros(3), (np.zeros(2, np.int32), 1), [1, np.float32(2)], 5, np.float64(2.0),
                                    {"x": np.ones(2, np.float32)}])
def test_default_convert_matches_torch(sample):
    assert _plain(ndata.default_convert(sample)) == _plain(tdata.default_convert(sample))


@pytest.mark.parametrize("n", [1, 7, 10, 11, 100, 101])
@pytest.mark.parametrize("fractions", [[0.5, 0.5], [0.7, 0.2, 0.1], [1 / 3] * 3, [0.25, 0.75], [1.0]])
def test_random_split_sizes_match_torch(n, fractions):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = [len(s) for s in ndata.random_split(range(n), fractions)]
        theirs = [len(s) for s in tdata.random_split(range(n), fractions)]
    assert ours == theirs


@pytest.mark.parametrize("n", [1, 9, 64, 130])
@pytest.mark.parametrize("batch_size", [1, 8, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_lengths_and_batch_sizes_match_torch(n, batch_size, drop_last):
    x = np.arange(n, dtype=np.float32)
    ours = ndata.DataLoader(ndata.TensorDataset(nablab.tensor(x)), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x)), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [b[0].data.tolist() for b in ours] == [b[0].tolist() for b in theirs]  # unshuffled: the same batches


def test_loader_attributes_match_torch():
    ds = list(range(5))
    ours, theirs = ndata.DataLoader(ds), tdata.DataLoader(ds)
    for name in ("batch_size", "drop_last", "num_workers", "pin_memory", "timeout", "prefetch_factor"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__
    assert [b.data.tolist() for b in ours] == [b.tolist() for b in theirs]


def _torchvision_to_tensor(img: np.ndarray):
    """torchvision's ToTensor on an array: HWC → CHW, uint8 → float32 / 255, other dtypes as they are."""
    if img.ndim == 2:
        img = img[:, :, None]
    t = torch.from_numpy(img.transpose(2, 0, 1).copy()).contiguous()
    return t.to(torch.float32).div(255) if t.dtype == torch.uint8 else t


def _torchvision_normalize(t, mean, std):
    mean = torch.as_tensor(mean, dtype=t.dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=t.dtype).view(-1, 1, 1)
    return t.clone().sub_(mean).div_(std)


@pytest.mark.parametrize("shape,dtype", [((28, 28), np.uint8), ((32, 32, 3), np.uint8), ((5, 4, 3), np.float64),
                                         ((6, 6, 1), np.float32)])
def test_to_tensor_and_normalize_match_torchvisions_arithmetic(shape, dtype):
    img = np.random.default_rng(0).integers(0, 256, shape).astype(dtype)
    ours, theirs = T.ToTensor()(img), _torchvision_to_tensor(img)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    channels = ours.shape[0]
    mean, std = (0.4914, 0.4822, 0.4465)[:channels], (0.247, 0.243, 0.261)[:channels]
    np.testing.assert_array_equal(T.Normalize(mean, std)(ours).data, _torchvision_normalize(theirs, mean, std).numpy())


@pytest.mark.parametrize("batch_size,drop_last", [(None, False), (1, False), (3, False), (3, True), (7, True)])
def test_iterable_data_set_batches_match_torch(batch_size, drop_last):
    def stream(base):
        class Stream(base):
            def __iter__(self):
                return iter(range(7))

            def __len__(self):
                return 7

        return Stream()

    ours = ndata.DataLoader(stream(ndata.IterableDataset), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(stream(tdata.IterableDataset), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]
