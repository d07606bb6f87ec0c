"""How a tensor prints, as PyTorch prints it, and ``nablab.set_printoptions``.

PyTorch's rules, kept here: floating values with 4 decimals (``0.1000``), all of them as whole
numbers when every finite value is one (``tensor([1., 2.])``); scientific notation when the
values span more than three orders of magnitude or leave [1e-4, 1e8); more than 1000 elements
summarised by 3 at each edge (`` ...`` between them); lines of 80 characters; ``dtype=`` shown
only where the dtype is not the one the values would get by default (float32, int64, bool);
``grad_fn=<…>`` for a result of the graph, ``requires_grad=True`` for a leaf that requires grad.
"""

from __future__ import annotations

import numpy as np

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": np.inf, "edgeitems": 3, "linewidth": 80},
}
_options = {**_PROFILES["default"], "sci_mode": None}
#: dtypes a tensor's repr leaves unnamed: those that data gets when no dtype is given
_IMPLIED = (np.dtype("float32"), np.dtype("int64"), np.dtype("bool"))


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """PyTorch's print options: ``profile`` ("default", "short", "full") first, then each option
    given; ``sci_mode`` True or False forces scientific notation on or off, None decides by the values."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _options.update(_PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems, "linewidth": linewidth}
    _options.update({k: v for k, v in given.items() if v is not None})
    _options["sci_mode"] = sci_mode


def format_values(array: np.ndarray, prefix: str) -> str:
    """The values of a host array as PyTorch prints them, lines continued under ``prefix``."""
    kwargs = {"precision": _options["precision"], "threshold": _options["threshold"],
              "edgeitems": _options["edgeitems"], "max_line_width": _options["linewidth"]}
    if array.dtype.kind == "f":
        finite = array[np.isfinite(array)]
        sizes = np.abs(finite[finite != 0])
        wide = sizes.size > 0 and (sizes.max() / sizes.min() > 1000 or sizes.max() > 1e8)
        whole = bool(np.all(finite == np.round(finite))) and not wide
        kwargs["floatmode"] = "maxprec" if whole else "fixed"
        if _options["sci_mode"] is True:
            precision = _options["precision"]
            kwargs["formatter"] = {"float_kind": lambda v: np.format_float_scientific(v, precision, unique=False)}
        elif _options["sci_mode"] is False:
            kwargs["suppress_small"] = True
    text = np.array2string(array, separator=", ", prefix=prefix, **kwargs)
    return text.replace(", ...,", ",  ...,")  # PyTorch's summary mark is " ..." between separators


def tensor_repr(t) -> str:
    """``tensor([...], dtype=..., grad_fn=<...>)``."""
    extra = ""
    if t.data.dtype not in _IMPLIED:
        extra += f", dtype={t.data.dtype}"
    if t.creator is not None:
        extra += f", grad_fn=<{t.creator.name()}>"
    elif t.requires_grad:
        extra += ", requires_grad=True"
    return f"tensor({format_values(t.numpy(), 'tensor(')}{extra})"


__all__ = ["set_printoptions"]
