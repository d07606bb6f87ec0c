"""Fixtures every test folder may use."""

import pytest


def _node_types(*outputs):
    """The Function classes of every node of the outputs' graphs (walked with a stack: no recursion)."""
    seen, stack = set(), [o.creator for o in outputs]
    while stack:
        fn = stack.pop()
        if fn is not None and fn not in seen:
            seen.add(fn)
            stack.extend(t.creator for t in fn.inputs)
    return {type(fn) for fn in seen}


@pytest.fixture
def node_types():
    """``node_types(*outputs)``: the set of Function classes in the outputs' graphs (call it before
    backward, which frees the graph)."""
    return _node_types
