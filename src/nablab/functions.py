"""Free functions over tensors, as ``torch.exp``, ``torch.cat`` and friends: ``nablab.exp(x)``.

They live by area (:mod:`nablab.math_functions`, :mod:`nablab.shape_functions`,
:mod:`nablab.composite_functions`, :mod:`nablab.sampling`); this module gathers them, each taking
PyTorch's ``out=`` as well (:func:`nablab.tensor_inplace.write_out`), and ``nablab`` exports every
name of its ``__all__``.
"""

import functools

from . import composite_functions, math_functions, sampling, shape_functions
from .tensor_inplace import write_out


def _with_out(function):
    """``function`` that also takes ``out=``: the result written into that tensor (or tuple of them)."""
    @functools.wraps(function)
    def with_out(*args, out=None, **kwargs):
        result = function(*args, **kwargs)
        return result if out is None else write_out(result, out, function.__name__)

    return with_out


__all__ = sorted(set(math_functions.__all__) | set(shape_functions.__all__) | set(composite_functions.__all__)
                 | set(sampling.__all__))
for _module in (math_functions, shape_functions, composite_functions, sampling):
    for _name in _module.__all__:
        globals()[_name] = _with_out(getattr(_module, _name))
del _module, _name
