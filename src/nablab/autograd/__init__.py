"""``nablab.autograd``, as ``torch.autograd``: custom differentiable functions (:class:`Function`
with ``ctx.save_for_backward``) and gradients without touching ``.grad`` (:func:`grad`,
:func:`backward`). The engine itself is :mod:`nablab.function`."""

from ..grad_mode import enable_grad, no_grad, set_grad_enabled
from .custom_function import Function, FunctionCtx
from .gradients import backward, grad

__all__ = ["Function", "FunctionCtx", "backward", "enable_grad", "grad", "no_grad", "set_grad_enabled"]
