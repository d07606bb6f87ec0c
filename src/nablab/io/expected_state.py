"""The tensors a model description would create, worked out without building it.

``nablab.models.load`` rebuilds a model from the constructor arguments in a weights file's
metadata. Building first and comparing afterwards would let a file whose metadata says
``Linear(100000, 100000)`` allocate 37 GiB before anything is checked, so the shapes come first:
:func:`expected_state` turns a description (see :mod:`nablab.io.spec`) into the name, dtype and
shape of every tensor the model's ``state_dict()`` would hold, and :func:`check_against_file`
compares them with the tensors the file's header lists (no tensor data is read).

The shapes follow from the arguments by the rules of :data:`RULES`: one per nablab layer that
creates tensors (Linear, the convolutions, the norms, Embedding, PReLU, the position embeddings,
MultiheadAttention, the transformer layers, the recurrent layers and cells). Modules given to a
layer as arguments are walked under the names the layer gives them (:data:`PARTS`: the stacks of
``TransformerEncoder``/``TransformerDecoder``, the parts of a ``Transformer``, a transformer
layer's activation module). ``Sequential``, ``ModuleList`` and the ready-made models whose
``layer_plan`` lists their layers as ``(class, args, kwargs)`` (MLP, the CNNs) are walked layer by
layer. A model class built otherwise (TinyGPT, CharRNN) declares its tensors itself: a classmethod
``expected_state(*args, **kwargs)``, called with the constructor's arguments, returns the
``{name: (shape, dtype)}`` its ``state_dict()`` would hold, composed from the rules with
:func:`layer_state` (a tied weight listed once, as ``state_dict()`` lists it). Every other nablab
module creates no tensors from numbers (tests/io/test_weights_limits.py checks that each nn class
making Parameters or buffers has a rule). The tensors of all the described modules together may
not exceed those of the file. A class from outside nablab (admitted with ``classes=``) is worked out
only if it declares ``expected_state``; otherwise it is the caller's own, and its tensors are
compared with the file after it is built.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .. import nn
from ..nn.batchnorm import _NormBase
from ..nn.conv import _ConvNd
from ..nn.rnn import GATES, RNNBase, RNNCellBase
from .safetensors_file import TensorInfo, WeightsError
from .spec import SpecError, class_name, resolve_class


def _dtype(value) -> str:
    try:
        return np.dtype("float32" if value is None else value).name
    except TypeError:
        raise SpecError(f"{value!r} is not a dtype") from None


def _size(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _sizes(value, n: int | None, what: str) -> tuple:
    if isinstance(value, int):
        return (_size(value, what),) * (n or 1)
    if not isinstance(value, (list, tuple)) or (n is not None and len(value) != n):
        raise SpecError(f"{what} must be an integer or {n or 'a list of'} integers, got {value!r}")
    return tuple(_size(v, what) for v in value)


def _linear(cls, a):
    dtype, out = _dtype(a["dtype"]), _size(a["out_features"], "out_features")
    state = {"weight": ((out, _size(a["in_features"], "in_features")), dtype)}
    if a["bias"]:
        state["bias"] = ((out,), dtype)
    return state


def _conv(cls, a):
    dtype, groups = _dtype(a["dtype"]), _size(a["groups"], "groups") or 1
    cin, cout = _size(a["in_channels"], "in_channels"), _size(a["out_channels"], "out_channels")
    kernel = _sizes(a["kernel_size"], cls.dims, "kernel_size")
    shape = (cin, cout // groups) if cls.transposed else (cout, cin // groups)
    state = {"weight": (shape + kernel, dtype)}
    if a["bias"]:
        state["bias"] = ((cout,), dtype)
    return state


def _affine(affine, bias, n, dtype):
    """γ (and β, with ``bias``) of a normalization layer with ``affine``."""
    return ({"weight": (n, dtype), "bias": (n, dtype)} if bias else {"weight": (n, dtype)}) if affine else {}


def _norm(cls, a):
    dtype, n = _dtype(a["dtype"]), (_size(a["num_features"], "num_features"),)
    state = _affine(a["affine"], a["bias"], n, dtype)
    if a["track_running_stats"]:
        state.update(running_mean=(n, dtype), running_var=(n, dtype), num_batches_tracked=((), "int64"))
    return state


def _group_norm(cls, a):
    n, dtype = (_size(a["num_channels"], "num_channels"),), _dtype(a["dtype"])
    return _affine(a["affine"], a["bias"], n, dtype)


def _layer_norm(cls, a):
    shape, dtype = _sizes(a["normalized_shape"], None, "normalized_shape"), _dtype(a["dtype"])
    state = {"weight": (shape, dtype)} if a["elementwise_affine"] else {}
    if a["elementwise_affine"] and a["bias"]:
        state["bias"] = (shape, dtype)
    return state


def _embedding(cls, a):
    if a["_weight"] is not None:
        raise SpecError("an Embedding built from given weights (_weight) cannot be described")
    shape = (_size(a["num_embeddings"], "num_embeddings"), _size(a["embedding_dim"], "embedding_dim"))
    return {"weight": (shape, _dtype(a["dtype"]))}


def _prelu(cls, a):
    return {"weight": ((_size(a["num_parameters"], "num_parameters"),), _dtype(a["dtype"]))}


def _prefixed(prefix: str, state: dict) -> dict:
    return {f"{prefix}.{name}": value for name, value in state.items()}


def _multihead_attention(cls, a):
    """in_proj_weight (3E, E), or q/k/v_proj_weight (E, E), (E, kdim), (E, vdim) when kdim or vdim
    differ from E; in_proj_bias (3E,); bias_k, bias_v (1, 1, E); out_proj a Linear E → E."""
    dtype, e = _dtype(a["dtype"]), _size(a["embed_dim"], "embed_dim")
    kdim = e if a["kdim"] is None else _size(a["kdim"], "kdim")
    vdim = e if a["vdim"] is None else _size(a["vdim"], "vdim")
    if kdim == e and vdim == e:
        state = {"in_proj_weight": ((3 * e, e), dtype)}
    else:
        state = {"q_proj_weight": ((e, e), dtype), "k_proj_weight": ((e, kdim), dtype),
                 "v_proj_weight": ((e, vdim), dtype)}
    if a["bias"]:
        state["in_proj_bias"] = ((3 * e,), dtype)
    if a["add_bias_kv"]:
        state.update(bias_k=((1, 1, e), dtype), bias_v=((1, 1, e), dtype))
    out_proj = {"in_features": e, "out_features": e, "bias": a["bias"], "dtype": a["dtype"]}
    return {**state, **_prefixed("out_proj", _linear(None, out_proj))}


def _transformer_layer(cls, a):
    """self_attn (and a decoder layer's multihead_attn), linear1 d → ff, linear2 ff → d, norm1, norm2
    (and a decoder layer's norm3), all with the layer's ``bias`` and ``dtype``."""
    decoder = issubclass(cls, nn.TransformerDecoderLayer)
    d, ff = _size(a["d_model"], "d_model"), _size(a["dim_feedforward"], "dim_feedforward")
    attention = {"embed_dim": d, "kdim": None, "vdim": None, "bias": a["bias"], "add_bias_kv": False,
                 "dtype": a["dtype"]}
    norm = {"normalized_shape": d, "elementwise_affine": True, "bias": a["bias"], "dtype": a["dtype"]}
    state = _prefixed("self_attn", _multihead_attention(None, attention))
    if decoder:
        state.update(_prefixed("multihead_attn", _multihead_attention(None, attention)))
    for name, (n_in, n_out) in (("linear1", (d, ff)), ("linear2", (ff, d))):
        linear = {"in_features": n_in, "out_features": n_out, "bias": a["bias"], "dtype": a["dtype"]}
        state.update(_prefixed(name, _linear(None, linear)))
    for i in range(1, 4 if decoder else 3):
        state.update(_prefixed(f"norm{i}", _layer_norm(None, norm)))
    return state


def _sinusoidal(cls, a):
    return {"pe": ((_size(a["max_len"], "max_len"), _size(a["d_model"], "d_model")), _dtype(a["dtype"]))}


def _learned_positions(cls, a):
    return {"weight": ((_size(a["max_len"], "max_len"), _size(a["d_model"], "d_model")), _dtype(a["dtype"]))}


#: the cell each recurrent class steps (RNN and RNNCell: one gate block, whichever nonlinearity)
_MODES = ((nn.LSTM, "LSTM"), (nn.LSTMCell, "LSTM"), (nn.GRU, "GRU"), (nn.GRUCell, "GRU"))


def _gates(cls, a) -> int:
    """G, the number of gate blocks: 1 (RNN), 4 (LSTM) or 3 (GRU); RNNBase itself is given its ``mode``."""
    mode = a["mode"] if "mode" in a else next((m for base, m in _MODES if issubclass(cls, base)), "RNN_TANH")
    if mode not in GATES:
        raise SpecError(f"mode must be one of {sorted(GATES)}, got {mode!r}")
    return GATES[mode]


def _cell_tensors(rows: int, columns: int, hidden: int, bias, dtype: str, suffix: str = "") -> dict:
    state = {f"weight_ih{suffix}": ((rows, columns), dtype), f"weight_hh{suffix}": ((rows, hidden), dtype)}
    if bias:
        state.update({f"bias_ih{suffix}": ((rows,), dtype), f"bias_hh{suffix}": ((rows,), dtype)})
    return state


def _recurrent(cls, a):
    """weight_ih_l{k} (G·H, H_in_k), weight_hh_l{k} (G·H, H), bias_ih_l{k}, bias_hh_l{k} (G·H,) for each
    layer k, ``_reverse`` appended for the backward direction; H_in_0 = input_size, H_in_k = D·H above."""
    dtype, hidden = _dtype(a["dtype"]), _size(a["hidden_size"], "hidden_size")
    rows, directions = _gates(cls, a) * hidden, 2 if a["bidirectional"] else 1
    state = {}
    for k in range(_size(a["num_layers"], "num_layers")):
        columns = _size(a["input_size"], "input_size") if k == 0 else directions * hidden
        for suffix in ("", "_reverse")[:directions]:
            state.update(_cell_tensors(rows, columns, hidden, a["bias"], dtype, f"_l{k}{suffix}"))
    return state


def _recurrent_cell(cls, a):
    """weight_ih (G·H, H_in), weight_hh (G·H, H), bias_ih, bias_hh (G·H,)."""
    hidden = _size(a["hidden_size"], "hidden_size")
    return _cell_tensors(_gates(cls, a) * hidden, _size(a["input_size"], "input_size"), hidden, a["bias"],
                         _dtype(a["dtype"]))


#: (base class, rule): the rule maps a layer's class and bound constructor arguments to {name: (shape, dtype)}
RULES = ((nn.Linear, _linear), (_ConvNd, _conv), (_NormBase, _norm), (nn.GroupNorm, _group_norm),
         (nn.LayerNorm, _layer_norm), (nn.Embedding, _embedding), (nn.PReLU, _prelu),
         (nn.SinusoidalPositionalEncoding, _sinusoidal), (nn.LearnedPositionalEmbedding, _learned_positions),
         (nn.MultiheadAttention, _multihead_attention), (nn.TransformerEncoderLayer, _transformer_layer),
         (nn.TransformerDecoderLayer, _transformer_layer), (RNNBase, _recurrent), (RNNCellBase, _recurrent_cell))


def _rule(cls):
    return next((rule for base, rule in RULES if issubclass(cls, base)), None)


def constructor_arguments(cls, args, kwargs) -> dict:
    """The arguments ``cls(*args, **kwargs)`` would be called with, by name, defaults filled in."""
    try:
        bound = inspect.signature(cls).bind(*args, **kwargs)
    except TypeError as exc:
        raise SpecError(f"{cls.__name__} cannot take the recorded arguments: {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def layer_state(name: str, cls, /, *args, **kwargs) -> dict:
    """``{f"{name}.{tensor}": (shape, dtype)}``: the tensors of the nablab layer ``cls(*args, **kwargs)`` held
    under ``name`` in a model, by its rule in :data:`RULES` (for a model's ``expected_state``)."""
    rule = _rule(cls)
    if rule is None:
        raise SpecError(f"{cls.__name__} has no rule for its tensors")
    return _prefixed(name, rule(cls, constructor_arguments(cls, args, kwargs)))


def _is_module(value) -> bool:
    return isinstance(value, dict) and set(value) == {"module"}


def _given(value, what: str) -> dict:
    """The description of the module given as ``what``."""
    if not _is_module(value):
        raise SpecError(f"{what} must be a module, got {value!r:.200}")
    return value["module"]


def _described(cls, *args, **kwargs) -> dict:
    return {"class": class_name(cls), "args": list(args), "kwargs": kwargs}


def _stack_parts(cls, a):
    """``num_layers`` copies of the given layer (``layers.0`` …), then ``norm`` if given."""
    what = "decoder_layer" if issubclass(cls, nn.TransformerDecoder) else "encoder_layer"
    layer, count = _given(a[what], what), _size(a["num_layers"], "num_layers")
    norm = [] if a["norm"] is None else [("norm", _given(a["norm"], "norm"))]
    return [*((f"layers.{i}", layer) for i in range(count)), *norm]


def _transformer_parts(cls, a):
    """``encoder`` and ``decoder``: the custom ones given, else the stacks the Transformer builds."""
    layer_args = {k: a[k] for k in ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps",
                                    "batch_first", "norm_first", "bias", "dtype")}
    norm = _described(nn.LayerNorm, a["d_model"], eps=a["layer_norm_eps"], bias=a["bias"], dtype=a["dtype"])
    parts = []
    for part, stack, layer in (("encoder", nn.TransformerEncoder, nn.TransformerEncoderLayer),
                               ("decoder", nn.TransformerDecoder, nn.TransformerDecoderLayer)):
        custom = a[f"custom_{part}"]
        parts.append((part, _given(custom, f"custom_{part}") if custom is not None else _described(
            stack, {"module": _described(layer, **layer_args)}, a[f"num_{part}_layers"], {"module": norm})))
    return parts


def _activation_part(cls, a):
    """A transformer layer's activation, when it is a module (``nn.GELU()``, say)."""
    return [("activation", a["activation"]["module"])] if _is_module(a["activation"]) else []


#: (base class, parts): ``parts`` maps a layer's class and bound constructor arguments (as the
#: description holds them) to the ``(name, description)`` of each module it holds built from modules
#: given to it; the layer's own tensors, if any, come from its rule
PARTS = ((nn.TransformerEncoder, _stack_parts), (nn.TransformerDecoder, _stack_parts),
         (nn.Transformer, _transformer_parts), (nn.TransformerEncoderLayer, _activation_part),
         (nn.TransformerDecoderLayer, _activation_part))


def _parts(cls):
    return next((parts for base, parts in PARTS if issubclass(cls, base)), None)


def _plain(value):
    """A decoded argument that is not a module (tuples, dtypes and dicts as :mod:`nablab.io.spec` writes them)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(_plain(v) for v in value["tuple"])
        if set(value) == {"dtype"}:
            return value["dtype"]
        if set(value) == {"dict"}:
            return {k: _plain(v) for k, v in value["dict"].items()}
        raise SpecError(f"unexpected entry in a layer's arguments: {value!r:.200}")
    return value


def _modules_in(value):
    """The module descriptions nested anywhere in an encoded argument."""
    if isinstance(value, list):
        for v in value:
            yield from _modules_in(v)
    elif isinstance(value, dict):
        if set(value) == {"module"}:
            yield value["module"]
        else:
            for v in value.values():
                yield from _modules_in(v)


def _walk(cls, args, kwargs, prefix, classes, expected, unknown) -> None:
    """Add the tensors of the layer ``cls(*args, **kwargs)`` named ``prefix`` to ``expected``.

    Modules given as arguments to a layer with :data:`PARTS` are walked under the names it gives
    them. Those given to another module than ``Sequential``/``ModuleList`` (a ModuleDict's, say) are
    worked out too, under the names ``<prefix><i>?.…``, and ``prefix`` is listed in ``unknown``: their
    sizes count, their names are compared after building.
    """
    label = prefix.rstrip(".") or "the model"
    if cls in (nn.Sequential, nn.ModuleList):
        children = args[0] if cls is nn.ModuleList and args else args
        for i, child in enumerate(children):
            if not (isinstance(child, dict) and set(child) == {"module"}):
                raise SpecError(f"{label}[{i}] is not a module")
            _walk_spec(child["module"], f"{prefix}{i}.", classes, expected, unknown)
        return
    parts = _parts(cls)
    if parts is not None:
        bound = constructor_arguments(cls, args, kwargs)
        try:
            given = parts(cls, bound)
        except SpecError as exc:
            raise SpecError(f"{label} ({cls.__name__}): {exc}") from None
        for name, child in given:
            _walk_spec(child, f"{prefix}{name}.", classes, expected, unknown)
        if _rule(cls) is None:
            return
        args, kwargs = [], {k: v for k, v in bound.items() if not _is_module(v)}  # the rest, for the rule
    nested = [m for v in [*args, *kwargs.values()] for m in _modules_in(v)]
    if nested:
        unknown.append(prefix)
        for i, child in enumerate(nested):
            _walk_spec(child, f"{prefix}{i}?.", classes, expected, unknown)
        return
    plain_args, plain_kwargs = [_plain(v) for v in args], {k: _plain(v) for k, v in kwargs.items()}
    if hasattr(cls, "layer_plan"):  # a ready-made model: walk the layers it would build
        try:
            plan = cls.layer_plan(*plain_args, **plain_kwargs)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{label} ({cls.__name__}) cannot take the recorded arguments: {exc}") from None
        for i, (layer, layer_args, layer_kwargs) in enumerate(plan):
            _walk(layer, list(layer_args), dict(layer_kwargs), f"{prefix}{i}.", classes, expected, unknown)
        return
    declared, rule = getattr(cls, "expected_state", None), _rule(cls)  # (a model that lists its own tensors)
    if declared is None and rule is None:
        if not cls.__module__.startswith("nablab."):  # the caller's own class: compared after building
            unknown.append(prefix)
        return
    try:
        if declared is not None:
            state = declared(*plain_args, **plain_kwargs)
        else:
            state = rule(cls, constructor_arguments(cls, plain_args, plain_kwargs))
    except (TypeError, ValueError) as exc:  # (SpecError is a ValueError)
        raise SpecError(f"{label} ({cls.__name__}): {exc}") from None
    for name, (shape, dtype) in state.items():
        expected[prefix + name] = TensorInfo(dtype, tuple(shape))


def _walk_spec(spec, prefix, classes, expected, unknown) -> None:
    if not isinstance(spec, dict) or not {"class", "args", "kwargs"} <= set(spec):
        raise SpecError(f"not a model description: {spec!r:.200}")
    cls = resolve_class(spec["class"], classes)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise SpecError(f"{spec['class']} is not a nablab.nn.Module")
    if not isinstance(spec["args"], list) or not isinstance(spec["kwargs"], dict):
        raise SpecError(f"not a model description: {spec!r:.200}")
    _walk(cls, spec["args"], spec["kwargs"], prefix, classes, expected, unknown)


def expected_state(spec: dict, classes=None) -> tuple[dict[str, TensorInfo], list[str]]:
    """``(name → TensorInfo, prefixes not worked out)`` of the model ``spec`` describes, without building it.

    The second item lists the name prefixes of modules from outside nablab (``""`` for the whole
    model). Raises :class:`SpecError` for a description that cannot be built.
    """
    expected, unknown = {}, []
    _walk_spec(spec, "", classes, expected, unknown)
    return expected, unknown


def _shape(shape) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar (0-d)"


def _layer(name: str) -> str:
    module, _, tensor = name.rpartition(".")
    return f"layer {module}'s {tensor}" if module else f"the model's {tensor}"


def check_against_file(spec: dict, tensors: dict[str, TensorInfo], source, classes=None) -> None:
    """Raise :class:`WeightsError` unless the model ``spec`` describes holds exactly the tensors of
    the file's header ``tensors`` (names and shapes) and, in all, no more elements than the file.

    Nothing is built or allocated, so at most what the file holds on disk is allocated afterwards.
    The message names the layer, the shape the metadata describes and the file's.
    """
    try:
        expected, unknown = expected_state(spec, classes)
    except SpecError as exc:
        raise WeightsError(f"{source}: {exc}") from None
    for name, info in expected.items():
        if any(name.startswith(p) for p in unknown):
            continue
        if name not in tensors:
            raise WeightsError(f"{source}: the metadata describes {_layer(name)} of shape {_shape(info.shape)}, "
                               f"the file holds no tensor {name}")
        if tensors[name].shape != info.shape:
            raise WeightsError(f"{source}: the metadata describes {_layer(name)} of shape {_shape(info.shape)}, "
                               f"the file's {name} is {_shape(tensors[name].shape)}")
    extra = [n for n in tensors if n not in expected and not any(n.startswith(p) for p in unknown)]
    if extra:
        raise WeightsError(f"{source}: the file holds {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}, "
                           "which the model its metadata describes does not have")
    described = sum(math.prod(info.shape) for info in expected.values())
    held = sum(math.prod(info.shape) for info in tensors.values())
    if described > held:  # (modules whose names are compared after building count here)
        raise WeightsError(f"{source}: the model its metadata describes has {described:,} tensor elements, "
                           f"the file holds {held:,}")
