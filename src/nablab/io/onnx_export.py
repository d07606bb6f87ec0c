"""ONNX export: ``to_onnx(model, example_input, path)`` writes the model as an ONNX graph.

The model must be a chain of layers — a ``Sequential``, possibly nested, or a module whose
children run one after another (the ready-made models are) — built from the layers below; the
graph is built with ``onnx.helper`` (opset 17 by default) and checked with ``onnx.checker``. It
is the model's *evaluation* computation: BatchNorm uses its running statistics and Dropout is the
identity, whatever mode the model is in. The batch axis is dynamic ("N"); the other axes are
those of ``example_input``.

======================  ==============================================
nablab layer            ONNX
======================  ==============================================
Linear                  Gemm (2-D inputs), else MatMul + Add
Conv2d                  Conv
MaxPool2d / AvgPool2d   MaxPool / AveragePool (zero padding counted)
AdaptiveAvgPool2d       GlobalAveragePool (1), else AveragePool
BatchNorm1d / 2d        BatchNormalization (running statistics)
Dropout                 nothing (the identity)
Flatten                 Flatten, else Reshape
ReLU, LeakyReLU         Relu, LeakyRelu
Sigmoid, Tanh           Sigmoid, Tanh
ImprovedSigmoid         1.7159 · Tanh(⅔ x): Mul, Tanh, Mul
Softmax, LogSoftmax     Softmax, LogSoftmax
======================  ==============================================

Anything else is an error naming the layer and where it sits. Whether a module's children
really run as a chain is checked by running them one after another on ``example_input`` and
comparing with the module's own output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import nn
from ..atomic import atomic_path
from ..grad_mode import no_grad
from ..nn.modes import evaluating
from ..tensor import Tensor
from ..version import __version__
from .output_path import output_path
from .predict import first_layer, guess_inference_info

DEFAULT_OPSET = 17


class ExportError(ValueError):
    """A model that cannot be written as ONNX; the message names the layer and why."""


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'nablab[interop]' (or onnx)") from None
    return onnx, helper, numpy_helper


# ----------------------------------------------------------------------------- the chain of layers
class _RunError(ExportError):
    """A layer that fails on what reaches it."""


def _chain(module: nn.Module, prefix: str, x: Tensor, layers: list) -> Tensor:
    """Append ``(name, layer, input shape, output shape)`` for each leaf of ``module`` run on ``x``;
    return the output. Containers are opened; a module whose output is not that of its children
    run in order is an :class:`ExportError`."""
    label = f"{prefix or 'the model'} ({type(module).__name__})"
    children = [(name, child) for name, child in module._modules.items() if child is not None]
    if not children:
        try:
            y = module(x)
        except Exception as exc:
            raise _RunError(f"an input of shape {tuple(x.shape)} does not run through {label}: {exc}") from None
        layers.append((prefix, module, tuple(x.shape), tuple(y.shape)))
        return y
    own = [n for n, p in module._parameters.items() if p is not None] + \
          [n for n, b in module._buffers.items() if b is not None]
    if own:
        raise ExportError(f"{label} holds tensors of its own ({', '.join(own)}) besides its layers; only chains of "
                          "layers can be exported")

    def run_children():
        y = x
        for name, child in children:
            y = _chain(child, f"{prefix}.{name}" if prefix else name, y, layers)
        return y

    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        return run_children()
    not_chain = (f"{label} is not a plain chain of its layers: its forward does more than run them one after "
                 "another, and only such chains can be exported")
    try:
        reference = module(x)
    except Exception as exc:
        raise _RunError(f"an input of shape {tuple(x.shape)} does not run through {label}: {exc}") from None
    start = len(layers)
    try:
        y = run_children()
    except _RunError as exc:
        del layers[start:]
        raise ExportError(f"{not_chain} (run in order, {exc})") from None
    if not isinstance(reference, Tensor) or reference.shape != y.shape or \
            not np.allclose(reference.numpy(), y.numpy(), rtol=1e-5, atol=1e-6):
        raise ExportError(not_chain)
    return y


# ----------------------------------------------------------------------------- the graph
class _Graph:
    """Nodes and initializers under construction, with unique names."""

    def __init__(self, helper, numpy_helper, dtype):
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, np.dtype(dtype)
        self.nodes, self.initializers, self.names = [], [], set()

    def unique(self, name: str) -> str:
        base, i = name, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def constant(self, name: str, value, dtype=None) -> str:
        name = self.unique(name)
        array = np.asarray(value.numpy() if isinstance(value, Tensor) else value, dtype=dtype or self.dtype)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list, name: str, **attrs) -> str:
        out = self.unique(f"{name}/{op}" if name else op)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _linear(g, layer, name, x, shape_in, shape_out):
    weight = g.constant(f"{name}.weight", layer.weight)
    bias = [g.constant(f"{name}.bias", layer.bias)] if layer.bias is not None else []
    if len(shape_in) == 2:
        return g.node("Gemm", [x, weight, *bias], name, transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [weight], name, perm=[1, 0])], name)
    return g.node("Add", [y, bias[0]], name) if bias else y


def _pair(value, what: str) -> tuple[int, int]:
    """An int or a pair of ints as a (height, width) pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ExportError(f"{what} {value!r}: ONNX export takes 2-D layers (a pair or an int)")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _conv(g, layer, name, x, shape_in, shape_out):
    if layer.padding_mode != "zeros":
        raise ExportError(f"{name}: padding_mode={layer.padding_mode!r} is not exported (only zero padding)")
    inputs = [x, g.constant(f"{name}.weight", layer.weight)]
    if layer.bias is not None:
        inputs.append(g.constant(f"{name}.bias", layer.bias))
    (kh, kw), (sh, sw), (dh, dw) = layer.weight.shape[2:], _pair(layer.stride, "stride"), _pair(layer.dilation,
                                                                                              "dilation")
    if layer.padding == "valid":
        pads = [0, 0, 0, 0]
    elif layer.padding == "same":  # PyTorch's split: the extra element of an odd total at the end
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
    else:
        ph, pw = _pair(layer.padding, "padding")
        pads = [ph, pw, ph, pw]
    return g.node("Conv", inputs, name, kernel_shape=[kh, kw], strides=[sh, sw], pads=pads, dilations=[dh, dw],
                  group=layer.groups)


def _pool_attributes(layer) -> dict:
    (kh, kw), (ph, pw) = _pair(layer.kernel_size, "kernel_size"), _pair(layer.padding, "padding")
    stride = layer.kernel_size if layer.stride is None else layer.stride
    return {"kernel_shape": [kh, kw], "strides": list(_pair(stride, "stride")), "pads": [ph, pw, ph, pw],
            "ceil_mode": int(layer.ceil_mode)}


def _max_pool(g, layer, name, x, shape_in, shape_out):
    if layer.return_indices:
        raise ExportError(f"{name}: a max pool that returns indices is not exported")
    return g.node("MaxPool", [x], name, dilations=list(_pair(layer.dilation, "dilation")), **_pool_attributes(layer))


def _avg_pool(g, layer, name, x, shape_in, shape_out):
    if layer.divisor_override is not None:
        raise ExportError(f"{name}: divisor_override is not exported (ONNX's AveragePool has no such attribute)")
    return g.node("AveragePool", [x], name, count_include_pad=int(layer.count_include_pad), **_pool_attributes(layer))


def _adaptive_avg_pool(g, layer, name, x, shape_in, shape_out):
    if tuple(shape_out[2:]) == (1, 1):
        return g.node("GlobalAveragePool", [x], name)
    (h, w), (oh, ow) = shape_in[2:], shape_out[2:]
    if h % oh or w % ow:
        raise ExportError(f"{name}: adaptive pooling of {h}×{w} into {oh}×{ow} has uneven tiles, which ONNX's "
                          "AveragePool cannot express")
    return g.node("AveragePool", [x], name, kernel_shape=[h // oh, w // ow], strides=[h // oh, w // ow])


def _batch_norm(g, layer, name, x, shape_in, shape_out):
    if not layer.track_running_stats:
        raise ExportError(f"{name}: a batch norm without running statistics normalises with each batch's own, "
                          "which an inference graph cannot do")
    channels = layer.running_mean.shape[0]
    scale = layer.weight if layer.weight is not None else np.ones(channels, layer.running_mean.dtype)
    shift = layer.bias if layer.bias is not None else np.zeros(channels, layer.running_mean.dtype)
    inputs = [x] + [g.constant(f"{name}.{key}", value) for key, value in
                    (("weight", scale), ("bias", shift), ("running_mean", layer.running_mean),
                     ("running_var", layer.running_var))]
    return g.node("BatchNormalization", inputs, name, epsilon=float(layer.eps))


def _softmax_axis(layer, shape_in) -> int:
    """The dim a Softmax module normalises over; ``dim=None`` is PyTorch's legacy choice (0 for
    0-, 1- and 3-D inputs, else 1)."""
    if layer.dim is not None:
        return int(layer.dim)
    return 0 if len(shape_in) in (0, 1, 3) else 1


def _flatten(g, layer, name, x, shape_in, shape_out):
    start, end = layer.start_dim % len(shape_in), layer.end_dim % len(shape_in)
    if start == 1 and end == len(shape_in) - 1:
        return g.node("Flatten", [x], name, axis=1)
    target = [0] * start + [-1] + list(shape_in[end + 1:])  # 0 keeps an axis (the batch), -1 is inferred
    return g.node("Reshape", [x, g.constant(f"{name}.shape", target, np.int64)], name)


def _improved_sigmoid(g, layer, name, x, shape_in, shape_out):
    y = g.node("Mul", [x, g.constant(f"{name}.two_thirds", 2.0 / 3.0)], name)
    return g.node("Mul", [g.node("Tanh", [y], name), g.constant(f"{name}.scale", 1.7159)], name)


def _unary(op, **attrs):
    def convert(g, layer, name, x, shape_in, shape_out):
        return g.node(op, [x], name, **{k: f(layer) for k, f in attrs.items()})
    return convert


CONVERTERS = {
    nn.Linear: _linear,
    nn.Conv2d: _conv,
    nn.MaxPool2d: _max_pool,
    nn.AvgPool2d: _avg_pool,
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm,
    nn.Dropout: lambda g, layer, name, x, shape_in, shape_out: x,
    nn.Sequential: lambda g, layer, name, x, shape_in, shape_out: x,  # an empty one
    nn.Flatten: _flatten,
    nn.ReLU: _unary("Relu"),
    nn.LeakyReLU: _unary("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    nn.Sigmoid: _unary("Sigmoid"),
    nn.Tanh: _unary("Tanh"),
    nn.ImprovedSigmoid: _improved_sigmoid,
    nn.Softmax: lambda g, layer, name, x, shape_in, shape_out: g.node("Softmax", [x], name,
                                                                      axis=_softmax_axis(layer, shape_in)),
    nn.LogSoftmax: lambda g, layer, name, x, shape_in, shape_out: g.node("LogSoftmax", [x], name,
                                                                         axis=_softmax_axis(layer, shape_in)),
}


def _converter(layer):
    """The converter of ``layer``'s class, or of a parent class whose forward it does not override."""
    for cls in type(layer).__mro__:
        if cls in CONVERTERS and type(layer).forward is cls.forward:
            return CONVERTERS[cls]
    return None


def _elem_type(onnx, dtype) -> int:
    types = {np.dtype(np.float32): onnx.TensorProto.FLOAT, np.dtype(np.float64): onnx.TensorProto.DOUBLE,
             np.dtype(np.float16): onnx.TensorProto.FLOAT16}
    if np.dtype(dtype) not in types:
        raise ExportError(f"ONNX export takes float16/32/64 inputs, not {np.dtype(dtype)}")
    return types[np.dtype(dtype)]


def to_onnx(model: nn.Module, example_input, path=None, *, opset: int = DEFAULT_OPSET, input_name: str = "input",
            output_name: str = "output", dynamic_batch: bool = True, metadata: dict | None = None):
    """The ONNX graph of ``model`` for inputs shaped like ``example_input`` (an ``onnx.ModelProto``).

    ``example_input`` (a Tensor or array with a batch axis) fixes the input's dtype and its
    non-batch axes; with ``dynamic_batch`` the batch axis is named "N" and any size runs.
    ``path`` writes the file too (atomically). ``metadata`` (str → str) goes into the model's
    ``metadata_props``. The graph passes ``onnx.checker.check_model`` (full check, with shape
    inference). An unsupported layer, or a model whose forward is not a chain of its layers, is an
    :class:`ExportError` naming it. Every module's training/evaluation mode is left as it was.
    """
    onnx, helper, numpy_helper = _onnx()
    if path is not None:
        path = output_path(path, "the ONNX graph")
    if opset < DEFAULT_OPSET:
        raise ValueError(f"opset {opset} is too old; nablab writes opset {DEFAULT_OPSET} or newer")
    if not isinstance(model, nn.Module):
        raise TypeError(f"to_onnx exports a nablab Module, not a {type(model).__name__}")
    x = example_input if isinstance(example_input, Tensor) else Tensor._make(np.asarray(example_input))
    if x.ndim < 1:
        raise ValueError("the example input needs a batch axis")
    elem_type = _elem_type(onnx, x.dtype)

    leaves = [(name or type(m).__name__, m) for name, m in model.named_modules() if not m._modules]
    unsupported = [f"{name} ({type(m).__name__})" for name, m in leaves if _converter(m) is None]
    if unsupported:
        raise ExportError(f"cannot export {type(model).__name__} to ONNX: unsupported layer(s) "
                          f"{', '.join(unsupported)}; supported: {', '.join(sorted(c.__name__ for c in CONVERTERS))}")

    layers = []
    with evaluating(model), no_grad():  # each module's own training flag is given back afterwards
        y = _chain(model, "", x, layers)

    g = _Graph(helper, numpy_helper, x.dtype)
    g.names.update({input_name, output_name})
    current = input_name
    for name, layer, shape_in, shape_out in layers:
        current = _converter(layer)(g, layer, name or type(layer).__name__, current, shape_in, shape_out)
    if current == input_name:  # nothing but identities
        current = g.node("Identity", [current], "identity")
    # the last node writes the graph's output directly
    last = g.nodes[-1]
    last.output[0] = output_name

    batch = "N" if dynamic_batch else int(x.shape[0])
    inputs = [helper.make_tensor_value_info(input_name, elem_type, [batch, *x.shape[1:]])]
    outputs = [helper.make_tensor_value_info(output_name, elem_type, [batch, *y.shape[1:]])]
    graph = helper.make_graph(g.nodes, f"nablab.{type(model).__name__}", inputs, outputs, g.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="nablab", producer_version=__version__)
    proto.ir_version = helper.find_min_ir_version_for(opsets)  # the oldest IR that opset needs: older runtimes read it
    if metadata:
        helper.set_model_props(proto, {str(k): str(v) for k, v in metadata.items()})
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:  # pragma: no cover - a bug in a converter
        raise ExportError(f"the ONNX graph of {type(model).__name__} does not pass onnx.checker: {exc}") from None
    if path is not None:
        with atomic_path(path) as tmp:
            onnx.save(proto, str(tmp))
    return proto


def run_onnx(model_or_path, inputs) -> np.ndarray:
    """Run an ONNX model (a path or an ``onnx.ModelProto``) in onnxruntime on ``inputs`` (first output)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError("running ONNX models needs onnxruntime: pip install 'nablab[interop]'") from None
    source = str(model_or_path) if isinstance(model_or_path, (str, Path)) else model_or_path.SerializeToString()
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.asarray(inputs)})[0]


def export_input_shape(model: nn.Module, info: dict | None = None) -> tuple[int, ...]:
    """The input shape (without the batch axis) to export ``model`` with.

    From the inference info ``info`` where there is one (flattened for a model that takes vectors);
    else a model whose first layer with weights is a Linear takes ``(in_features,)`` (a Flatten
    before it passes N × features through) — no image size is needed to export it; else the image
    size guessed from the model (see
    :func:`nablab.io.predict.guess_inference_info`, whose error asks for ``--input-shape``).
    """
    if info is None:
        first = first_layer(model)
        if isinstance(first, nn.Linear):
            return (first.in_features,)
        info = guess_inference_info(model)[0]
    return (math.prod(info["input_shape"]),) if info["flatten"] else tuple(int(s) for s in info["input_shape"])
