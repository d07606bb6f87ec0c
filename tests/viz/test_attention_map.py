"""``attention_map``: one heat map per head, token labels on both axes (whitespace made visible),
one row per layer for a list of layers, and errors that name the mismatched sizes."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import nablab  # noqa: E402
from nablab.errors import ShapeError  # noqa: E402
from nablab.models import TinyGPT  # noqa: E402
from nablab.viz import attention  # noqa: E402


@pytest.fixture
def figures(monkeypatch):
    kept = []
    monkeypatch.setattr(attention, "save_png", lambda fig, path: kept.append(fig))
    return kept


def _causal(heads, t, seed=0):
    scores = np.random.default_rng(seed).standard_normal((heads, t, t))
    scores[:, np.triu_indices(t, 1)[0], np.triu_indices(t, 1)[1]] = -np.inf
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _maps(fig):
    return [ax for ax in fig.axes if ax.images]


def test_one_panel_per_head_with_the_tokens_on_the_axes(figures, tmp_path):
    weights = _causal(6, 5)
    attention.attention_map(weights, list("a b\nc"), None, tmp_path / "a.png")
    [fig] = figures
    panels = _maps(fig)
    assert [ax.get_title() for ax in panels] == [f"head {h}" for h in range(6)]
    assert sum(1 for ax in fig.axes if not ax.axison) == 2  # 6 heads in rows of 4: two empty slots
    ax = panels[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "␣", "b", "↵", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "␣", "b", "↵", "c"]
    np.testing.assert_allclose(ax.images[0].get_array(), weights[0])
    assert ax.images[0].get_clim() == (0.0, pytest.approx(weights.max()))


def test_cross_attention_with_a_batch_index_and_a_tensor(figures, tmp_path):
    weights = np.random.default_rng(1).random((2, 1, 3, 4))
    attention.attention_map(nablab.tensor(weights), ["x", "y", "z"], ["k1", "k2", "k3", "k4"], tmp_path / "a.png",
                            batch=1)
    [ax] = _maps(figures[0])
    np.testing.assert_allclose(ax.images[0].get_array(), weights[1, 0], rtol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["k1", "k2", "k3", "k4"]


def test_a_list_of_layers_is_one_row_of_heads_per_layer_from_tinygpt(figures, tmp_path):
    nablab.manual_seed(0)
    model = TinyGPT(vocab_size=5, block_size=8, n_layer=2, n_head=3, n_embd=12)
    ids = np.array([[0, 1, 2, 3, 4, 0]])
    maps = model.attention_maps(ids)
    attention.attention_map(maps, list("abcdea"), None, tmp_path / "a.png", layer_names=["block 0", "block 1"])
    panels = _maps(figures[0])
    assert [ax.get_title() for ax in panels] == [f"block {b}, head {h}" for b in (0, 1) for h in range(3)]
    assert np.allclose(np.triu(panels[4].images[0].get_array(), 1), 0)  # causal: no weight on later keys
    assert (tmp_path / "a.png").exists() is False  # kept, not written, by the fixture


def test_long_sequences_get_thinned_labels(figures, tmp_path):
    attention.attention_map(_causal(1, 100), ["c"] * 100, None, tmp_path / "a.png")
    [ax] = _maps(figures[0])
    assert 30 <= len(ax.get_xticklabels()) <= 50


def test_the_png_is_written(tmp_path):
    attention.attention_map(_causal(2, 4), list("abcd"), None, tmp_path / "a.png", title="two heads")
    assert (tmp_path / "a.png").read_bytes().startswith(b"\x89PNG")


def test_mismatches_name_the_sizes(tmp_path):
    with pytest.raises(ShapeError, match="4 queries × 4 keys, but 3 query and 3 key tokens"):
        attention.attention_map(_causal(2, 4), list("abc"), None, tmp_path / "a.png")
    with pytest.raises(ShapeError, match="of layer 1"):
        attention.attention_map([_causal(2, 3), _causal(2, 4)], list("abc"), None, tmp_path / "a.png")
    with pytest.raises(ShapeError, match=r"\(queries, keys\)"):
        attention.attention_map(np.zeros(3), list("abc"), None, tmp_path / "a.png")
    with pytest.raises(IndexError, match="batch 2"):
        attention.attention_map(np.zeros((2, 1, 3, 3)), list("abc"), None, tmp_path / "a.png", batch=2)
    with pytest.raises(ValueError, match="layer_names has 1 names for 2 layers"):
        attention.attention_map([_causal(1, 3)] * 2, list("abc"), None, tmp_path / "a.png", layer_names=["x"])
    assert not list(tmp_path.iterdir())
