"""Layers and models: ``nablab.nn`` mirrors ``torch.nn``.

Each module below defines one family of layers and lists its public names in ``__all__``; this
package exports them all (``nablab.nn.Conv2d``, ``nablab.nn.CrossEntropyLoss``, ...).
"""

from . import (
    activation,
    attention,
    batchnorm,
    container,
    conv,
    dropout,
    flatten,
    functional,
    init,
    linear,
    loss,
    modes,
    module,
    normalization,
    padding,
    parameter,
    pooling,
    position,
    rnn,
    sparse,
    transformer,
    upsampling,
    utils,
)
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .batchnorm import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .modes import *  # noqa: F403
from .module import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .parameter import *  # noqa: F403
from .pooling import *  # noqa: F403
from .position import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403
from .upsampling import *  # noqa: F403
from .utils import *  # noqa: F403

__all__ = ["functional", "init", "utils"]
for _family in (activation, attention, batchnorm, container, conv, dropout, flatten, linear, loss, modes, module,
                normalization, padding, parameter, pooling, position, rnn, sparse, transformer, upsampling, utils):
    __all__ += _family.__all__
