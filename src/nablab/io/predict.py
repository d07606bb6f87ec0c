"""Classifying image files with a trained model: ``load_classifier(weights file)``.

A :class:`Classifier` holds the model and what its training did to the images: the data set's
class names and image shape, its raw pixel range, and the preprocessing fitted on the training
split (``nablab.data.batch_transforms``), so that a PNG is prepared exactly as the training images were.

That information (the *inference info*) comes from the ``inference`` metadata of a weights file
written by ``nablab export RUN --safetensors FILE`` (or from a run folder: ``config.toml`` and
``preprocessing.safetensors``, read by :mod:`nablab.lab.inference`). A weights file without it
(a plain ``nablab.save``) is classified with pixels scaled to [0, 1], the image shape guessed
from the model's first layer (or given: ``load_classifier(..., input_shape=(C, H, W))``,
``nablab predict --input-shape``), and classes named by their index; :attr:`Classifier.notes` says
so. Files are read and run through the model ``batch_size`` (256) at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..nn import Conv2d, Linear, Module
from ..nn.modes import evaluating
from .images import ImageError, find_images, load_image
from .safetensors_file import CHECKPOINT_FORMAT
from .weights import WeightsError, load_model, read_metadata

KEYS = ("classes", "input_shape", "max_value", "preprocess", "pixel_scale", "flatten", "statistics")


def info_to_json(info: dict) -> dict:
    """The inference info with its statistics as nested lists (for JSON metadata)."""
    return {**info, "statistics": {k: np.asarray(v).tolist() for k, v in info.get("statistics", {}).items()}}


def info_from_json(info: dict) -> dict:
    """The inverse of :func:`info_to_json` (statistics back to float32 arrays), every key checked."""
    missing = [k for k in KEYS if k not in info]
    if missing:
        raise WeightsError(f"the inference metadata lacks {', '.join(missing)}")
    return {**info, "statistics": {k: np.asarray(v, dtype=np.float32) for k, v in info["statistics"].items()}}


def first_layer(model: Module):
    """The first Linear or Conv2d of ``model`` (in the order of ``modules()``), or None."""
    for module in model.modules():
        if isinstance(module, (Linear, Conv2d)):
            return module
    return None


def check_image_shape(shape, what="the model's input") -> tuple[int, int, int]:
    """``shape`` as ``(C, H, W)`` after checking that it describes images (1 or 3 channels).

    Raises :class:`WeightsError` naming the shape and what was expected — for a model trained on
    points (``toy``/``spiral`` data: an input shape of length 1), say.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or shape[0] not in (1, 3) or min(shape) < 1:
        raise WeightsError(f"{what} is {'×'.join(map(str, shape)) or 'empty'}, which is not an image: image files "
                           "are classified by models that take C×H×W images with 1 (grey) or 3 (RGB) channels")
    return shape


def guess_inference_info(model: Module, input_shape=None) -> tuple[dict, str]:
    """Inference info for a model saved without any: ``(info, note saying what was guessed)``.

    ``input_shape`` (C, H, W) is the image size, if known. Otherwise a first Linear layer of s²
    inputs takes a grey s×s image, of 3·s² an RGB one; a first Conv2d takes its channels at the
    model's ``image_size`` (else 28×28 grey, 32×32 colour). The guess is tried on the model; one
    that does not run through it is a :class:`WeightsError` asking for the input shape. Every
    module's training/evaluation mode is left as it was.
    """
    hint = ("pass --input-shape C,H,W, or use the run folder (or a file written by nablab export --safetensors), "
            "which records it")
    first = first_layer(model)
    if first is None:
        raise WeightsError(f"cannot tell what inputs a {type(model).__name__} takes (no Linear or Conv2d layer): "
                           f"{hint}")
    flatten = isinstance(first, Linear)
    if input_shape is not None:
        shape = list(check_image_shape(input_shape, "--input-shape"))
        if flatten and math.prod(shape) != first.in_features:
            raise WeightsError(f"--input-shape {'×'.join(map(str, shape))} has {math.prod(shape)} pixels, but the "
                               f"model's first layer takes {first.in_features} features")
    elif flatten:
        n = first.in_features
        side = math.isqrt(n)
        colour_side = math.isqrt(n // 3)
        if side * side == n:
            shape = [1, side, side]
        elif 3 * colour_side * colour_side == n:
            shape = [3, colour_side, colour_side]
        else:
            raise WeightsError(f"the model takes {n} features, which are not the pixels of a square image: {hint}")
    else:
        channels = first.in_channels
        size = (getattr(model, "config", None) or {}).get("image_size") or (28 if channels == 1 else 32)
        shape = [channels, size, size]
    from ..grad_mode import no_grad
    from ..tensor import Tensor

    example = np.zeros([1, math.prod(shape)] if flatten else [1, *shape], dtype=first.weight.dtype)
    try:
        with evaluating(model), no_grad():
            output = model(Tensor._make(example))
    except Exception as exc:  # the guessed size does not fit the model's layers
        what = "the given" if input_shape is not None else "the guessed"
        raise WeightsError(f"cannot tell the image size {type(model).__name__} takes: {what} "
                           f"{'×'.join(map(str, shape))} does not run through it ({exc}); {hint}") from None
    if output.ndim != 2:
        raise WeightsError(f"{type(model).__name__} gives outputs of shape {tuple(output.shape)} for one image, "
                           "not one score per class")
    classes = output.shape[-1]
    info = {"dataset": None, "classes": [str(i) for i in range(classes)], "input_shape": shape, "max_value": 255.0,
            "preprocess": "scale", "pixel_scale": 255.0, "flatten": flatten, "statistics": {}}
    how = "as given" if input_shape is not None else "guessed from the model"
    note = (f"no preprocessing is stored with the weights: images are scaled to [0, 1], taken as "
            f"{'×'.join(map(str, shape))} ({how}) and classes named 0–{classes - 1}")
    return info, note


def inference_info(path) -> dict | None:
    """What classifying raw images with the model of the weights file ``path`` needs (its ``inference``
    metadata), or None for a weights file without it. (A run folder's: ``nablab.lab.Run(folder).inference_info()``.)

    Keys: ``classes``, ``input_shape`` (C, H, W of the data set's images), ``max_value`` (their
    raw pixel maximum), ``preprocess`` (a name of ``nablab.data.batch_transforms.PREPROCESSING``),
    ``pixel_scale`` (what pixels are divided by), ``flatten`` (whether the model takes flat
    vectors), ``statistics`` (the fitted preprocessing state) and ``dataset``.
    """
    meta = read_metadata(path)
    if meta.get("format") == CHECKPOINT_FORMAT:
        raise WeightsError(f"{path} is a training checkpoint, which records no inference information: use its run "
                           "folder")
    return info_from_json(meta["inference"]) if "inference" in meta else None


def build_transform(info: dict):
    """The evaluation transform of the inference info: preprocessing with its statistics [→ flatten]."""
    from ..data import batch_transforms as transforms

    if info["preprocess"] not in transforms.PREPROCESSING:
        raise WeightsError(f"unknown preprocessing {info['preprocess']!r}")
    prep = transforms.PREPROCESSING[info["preprocess"]](info["pixel_scale"])
    if hasattr(prep, "stats"):  # fitted on the training split: load those statistics
        try:
            prep.load_state_dict(info["statistics"])
        except KeyError as exc:
            raise WeightsError(f"the stored preprocessing is incomplete: {exc.args[0]}") from None
    return transforms.Compose([prep] + ([transforms.Flatten()] if info["flatten"] else []))


@dataclass
class Prediction:
    """The ``k`` most probable classes of one image, most probable first: ``[(class name, probability), …]``."""

    path: Path
    top: list = field(default_factory=list)


class Classifier:
    """A model and the way its training images were prepared; call :meth:`classify_files`.

    ``info["input_shape"]`` must describe images (C×H×W, 1 or 3 channels): a model trained on
    points is a :class:`WeightsError` here rather than a failure on the first file.
    """

    def __init__(self, model: Module, info: dict, notes=()):
        dataset = f" (data set {info['dataset']})" if info.get("dataset") else ""
        self.input_shape = check_image_shape(info["input_shape"], f"the model's input shape{dataset}")
        self.model = model.eval()
        self.info = info
        self.classes = list(info["classes"])
        self.transform = build_transform(info)
        self.notes = list(notes)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N × classes) of raw images (N × C × H × W, in the data set's pixel range)."""
        from ..grad_mode import no_grad
        from ..nn import functional as F
        from ..tensor import Tensor

        x = self.transform(np.asarray(images, dtype=np.float32))
        with no_grad():
            return F.softmax(self.model(Tensor._make(x)), axis=-1).numpy()

    def load(self, path, invert="auto") -> np.ndarray:
        """One image file as this model's raw input (C × H × W); raises :class:`ImageError`."""
        return load_image(path, self.input_shape, self.info["max_value"], invert=invert)

    def classify_files(self, paths, k: int = 3, invert="auto",
                       batch_size: int = 256) -> tuple[list[Prediction], list[tuple[Path, str]]]:
        """Classify image files (folders: every image in them), ``batch_size`` images per forward pass.

        Returns ``(predictions, failures)``: a :class:`Prediction` per readable image, in order,
        and ``(path, reason)`` for each file that could not be read and each folder without images
        (the others are still classified). At most ``batch_size`` images are held at a time.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        predictions, failures, images, good = [], [], [], []

        def flush():
            if images:
                probs = self.probabilities(np.stack(images))
                top = min(k, probs.shape[1])
                for path, p in zip(good, probs):
                    order = np.argsort(-p, kind="stable")[:top]
                    predictions.append(Prediction(path, [(self.classes[i], float(p[i])) for i in order]))
                images.clear()
                good.clear()

        for argument in paths:
            try:
                files = find_images([argument])
            except ImageError as exc:
                failures.append((Path(argument), str(exc)))
                continue
            for path in files:
                try:
                    images.append(self.load(path, invert))
                    good.append(path)
                except ImageError as exc:
                    failures.append((path, str(exc)))
                if len(images) >= batch_size:
                    flush()
        flush()
        return predictions, failures


def make_classifier(model: Module, info: dict | None, source, input_shape=None) -> Classifier:
    """A :class:`Classifier` of ``model`` with the inference info ``info`` of ``source`` (None: guessed).

    ``input_shape`` (C, H, W) gives the image size where ``source`` does not record it (instead of
    guessing it from the model); where it records it, the two must agree.
    """
    notes = []
    if info is None:
        info, note = guess_inference_info(model, input_shape)
        notes.append(note)
    elif input_shape is not None and tuple(int(s) for s in input_shape) != tuple(info["input_shape"]):
        raise WeightsError(f"{source} records images of {'×'.join(map(str, info['input_shape']))}, not the "
                           f"{'×'.join(map(str, input_shape))} of --input-shape")
    return Classifier(model, info, notes)


def load_classifier(path, classes=None, input_shape=None) -> Classifier:
    """A :class:`Classifier` from a weights file (see the module's description and :func:`make_classifier`);
    for a run folder, ``nablab.lab.model_source.classifier_for``."""
    return make_classifier(load_model(path, classes=classes), inference_info(path), path, input_shape)
