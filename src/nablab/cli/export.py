"""``nablab export``: a trained model as an ONNX graph and/or a self-contained safetensors file."""

from __future__ import annotations

import argparse

from ..io.onnx_export import DEFAULT_OPSET

#: onnxruntime's outputs may differ from nablab's by this much, relative to the outputs' scale:
#: max |onnxruntime − nablab| ≤ RTOL · max(1, max |nablab|)
RTOL = 1e-5


def add_parser(sub) -> None:
    """Register ``nablab export`` on the sub-command parsers ``sub``."""
    export = sub.add_parser("export", help="write a trained model as ONNX (checked in onnxruntime) or safetensors",
                            description="SOURCE is a run folder (its best weights) or a weights file written by "
                                        "nablab.save or nablab export --safetensors.")
    export.add_argument("source", metavar="RUN_DIR_or_weights")
    export.add_argument("more_sources", nargs="*", help=argparse.SUPPRESS)  # a pattern that matched several: an error
    export.add_argument("--onnx", metavar="PATH", default=None, help="write an ONNX graph here")
    export.add_argument("--safetensors", metavar="PATH", default=None,
                        help="write the weights here, with the class names and preprocessing `nablab predict` needs")
    export.add_argument("--input-shape", type=_shape, default=None, metavar="C,H,W",
                        help="the input's shape without the batch axis (default: the run's data, else guessed)")
    export.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                        help=f"ONNX opset ({DEFAULT_OPSET} or newer; default {DEFAULT_OPSET})")
    export.add_argument("--no-check", action="store_true",
                        help="do not compare onnxruntime's outputs with nablab's (else they must agree to "
                             f"{RTOL:.0e} × max(1, max |output|))")
    export.set_defaults(func=run)


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--input-shape takes sizes like 3,32,32, got {text!r}") from None
    if not shape or any(s < 1 for s in shape):
        raise argparse.ArgumentTypeError(f"--input-shape takes positive sizes, got {text!r}")
    return shape


def _check(model, path, example) -> tuple[float, float]:
    """``(largest |onnxruntime − nablab|, largest |nablab|)`` on ``example`` (the model in evaluation mode)."""
    import numpy as np

    from ..grad_mode import no_grad
    from ..io import run_onnx
    from ..nn.modes import evaluating
    from ..tensor import Tensor

    with evaluating(model), no_grad():
        expected = model(Tensor._make(example)).numpy()
    return float(np.abs(run_onnx(path, example) - expected).max()), float(np.abs(expected).max())


def run(args) -> int:
    """Run ``nablab export`` with the parsed ``args``; returns the exit status."""
    import json

    import numpy as np

    from .. import __version__
    from ..io import save, to_onnx
    from ..io.onnx_export import export_input_shape
    from ..io.predict import info_to_json
    from ..lab.model_source import load_source
    from .errors import UsageError

    if args.more_sources:  # a pattern like runs/digits-* that matched several folders
        sources = [args.source, *args.more_sources]
        raise UsageError(f"export takes one run folder or weights file, got {len(sources)}: "
                         f"{', '.join(sources)} (name one; `nablab train --name NAME` makes runs/NAME-<timestamp>)")
    if not (args.onnx or args.safetensors):
        raise UsageError("nothing to write: give --onnx PATH and/or --safetensors PATH")
    model, info = load_source(args.source)
    if args.safetensors:
        save(model, args.safetensors, inference=info_to_json(info) if info else None)
        print(f"wrote {args.safetensors} ({type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} "
              f"parameters{', with its classes and preprocessing' if info else ''})")
    if not args.onnx:
        return 0
    shape = args.input_shape or export_input_shape(model, info)  # else a WeightsError asking for --input-shape
    dtype = next(model.parameters()).dtype if any(True for _ in model.parameters()) else np.float32
    example = np.random.default_rng(0).standard_normal((4, *shape)).astype(dtype)
    metadata = {"nablab": __version__, "source": str(args.source)}
    if info:
        metadata.update(classes=json.dumps(info["classes"]), inference=json.dumps(info_to_json(info)))
    to_onnx(model, example[:1], args.onnx, opset=args.opset, metadata=metadata)
    print(f"wrote {args.onnx} (ONNX opset {args.opset}, input 'input' of shape N×{'×'.join(map(str, shape))}, "
          f"output 'output'; passes onnx.checker)")
    if args.no_check:
        return 0
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("onnxruntime is not installed: outputs not compared (pip install onnxruntime)")
        return 0
    difference, scale = _check(model, args.onnx, example)
    tolerance = RTOL * max(1.0, scale)
    print(f"onnxruntime on {len(example)} random inputs: max |difference| from nablab {difference:.1e} "
          f"(allowed: {RTOL:.0e} × max(1, max |output|) = {tolerance:.1e})")
    if not difference <= tolerance:
        print(f"nablab: error: onnxruntime's outputs differ from nablab's by {difference:.1e}, more than "
              f"{tolerance:.1e}")  # on stdout, after the figures it compares
        return 1
    return 0
