"""Image files (PNG, JPEG, …, read with Pillow) as arrays shaped like a data set's images.

``load_image(path, shape, max_value)`` turns any picture into the C×H×W array a model trained on
that data set expects, in the data set's raw pixel range (0–255, or 0–16 for the digits):

- grey data sets (C = 1: MNIST, Fashion-MNIST, the digits) get a grey image; their digits are
  light on a dark background, so a picture with a light background (mean above 127 — a digit
  drawn in black on white paper) is inverted;
- colour data sets (C = 3: CIFAR-10) get an RGB image;
- photos are turned upright (EXIF orientation) and transparent pixels composed onto white; then
  the picture is resized to H×W (area averaging when shrinking, bilinear when enlarging; the
  aspect ratio is not kept);
- 16-bit, 32-bit and floating-point grey images (Pillow modes ``I;16``, ``I``, ``F``) are first
  stretched from their own darkest to their lightest pixel onto 0–255 (Pillow would clip them at
  255, leaving most such pictures blank).

Pillow's warnings never reach the terminal: a picture past Pillow's decompression-bomb warning size
(``Image.MAX_IMAGE_PIXELS``) is refused as an :class:`ImageError`, and Pillow's remarks on damaged
metadata (a corrupt EXIF block, …) are dropped, the pixels being read all the same.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

#: file name endings taken as images when a folder is given
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageError(ValueError):
    """An image file that cannot be read; the message names the file and why."""


def _pillow():
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError:
        raise ImportError("reading image files needs Pillow: pip install 'nablab[interop]' (or pillow)") from None
    return Image, ImageOps, UnidentifiedImageError


def _to_8_bits(img, Image):
    """A grey image of more than 8 bits (modes I;16…, I, F) as mode L, its own range stretched onto 0–255.

    A constant image keeps its value (clipped to 0–255); NaN pixels count as the darkest.
    """
    pixels = np.asarray(img, dtype=np.float64)
    finite = pixels[np.isfinite(pixels)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    pixels = np.nan_to_num(pixels, nan=low, posinf=high, neginf=low)
    if high > low:
        pixels = (pixels - low) * (255.0 / (high - low))
    return Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8), "L")


def _read(path, Image, ImageOps):
    """The picture at ``path``, upright, transparency composed onto white, more than 8 bits stretched to mode L."""
    with Image.open(path) as img:
        img.load()
        img = ImageOps.exif_transpose(img)  # photos: upright as the camera saw them
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    if img.mode == "F" or img.mode.startswith("I"):  # I;16, I;16B, I (32-bit), F (float)
        img = _to_8_bits(img, Image)
    return img


def find_images(paths) -> list[Path]:
    """The files to classify: files as given, folders replaced by the image files in them (sorted).

    A folder with no image in it is an :class:`ImageError`; a missing path is kept, so that it is
    reported with the other unreadable files.
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ImageError(f"{path}: the folder {path.name} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            files += found
        else:
            files.append(path)
    return files


def load_image(path, shape=(1, 28, 28), max_value: float = 255.0, invert="auto") -> np.ndarray:
    """The image file ``path`` as a float32 array of ``shape`` (C×H×W) with values in [0, max_value].

    ``invert``: ``"auto"`` inverts grey images whose mean is above 127 (a light background),
    ``True`` / ``False`` always / never invert (colour images are never inverted). 16-bit and
    floating-point images are stretched onto 0–255 first (see the module's description). Raises
    :class:`ImageError` for a file that is missing, not a readable image, or so large that Pillow
    warns of (or refuses) a possible decompression bomb.
    """
    Image, ImageOps, UnidentifiedImageError = _pillow()
    channels, height, width = (int(s) for s in shape)
    if channels not in (1, 3):
        raise ValueError(f"images have 1 (grey) or 3 (RGB) channels, not {channels}")
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            img = _read(path, Image, ImageOps).convert("L" if channels == 1 else "RGB")
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a folder") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # past MAX_IMAGE_PIXELS
        raise ImageError(f"{path}: too large to read safely ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged files
        raise ImageError(f"{path}: cannot decode the image ({exc})") from None
    shrinking = img.width >= width and img.height >= height
    img = img.resize((width, height), Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)
    pixels = np.asarray(img, dtype=np.float32)
    if channels == 1:
        if invert is True or (invert == "auto" and pixels.mean() > 127):
            pixels = 255.0 - pixels
        pixels = pixels[None]
    else:
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels * np.float32(max_value / 255.0))
