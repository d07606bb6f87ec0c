import numpy as np
import pytest

from nablab import data


def test_digits_split_is_stratified_70_15_15():
    ds = data.load("digits")
    sizes = len(ds.train), len(ds.val), len(ds.test)
    assert sum(sizes) == 1797
    assert sizes[0] == pytest.approx(0.7 * 1797, abs=10)
    assert ds.train.x.dtype == np.uint8 and ds.train.x.shape[1:] == (1, 8, 8)
    assert ds.train.x.max() == 16 and ds.max_value == 16
    for split in (ds.train, ds.val, ds.test):
        share = split.class_counts(10) / len(split)
        assert np.all(np.abs(share - 0.1) < 0.02)
    all_idx = np.concatenate(data.stratified_split(ds.train.y, [0.5, 0.5]))
    assert len(np.unique(all_idx)) == len(ds.train)


def test_split_fractions_are_checked():
    with pytest.raises(ValueError, match="sum to 1"):
        data.stratified_split(np.zeros(10), [0.5, 0.6])


def _split(n=10):
    return data.Split(np.arange(n * 4, dtype=np.uint8).reshape(n, 1, 2, 2), np.arange(n) % 3)


def test_loader_covers_each_example_once_per_epoch():
    loader = data.DataLoader(_split(10), batch_size=4, shuffle=True, seed=1)
    assert len(loader) == 3
    seen = np.concatenate([y.data for _, y in loader])
    assert sorted(seen.tolist()) == sorted((np.arange(10) % 3).tolist())
    assert [len(y) for _, y in loader] == [4, 4, 2]


def test_loader_is_reproducible_and_resumable():
    a = data.DataLoader(_split(), batch_size=3, shuffle=True, seed=7)
    epochs = [[x.data.copy() for x, _ in a] for _ in range(3)]
    assert not np.array_equal(epochs[0][0], epochs[1][0])
    b = data.DataLoader(_split(), batch_size=3, shuffle=True, seed=7)
    b.set_epoch(2)
    for got, want in zip((x.data for x, _ in b), epochs[2]):
        np.testing.assert_array_equal(got, want)


def test_loader_modes():
    split = _split(10)
    assert len(data.DataLoader(split, 4, drop_last=True)) == 2
    ordered = data.DataLoader(split, 5, shuffle=False)
    np.testing.assert_array_equal(next(iter(ordered))[1].data, split.y[:5])
    sampled = data.DataLoader(split, 4, with_replacement=True, seed=0)
    assert len(sampled) == 2 and all(len(y) == 4 for _, y in sampled)
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(split, 0)


def test_scale_flatten_transform():
    transform = data.batch_transforms.Compose([data.batch_transforms.Scale(255), data.batch_transforms.Flatten()])
    loader = data.DataLoader(_split(), 2, shuffle=False, transform=transform)
    x, _ = next(iter(loader))
    assert x.dtype == np.float32 and x.shape == (2, 4)
    np.testing.assert_allclose(x.data[0], np.arange(4) / 255, rtol=1e-6)




def test_loader_defaults_are_pytorchs():
    loader = data.DataLoader(_split(5))
    assert (loader.batch_size, loader.shuffle, loader.drop_last) == (1, False, False) and len(loader) == 5
    np.testing.assert_array_equal(np.concatenate([y.data for _, y in loader]), _split(5).y)
