"""A model named on the command line: a run folder, a checkpoint inside one, or a weights file.

``nablab export`` and ``nablab predict`` take any of the three; this is where the choice is made
(:mod:`nablab.io` reads weights files only, :mod:`nablab.lab.inference` knows run folders).
"""

from __future__ import annotations

from pathlib import Path

from ..io.predict import Classifier, make_classifier
from ..io.predict import inference_info as file_inference_info
from ..io.safetensors_file import CHECKPOINT_FORMAT, read_header
from ..io.weights import WeightsError, load_model
from .inference import run_inference_info, run_model
from .run import Run


def _run_of(path: Path):
    """``(run, checkpoint)`` for a run folder or a checkpoint in one, else None (a weights file)."""
    if path.is_dir():
        return Run(path), None
    if read_header(path)[1].get("format") == CHECKPOINT_FORMAT:
        folder = path.parent.parent
        if path.parent.name == "checkpoints" and (folder / "config.toml").is_file():
            return Run(folder), path
        raise WeightsError(f"{path} is a training checkpoint outside its run folder: it records no architecture; "
                           "load the run folder, or build the model and use model.load_state_dict(nablab.load(path))")
    return None


def load_source(source, classes=None, cast: bool = False) -> tuple:
    """``(model, inference info or None)`` of a run folder (its best weights), a checkpoint in a run
    folder, or a weights file (see :func:`nablab.io.predict.inference_info`)."""
    path = Path(source)
    found = _run_of(path)
    if found is None:
        return load_model(path, classes=classes, cast=cast), file_inference_info(path)
    run, checkpoint = found
    return run_model(run, checkpoint=checkpoint, cast=cast), run_inference_info(run)


def classifier_for(source, classes=None, input_shape=None) -> Classifier:
    """A :class:`nablab.io.Classifier` for a run folder, a checkpoint in one, or a weights file
    (``input_shape`` as in :func:`nablab.io.predict.make_classifier`)."""
    model, info = load_source(source, classes=classes)
    return make_classifier(model, info, source, input_shape)
