"""The computation graph behind a tensor as a Graphviz picture: the demo of micrograd and DeZero.

Every tensor is an oval (its shape and dtype; the parameter's name where ``params`` names it; its
gradient norm ‖dL/dt‖₂ on request, where ``.grad`` holds one), every op a box (its class: the op
of :mod:`nablab.ops`, and the faster kernel that ran where one did), and the edges follow the
data: input → op → output. The walk is iterative (an explicit stack), so a graph of any depth
draws. Leaves that require a gradient are green (blue when they are named parameters), constants
grey, the tensor drawn from has a double border.

The graph must still hold its nodes: draw it before ``backward()``, or after
``backward(retain_graph=True)`` to see the gradients (a plain ``backward()`` frees the nodes).
"""

from __future__ import annotations

import math
from pathlib import Path

from ..atomic import atomic_path
from ..tensor import Tensor

#: what ``save_graph`` writes, by ``format`` (and the file suffix when no format is given)
FORMATS = ("svg", "png", "pdf")

_PARAMETER, _LEAF, _CONSTANT, _VALUE, _OP = "#cfe2f3", "#d9ead3", "#eeeeee", "#ffffff", "#fff2cc"


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError("graph pictures need the graphviz package: pip install 'nablab[lab]'") from None
    return graphviz


def _norm(array) -> float:
    """‖a‖₂, summed in float64."""
    a = array.astype("float64")
    return math.sqrt(float((a * a).sum()))


def _tensor_label(t: Tensor, name: str | None, grad_norms: bool) -> str:
    lines = [name] if name else []
    lines.append(f"{tuple(t.data.shape)} {t.data.dtype}")
    if grad_norms and t.grad is not None:
        lines.append(f"‖grad‖ {_norm(t.grad.data):.3g}")
    return "\n".join(lines)


def _tensor_style(t: Tensor, creator, name: str | None) -> dict:
    if creator is not None:
        fill = _VALUE
    elif not t.requires_grad:
        fill = _CONSTANT
    else:
        fill = _PARAMETER if name else _LEAF
    return {"shape": "ellipse", "style": "filled", "fillcolor": fill}


def _walk(root: Tensor):
    """The tensors and ops reachable from ``root``, walked iteratively from the root to the leaves.

    Returns (tensors, ops, edges): ``tensors`` lists (tensor, the node that made it then);
    ``ops`` lists the nodes; ``edges`` lists (from, to) in data-flow order, as ("t", i) for
    ``tensors[i]`` and ("f", j) for ``ops[j]``. A tensor is told apart by itself *and* the node
    that made it, so a tensor changed in place (which gets a new creator) appears once per
    history instead of closing a cycle in the picture.
    """
    tensor_index, op_index = {}, {}
    tensors, ops, edges = [], [], {}

    def tensor_node(t, creator):
        key = (id(t), id(creator))
        if key not in tensor_index:
            tensor_index[key] = ("t", len(tensors))
            tensors.append((t, creator))
        return tensor_index[key]

    def op_node(fn):
        """The node's id; a node seen for the first time is put on the stack to expand."""
        if id(fn) not in op_index:
            op_index[id(fn)] = ("f", len(ops))
            ops.append(fn)
            stack.append(fn)
        return op_index[id(fn)]

    stack = []
    root_node = tensor_node(root, root.creator)
    if root.creator is not None:
        edges[(op_node(root.creator), root_node)] = None
    while stack:
        fn = stack.pop()
        if getattr(fn, "released", False):
            raise RuntimeError(f"the graph behind this tensor was freed by backward() (at its {type(fn).__name__} "
                               "node): draw it before backward(), or call backward(retain_graph=True)")
        here = op_index[id(fn)]
        for t, creator in zip(fn.inputs, fn.input_creators):
            node = tensor_node(t, creator)
            edges[(node, here)] = None
            if creator is not None:
                edges[(op_node(creator), node)] = None
    return tensors, ops, list(edges)


def graph(tensor: Tensor, grad_norms: bool = False, params: dict | None = None, rankdir: str = "TB",
          title: str | None = None):
    """A ``graphviz.Digraph`` of the computation behind ``tensor``.

    ``grad_norms``: add ‖grad‖₂ to every tensor whose ``.grad`` is set (leaves after
    ``backward(retain_graph=True)``; non-leaves that ``retain_grad()``). ``params``: names for
    tensors, typically ``dict(model.named_parameters())``. ``rankdir``: ``"TB"`` (top to bottom)
    or ``"LR"`` (left to right). ``title``: a caption under the picture.
    Render with ``.pipe(format="svg")``, or write a file with :func:`save_graph`.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph() draws the graph behind a nablab Tensor, got {type(tensor).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be one of 'TB', 'LR', 'BT', 'RL', got {rankdir!r}")
    names = {}
    for name, p in (params or {}).items():
        if not isinstance(p, Tensor):
            raise TypeError(f"params must map names to tensors (dict(model.named_parameters())); "
                            f"{name!r} is a {type(p).__name__}")
        names.setdefault(id(p), name)
    tensors, ops, edges = _walk(tensor)
    dot = _graphviz().Digraph("computation", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                              node_attr={"fontname": "Helvetica", "fontsize": "11"},
                              edge_attr={"arrowsize": "0.7"})
    if title:
        dot.attr(label=title, labelloc="b", fontsize="12")
    for i, (t, creator) in enumerate(tensors):
        name = names.get(id(t))
        style = _tensor_style(t, creator, name)
        if i == 0:  # the tensor drawn from
            style["peripheries"] = "2"
        dot.node(f"t{i}", _tensor_label(t, name, grad_norms), **style)
    for j, fn in enumerate(ops):
        dot.node(f"f{j}", type(fn).__name__, shape="box", style="filled,rounded", fillcolor=_OP)
    for (tail_kind, tail), (head_kind, head) in edges:
        dot.edge(f"{tail_kind}{tail}", f"{head_kind}{head}")
    return dot


def save_graph(tensor: Tensor, path, format: str | None = None, **options) -> Path:
    """Draw :func:`graph` (``options`` go to it) and write it to ``path`` atomically; returns the path.

    ``format``: ``"svg"``, ``"png"`` or ``"pdf"``; by default the suffix of ``path``. Rendering
    runs Graphviz's ``dot`` program (Debian/Ubuntu: ``apt install graphviz``).
    """
    path = Path(path)
    format = format or path.suffix.lstrip(".").lower()
    if format not in FORMATS:
        raise ValueError(f"save_graph writes {', '.join(FORMATS)}; got format {format!r} (from {path.name!r}): "
                         "pass format= or name the file .svg or .png")
    dot = graph(tensor, **options)
    graphviz = _graphviz()
    try:
        data = dot.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("rendering the graph needs Graphviz's `dot` program on the PATH "
                           "(Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz)") from None
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return path
