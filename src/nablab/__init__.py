"""nablab: a readable deep-learning framework on NumPy.

The public API mirrors PyTorch's so that habits carry over::

    import nablab
    from nablab import nn, optim
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from . import accelerator, autograd, cuda, functions, gradcheck, io, kernels, linalg, nn, ops, optim, return_types
from .creation import *  # noqa: F403  (zeros, full, arange, randn, ...)
from .creation import __all__ as _creation_names
from .device import device, get_default_device, set_default_device
from .dtype_names import *  # noqa: F403  (nablab.float32, nablab.long, ...)
from .dtype_names import __all__ as _dtype_names
from .functions import *  # noqa: F403  (every free function: nablab.exp, nablab.cat, ...)
from .functions import __all__ as _function_names
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .io.weights import load, save
from .kernels import cpu as _cpu_kernels  # noqa: F401  (registers the CPU kernels for the ops)
from .kernels.cpu.threads import get_num_threads, set_num_threads
from .nn.functional import log_softmax, softmax
from .printing import set_printoptions
from .queries import *  # noqa: F403  (is_tensor, numel, equal, result_type, ...)
from .queries import __all__ as _query_names
from .random import Generator, manual_seed
from .size import Size
from .tensor import Tensor, tensor
from .version import __version__  # noqa: F401  (nablab.__version__)

#: packages imported on first use, so ``import nablab`` stays light: ``nablab.models.TwoLayerNet``
#: works without ``import nablab.models`` first (they are not in ``__all__``: ``import *`` leaves them)
_LAZY_PACKAGES = ("data", "lab", "models", "utils", "viz")


def __getattr__(name):
    if name in _LAZY_PACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nablab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_PACKAGES))


__all__ = [
    "Generator", "Size", "Tensor", "accelerator", "autograd", "cuda", "device", "enable_grad", "functions",
    "get_default_device", "get_num_threads", "gradcheck", "inference_mode", "io", "is_grad_enabled", "kernels",
    "linalg", "load", "log_softmax", "manual_seed", "nn", "no_grad", "ops", "optim", "return_types", "save",
    "set_default_device", "set_printoptions", "set_grad_enabled", "set_num_threads", "softmax", "tensor",
]
__all__ += _function_names + _dtype_names + _creation_names + _query_names
