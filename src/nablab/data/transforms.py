"""torchvision's per-sample transforms: ``Compose``, ``ToTensor``, ``Normalize``, ``RandomCrop``,
``RandomHorizontalFlip``, ``Lambda``.

``from torchvision import transforms`` becomes ``from nablab.data import transforms``; each
transform takes ONE sample, as torchvision's do, and is meant for the ``transform=`` of a data set
(:mod:`nablab.data.datasets`) read through :class:`nablab.utils.data.DataLoader`.

Images. nablab has no PIL: where torchvision hands a transform a PIL image, nablab hands it the
same pixels as a uint8 NumPy array, H×W (grey) or H×W×C (colour) — a PIL image's own layout, so
``np.asarray(pil_image)`` is what arrives. Transforms that take PIL images take these arrays (and
objects NumPy can read as one, PIL images included); transforms that take tensors take
:class:`~nablab.Tensor` images ``[…, C, H, W]``. ``ToTensor`` goes from the first to the second:

- ``ToTensor``        uint8 H×W×C → float32 C×H×W, x / 255 (other dtypes: transposed, not rescaled)
- ``Normalize(m, s)`` (x − m_c) / s_c per channel c of a float tensor
- ``RandomCrop``      [pad, then] cut a random size window (array: rows, cols; tensor: last two dims)
- ``RandomHorizontalFlip(p)``  mirror left–right with probability p

The random ones draw from nablab's global generator (``nablab.manual_seed`` makes them
reproducible, like ``torch.manual_seed`` does torchvision's). The lab's transforms of whole
batches (fitted statistics, seeded per batch) are in :mod:`nablab.data.batch_transforms`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ShapeError
from ..random import get_generator
from ..tensor import Tensor

_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


class Compose:
    """Apply ``transforms`` in order: ``Compose([t1, t2])(x) = t2(t1(x))``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


def _image_array(pic, who: str) -> np.ndarray:
    """The H×W or H×W×C array of a PIL-style image (an array, or anything NumPy reads as one)."""
    if isinstance(pic, Tensor):
        raise TypeError(f"{who} takes an image array H×W or H×W×C (what torchvision passes as a PIL image), "
                        "got a Tensor; apply it before ToTensor")
    if not isinstance(pic, np.ndarray):
        if not hasattr(pic, "__array_interface__") and not hasattr(pic, "__array__"):
            raise TypeError(f"pic should be an image array (H×W or H×W×C) or a PIL Image, got {type(pic).__name__}")
        pic = np.asarray(pic)
    if pic.ndim not in (2, 3):
        raise ShapeError(f"pic should be 2- or 3-dimensional (H×W or H×W×C), got shape {pic.shape}")
    return pic


class ToTensor:
    """An image array H×W×C (or H×W) → a C×H×W :class:`~nablab.Tensor`.

    uint8 pixels become float32 x / 255 ∈ [0, 1]; arrays of any other dtype are only transposed
    (torchvision does not rescale them either: a float64 array stays float64 as it is).
    """

    def __call__(self, pic) -> Tensor:
        pic = _image_array(pic, "ToTensor")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        chw = np.ascontiguousarray(pic.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32)
            chw /= np.float32(255)
        return Tensor._make(chw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """y_c = (x_c − mean_c) / std_c for every channel c of a float tensor image ``[…, C, H, W]``.

    ``mean`` and ``std`` are sequences of C numbers (or of one, applied to every channel), taken in
    the tensor's dtype. With ``inplace`` the tensor's own array is overwritten. The result is a new
    tensor that autograd does not record (as for every data transform here).
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace
        self._converted = {}  # dtype → (mean, std) as C×1×1 arrays, for the mean and std they came from

    def _statistics(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        source, mean, std = self._converted.get(dtype, (None, None, None))
        if source is None or source[0] is not self.mean or source[1] is not self.std:
            mean = np.asarray(self.mean, dtype=dtype).reshape(-1, 1, 1)
            std = np.asarray(self.std, dtype=dtype).reshape(-1, 1, 1)
            if (std == 0).any():
                raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero")
            self._converted[dtype] = ((self.mean, self.std), mean, std)
        return mean, std

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize takes a tensor image [..., C, H, W], got {type(tensor).__name__} "
                            "(apply ToTensor first)")
        x = tensor.data
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize needs a floating tensor, got {x.dtype}")
        if x.ndim < 3:
            raise ShapeError(f"Normalize expects a tensor image of shape (..., C, H, W), got shape {x.shape}")
        mean, std = self._statistics(x.dtype)
        channels = x.shape[-3]
        for name, v in (("mean", mean), ("std", std)):
            if len(v) not in (1, channels):
                raise ShapeError(f"Normalize: {name} has {len(v)} values for an image of {channels} channels "
                                 f"(shape {x.shape}); give one value per channel, or one for all")
        if self.inplace:
            np.subtract(x, mean, out=x)
            np.divide(x, std, out=x)
            return tensor
        return Tensor._make((x - mean) / std)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _size_pair(size) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"size must be an int or a sequence (h, w), got {size}")
    return int(size[0]), int(size[1])


def _padding_sides(padding) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"padding must be an int or a 1-, 2- or 4-element sequence, got {len(padding)} elements")


class _Image:
    """An image of either kind, with the axes of its rows and columns: an array H×W[×C] (axes 0, 1)
    or a tensor [..., H, W] (the last two)."""

    def __init__(self, img, who: str):
        self.is_tensor = isinstance(img, Tensor)
        self.array = img.data if self.is_tensor else _image_array(img, who)
        if self.is_tensor and self.array.ndim < 2:
            raise ShapeError(f"{who} takes a tensor image [..., H, W], got shape {self.array.shape}")
        self.rows = self.array.ndim - 2 if self.is_tensor else 0

    @property
    def height_width(self) -> tuple[int, int]:
        return self.array.shape[self.rows], self.array.shape[self.rows + 1]

    def pad(self, sides, fill, mode: str) -> None:
        left, top, right, bottom = sides
        a, r = self.array, self.rows
        if mode != "constant":
            widths = [(0, 0)] * a.ndim
            widths[r], widths[r + 1] = (top, bottom), (left, right)
            self.array = np.pad(a, widths, mode=mode)
            return
        shape = list(a.shape)
        shape[r] += top + bottom
        shape[r + 1] += left + right
        canvas = np.empty(shape, dtype=a.dtype)
        canvas[...] = fill  # a number, or per channel (the last axis of an H×W×C array)
        inner = [slice(None)] * a.ndim
        inner[r], inner[r + 1] = slice(top, top + a.shape[r]), slice(left, left + a.shape[r + 1])
        canvas[tuple(inner)] = a
        self.array = canvas

    def result(self, array):
        array = np.ascontiguousarray(array)
        return Tensor._make(array) if self.is_tensor else array


class RandomCrop:
    """Cut a random ``size`` window (h, w, or one int for a square) out of an image.

    ``padding`` (an int, (left/right, top/bottom) or (left, top, right, bottom)) is added first,
    with ``padding_mode`` ``constant`` (``fill``: a number, or one per channel for an array image),
    ``edge``, ``reflect`` or ``symmetric``; ``pad_if_needed`` pads an image smaller than ``size``
    up to it. The window's top row i ∈ [0, H − h] and left column j ∈ [0, W − w] are drawn
    uniformly from nablab's generator (none are drawn when the image is exactly ``size``).
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant"):
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {', '.join(_PADDING_MODES)}, got {padding_mode!r}")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError(f"fill must be a number or a tuple of numbers, got {type(fill).__name__}")
        self.size = _size_pair(size)
        self.padding = padding
        self._sides = None if padding is None else _padding_sides(padding)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def __call__(self, img):
        image = _Image(img, "RandomCrop")
        if self._sides is not None:
            image.pad(self._sides, self.fill, self.padding_mode)
        th, tw = self.size
        h, w = image.height_width
        if self.pad_if_needed and w < tw:
            image.pad((tw - w, 0, tw - w, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            image.pad((0, th - h, 0, th - h), self.fill, self.padding_mode)
        h, w = image.height_width
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if (h, w) == (th, tw):
            return image.result(image.array)
        rng = get_generator()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        window = [slice(None)] * image.array.ndim
        window[image.rows], window[image.rows + 1] = slice(i, i + th), slice(j, j + tw)
        return image.result(image.array[tuple(window)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror an image left–right (reverse its columns) with probability ``p``: one uniform draw
    u from nablab's generator per call, flipped when u < p."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        image = _Image(img, "RandomHorizontalFlip")
        if get_generator().random() < self.p:
            return image.result(np.flip(image.array, axis=image.rows + 1))
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Lambda:
    """A transform made of any one-argument function: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda needs a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


__all__ = ["Compose", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip", "ToTensor"]
