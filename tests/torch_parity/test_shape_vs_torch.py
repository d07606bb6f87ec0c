"""Shape moves, indexing, gather/scatter and products against PyTorch: one table of cases.

Each case runs one expression in nablab and the same expression in PyTorch on identical inputs
(float64 and float32), and compares every output (shape, dtype, values) and, after back-propagating
a random dL/dy through both, every input gradient (shape, dtype, values). Cases that give several
tensors (split, meshgrid) compare each. Shapes include 0-d and size-1 dims; dims are often negative.

Tolerances: 1e-10 in float64; PyTorch's own op-test tolerances in float32 (rtol 1.3e-6, atol 1e-5).
A second table checks the errors: the exception type and that the message names the culprit.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab.errors import DimError, ShapeError  # noqa: E402

# torch warns about x.T on 1-D tensors and list indices holding tensors (its legacy rule, followed here)
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:.*(x.T|non-tuple sequence).*:UserWarning")]

TOL = {np.float64: (1e-10, 1e-10), np.float32: (1.3e-6, 1e-5)}
TORCH_DTYPE = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
               np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32, np.dtype(bool): torch.bool}
DTYPES = [pytest.param(np.float64, id="f64"), pytest.param(np.float32, id="f32")]


# --------------------------------------------------------------------------- inputs and the comparison
def make_input(spec, dtype, rng):
    """An input array: ``shape`` (normal values in the case's dtype), ``(shape, kind)`` with kind
    'distinct' (no ties), 'pos' (in [0.5, 2]), 'f64'/'f32' (that dtype, for promotion), or an array."""
    if isinstance(spec, np.ndarray):
        return spec
    shape, kind = spec if len(spec) == 2 and isinstance(spec[1], str) else (spec, "normal")
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.25 - n * 0.1).reshape(shape).astype(dtype)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape).astype(dtype)
    values = rng.standard_normal(shape)
    return values.astype({"f64": np.float64, "f32": np.float32}.get(kind, dtype))


def _outputs(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def check_parity(nb_fn, torch_fn, specs, dtype):
    rng = np.random.default_rng(0)
    arrays = [make_input(s, dtype, rng) for s in specs]
    xs = [nablab.tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ys, yts = _outputs(nb_fn(*xs)), _outputs(torch_fn(*ts))
    assert len(ys) == len(yts), f"{len(ys)} outputs, torch gives {len(yts)}"
    rtol, atol = TOL[dtype]
    loss = loss_t = None
    for k, (y, yt) in enumerate(zip(ys, yts)):
        assert tuple(y.shape) == tuple(yt.shape), f"output {k}: shape {tuple(y.shape)}, torch {tuple(yt.shape)}"
        assert TORCH_DTYPE[np.dtype(y.dtype)] == yt.dtype, f"output {k}: dtype {y.dtype}, torch {yt.dtype}"
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"output {k}")
        if yt.requires_grad:
            g = rng.standard_normal(tuple(y.shape)).astype(y.dtype)
            term, term_t = (y * nablab.tensor(g, dtype=g.dtype)).sum(), (yt * torch.from_numpy(g)).sum()
            loss, loss_t = (term, term_t) if loss is None else (loss + term, loss_t + term_t)
    if loss_t is None:
        return
    loss.backward()
    loss_t.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {i} got a gradient torch has not"
            continue
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.dtype == x.dtype, f"input {i}: gradient dtype {x.grad.dtype}, input dtype {x.dtype}"
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"gradient {i}")


def case(name, nb_fn, torch_fn, *specs):
    return pytest.param(nb_fn, torch_fn, specs, id=name)


def same(name, fn, *specs):
    """A case whose expression reads the same in both frameworks (``lambda x: x.flip(0)``)."""
    return case(name, fn, fn, *specs)


def _index(values):
    """The same integer index for both frameworks: a NumPy array nablab takes, a tensor for torch."""
    return np.asarray(values, dtype=np.int64), torch.tensor(values, dtype=torch.int64)


I2, I2_T = _index([0, 2])
IDX, IDX_T = _index([[0, 2, 1, 0], [2, 1, 0, 0]])      # gather/scatter_add on (3, 4): repeats positions
PERM, PERM_T = _index([[1, 0, 2, 3], [2, 1, 0, 1]])    # scatter: distinct rows in each column
MASK = np.random.default_rng(3).random((3, 4)) > 0.5
MASK_T = torch.from_numpy(MASK)


# --------------------------------------------------------------------------- shape moves
MOVES = [
    same("transpose_2d", lambda a: a.transpose(0, 1), (3, 4)),
    same("transpose_neg_dims", lambda a: a.transpose(-1, 0), (2, 3, 4)),
    same("transpose_same_dim", lambda a: a.transpose(1, -2), (2, 3, 4)),
    same("transpose_0d", lambda a: a.transpose(0, -1), ()),
    case("transpose_fn", lambda a: nablab.transpose(a, 0, 2), lambda a: torch.transpose(a, 0, 2), (2, 3, 4)),
    same("swapaxes", lambda a: a.swapaxes(0, -1), (2, 1, 4)),
    same("permute", lambda a: a.permute(2, 0, 1), (2, 3, 4)),
    same("permute_tuple_neg", lambda a: a.permute((-1, 0, 1)), (2, 3, 4)),
    case("permute_fn", lambda a: nablab.permute(a, (1, 0)), lambda a: torch.permute(a, (1, 0)), (3, 1)),
    same("T_2d", lambda a: a.T, (3, 4)),
    same("T_1d", lambda a: a.T, (3,)),
    same("mT", lambda a: a.mT, (2, 3, 4)),
    same("H", lambda a: a.H, (2, 3)),
    same("mH", lambda a: a.mH, (2, 3, 4)),
    same("t_2d", lambda a: a.t(), (3, 4)),
    same("t_1d", lambda a: a.t(), (3,)),
    same("movedim", lambda a: a.movedim(0, -1), (2, 3, 4)),
    same("movedim_tuples", lambda a: a.movedim((0, 1), (2, 0)), (2, 3, 4)),
    case("moveaxis_fn", lambda a: nablab.moveaxis(a, -1, 0), lambda a: torch.moveaxis(a, -1, 0), (2, 3, 4)),
    same("view_infer", lambda a: a.view(-1, 4), (2, 3, 4)),
    same("view_0d", lambda a: a.view(1, 1), ()),
    same("view_as", lambda a, b: a.view_as(b), (2, 6), (3, 4)),
    same("reshape_as", lambda a, b: a.reshape_as(b) * b, (2, 6), (3, 4)),
    same("flatten_0d", lambda a: a.flatten(), ()),
    same("flatten_range", lambda a: a.flatten(1, -1), (2, 3, 4)),
    same("flatten_neg_start", lambda a: a.flatten(-2), (2, 3, 4, 1)),
    case("flatten_fn", lambda a: nablab.flatten(a, 1), lambda a: torch.flatten(a, 1), (2, 3, 4)),
    same("unflatten", lambda a: a.unflatten(1, (2, -1)), (3, 6)),
    same("unflatten_neg_dim", lambda a: a.unflatten(-1, (1, 4)), (3, 4)),
    same("squeeze_all", lambda a: a.squeeze(), (1, 3, 1)),
    same("squeeze_dim", lambda a: a.squeeze(0), (1, 3, 1)),
    same("squeeze_neg_dim", lambda a: a.squeeze(-1), (1, 3, 1)),
    same("squeeze_tuple", lambda a: a.squeeze((0, 2)), (1, 3, 1)),
    same("squeeze_not_one", lambda a: a.squeeze(1), (1, 3, 1)),
    same("squeeze_0d", lambda a: a.squeeze(), ()),
    same("unsqueeze", lambda a: a.unsqueeze(1), (2, 3)),
    same("unsqueeze_neg", lambda a: a.unsqueeze(-1), (2, 3)),
    same("unsqueeze_0d", lambda a: a.unsqueeze(0), ()),
    case("unsqueeze_fn", lambda a: nablab.unsqueeze(a, -3), lambda a: torch.unsqueeze(a, -3), (2, 3)),
    same("expand", lambda a: a.expand(2, -1, 4), (3, 1)),
    same("expand_tuple", lambda a: a.expand((2, 3)), (1,)),
    same("expand_0d", lambda a: a.expand(2, 3), ()),
    same("expand_as", lambda a, b: a.expand_as(b) * b, (3, 1), (2, 3, 4)),
    same("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), (3, 1)),
    same("unsqueeze_in_place", lambda a: (a * 1.0).unsqueeze_(-1), (2, 3)),
    same("squeeze_in_place", lambda a: (a * 1.0).squeeze_(0), (1, 3)),
    same("t_in_place", lambda a: (a * 1.0).t_(), (2, 3)),
    same("transpose_in_place", lambda a: (a * 1.0).transpose_(0, -1), (2, 3, 4)),
    same("swapaxes_in_place", lambda a: (a * 1.0).swapaxes_(0, 1), (2, 3)),
    same("contiguous", lambda a: a.permute(1, 0).contiguous(), (3, 4)),
    same("contiguous_already", lambda a: a.contiguous(), (3, 4)),
]

# --------------------------------------------------------------------------- reordering and repeating
REORDER = [
    same("flip", lambda a: a.flip(0), (3, 4)),
    same("flip_dims", lambda a: a.flip((0, -1)), (2, 3, 4)),
    same("flip_varargs", lambda a: a.flip(0, 1), (2, 3)),
    same("flip_0d", lambda a: a.flip(0), ()),
    same("fliplr", lambda a: a.fliplr(), (2, 3, 4)),
    same("flipud", lambda a: a.flipud(), (3,)),
    case("flip_fn", lambda a: nablab.flip(a, (1,)), lambda a: torch.flip(a, (1,)), (2, 3)),
    same("rot90", lambda a: a.rot90(), (2, 3)),
    same("rot90_k_dims", lambda a: a.rot90(3, (-1, 0)), (2, 3, 4)),
    same("rot90_k2", lambda a: a.rot90(-2, [1, 2]), (2, 3, 4)),
    case("rot90_fn_k0", lambda a: nablab.rot90(a, 4), lambda a: torch.rot90(a, 4), (2, 3)),
    same("roll_flat", lambda a: a.roll(1), (3, 4)),
    same("roll_dim", lambda a: a.roll(-2, 0), (3, 4)),
    same("roll_dims", lambda a: a.roll((1, 2), (0, -1)), (3, 4)),
    same("roll_size1", lambda a: a.roll(3, 1), (3, 1)),
    same("roll_0d", lambda a: a.roll(1), ()),
    same("repeat", lambda a: a.repeat(2, 3), (2, 3)),
    same("repeat_new_dims", lambda a: a.repeat(2, 1, 2), (3,)),
    same("repeat_tuple", lambda a: a.repeat((1, 2)), (3, 1)),
    same("repeat_0d", lambda a: a.repeat(3), ()),
    same("tile_short", lambda a: a.tile((2,)), (2, 3)),
    case("tile_fn", lambda a: nablab.tile(a, (2, 1, 2)), lambda a: torch.tile(a, (2, 1, 2)), (2, 3)),
    same("repeat_interleave_flat", lambda a: a.repeat_interleave(2), (2, 3)),
    same("repeat_interleave_dim", lambda a: a.repeat_interleave(2, dim=0), (2, 3)),
    case("repeat_interleave_counts", lambda a: a.repeat_interleave(nablab.tensor([1, 0, 2]), dim=-1),
         lambda a: a.repeat_interleave(torch.tensor([1, 0, 2]), dim=-1), (2, 3)),
    same("repeat_interleave_0d", lambda a: a.repeat_interleave(3), ()),
]

# --------------------------------------------------------------------------- splitting, joining, selecting
JOIN = [
    same("split_size", lambda a: a.split(2, dim=1), (2, 5)),
    same("split_sections_neg", lambda a: a.split([1, 3], -1), (2, 4)),
    same("split_one_piece", lambda a: a.split(4), (3, 2)),
    case("split_fn", lambda a: nablab.split(a, 1), lambda a: torch.split(a, 1), (3, 2)),
    same("chunk", lambda a: a.chunk(3), (5, 2)),
    same("chunk_neg", lambda a: a.chunk(2, -1), (2, 3)),
    same("chunk_more_than_size", lambda a: a.chunk(4), (2, 3)),
    same("unbind", lambda a: a.unbind(1), (2, 3)),
    same("unbind_neg", lambda a: a.unbind(-1), (2, 1)),
    same("tensor_split_sections", lambda a: a.tensor_split(3), (7, 2)),
    same("tensor_split_indices_neg", lambda a: a.tensor_split([1, -2], dim=-1), (2, 7)),
    same("tensor_split_more_than_size", lambda a: a.tensor_split(4), (2,)),
    case("tensor_split_fn_tensor", lambda a: nablab.tensor_split(a, nablab.tensor([2, 3])),
         lambda a: torch.tensor_split(a, torch.tensor([2, 3])), (5,)),
    same("hsplit", lambda a: a.hsplit(2), (3, 4)),
    same("hsplit_1d_indices", lambda a: a.hsplit([1, 3]), (5,)),
    case("vsplit_fn", lambda a: nablab.vsplit(a, [1]), lambda a: torch.vsplit(a, [1]), (3, 4)),
    same("dsplit", lambda a: a.dsplit(2), (1, 2, 4)),
    same("ravel", lambda a: a.permute(1, 0).ravel(), (2, 3)),
    same("narrow", lambda a: a.narrow(1, 1, 2), (3, 4)),
    same("narrow_neg", lambda a: a.narrow(-1, -3, 2), (3, 4)),
    same("select", lambda a: a.select(0, -1), (3, 4)),
    same("select_neg_dim", lambda a: a.select(-1, 2), (3, 4)),
    same("unfold", lambda a: a.unfold(0, 2, 1), (4, 3)),
    same("unfold_neg_step", lambda a: a.unfold(-1, 3, 2), (2, 8)),
    same("unfold_0d", lambda a: a.unfold(0, 1, 1), ()),
    case("cat", lambda a, b: nablab.cat([a, b], dim=-1), lambda a, b: torch.cat([a, b], dim=-1), (2, 3), (2, 1)),
    case("cat_promotes", lambda a, b: nablab.cat([a, b]), lambda a, b: torch.cat([a, b]), ((2, 3), "f32"),
         ((1, 3), "f64")),
    case("cat_int_float", lambda a: nablab.cat([a, nablab.tensor([[1, 2]])]),
         lambda a: torch.cat([a, torch.tensor([[1, 2]])]), ((1, 2), "f32")),
    case("cat_skips_empty_1d", lambda a: nablab.cat([a, nablab.zeros(0)]),
         lambda a: torch.cat([a, torch.zeros(0)]), (2, 3)),
    case("concat", lambda a, b: nablab.concat((a, b), 1), lambda a, b: torch.concat((a, b), 1), (2, 3), (2, 2)),
    case("concatenate_axis", lambda a, b: nablab.concatenate([a, b], axis=0),
         lambda a, b: torch.concatenate([a, b], axis=0), (2, 3), (1, 3)),
    case("stack", lambda a, b: nablab.stack([a, b], dim=-1), lambda a, b: torch.stack([a, b], dim=-1),
         (2, 3), (2, 3)),
    case("stack_0d", lambda a, b: nablab.stack([a, b]), lambda a, b: torch.stack([a, b]), (), ()),
    case("stack_promotes", lambda a, b: nablab.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1),
         ((2,), "f64"), ((2,), "f32")),
    case("hstack_1d", lambda a, b: nablab.hstack([a, b]), lambda a, b: torch.hstack([a, b]), (2,), (3,)),
    case("hstack_2d", lambda a, b: nablab.hstack([a, b]), lambda a, b: torch.hstack([a, b]), (2, 1), (2, 3)),
    case("hstack_0d", lambda a, b: nablab.hstack([a, b]), lambda a, b: torch.hstack([a, b]), (), ()),
    case("vstack", lambda a, b: nablab.vstack([a, b]), lambda a, b: torch.vstack([a, b]), (3,), (2, 3)),
    case("vstack_0d", lambda a, b: nablab.vstack([a, b]), lambda a, b: torch.vstack([a, b]), (), ()),
    case("column_stack", lambda a, b, c: nablab.column_stack([a, b, c]),
         lambda a, b, c: torch.column_stack([a, b, c]), (3,), (3, 2), (3,)),
    case("dstack", lambda a, b: nablab.dstack([a, b]), lambda a, b: torch.dstack([a, b]), (2, 3), (2, 3, 2)),
    case("dstack_1d", lambda a, b: nablab.dstack((a, b)), lambda a, b: torch.dstack((a, b)), (3,), (3,)),
    case("atleast_1d", lambda a: nablab.atleast_1d(a), lambda a: torch.atleast_1d(a), ()),
    case("atleast_2d_many", lambda a, b: nablab.atleast_2d(a, b), lambda a, b: torch.atleast_2d(a, b), (), (3,)),
    case("atleast_3d_list", lambda a, b, c: nablab.atleast_3d([a, b, c]), lambda a, b, c: torch.atleast_3d([a, b, c]),
         (), (3,), (2, 3)),
    case("broadcast_tensors", lambda a, b: nablab.broadcast_tensors(a, b), lambda a, b: torch.broadcast_tensors(a, b),
         (3, 1), (4,)),
    case("meshgrid_ij", lambda a, b: nablab.meshgrid(a, b, indexing="ij"),
         lambda a, b: torch.meshgrid(a, b, indexing="ij"), (3,), (2,)),
    case("meshgrid_xy_three", lambda a, b, c: nablab.meshgrid([a, b, c], indexing="xy"),
         lambda a, b, c: torch.meshgrid([a, b, c], indexing="xy"), (3,), (2,), (4,)),
    case("meshgrid_0d", lambda a, b: nablab.meshgrid(a, b), lambda a, b: torch.meshgrid(a, b, indexing="ij"),
         (), (2,)),
]

# --------------------------------------------------------------------------- diagonals
DIAGONALS = [
    same("tril", lambda a: a.tril(), (3, 4)),
    same("trace", lambda a: a.trace(), (3, 4)),
    case("trace_fn", lambda a: nablab.trace(a), lambda a: torch.trace(a), (1, 1)),
    same("triu_offset", lambda a: a.triu(1), (3, 4)),
    same("tril_batched_neg", lambda a: a.tril(-1), (2, 3, 3)),
    case("triu_fn", lambda a: nablab.triu(a, -1), lambda a: torch.triu(a, -1), (4, 2)),
    same("diag_vector", lambda a: a.diag(), (3,)),
    same("diag_vector_offset", lambda a: a.diag(-2), (3,)),
    same("diag_matrix", lambda a: a.diag(1), (3, 4)),
    same("diag_size1", lambda a: a.diag(), (1,)),
    same("diag_embed", lambda a: a.diag_embed(), (2, 3)),
    same("diag_embed_offset_dims", lambda a: a.diag_embed(-1, 0, 2), (2, 3)),
    case("diag_embed_fn", lambda a: nablab.diag_embed(a, 2, -1, 0), lambda a: torch.diag_embed(a, 2, -1, 0), (2, 3)),
    same("diagonal", lambda a: a.diagonal(), (3, 4)),
    same("diagonal_offset_neg_dims", lambda a: a.diagonal(1, -1, 0), (3, 2, 4)),
    same("diagonal_out_of_matrix", lambda a: a.diagonal(5), (3, 4)),
    case("diagonal_fn", lambda a: nablab.diagonal(a, -1, 1, 2), lambda a: torch.diagonal(a, -1, 1, 2), (2, 3, 4)),
]

# --------------------------------------------------------------------------- indexing (PyTorch's rules)
INDEXING = [
    same("int_slice_list", lambda a: a[0, :, [0, 1]], (2, 3, 4)),
    same("list_slice_list", lambda a: a[[0, 1], :, [0, 1]], (2, 3, 4)),
    same("list_int_list", lambda a: a[[0, 1], 0, [1, 3]], (2, 3, 4)),
    same("slice_int_list", lambda a: a[:, 0, [1, 1, 3]], (2, 3, 4)),
    same("list_int", lambda a: a[[1, 0], 2], (2, 3, 4)),
    case("0d_tensor_slice_list", lambda a: a[nablab.tensor(1), :, [0, 2]],
         lambda a: a[torch.tensor(1), :, [0, 2]], (2, 3, 4)),
    case("list_slice_0d_tensor", lambda a: a[[1, 0], :, nablab.tensor(-1)],
         lambda a: a[[1, 0], :, torch.tensor(-1)], (2, 3, 4)),
    case("tensor_index", lambda a: a[nablab.tensor([[0, 1], [1, 1]])], lambda a: a[torch.tensor([[0, 1], [1, 1]])],
         (2, 3)),
    same("ellipsis_list_none", lambda a: a[..., [0, 1], None], (2, 3, 4)),
    same("none_list_slice_list", lambda a: a[None, [0, 1], :, [0, 3]], (2, 3, 4)),
    same("int_ellipsis_list", lambda a: a[1, ..., [0, 2]], (2, 3, 4)),
    same("bool_true", lambda a: a[True], (2, 3)),
    same("int_bool", lambda a: a[0, True], (2, 3)),
    same("bool_list", lambda a: a[[True, False, True]], (3, 2)),
    case("mask", lambda a: a[MASK], lambda a: a[MASK_T], (3, 4)),
    case("mask_tensor_from_values", lambda a: a[a > 0], lambda a: a[a > 0], (3, 4)),
    case("int_mask", lambda a: a[1, MASK[0]], lambda a: a[1, MASK_T[0]], (2, 4)),
    case("list_mask", lambda a: a[[0, 1], MASK[:, 0]], lambda a: a[[0, 1], MASK_T[:, 0]], (2, 3)),
    same("negative_ints", lambda a: a[-1, -2], (2, 3, 4)),
    same("steps", lambda a: a[::2, 1::2], (5, 4)),
    same("slice_past_end", lambda a: a[1:10, -10:2], (3, 4)),
    same("repeated_indices", lambda a: a[[0, 0, 2, 0]], (3, 2)),
    same("negative_list", lambda a: a[:, [-1, 0, -1]], (2, 3)),
    same("index_1d_0d_result", lambda a: a[1], (3,)),
    same("empty_list", lambda a: a[[]], (3, 2)),
    same("tuple_element", lambda a: a[(0, 1), 1:], (2, 3)),
    case("numpy_int", lambda a: a[np.int64(1), -1], lambda a: a[1, -1], (2, 3)),
    case("list_of_0d_tensors", lambda a: a[[nablab.tensor(1), nablab.tensor(0)]],
         lambda a: a[[torch.tensor(1), torch.tensor(0)]], (2, 3)),
]


def _write(index):
    """y = a * 1, then y[index] = b: the same in both frameworks."""
    def fn(a, b):
        y = a * 1.0
        y[index] = b
        return y
    return fn


def _write_number(index, value):
    def fn(a):
        y = a * 1.0
        y[index] = value
        return y
    return fn


SETITEM = [
    same("set_column", _write((slice(None), 1)), (3, 4), (3,)),
    same("set_broadcast_row", _write(slice(0, 2)), (3, 4), (4,)),
    same("set_torch_rule", _write((0, slice(None), [0, 2])), (2, 3, 4), (3, 2)),
    same("set_list_rows", _write([2, 0]), (3, 4), (2, 4)),
    same("set_0d_value", _write((1, 2)), (3, 4), ()),
    case("set_mask_zero", _write_number(MASK, 0.0), _write_number(MASK_T, 0.0), (3, 4)),
    same("set_ellipsis_number", _write_number((Ellipsis, 0), 2.5), (2, 3)),
    same("set_twice_overwrites", lambda a, b: _write(0)(_write((slice(None), 0))(a, b), b[:1] * 3.0), (2, 3),
         (2,)),
]

# --------------------------------------------------------------------------- gather, scatter and masks
def test_scatter_reads_the_leading_block_of_a_larger_src():
    """Forward only: PyTorch's backward refuses a src larger than the index."""
    x, src = np.zeros((4, 4)), np.arange(15.0).reshape(3, 5)
    y = nablab.tensor(x).scatter(0, PERM, nablab.tensor(src))
    np.testing.assert_array_equal(y.numpy(), torch.tensor(x).scatter(0, PERM_T, torch.tensor(src)).numpy())


GATHER = [
    case("gather", lambda a: a.gather(0, IDX[:, :3]), lambda a: a.gather(0, IDX_T[:, :3]), (3, 4)),
    case("gather_neg_dim", lambda a: a.gather(-1, IDX), lambda a: a.gather(-1, IDX_T), (2, 3)),
    case("gather_smaller_index", lambda a: a.gather(1, IDX[:1, :2]), lambda a: a.gather(1, IDX_T[:1, :2]), (3, 4)),
    case("gather_fn_tensor_index", lambda a: nablab.gather(a, 1, nablab.tensor(IDX)),
         lambda a: torch.gather(a, 1, IDX_T), (2, 3)),
    case("gather_0d", lambda a: a.gather(0, np.array(0)), lambda a: a.gather(0, torch.tensor(0)), ()),
    case("scatter_src", lambda a, s: a.scatter(0, PERM, s), lambda a, s: a.scatter(0, PERM_T, s), (4, 4), (2, 4)),
    case("scatter_neg_dim", lambda a, s: a.scatter(-1, PERM[:, :3].T.copy(), s),
         lambda a, s: a.scatter(-1, PERM_T[:, :3].T.contiguous(), s), (4, 3), (3, 2)),
    case("scatter_value", lambda a: a.scatter(0, PERM, 1.5), lambda a: a.scatter(0, PERM_T, 1.5), (4, 4)),
    case("scatter_value_kw", lambda a: a.scatter(1, PERM[:, :2], value=-2.0),
         lambda a: a.scatter(1, PERM_T[:, :2], value=-2.0), (2, 4)),
    case("scatter_add", lambda a, s: a.scatter_add(0, IDX, s), lambda a, s: a.scatter_add(0, IDX_T, s),
         (3, 4), (2, 4)),
    case("scatter_add_fn", lambda a, s: nablab.scatter_add(a, 1, IDX, s),
         lambda a, s: torch.scatter_add(a, 1, IDX_T, s), (2, 3), (2, 4)),
    *[case(f"scatter_reduce_{reduce}_{'self' if include else 'noself'}",
           lambda a, s, r=reduce, i=include: a.scatter_reduce(0, IDX, s, r, include_self=i),
           lambda a, s, r=reduce, i=include: a.scatter_reduce(0, IDX_T, s, r, include_self=i),
           ((3, 4), "distinct" if reduce in ("amax", "amin") else "pos"), ((2, 4), "distinct" if reduce in
                                                                            ("amax", "amin") else "pos"))
      for reduce in ("sum", "prod", "mean", "amax", "amin") for include in (True, False)],
    case("scatter_reduce_amax_ties", lambda a, s: a.scatter_reduce(0, IDX, s, "amax"),
         lambda a, s: a.scatter_reduce(0, IDX_T, s, "amax"), np.ones((3, 4)), np.ones((2, 4))),
    case("scatter_reduce_prod_zeros", lambda a, s: a.scatter_reduce(0, IDX, s, "prod"),
         lambda a, s: a.scatter_reduce(0, IDX_T, s, "prod"),
         np.array([[0.0, 2, 3, 0], [1, 0, 2, 1], [3, 1, 0, 2]]), np.array([[2.0, 0, 1, 0], [0, 3, 2, 2]])),
    case("index_select", lambda a: a.index_select(0, I2), lambda a: a.index_select(0, I2_T), (3, 4)),
    case("index_select_neg_repeat", lambda a: a.index_select(-1, np.array([1, 1, 0])),
         lambda a: a.index_select(-1, torch.tensor([1, 1, 0])), (2, 3)),
    case("index_select_0d_index", lambda a: nablab.index_select(a, 1, nablab.tensor(2)),
         lambda a: torch.index_select(a, 1, torch.tensor(2)), (2, 3)),
    case("index_add", lambda a, s: a.index_add(1, np.array([2, 0, 2]), s, alpha=1.5),
         lambda a, s: a.index_add(1, torch.tensor([2, 0, 2]), s, alpha=1.5), (2, 4), (2, 3)),
    case("index_add_neg_dim", lambda a, s: a.index_add(-2, I2, s), lambda a, s: a.index_add(-2, I2_T, s),
         (3, 2), (2, 2)),
    case("index_copy", lambda a, s: a.index_copy(1, I2, s), lambda a, s: a.index_copy(1, I2_T, s), (2, 3), (2, 2)),
    case("index_copy_fn_neg", lambda a, s: nablab.index_copy(a, -2, np.array([1]), s),
         lambda a, s: torch.index_copy(a, -2, torch.tensor([1]), s), (3, 2), (1, 2)),
    case("index_put", lambda a, v: a.index_put((I2, np.array([1, 3])), v), lambda a, v: a.index_put((I2_T,
         torch.tensor([1, 3])), v), (3, 4), (2,)),
    case("index_put_accumulate_repeats", lambda a, v: a.index_put((np.array([0, 0, 2]), np.array([1, 1, 3])), v,
                                                                   accumulate=True),
         lambda a, v: a.index_put((torch.tensor([0, 0, 2]), torch.tensor([1, 1, 3])), v, accumulate=True),
         (3, 4), (3,)),
    case("index_put_accumulate_rows_fn", lambda a, v: nablab.index_put(a, (I2,), v, accumulate=True),
         lambda a, v: torch.index_put(a, (I2_T,), v, accumulate=True), (3, 4), (4,)),
    case("index_fill", lambda a: a.index_fill(1, I2, -1.0), lambda a: a.index_fill(1, I2_T, -1.0), (2, 3)),
    case("index_fill_0d_value", lambda a, v: a.index_fill(-1, I2, v), lambda a, v: a.index_fill(-1, I2_T, v),
         (2, 3), ()),
    case("masked_fill", lambda a: a.masked_fill(MASK, 0.5), lambda a: a.masked_fill(MASK_T, 0.5), (3, 4)),
    case("masked_fill_broadcast_mask", lambda a: a.masked_fill(MASK[0], -1.0),
         lambda a: a.masked_fill(MASK_T[0], -1.0), (2, 4)),
    case("masked_fill_0d_value_tensor", lambda a, v: a.masked_fill(MASK, v), lambda a, v: a.masked_fill(MASK_T, v),
         (3, 4), ()),
    case("masked_fill_neg_inf", lambda a: a.masked_fill(nablab.tensor(MASK), float("-inf")).exp(),
         lambda a: a.masked_fill(MASK_T, float("-inf")).exp(), (3, 4)),
    case("masked_scatter", lambda a, s: a.masked_scatter(MASK, s), lambda a, s: a.masked_scatter(MASK_T, s),
         (3, 4), (4, 4)),
    case("masked_scatter_broadcast_fn", lambda a, s: nablab.masked_scatter(a, MASK[1], s),
         lambda a, s: torch.masked_scatter(a, MASK_T[1], s), (2, 4), (2, 3)),
    *[case(f"fill_diagonal_{name}", lambda a, w=wrap: a.fill_diagonal(-1.0, wrap=w),
           lambda a, w=wrap: a.clone().fill_diagonal_(-1.0, wrap=w), shape)
      for name, shape, wrap in [("square", (3, 3), False), ("tall_wrap", (7, 3), True), ("tall", (7, 3), False),
                                ("wide", (2, 4), False), ("cube", (2, 2, 2), False)]],
    case("masked_select", lambda a: a.masked_select(MASK), lambda a: a.masked_select(MASK_T), (3, 4)),
    case("masked_select_broadcast", lambda a: nablab.masked_select(a, MASK),
         lambda a: torch.masked_select(a, MASK_T), (4,)),
    case("take", lambda a: a.take(np.array([[0, 5], [5, -1]])), lambda a: a.take(torch.tensor([[0, 5], [5, -1]])),
         (2, 3)),
    case("take_0d_index", lambda a: nablab.take(a, nablab.tensor(4)), lambda a: torch.take(a, torch.tensor(4)),
         (2, 3)),
    case("take_along_dim", lambda a: a.take_along_dim(IDX[:, :3], 0), lambda a: a.take_along_dim(IDX_T[:, :3], 0),
         (3, 3)),
    case("take_along_dim_broadcast", lambda a: a.take_along_dim(np.array([[2], [0]]), dim=-1),
         lambda a: a.take_along_dim(torch.tensor([[2], [0]]), dim=-1), (1, 3)),
    case("take_along_dim_flat", lambda a: nablab.take_along_dim(a, np.array([5, 0])),
         lambda a: torch.take_along_dim(a, torch.tensor([5, 0])), (2, 3)),
    case("where", lambda a, b: nablab.where(MASK, a, b), lambda a, b: torch.where(MASK_T, a, b), (3, 4), (4,)),
    case("where_method", lambda a, b: a.where(MASK, b), lambda a, b: a.where(MASK_T, b), (3, 4), (3, 1)),
    case("where_promotes", lambda a, b: nablab.where(MASK, a, b), lambda a, b: torch.where(MASK_T, a, b),
         ((3, 4), "f32"), ((3, 4), "f64")),
]


NO_GRAD = [  # results without gradients: integer coordinates
    pytest.param(lambda x: nablab.tril_indices(3, 4, 1), lambda x: torch.tril_indices(3, 4, 1), MASK,
                 id="tril_indices"),
    pytest.param(lambda x: nablab.triu_indices(4, 3, -1), lambda x: torch.triu_indices(4, 3, -1), MASK,
                 id="triu_indices"),
    pytest.param(lambda x: x.nonzero(), lambda x: x.nonzero(), MASK, id="nonzero"),
    pytest.param(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True), MASK, id="nonzero_tuple"),
    pytest.param(lambda x: nablab.argwhere(x), lambda x: torch.argwhere(x), np.array([[0, 2], [3, 0]]),
                 id="argwhere"),
    pytest.param(lambda x: nablab.where(x), lambda x: torch.where(x), MASK, id="where_one_argument"),
    pytest.param(lambda x: x.nonzero(), lambda x: x.nonzero(), np.array(3.0), id="nonzero_0d"),
    pytest.param(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True), np.array(3.0),
                 id="nonzero_tuple_0d"),
    pytest.param(lambda x: x[x > 1], lambda x: x[x > 1], np.arange(6).reshape(2, 3), id="int_mask_select"),
    pytest.param(lambda x: nablab.cat([x, x.float()]), lambda x: torch.cat([x, x.float()]), np.arange(3),
                 id="cat_int_float_values"),
    pytest.param(lambda x: x.scatter_reduce(0, IDX, x[:2] * 3, "mean"),
                 lambda x: x.scatter_reduce(0, IDX_T, x[:2] * 3, "mean"), np.arange(12).reshape(3, 4),
                 id="scatter_reduce_int_mean_floors"),
]

# --------------------------------------------------------------------------- products
PRODUCTS = [
    case("einsum_matmul", lambda a, b: nablab.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum("ij,jk->ik", a, b),
         (2, 3), (3, 4)),
    case("einsum_batched_spaces", lambda a, b: nablab.einsum("b i j, b j k -> b i k", a, b),
         lambda a, b: torch.einsum("b i j, b j k -> b i k", a, b), (2, 3, 4), (2, 4, 5)),
    case("einsum_trace", lambda a: nablab.einsum("ii", a), lambda a: torch.einsum("ii", a), (3, 3)),
    case("einsum_diagonal", lambda a: nablab.einsum("ii->i", a), lambda a: torch.einsum("ii->i", a), (3, 3)),
    case("einsum_batch_diagonal", lambda a: nablab.einsum("...ii->...i", a), lambda a: torch.einsum("...ii->...i", a),
         (2, 3, 3)),
    case("einsum_implicit", lambda a, b: nablab.einsum("ij,jk", a, b), lambda a, b: torch.einsum("ij,jk", a, b),
         (2, 3), (3, 4)),
    case("einsum_implicit_order", lambda a, b: nablab.einsum("kj,ji", a, b), lambda a, b: torch.einsum("kj,ji", a, b),
         (2, 3), (3, 4)),
    case("einsum_outer", lambda a, b: nablab.einsum("i,j->ij", a, b), lambda a, b: torch.einsum("i,j->ij", a, b),
         (3,), (4,)),
    case("einsum_sum_all", lambda a: nablab.einsum("ijk->", a), lambda a: torch.einsum("ijk->", a), (2, 3, 4)),
    case("einsum_transpose", lambda a: nablab.einsum("ijk->kji", a), lambda a: torch.einsum("ijk->kji", a), (2, 3, 4)),
    case("einsum_ellipsis_broadcast", lambda a, b: nablab.einsum("...ij,...jk", a, b),
         lambda a, b: torch.einsum("...ij,...jk", a, b), (5, 1, 2, 3), (4, 3, 2)),
    case("einsum_size1_broadcast", lambda a, b: nablab.einsum("ij,jk->ik", a, b),
         lambda a, b: torch.einsum("ij,jk->ik", a, b), (2, 1), (3, 4)),
    case("einsum_three_operands_list", lambda a, b, c: nablab.einsum("ab,bc,cd->ad", [a, b, c]),
         lambda a, b, c: torch.einsum("ab,bc,cd->ad", [a, b, c]), (2, 3), (3, 4), (4, 2)),
    case("einsum_repeated_across", lambda a, b: nablab.einsum("ij,ij->i", a, b),
         lambda a, b: torch.einsum("ij,ij->i", a, b), (3, 4), (3, 4)),
    case("einsum_index_only_once", lambda a, b: nablab.einsum("ijk,j->", a, b),
         lambda a, b: torch.einsum("ijk,j->", a, b), (2, 3, 4), (3,)),
    case("einsum_0d", lambda a, b: nablab.einsum(",i->i", a, b), lambda a, b: torch.einsum(",i->i", a, b), (), (3,)),
    case("einsum_uppercase", lambda a, b: nablab.einsum("Ab,ba", a, b), lambda a, b: torch.einsum("Ab,ba", a, b),
         (2, 3), (3, 4)),
    same("matmul_1d_1d", lambda a, b: a @ b, (3,), (3,)),
    same("matmul_2d_1d", lambda a, b: a @ b, (2, 3), (3,)),
    same("matmul_1d_2d", lambda a, b: a @ b, (3,), (3, 4)),
    same("matmul_broadcast_batch", lambda a, b: a @ b, (2, 1, 3, 4), (5, 4, 2)),
    same("matmul_1d_batched", lambda a, b: a @ b, (4,), (2, 4, 5)),
    same("matmul_batched_1d", lambda a, b: a @ b, (2, 3, 4), (4,)),
    same("matmul_size1", lambda a, b: a @ b, (1, 1), (1, 3)),
    case("matmul_fn", lambda a, b: nablab.matmul(a, b), lambda a, b: torch.matmul(a, b), (3, 2, 4), (4, 1)),
    same("mm", lambda a, b: a.mm(b), (2, 3), (3, 4)),
    case("mm_fn", lambda a, b: nablab.mm(a, b), lambda a, b: torch.mm(a, b), (1, 3), (3, 1)),
    same("bmm", lambda a, b: a.bmm(b), (2, 3, 4), (2, 4, 5)),
    same("mv", lambda a, b: a.mv(b), (2, 3), (3,)),
    same("dot", lambda a, b: a.dot(b), (3,), (3,)),
    case("vdot_fn", lambda a, b: nablab.vdot(a, b), lambda a, b: torch.vdot(a, b), (4,), (4,)),
    same("outer", lambda a, b: a.outer(b), (3,), (4,)),
    case("outer_promotes", lambda a, b: nablab.outer(a, b), lambda a, b: torch.outer(a, b), ((3,), "f32"),
         ((2,), "f64")),
    same("inner_1d", lambda a, b: a.inner(b), (3,), (3,)),
    same("inner_nd", lambda a, b: a.inner(b), (2, 3), (4, 1, 3)),
    case("tensordot", lambda a, b: nablab.tensordot(a, b), lambda a, b: torch.tensordot(a, b), (2, 3, 4), (3, 4, 5)),
    case("tensordot_pairs", lambda a, b: nablab.tensordot(a, b, dims=([1, -1], [1, 0])),
         lambda a, b: torch.tensordot(a, b, dims=([1, -1], [1, 0])), (2, 3, 4), (4, 3, 5)),
    case("tensordot_0", lambda a, b: nablab.tensordot(a, b, dims=0), lambda a, b: torch.tensordot(a, b, dims=0),
         (2, 3), (4,)),
    same("addmm", lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0), (4,), (2, 3), (3, 4)),
    case("addmm_fn", lambda c, a, b: nablab.addmm(c, a, b), lambda c, a, b: torch.addmm(c, a, b), (2, 4), (2, 3),
         (3, 4)),
    same("addmv", lambda c, a, b: c.addmv(a, b, alpha=-1.0), (2,), (2, 3), (3,)),
    same("addr", lambda c, a, b: c.addr(a, b), (3, 1), (3,), (2,)),
    same("baddbmm", lambda c, a, b: c.baddbmm(a, b, beta=2.0), (1, 3, 5), (2, 3, 4), (2, 4, 5)),
    same("addbmm", lambda c, a, b: c.addbmm(a, b, alpha=0.5), (3, 5), (2, 3, 4), (2, 4, 5)),
    case("inner_0d", lambda a, b: nablab.inner(a, b), lambda a, b: torch.inner(a, b), (), (2, 3)),
]

TABLES = {"moves": MOVES, "reorder": REORDER, "join": JOIN, "diagonals": DIAGONALS, "indexing": INDEXING,
          "setitem": SETITEM, "gather": GATHER, "products": PRODUCTS}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nb_fn, torch_fn, specs", [p for table in TABLES.values() for p in table])
def test_against_torch(nb_fn, torch_fn, specs, dtype):
    check_parity(nb_fn, torch_fn, specs, dtype)


@pytest.mark.parametrize("nb_fn, torch_fn, values", NO_GRAD)
def test_results_without_gradients(nb_fn, torch_fn, values):
    ys, yts = _outputs(nb_fn(nablab.tensor(values, dtype=values.dtype))), _outputs(torch_fn(torch.tensor(values)))
    assert len(ys) == len(yts)
    for y, yt in zip(ys, yts):
        assert tuple(y.shape) == tuple(yt.shape)
        assert TORCH_DTYPE[np.dtype(y.dtype)] == yt.dtype
        np.testing.assert_array_equal(y.numpy(), yt.numpy())


def test_setitem_on_plain_data_writes_in_place_and_into_views():
    x = nablab.zeros(3, 4)
    row = x[1]
    x[1, [0, 2]] = nablab.tensor([5.0, 6.0])
    x[x > 5.5] = -1.0
    xt = torch.zeros(3, 4)
    xt[1, [0, 2]] = torch.tensor([5.0, 6.0])
    xt[xt > 5.5] = -1.0
    np.testing.assert_array_equal(x.numpy(), xt.numpy())
    np.testing.assert_array_equal(row.numpy(), xt[1].numpy())  # the view sees the write, as in torch


def test_setitem_bumps_the_version_and_refuses_a_leaf_that_requires_grad():
    x = nablab.zeros(3)
    before = x._version
    x[0] = 1.0
    assert x._version == before + 1
    w = nablab.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 1.0
    with nablab.no_grad():
        w[0] = 1.0
    assert w.numpy()[0] == 1.0 and w.is_leaf


def test_setitem_keeps_the_gradient_of_earlier_readers():
    """y read x before x was written: y's gradient still reaches x's old history, as in torch."""
    a = nablab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    at = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for leaf in (a, at):
        x = leaf * 2.0
        y = x.flip(0).sum()  # flip does not read x in backward: writing x afterwards is allowed
        x[1] = 0.0
        (y + x.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy())


def test_addmm_with_beta_0_ignores_the_input_even_nan():
    c, a, b = np.full((2, 2), np.nan), np.ones((2, 3)), np.ones((3, 2))
    y = nablab.addmm(nablab.tensor(c), nablab.tensor(a), nablab.tensor(b), beta=0)
    np.testing.assert_array_equal(y.numpy(), torch.addmm(*map(torch.tensor, (c, a, b)), beta=0).numpy())


def test_in_place_moves_follow_torch_on_leaves_and_versions():
    w = nablab.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.unsqueeze_(0)
    x = nablab.ones(3)
    before = x._version
    assert x.unsqueeze_(0) is x and x.shape == (1, 3) and x._version == before + 1


# --------------------------------------------------------------------------- random indices
_SHAPE = (3, 4, 5)


def _random_part(rng, kind, size):
    """One element of a random index, for a dim of ``size``."""
    if kind == "int":
        return int(rng.integers(-size, size))
    if kind == "slice":
        return slice(int(rng.integers(0, 2)), [None, size - 1][rng.integers(0, 2)], [None, 1, 2][rng.integers(0, 3)])
    if kind == "list":
        return rng.integers(-size, size, int(rng.integers(1, 3))).tolist()
    if kind == "vector":
        return rng.integers(-size, size, 2)
    if kind == "column":
        return rng.integers(0, size, (2, 1))
    if kind == "0d":
        return np.array(rng.integers(0, size))
    if kind == "mask":
        return rng.random(size) > 0.4
    return bool(rng.integers(0, 2)) if kind == "bool" else None


def _random_index(rng):
    """A random index of 1-3 elements (ints, slices, None, lists, 0-/1-/2-d integer tensors, masks,
    bools) and maybe an Ellipsis: the same index for nablab (arrays as tensors) and torch."""
    parts, dim = [], 0
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.choice(["int", "slice", "none", "list", "vector", "column", "0d", "mask", "bool"])
        parts.append(_random_part(rng, kind, _SHAPE[min(dim, 2)]))
        dim += kind not in ("none", "bool")
    if rng.random() < 0.2:
        parts.insert(int(rng.integers(0, len(parts) + 1)), Ellipsis)
    return (tuple(nablab.tensor(p) if isinstance(p, np.ndarray) else p for p in parts),
            tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in parts))


def test_random_indices_read_and_write_as_in_torch():
    """400 random mixes of basic and advanced indices: x[index] (values, shape, gradient) and
    y[index] = v (values and both gradients) as torch gives them, or an error of torch's type."""
    rng = np.random.default_rng(1)
    x = np.arange(60.0).reshape(_SHAPE)
    for _ in range(400):
        index, index_t = _random_index(rng)
        try:
            yt = torch.tensor(x)[index_t]
        except (IndexError, ValueError, RuntimeError) as e:
            with pytest.raises(type(e)):
                nablab.tensor(x)[index]
            continue
        a = nablab.tensor(x, requires_grad=True)
        y = a[index]
        assert tuple(y.shape) == tuple(yt.shape), index
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        g = rng.standard_normal(y.shape)
        y.backward(g)
        at = torch.tensor(x, requires_grad=True)
        at[index_t].backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), err_msg=str(index))
        counts = nablab.tensor(np.zeros(_SHAPE), requires_grad=True)
        counts[index].sum().backward()
        if counts.grad.numpy().max() > 1:
            continue  # a position selected twice: which write wins is unspecified
        v = rng.standard_normal(y.shape[1:] if y.ndim and rng.random() < 0.3 else y.shape)
        b, vn = nablab.tensor(x, requires_grad=True), nablab.tensor(v, requires_grad=True)
        bt, vt = torch.tensor(x, requires_grad=True), torch.tensor(v, requires_grad=True)
        written, written_t = b * 1.0, bt * 1.0
        written[index] = vn
        written_t[index_t] = vt
        np.testing.assert_array_equal(written.numpy(), written_t.detach().numpy(), err_msg=str(index))
        w = rng.standard_normal(_SHAPE)
        (written * nablab.tensor(w)).sum().backward()
        (written_t * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), err_msg=str(index))
        np.testing.assert_allclose(vn.grad.numpy(), vt.grad.numpy(), err_msg=str(index))


# --------------------------------------------------------------------------- errors
def _t(*shape):
    return nablab.tensor(np.arange(float(np.prod(shape))).reshape(shape))


ERRORS = [
    pytest.param(lambda: _t(2, 3) @ _t(4, 5), ShapeError, r"\(2, 3\).*\(4, 5\)", id="matmul_shapes"),
    pytest.param(lambda: nablab.mm(_t(2, 3), _t(3)), ShapeError, r"\(2, 3\).*\(3,\)", id="mm_not_matrices"),
    pytest.param(lambda: nablab.bmm(_t(2, 3, 4), _t(3, 4, 5)), ShapeError, r"batch", id="bmm_batch"),
    pytest.param(lambda: nablab.dot(_t(3), _t(4)), ShapeError, r"\(3,\).*\(4,\)", id="dot_lengths"),
    pytest.param(lambda: _t(2, 3).transpose(0, 2), DimError, r"range of \[-2, 1\].*got 2", id="transpose_dim"),
    pytest.param(lambda: _t(2, 3, 4).transpose(0, 1, 2), TypeError, r"permute", id="transpose_numpy_spelling"),
    pytest.param(lambda: _t(2, 3).permute(0), ShapeError, r"\(2, 3\)", id="permute_too_few"),
    pytest.param(lambda: _t(2, 3).permute(0, 0), ShapeError, r"twice", id="permute_repeated"),
    pytest.param(lambda: _t(2, 3).reshape(4, 2), ShapeError, r"\(2, 3\).*\(4, 2\)", id="reshape"),
    pytest.param(lambda: _t(2, 3).expand(4, 3, 2), ShapeError, r"\(2, 3\).*\(4, 3, 2\)", id="expand"),
    pytest.param(lambda: _t(2, 3).squeeze(2), DimError, r"got 2", id="squeeze_dim"),
    pytest.param(lambda: _t(2, 3).unsqueeze(3), DimError, r"\[-3, 2\].*got 3", id="unsqueeze_dim"),
    pytest.param(lambda: nablab.cat([_t(2, 3), _t(2, 4)]), ShapeError, r"\(2, 4\).*\(2, 3\)", id="cat_shapes"),
    pytest.param(lambda: nablab.cat([_t(2, 3), _t(2, 3)], dim=2), DimError, r"got 2", id="cat_dim"),
    pytest.param(lambda: nablab.stack([_t(2, 3), _t(3, 2)]), ShapeError, r"\(2, 3\).*\(3, 2\)", id="stack_shapes"),
    pytest.param(lambda: _t(3, 4)[::-1], ValueError, r"step must be greater than zero", id="negative_step"),
    pytest.param(lambda: _t(3, 4)[5], IndexError, r"index 5 .*dimension 0 with size 3", id="index_range"),
    pytest.param(lambda: _t(3, 4)[:, [0, 4]], IndexError, r"index 4 .*dimension 1 with size 4", id="list_range"),
    pytest.param(lambda: _t(3, 4)[0, 0, 0], IndexError, r"too many indices", id="too_many"),
    pytest.param(lambda: _t(3, 4)[np.ones(3, bool), np.ones(3, bool)], IndexError, r"mask", id="mask_shape"),
    pytest.param(lambda: _t(3, 4)[nablab.tensor([0.0])], IndexError, r"long, int, byte or bool", id="float_index"),
    pytest.param(lambda: _t(3, 4).gather(1, np.array([[4]])), IndexError, r"index 4 .*size 4", id="gather_range"),
    pytest.param(lambda: _t(3, 4).gather(1, np.array([0, 1])), ShapeError, r"dims", id="gather_ndim"),
    pytest.param(lambda: _t(3, 4).gather(1, np.array([[0.5]])), TypeError, r"integer", id="gather_float_index"),
    pytest.param(lambda: _t(3, 4).double().scatter(0, np.array([[0]]), _t(1, 1).float()), TypeError, r"dtype",
                 id="scatter_dtype"),
    pytest.param(lambda: _t(3, 4).masked_fill(np.ones((3, 4)), 0.0), TypeError, r"boolean", id="masked_fill_mask"),
    pytest.param(lambda: _t(3, 4).index_select(0, np.array([[0]])), ShapeError, r"vector", id="index_select_2d"),
    pytest.param(lambda: _t(4).split([1, 2]), ShapeError, r"sum exactly to 4", id="split_sizes"),
    pytest.param(lambda: _t(4).narrow(0, 3, 2), ShapeError, r"exceeds dimension size \(4\)", id="narrow"),
    pytest.param(lambda: _t(2, 3).diagonal(0, 1, -1), ShapeError, r"identical", id="diagonal_dims"),
    pytest.param(lambda: _t(2, 3).mT.mT.unflatten(1, (2, 2)), ShapeError, r"\(2, 2\).*3", id="unflatten"),
    pytest.param(lambda: _t(3).mT, ShapeError, r"\(3,\)", id="mT_1d"),
    pytest.param(lambda: nablab.einsum("ij,jk", _t(2, 3), _t(4, 5)), ShapeError, r"'j'.*3.*4", id="einsum_sizes"),
    pytest.param(lambda: nablab.einsum("ij", _t(2, 3, 4)), ShapeError, r"'ij'.*\(2, 3, 4\)", id="einsum_dims"),
    pytest.param(lambda: nablab.einsum("ij,jk", _t(2, 3)), ValueError, r"2 operands", id="einsum_operands"),
    pytest.param(lambda: _t(2, 3).repeat(2), ShapeError, r"\(2, 3\)", id="repeat_too_few"),
]


@pytest.mark.parametrize("fn, error, message", ERRORS)
def test_errors(fn, error, message):
    with pytest.raises(error, match=message):
        fn()
