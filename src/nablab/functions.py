"""Free functions over tensors, as ``torch.exp``, ``torch.cat`` and friends: ``nablab.exp(x)``.

They live by area (:mod:`nablab.math_functions`, :mod:`nablab.shape_functions`,
:mod:`nablab.composite_functions`); this module gathers them, and ``nablab`` exports every name of
its ``__all__``.
"""

from .composite_functions import *  # noqa: F403
from .composite_functions import __all__ as _composite_names
from .math_functions import *  # noqa: F403
from .math_functions import __all__ as _math_names
from .shape_functions import *  # noqa: F403
from .shape_functions import __all__ as _shape_names

__all__ = sorted(set(_math_names) | set(_shape_names) | set(_composite_names))
