"""``nablab predict``: classify image files with a trained model and print the most probable classes."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    """Register ``nablab predict`` on the sub-command parsers ``sub``."""
    predict = sub.add_parser("predict", help="classify PNG/JPEG files with a trained model (top classes)",
                             description="SOURCE is a run folder or a weights file; IMAGE a file or a folder "
                                         "(every image in it). Images are prepared as the training images were: "
                                         "grey or RGB, resized to the data set's size, inverted if a grey image "
                                         "has a light background, normalised with the training statistics.")
    predict.add_argument("source", metavar="RUN_DIR_or_weights")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--top", type=int, default=3, help="how many classes to print per image (default 3)")
    predict.add_argument("--invert", choices=["auto", "always", "never"], default="auto",
                         help="invert grey images: auto (if the background is light), always or never")
    predict.add_argument("--input-shape", type=image_shape, default=None, metavar="C,H,W",
                         help="the model's image size, for a weights file that does not record it "
                              "(default: the run's data, else guessed from the model)")
    predict.set_defaults(func=run)


def image_shape(text: str) -> tuple[int, int, int]:
    """``--input-shape C,H,W`` as a tuple of three positive sizes (C is 1 or 3)."""
    import argparse

    try:
        shape = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--input-shape takes C,H,W like 1,28,28, got {text!r}") from None
    if len(shape) != 3 or shape[0] not in (1, 3) or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"--input-shape takes C,H,W with C 1 (grey) or 3 (RGB) and positive sizes, "
                                         f"got {text!r}")
    return shape


def run(args) -> int:
    """Run ``nablab predict`` with the parsed ``args``; returns the exit status."""
    from pathlib import Path

    from ..lab.model_source import classifier_for
    from .errors import UsageError

    if args.top < 1:
        raise UsageError(f"--top must be at least 1, got {args.top}")
    runs = [image for image in args.images if (Path(image) / "config.toml").is_file()]
    if runs:  # a pattern like runs/digits-* that matched several run folders: never classify a run's plots
        raise UsageError(f"{', '.join(runs)}: a run folder where images were expected; predict takes one run "
                         f"folder or weights file ({args.source}), then images")
    classifier = classifier_for(args.source, input_shape=args.input_shape)
    for note in classifier.notes:
        print(f"note: {note}", file=sys.stderr)
    invert = {"auto": "auto", "always": True, "never": False}[args.invert]
    predictions, failures = classifier.classify_files(args.images, k=args.top, invert=invert)
    for prediction in predictions:
        print(f"{prediction.path}: " + ", ".join(f"{name} ({p:.3f})" for name, p in prediction.top))
    for _, reason in failures:  # the reason names the file
        print(f"nablab: cannot classify {reason}", file=sys.stderr)
    return 1 if failures else 0
