"""Per-batch preprocessing and augmentation of image arrays (N×C×H×W, or N×D features).

These are the lab's transforms (``nablab.data.DataLoader``, ``nablab train``): they act on whole
batches of arrays at once. torchvision's per-sample transforms (``ToTensor``, ``Normalize``…) are
in :mod:`nablab.data.transforms`.

Data sets stay uint8 in memory; a transform turns each batch into float32 inputs as the loader
assembles it. Preprocessing statistics are fitted on the training split only (``fit``) and kept
in ``state_dict()``, so evaluation and later runs use the training statistics.

Preprocessing (each scales x by 1/max_value first, so statistics are in [0, 1] units):

- ``Scale``              x / max                           e.g. 0–255 → [0, 1]
- ``SubtractMeanImage``  x / max − mean image              (HLCV)
- ``NormalizeChannels``  (x / max − μ_c) / σ_c per channel (the usual CNN preprocessing)
- ``Standardize``        (x / max − μ) / σ, one μ, σ       (NTNU: MNIST μ ≈ 33.3, σ ≈ 78.6 on 0–255)

Augmentation (random; the loader passes each epoch's seeded generator):

- ``RandomCrop(size, padding)``  zero-pad, then crop a random size×size window per image
- ``RandomHorizontalFlip(p)``    mirror each image left–right with probability p
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Transform:
    """Base class: ``__call__(x, rng=None)``; stateless transforms have an empty state."""

    random = False

    def __call__(self, x, rng=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, x) -> Transform:
        return self

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Compose(Transform):
    """Apply transforms in order; ``fit`` fits each on the output of the ones before it."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        self.random = any(t.random for t in self.transforms)

    def __call__(self, x, rng=None):
        for t in self.transforms:
            x = t(x, rng)
        return x

    def fit(self, x, chunk: int = 10_000):
        for i, t in enumerate(self.transforms):
            t.fit(x)
            if i < len(self.transforms) - 1 and not t.random:
                x = np.concatenate([t(x[s : s + chunk]) for s in range(0, len(x), chunk)]) if len(x) else x
        return self

    def state_dict(self) -> dict:
        return {f"{i}.{k}": v for i, t in enumerate(self.transforms) for k, v in t.state_dict().items()}

    def load_state_dict(self, state: dict) -> None:
        for i, t in enumerate(self.transforms):
            prefix = f"{i}."
            t.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


class Flatten(Transform):
    """(N, …) → (N, D)."""

    def __call__(self, x, rng=None):
        return x.reshape(len(x), -1)


class Scale(Transform):
    """x / max_value as float32.

    Every preprocessing here is an affine map x ↦ a·x + b with a and b fixed once fitted; it is
    applied in place on the float32 copy of the batch (one conversion, one multiply, one add).
    """

    def __init__(self, max_value: float = 255.0):
        self.max_value = float(max_value)

    def _affine(self):
        return np.float32(1.0 / self.max_value), None

    def __call__(self, x, rng=None):
        a, b = self._affine()
        out = x.astype(np.float32)
        out *= a
        if b is not None:
            out += b
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_value={self.max_value:g})"


def _moments(x, axes, factor, chunk=5_000):
    """Mean and std of x·factor over ``axes`` (0 included), accumulated in float64 chunk by chunk."""
    total = total_sq = 0.0
    count = 0
    for s in range(0, len(x), chunk):
        part = x[s : s + chunk].astype(np.float64) * factor
        total = total + part.sum(axis=axes, keepdims=True)
        total_sq = total_sq + (part * part).sum(axis=axes, keepdims=True)
        count += part.size // np.prod([part.shape[a] for a in range(part.ndim) if a not in axes], dtype=int)
    mean = total / count
    return mean[0], np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))[0]


class _Fitted(Scale):
    """A scaling followed by statistics fitted on training data."""

    stats = ("mean", "std")

    def __init__(self, max_value: float = 255.0):
        super().__init__(max_value)
        self.mean = self.std = None

    def _check(self):
        if self.mean is None:
            raise RuntimeError(f"{type(self).__name__} has no statistics yet: call fit(train_x) or load_state_dict")

    def _affine(self):
        """(x/max − mean)/std = x · 1/(max·std) − mean/std (std 1 where there is none)."""
        self._check()
        std = np.float32(1.0) if self.std is None else self.std
        return (np.float32(1.0 / self.max_value) / std).astype(np.float32), (-self.mean / std).astype(np.float32)

    def state_dict(self) -> dict:
        self._check()
        return {k: np.asarray(getattr(self, k)) for k in self.stats}

    def load_state_dict(self, state: dict) -> None:
        missing = [k for k in self.stats if k not in state]
        if missing:
            raise KeyError(f"{type(self).__name__} state lacks {', '.join(missing)}")
        for k in self.stats:
            setattr(self, k, np.asarray(state[k], dtype=np.float32))


class SubtractMeanImage(_Fitted):
    stats = ("mean",)

    def fit(self, x):
        self.mean = _moments(x, (0,), 1.0 / self.max_value)[0].astype(np.float32)
        return self


class NormalizeChannels(_Fitted):
    def fit(self, x):
        axes = (0,) + tuple(range(2, x.ndim))
        mean, std = _moments(x, axes, 1.0 / self.max_value)
        self.mean, self.std = mean.astype(np.float32), np.maximum(std, 1e-8).astype(np.float32)
        return self


class Standardize(_Fitted):
    def fit(self, x):
        mean, std = _moments(x.reshape(len(x), -1, 1), (0, 1), 1.0 / self.max_value)
        self.mean, self.std = mean.reshape(()).astype(np.float32), np.float32(max(float(std.squeeze()), 1e-8))
        return self


class RandomCrop(Transform):
    """Pad each image with ``padding`` zeros on every side and crop a random ``size``×``size`` window.

    All windows are cut at once: a strided view of every window of the padded batch, indexed
    with one (row, col) offset per image.
    """

    random = True

    def __init__(self, size: int, padding: int = 0):
        self.size, self.padding = int(size), int(padding)

    def __call__(self, x, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        p, s = self.padding, self.size
        if p:  # a zero canvas with the batch copied into its middle (several times faster than np.pad)
            canvas = np.zeros(x.shape[:2] + (x.shape[2] + 2 * p, x.shape[3] + 2 * p), dtype=x.dtype)
            canvas[:, :, p:-p, p:-p] = x
            x = canvas
        n, _, h, w = x.shape
        if h < s or w < s:
            raise ValueError(f"RandomCrop({s}) cannot crop images of {h}×{w} (after padding {p})")
        windows = sliding_window_view(x, (s, s), axis=(2, 3))  # N, C, h−s+1, w−s+1, s, s
        rows = rng.integers(0, h - s + 1, n)
        cols = rng.integers(0, w - s + 1, n)
        return windows[np.arange(n), :, rows, cols]

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Transform):
    """Mirror each image left–right with probability ``p``."""

    random = True

    def __init__(self, p: float = 0.5):
        self.p = float(p)

    def __call__(self, x, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        flip = rng.random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip, ..., ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def one_hot(labels, num_classes: int, dtype="float32") -> np.ndarray:
    """Row i is the unit vector e_{labels[i]}."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=dtype)[labels]


#: preprocessing by name, for configs and the CLI (``--preprocess channel``)
PREPROCESSING = {"scale": Scale, "mean_image": SubtractMeanImage, "channel": NormalizeChannels,
                 "global": Standardize}


def build(preprocess: str, max_value: float, train_x, flatten: bool = False, augment: bool = False):
    """The usual pipeline: [crop + flip] → preprocessing fitted on ``train_x`` → [flatten].

    Returns ``(train_transform, eval_transform)``; they share the fitted statistics.
    """
    if preprocess not in PREPROCESSING:
        raise ValueError(f"unknown preprocessing {preprocess!r}; expected one of {sorted(PREPROCESSING)}")
    prep = PREPROCESSING[preprocess](max_value).fit(train_x)
    tail = [prep] + ([Flatten()] if flatten else [])
    size = train_x.shape[-1]
    head = [RandomCrop(size, padding=size // 8), RandomHorizontalFlip()] if augment else []
    return Compose(head + tail), Compose(tail)
