import numpy as np
import pytest

from nablab.data import batch_transforms as T


def _images(n=6, c=3, size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, c, size, size), dtype=np.uint8)


def test_scale_and_flatten():
    x = _images()
    out = T.Compose([T.Scale(255), T.Flatten()])(x)
    assert out.dtype == np.float32 and out.shape == (6, 192)
    np.testing.assert_allclose(out[0], x[0].ravel() / 255, rtol=1e-6)


def test_channel_normalisation_uses_training_statistics():
    train = _images(200)
    prep = T.NormalizeChannels(255).fit(train)
    out = prep(train)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-4)
    other = T.NormalizeChannels(255)
    other.load_state_dict(prep.state_dict())
    np.testing.assert_array_equal(other(train[:3]), prep(train[:3]))


def test_global_standardisation_and_mean_image():
    train = _images(100)
    out = T.Standardize(255).fit(train)(train)
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1) < 1e-4
    centred = T.SubtractMeanImage(255).fit(train)(train)
    np.testing.assert_allclose(centred.mean(axis=0), 0, atol=1e-5)


def test_statistics_must_be_fitted_first():
    with pytest.raises(RuntimeError, match="fit"):
        T.Standardize()(_images())
    with pytest.raises(KeyError, match="lacks std"):
        T.Standardize().load_state_dict({"mean": 0.0})


def test_random_crop_and_flip_are_seeded_and_correct():
    x = _images(50)
    crop = T.RandomCrop(8, padding=2)
    a, b = crop(x, np.random.default_rng(1)), crop(x, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(len(x)):  # every crop is some window of the padded image
        hits = [(r, c) for r in range(5) for c in range(5) if np.array_equal(padded[i, :, r:r + 8, c:c + 8], a[i])]
        assert hits
    assert not np.array_equal(a, x)
    np.testing.assert_array_equal(T.RandomCrop(8)(x), x)

    flip = T.RandomHorizontalFlip(0.5)
    f = flip(x, np.random.default_rng(2))
    flipped = np.array([not np.array_equal(f[i], x[i]) for i in range(len(x))])
    assert 10 < flipped.sum() < 40
    np.testing.assert_array_equal(f[flipped], x[flipped][..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x)[..., ::-1], x)


def test_build_pipeline_fits_on_training_data_only():
    train, test = _images(100), _images(10, seed=1)
    train_tf, eval_tf = T.build("channel", 255, train, flatten=True, augment=True)
    assert train_tf.random and not eval_tf.random
    assert eval_tf(test).shape == (10, 192)
    np.testing.assert_array_equal(train_tf.state_dict()["2.mean"], eval_tf.state_dict()["0.mean"])
    with pytest.raises(ValueError, match="unknown preprocessing"):
        T.build("zca", 255, train)


def test_one_hot():
    np.testing.assert_array_equal(T.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError):
        T.one_hot([3], 3)
