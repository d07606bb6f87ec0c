"""nablab.utils.data: data sets, random_split, samplers, collation and the DataLoader, PyTorch's behaviour."""

import warnings

import numpy as np
import pytest

import nablab
from nablab.errors import ShapeError
from nablab.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.float32(i) ** 2, i


def _tensors(n=10):
    return TensorDataset(nablab.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2)), nablab.tensor(np.arange(n)))


def test_utils_data_is_reachable_from_nablab():
    import nablab.utils.data as module

    assert nablab.utils.data is module and module.DataLoader is DataLoader


def test_tensor_dataset_subset_and_concat():
    ds = _tensors()
    x, y = ds[3]
    assert len(ds) == 10 and x.data.tolist() == [6.0, 7.0] and int(y.data) == 3
    with pytest.raises(ShapeError, match=r"sizes \[3, 4\]"):
        TensorDataset(nablab.zeros(3, 2), nablab.zeros(4))
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and int(sub[0][1].data) == 9 and int(sub[-1][1].data) == 4
    both = Squares(3) + Squares(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5 and both.cumulative_sizes == [3, 5]
    assert [both[i][1] for i in range(5)] == [0, 1, 2, 0, 1] and both[-1][1] == 1
    with pytest.raises(IndexError):
        both[5]
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


def test_random_split_by_counts_and_fractions():
    nablab.manual_seed(0)
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    nablab.manual_seed(0)
    assert random_split(range(10), [3, 7])[0].indices == parts[0].indices
    fractions = random_split(range(11), [0.5, 0.3, 0.2], generator=np.random.default_rng(1))
    assert [len(p) for p in fractions] == [6, 3, 2]  # ⌊5.5⌋, ⌊3.3⌋, ⌊2.2⌋ = 5, 3, 2, and 1 left over for the first
    again = random_split(range(11), [0.5, 0.3, 0.2], generator=np.random.default_rng(1))
    assert [p.indices for p in again] == [p.indices for p in fractions]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 8])
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        random_split(range(10), [5, 5], generator=42)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [len(p) for p in random_split(range(2), [0.9, 0.05, 0.05])] == [2, 0, 0]
    assert any("index 1 is 0" in str(w.message) for w in caught)


def test_loader_defaults_are_pytorchs():
    ds = _tensors(5)
    loader = DataLoader(ds)
    assert loader.dataset is ds and loader.batch_size == 1 and not loader.drop_last
    assert isinstance(loader.sampler, SequentialSampler) and len(loader) == 5
    labels = [y.data.tolist() for _, y in loader]
    assert labels == [[0], [1], [2], [3], [4]]  # in order: no shuffling by default


def test_loader_batches_and_lengths():
    loader = DataLoader(_tensors(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.shape == (4, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert len(DataLoader(_tensors(10), batch_size=4, drop_last=True)) == 2
    assert [len(y) for _, y in DataLoader(_tensors(10), batch_size=4, drop_last=True)] == [4, 4]
    squares = list(DataLoader(Squares(5), batch_size=2))
    assert squares[0][0].dtype == np.float32 and squares[0][1].dtype == np.int64
    assert squares[2][0].data.tolist() == [16.0]


def test_shuffle_draws_a_new_order_each_epoch_reproducibly():
    loader = DataLoader(_tensors(20), batch_size=20, shuffle=True)
    assert isinstance(loader.sampler, RandomSampler)
    nablab.manual_seed(7)
    first, second = ([int(v) for v in y.data] for _, y in (next(iter(loader)), next(iter(loader))))
    assert sorted(first) == list(range(20)) and first != second and first != list(range(20))
    nablab.manual_seed(7)
    assert [int(v) for v in next(iter(loader))[1].data] == first
    a, b = (DataLoader(_tensors(20), 20, shuffle=True, generator=np.random.default_rng(3)) for _ in range(2))
    epochs_a = [next(iter(a))[1].data.tolist() for _ in range(2)]
    assert epochs_a == [next(iter(b))[1].data.tolist() for _ in range(2)]  # the same generator seed
    assert epochs_a[0] != epochs_a[1]  # the generator advances from epoch to epoch


def test_samplers_and_batch_samplers():
    nablab.manual_seed(0)
    loader = DataLoader(Squares(6), batch_size=2, sampler=SubsetRandomSampler([1, 3, 5]))
    assert len(loader) == 2 and sorted(np.concatenate([i.data for _, i in loader]).tolist()) == [1, 3, 5]
    with_replacement = RandomSampler(range(4), replacement=True, num_samples=50)
    assert len(list(with_replacement)) == 50 and set(with_replacement) <= {0, 1, 2, 3}
    longer = list(RandomSampler(range(4), num_samples=10))
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3] and len(longer) == 10
    by_batch = DataLoader(Squares(5), batch_sampler=BatchSampler(SequentialSampler(range(5)), 3, drop_last=False))
    assert by_batch.batch_size is None and len(by_batch) == 2
    assert [i.data.tolist() for _, i in by_batch] == [[0, 1, 2], [3, 4]]
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([])


def test_unbatched_loading_and_custom_collate():
    unbatched = list(DataLoader(Squares(3), batch_size=None))
    assert len(unbatched) == 3 and unbatched[2][1] == 2 and isinstance(unbatched[2][0], nablab.Tensor)
    assert unbatched[2][0].dtype == np.float32 and float(unbatched[2][0].data) == 4.0
    pairs = list(DataLoader(Squares(4), batch_size=2, collate_fn=lambda batch: [i for _, i in batch]))
    assert pairs == [[0, 1], [2, 3]]


def test_batches_are_fetched_with_getitems_when_the_data_set_has_it():
    class Batched(Squares):
        calls = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [self[i] for i in indices]

    ds = Batched(5)
    list(DataLoader(Subset(ds, [4, 3, 2, 1, 0]), batch_size=2))
    assert Batched.calls == [[4, 3], [2, 1], [0]]


def test_worker_options_are_accepted_and_checked():
    reference = [y.data.tolist() for _, y in DataLoader(_tensors(7), batch_size=3)]
    loader = DataLoader(_tensors(7), batch_size=3, num_workers=4, pin_memory=True, prefetch_factor=2,
                        persistent_workers=True, worker_init_fn=lambda i: 1 / 0)
    assert [y.data.tolist() for _, y in loader] == reference
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(_tensors(), num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(_tensors(), prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(_tensors(), persistent_workers=True)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(_tensors(), sampler=SequentialSampler(range(10)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(_tensors(), batch_size=4, batch_sampler=[[0, 1]])


def test_default_collate_rules():
    batch = default_collate([(np.ones((2, 2), np.uint8), 1, 0.5, "a"), (np.zeros((2, 2), np.uint8), 2, 1.5, "b")])
    images, ints, floats, names = batch
    assert isinstance(batch, list) and images.dtype == np.uint8 and images.shape == (2, 2, 2)
    assert ints.dtype == np.int64 and floats.dtype == np.float64 and names == ["a", "b"]
    nested = default_collate([{"x": nablab.ones(3), "y": [1, 2]}, {"x": nablab.zeros(3), "y": [3, 4]}])
    assert nested["x"].shape == (2, 3) and [t.data.tolist() for t in nested["y"]] == [[1, 3], [2, 4]]
    with pytest.raises(ShapeError, match=r"\[3\] at entry 0 and \[2\] at entry 1"):
        default_collate([nablab.ones(3), nablab.ones(2)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_collate_keeps_gradients_of_samples_that_need_them():
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [5.0, 5.0])


class Countdown(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n, 0, -1))

    def __len__(self):
        return self.n


def test_iterable_data_sets_are_batched_in_their_order():
    loader = DataLoader(Countdown(5), batch_size=2)
    assert len(loader) == 3 and [b.data.tolist() for b in loader] == [[5, 4], [3, 2], [1]]
    assert [b.data.tolist() for b in DataLoader(Countdown(5), batch_size=2, drop_last=True)] == [[5, 4], [3, 2]]
    assert len(DataLoader(Countdown(5), batch_size=2, drop_last=True)) == 2
    assert list(DataLoader(Countdown(2), batch_size=None)) == [2, 1]
    chained = Countdown(2) + Countdown(1)
    assert isinstance(chained, ChainDataset) and len(chained) == 3 and list(chained) == [2, 1, 1]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Countdown(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Countdown(3), sampler=SequentialSampler(range(3)))
