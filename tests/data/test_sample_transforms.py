"""torchvision-style per-sample transforms (nablab.data.transforms) against their formulas."""

import numpy as np
import pytest

import nablab
from nablab.data import transforms as T
from nablab.errors import ShapeError


def _hwc(h=5, w=7, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_to_tensor_scales_uint8_to_chw_float32():
    img = _hwc()
    t = T.ToTensor()(img)
    assert isinstance(t, nablab.Tensor) and t.dtype == np.float32 and t.shape == (3, 5, 7)
    np.testing.assert_array_equal(t.data, img.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert t.data.min() >= 0 and t.data.max() <= 1 and t.data.flags.c_contiguous
    grey = T.ToTensor()(img[:, :, 0])
    assert grey.shape == (1, 5, 7)
    np.testing.assert_array_equal(grey.data[0], img[:, :, 0] / np.float32(255))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_to_tensor_keeps_other_dtypes_unscaled(dtype):
    img = _hwc().astype(dtype)
    t = T.ToTensor()(img)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, img.transpose(2, 0, 1))


def test_to_tensor_rejects_what_is_not_an_image():
    with pytest.raises(TypeError, match="image array"):
        T.ToTensor()(nablab.zeros(3, 4, 4))
    with pytest.raises(TypeError, match="PIL Image"):
        T.ToTensor()("a picture")
    with pytest.raises(ShapeError, match=r"\(2, 2, 2, 2\)"):
        T.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))


def test_normalize_per_channel():
    x = T.ToTensor()(_hwc())
    mean, std = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)
    out = T.Normalize(mean, std)(x)
    m = np.asarray(mean, np.float32)[:, None, None]
    s = np.asarray(std, np.float32)[:, None, None]
    np.testing.assert_array_equal(out.data, (x.data - m) / s)
    assert out.dtype == np.float32 and out is not x
    one = T.Normalize((0.5,), (0.25,))(x)  # one value for every channel
    np.testing.assert_array_equal(one.data, (x.data - np.float32(0.5)) / np.float32(0.25))
    batch = nablab.tensor(np.stack([x.data, x.data]))  # […, C, H, W]
    np.testing.assert_array_equal(T.Normalize(mean, std)(batch).data[1], out.data)


def test_normalize_follows_a_new_mean_and_std():
    x = T.ToTensor()(_hwc())
    norm = T.Normalize((0.5,), (0.5,))
    norm(x)
    norm.mean, norm.std = (0.25,), (2.0,)
    np.testing.assert_array_equal(norm(x).data, (x.data - np.float32(0.25)) / np.float32(2))


def test_normalize_in_place_and_float64():
    x = nablab.tensor(np.full((2, 3, 3), 0.75), dtype=np.float64)
    same = T.Normalize((0.5, 0.25), (0.5, 0.5), inplace=True)(x)
    assert same is x and x.dtype == np.float64
    np.testing.assert_array_equal(x.data[0], 0.5)
    np.testing.assert_array_equal(x.data[1], 1.0)


def test_normalize_errors():
    x = T.ToTensor()(_hwc())
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize((0.5,), (0.5,))(_hwc())
    with pytest.raises(TypeError, match="floating"):
        T.Normalize((0.5,), (0.5,))(nablab.Tensor(np.zeros((3, 2, 2), np.uint8)))
    with pytest.raises(ShapeError, match=r"\(2, 2\)"):
        T.Normalize((0.5,), (0.5,))(nablab.zeros(2, 2))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.5,), (0.0,))(x)
    with pytest.raises(ShapeError, match="2 values for an image of 3 channels"):
        T.Normalize((0.5, 0.5), (0.5, 0.5))(x)


def _windows(img, th, tw):
    h, w = img.shape[:2]
    return [img[i : i + th, j : j + tw] for i in range(h - th + 1) for j in range(w - tw + 1)]


def test_random_crop_is_a_window_of_the_padded_image_and_follows_the_seed():
    img = _hwc(6, 6)
    crop = T.RandomCrop(6, padding=2)
    nablab.manual_seed(3)
    first = [crop(img) for _ in range(20)]
    nablab.manual_seed(3)
    again = [crop(img) for _ in range(20)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)))
    candidates = _windows(padded, 6, 6)
    for out in first:
        assert out.shape == (6, 6, 3) and out.dtype == np.uint8
        assert any(np.array_equal(out, c) for c in candidates)
    assert len({out.tobytes() for out in first}) > 5  # the offsets vary


def test_random_crop_sizes_and_padding_forms():
    img = _hwc(8, 10)
    nablab.manual_seed(0)
    assert T.RandomCrop((4, 6))(img).shape == (4, 6, 3)
    assert T.RandomCrop([5])(img).shape == (5, 5, 3)
    nablab.manual_seed(0)
    out = T.RandomCrop((10, 10), padding=(0, 1))(img)  # left/right 0, top/bottom 1: 10×10, one window
    np.testing.assert_array_equal(out, np.pad(img, ((1, 1), (0, 0), (0, 0))))
    out = T.RandomCrop((9, 13), padding=(1, 0, 2, 1))(img)  # left, top, right, bottom
    np.testing.assert_array_equal(out, np.pad(img, ((0, 1), (1, 2), (0, 0))))


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_random_crop_padding_modes(mode):
    img = _hwc(4, 4)
    out = T.RandomCrop(8, padding=2, padding_mode=mode)(img)
    np.testing.assert_array_equal(out, np.pad(img, ((2, 2), (2, 2), (0, 0)), mode=mode))


def test_random_crop_fill_per_channel_and_pad_if_needed():
    img = _hwc(2, 3)
    out = T.RandomCrop((4, 5), padding=1, fill=(10, 20, 30))(img)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out[1:3, 1:4], img)
    grown = T.RandomCrop((4, 7), pad_if_needed=True, fill=9)(img)  # padded by 2 rows and 4 columns each side
    assert grown.shape == (4, 7, 3)
    assert any(np.array_equal(grown, c) for c in _windows(np.pad(img, ((2, 2), (4, 4), (0, 0)), constant_values=9),
                                                          4, 7))


def test_random_crop_on_a_tensor_crops_the_last_two_dims():
    x = nablab.tensor(np.arange(2 * 5 * 5, dtype=np.float32).reshape(2, 5, 5))
    nablab.manual_seed(1)
    out = T.RandomCrop(3, padding=1)(x)
    assert isinstance(out, nablab.Tensor) and out.shape == (2, 3, 3) and out.dtype == np.float32
    padded = np.pad(x.data, ((0, 0), (1, 1), (1, 1)))
    assert any(np.array_equal(out.data, padded[:, i : i + 3, j : j + 3]) for i in range(5) for j in range(5))


def test_random_crop_errors():
    with pytest.raises(ValueError, match=r"Required crop size \(9, 9\) is larger than input image size \(5, 7\)"):
        T.RandomCrop(9)(_hwc())
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(3, padding_mode="wrap")
    with pytest.raises(ValueError, match="3 elements"):
        T.RandomCrop(3, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="size"):
        T.RandomCrop((1, 2, 3))


def test_horizontal_flip_probability_and_seed():
    img = _hwc()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    x = T.ToTensor()(img)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1)(x).data, x.data[..., ::-1])
    flip = T.RandomHorizontalFlip()
    nablab.manual_seed(5)
    first = [flip(img)[0, 0, 0] == img[0, -1, 0] for _ in range(400)]
    nablab.manual_seed(5)
    assert first == [flip(img)[0, 0, 0] == img[0, -1, 0] for _ in range(400)]
    assert 150 < sum(first) < 250  # about half of 400 (img[0, 0] differs from img[0, -1])
    assert img[0, 0, 0] != img[0, -1, 0]


def test_lambda_and_compose():
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize((1.0,), (0.5,))])
    out = pipeline(_hwc())
    np.testing.assert_allclose(out.data, (T.ToTensor()(_hwc()).data * 2 - 1) / 0.5, rtol=1e-6)
    assert repr(pipeline) == ("Compose(\n    ToTensor()\n    Lambda()\n    Normalize(mean=(1.0,), std=(0.5,))\n)")
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"


def test_to_tensor_reads_objects_numpy_can_read_as_images():
    class Picture:  # the array protocol a PIL image offers
        def __init__(self, pixels):
            self.pixels = pixels

        def __array__(self, dtype=None, copy=None):
            return self.pixels

    img = _hwc()
    np.testing.assert_array_equal(T.ToTensor()(Picture(img)).data, T.ToTensor()(img).data)
