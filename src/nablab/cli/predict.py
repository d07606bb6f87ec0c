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
    predict.set_defaults(func=run)


def run(args) -> int:
    """Run ``nablab predict`` with the parsed ``args``; returns the exit status."""
    from ..io import SpecError, WeightsError, load_classifier

    if args.top < 1:
        raise SystemExit("nablab: --top must be at least 1")
    try:
        classifier = load_classifier(args.source)
    except (WeightsError, SpecError, FileNotFoundError) as exc:
        raise SystemExit(f"nablab: {exc}") from None
    for note in classifier.notes:
        print(f"note: {note}", file=sys.stderr)
    invert = {"auto": "auto", "always": True, "never": False}[args.invert]
    predictions, failures = classifier.classify_files(args.images, k=args.top, invert=invert)
    for prediction in predictions:
        print(f"{prediction.path}: " + ", ".join(f"{name} ({p:.3f})" for name, p in prediction.top))
    for _, reason in failures:  # the reason names the file
        print(f"nablab: cannot classify {reason}", file=sys.stderr)
    return 1 if failures else 0
