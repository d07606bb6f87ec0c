"""Sequences of different lengths (``nablab.nn.utils.rnn`` mirrors ``torch.nn.utils.rnn``):
:func:`pad_sequence` joins them into one padded batch. Packed sequences (``pack_padded_sequence``
and the rest) are not implemented: pad, and mask the padded steps.
"""

from __future__ import annotations

from ...errors import ShapeError
from ...shape_functions import stack
from .. import functional as F


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Sequences of lengths L_i (each (L_i, *) with the same trailing shape) as one tensor
    (L_max, B, *) — (B, L_max, *) with ``batch_first`` — padded with ``padding_value`` after each
    sequence (before it with ``padding_side='left'``), as ``torch.nn.utils.rnn.pad_sequence``.
    Differentiable: the gradient of each sequence is its part of the result's."""
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    trailing = tuple(sequences[0].shape[1:])
    for i, seq in enumerate(sequences):
        if seq.ndim == 0 or tuple(seq.shape[1:]) != trailing:
            raise ShapeError(f"pad_sequence: every sequence must be (L_i, {', '.join(map(str, trailing))}) like the "
                             f"first, got {tuple(seq.shape)} for sequence {i}")
    longest = max(seq.shape[0] for seq in sequences)
    padded = []
    for seq in sequences:
        missing = longest - seq.shape[0]
        sides = (missing, 0) if padding_side == "left" else (0, missing)
        padded.append(F.pad(seq, (0, 0) * len(trailing) + sides, value=padding_value) if missing else seq)
    return stack(padded, dim=0 if batch_first else 1)


__all__ = ["pad_sequence"]
