"""``nablab.viz.graph``: one node per tensor and per op, edges in data-flow order, the labels a
student reads (shapes, dtypes, parameter names, gradient norms), and SVG/PNG files that render."""

import re
import shutil

import numpy as np
import pytest

pytest.importorskip("graphviz")

import nablab  # noqa: E402
import nablab.nn.functional as F  # noqa: E402
from nablab import nn  # noqa: E402
from nablab.viz import graph, save_graph  # noqa: E402

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed (apt install graphviz)")


def _labels(dot) -> dict[str, str]:
    """node id → its label, from the DOT source."""
    found = {}
    for m in re.finditer(r'^\t(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|(\S+?)) ', dot.source, re.M | re.S):
        found[m[1]] = m[2] if m[2] is not None else m[3]
    return found


def _edges(dot) -> list[tuple[str, str]]:
    return re.findall(r"^\t(\w+) -> (\w+)", dot.source, re.M)


def _mlp_loss():
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    loss = F.cross_entropy(model(nablab.randn(5, 4)), nablab.tensor([0, 1, 0, 1, 1]))
    return model, loss


def test_one_node_per_tensor_and_op_with_edges_from_inputs_to_outputs():
    model, loss = _mlp_loss()
    dot = graph(loss, params=dict(model.named_parameters()))
    labels, edges = _labels(dot), _edges(dot)
    ops = {k: v for k, v in labels.items() if k.startswith("f")}
    assert sorted(ops.values()) == ["Linear", "Linear", "SoftmaxCrossEntropy", "Tanh"]
    tensors = {k: v for k, v in labels.items() if k.startswith("t")}
    assert len(tensors) == 9  # x, 4 parameters, 3 intermediates, the loss
    by_label = {v.split("\n")[0]: k for k, v in tensors.items()}
    first_linear = next(k for k, v in ops.items() if v == "Linear" and (by_label["0.weight"], k) in edges)
    assert (by_label["0.bias"], first_linear) in edges  # parameter → op
    tanh = next(k for k, v in ops.items() if v == "Tanh")
    hidden = next(tail for tail, head in edges if head == tanh)
    assert (first_linear, hidden) in edges  # op → its output → the next op
    assert tensors[hidden] == "(5, 3) float32"
    loss_node = next(head for tail, head in edges if labels[tail] == "SoftmaxCrossEntropy")
    assert tensors[loss_node] == "() float32"
    assert not any(tail == loss_node for tail, _ in edges)  # nothing consumes the loss
    assert len(edges) == len(set(edges)) == 12


def test_labels_name_parameters_give_dtypes_and_gradient_norms_only_when_asked():
    w = nablab.tensor([[1.0, -2.0, 0.5]], dtype="float64", requires_grad=True)
    y = (w.tanh() * w).sum()
    y.backward(retain_graph=True)
    plain = _labels(graph(y, params={"w": w}))
    assert "w\n(1, 3) float64" in plain.values()
    assert not any("grad" in v for v in plain.values())
    with_norms = _labels(graph(y, grad_norms=True, params={"w": w}))
    expected = np.linalg.norm(w.grad.numpy())
    [label] = [v for v in with_norms.values() if v.startswith("w\n")]
    assert label == f"w\n(1, 3) float64\n‖grad‖ {expected:.3g}"
    assert sum("grad" in v for v in with_norms.values()) == 1  # the non-leaves keep no gradient


def test_a_retained_intermediate_gradient_is_shown():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    labels = _labels(graph(y, grad_norms=True))
    assert f"(2,) float32\n‖grad‖ {np.linalg.norm(h.grad.numpy()):.3g}" in labels.values()


def test_colours_tell_parameters_other_leaves_constants_and_the_root_apart():
    model, loss = _mlp_loss()
    source = graph(loss, params=dict(model.named_parameters())).source
    assert len(re.findall(r'fillcolor="#cfe2f3"', source)) == 4  # the named parameters
    assert len(re.findall(r'fillcolor="#eeeeee"', source)) == 1  # the input batch, a constant
    assert len(re.findall(r"peripheries=2", source)) == 1
    free = nablab.tensor([1.0], requires_grad=True)
    assert 'fillcolor="#d9ead3"' in graph((free * 2).sum()).source  # an unnamed leaf that wants a gradient


def test_a_long_chain_draws_without_recursion():
    x = nablab.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    dot = graph(y.sum())
    assert sum(1 for k in _labels(dot) if k.startswith("f")) == 3001
    assert len(_edges(dot)) == 2 * 3001 + 3000  # op → output, and x, the constant 1.0 and each output into its op


def test_a_tensor_changed_in_place_does_not_close_a_cycle():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.add_(1.0)
    dot = graph((h * h).sum())
    edges = _edges(dot)
    order, graph_of = [], {}
    for tail, head in edges:
        graph_of.setdefault(tail, []).append(head)
    indegree = {n: 0 for n in _labels(dot)}
    for _, head in edges:
        indegree[head] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    while ready:
        n = ready.pop()
        order.append(n)
        for m in graph_of.get(n, []):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    assert len(order) == len(indegree), "the picture has a cycle"


def test_a_leaf_is_one_node():
    dot = graph(nablab.zeros(2, 3))
    assert list(_labels(dot).values()) == ["(2, 3) float32"] and not _edges(dot)


def test_a_freed_graph_and_bad_arguments_say_what_to_do():
    x = nablab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        graph(y)
    with pytest.raises(TypeError, match="nablab Tensor"):
        graph(np.zeros(3))
    with pytest.raises(ValueError, match="rankdir"):
        graph(x, rankdir="up")
    with pytest.raises(TypeError, match="named_parameters"):
        graph(x, params={"w": np.zeros(2)})
    with pytest.raises(ValueError, match="svg, png, pdf"):
        save_graph(x, "graph.jpg")


@needs_dot
@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_svg_and_png_render_atomically(tmp_path, suffix):
    model, loss = _mlp_loss()
    path = save_graph(loss, tmp_path / f"graph.{suffix}", params=dict(model.named_parameters()), rankdir="LR")
    data = path.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    else:
        text = data.decode()
        assert "<svg" in text and "SoftmaxCrossEntropy" in text and "0.weight" in text
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left beside it


@needs_dot
def test_the_format_argument_wins_over_the_suffix(tmp_path):
    path = save_graph(nablab.ones(2), tmp_path / "picture", format="svg")
    assert path.read_text().lstrip().startswith("<?xml")
