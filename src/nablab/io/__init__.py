"""Interoperability: weights in safetensors, PyTorch, ONNX, and classifying image files.

- :func:`save` / :func:`load` (also ``nablab.save`` / ``nablab.load``), :func:`load_model`
  (``nablab.models.load``): weights files, and models rebuilt from them (checked against the file's
  tensors before anything is built); :mod:`nablab.io.safetensors_file` reads and writes every
  safetensors file nablab uses (weights, checkpoints, preprocessing). Run folders are the lab's
  (:mod:`nablab.lab.inference`);
- :func:`from_torch` / :func:`to_torch`: weights to and from PyTorch modules;
- :func:`to_onnx`: an ONNX graph of a chain of layers, checked with ``onnx.checker``;
- :func:`load_classifier`, :func:`load_image`: classifying PNG/JPEG files as the model's training
  images were prepared (``nablab predict``).

Optional dependencies (``pip install 'nablab[interop]'``) are imported only when used.
"""

from .images import IMAGE_SUFFIXES, ImageError, find_images, load_image
from .onnx_export import ExportError, run_onnx, to_onnx
from .predict import Classifier, Prediction, inference_info, load_classifier, make_classifier
from .spec import SpecError, build_module, module_spec
from .torch_bridge import from_torch, to_torch
from .weights import WeightsError, load, load_model, read_metadata, save

__all__ = ["Classifier", "ExportError", "IMAGE_SUFFIXES", "ImageError", "Prediction", "SpecError", "WeightsError",
           "build_module", "find_images", "from_torch", "inference_info", "load", "load_classifier", "load_image",
           "load_model", "make_classifier", "module_spec", "read_metadata", "run_onnx", "save", "to_onnx", "to_torch"]
