"""Gradient, parameter and sequence utilities: ``nablab.nn.utils`` mirrors ``torch.nn.utils``
(:mod:`.clip_grad`: gradient norms and clipping, parameters as one vector; :mod:`.rnn`: padding
sequences of different lengths)."""

from . import clip_grad, rnn  # noqa: F401  (nn.utils.rnn.pad_sequence, as torch's)
from .clip_grad import (  # noqa: F401  (nn.utils.clip_grad_value_, ..., as torch's)
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

#: exported by ``nablab.nn`` as well (nablab's earlier spelling ``nn.clip_grad_norm_``); the rest as ``nn.utils.*``
__all__ = ["clip_grad_norm_"]
