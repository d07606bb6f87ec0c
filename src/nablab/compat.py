"""Which of PyTorch's names nablab has, and where nablab behaves differently: the README's
"PyTorch compatibility" section is :func:`markdown` (``tests/test_compat.py`` checks that the
README holds exactly this text, that every name listed is a real PyTorch name, and that the
"present" ones exist in nablab).

The lists are the names a PyTorch user's scripts reach for (issue 15's inventory); a name counts
as present when nablab has an attribute of that name in the matching namespace.
"""

from __future__ import annotations

import importlib

import numpy as np

#: PyTorch namespace → (nablab module or object path, the names checked there)
NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "torch": ("nablab", (
        "get_num_threads", "set_num_threads", "float32", "float", "float64", "double", "float16", "half", "int64",
        "long", "int32", "int", "int16",
        "int8", "uint8", "bool", "Size", "Tensor", "tensor", "as_tensor", "from_numpy", "device", "cuda",
        "accelerator", "set_default_device", "get_default_device", "manual_seed", "no_grad", "enable_grad",
        "set_grad_enabled", "is_grad_enabled", "save",
        "load", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "logspace", "rand", "randn",
        "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
        "randint_like", "flatten", "cat", "concat", "stack", "hstack", "vstack", "split", "chunk", "unbind",
        "squeeze", "unsqueeze", "reshape", "transpose", "permute", "movedim", "flip", "roll", "tile",
        "repeat_interleave", "tril", "triu", "diag", "diagonal", "meshgrid", "narrow", "where", "gather", "scatter",
        "scatter_add", "index_select", "masked_select", "nonzero", "take_along_dim", "einsum", "bmm", "mm", "mv",
        "dot", "outer", "matmul", "exp", "log", "sqrt", "abs", "sin", "cos", "tan", "asin", "acos", "atan",
        "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "log2", "log10", "log1p", "logit", "expm1", "exp2",
        "rsqrt", "sign", "floor", "ceil", "round", "trunc", "frac", "erf", "erfc", "isnan", "isinf", "isfinite",
        "isclose", "allclose", "lerp", "logaddexp", "copysign", "fmod", "remainder", "clamp", "clip", "maximum",
        "minimum", "sigmoid", "relu", "sum", "mean", "prod", "var", "std", "var_mean", "std_mean", "logsumexp",
        "cumsum", "cumprod", "cummax", "cummin", "any", "all", "amax", "amin", "max", "min", "argmax", "argmin",
        "median", "norm", "sort", "argsort", "topk", "unique", "logical_and", "logical_or", "logical_xor",
        "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "count_nonzero", "equal",
        "result_type", "promote_types", "is_tensor", "numel", "softmax", "log_softmax", "Generator",
        "return_types", "nonzero", "argwhere", "take", "tensordot", "broadcast_tensors", "atleast_2d", "rot90",
        "trace", "kron", "cdist", "histc", "bincount", "searchsorted", "bucketize", "diff", "cross", "flatten",
        "autograd", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "clone", "eq", "ne",
        "lt", "le", "gt", "ge", "addcmul", "addcdiv", "nan_to_num", "normal", "bernoulli", "multinomial",
        "inference_mode", "set_printoptions", "get_default_dtype", "finfo", "iinfo", "linalg",
    )),
    "torch.Tensor": ("nablab.Tensor", (
        "__abs__", "__float__", "__int__", "__index__", "__bool__", "__format__", "__len__", "__iter__",
        "__mod__", "__floordiv__", "__and__", "__or__", "__xor__", "__invert__", "__lshift__", "__rshift__",
        "__setitem__", "size", "dim", "numel", "shape", "ndim", "dtype", "device", "tolist", "item", "numpy",
        "mT", "T", "to", "cpu", "cuda", "float", "double", "half", "int", "long", "bool", "type", "type_as",
        "view", "view_as", "reshape", "reshape_as", "expand", "expand_as", "eq", "ne", "lt", "le", "gt", "ge",
        "clone", "contiguous", "detach", "requires_grad_", "backward", "is_leaf", "grad", "add_", "sub_", "mul_",
        "div_", "zero_", "fill_", "clamp_", "copy_", "uniform_", "normal_", "masked_fill_", "add", "sub", "mul",
        "div", "transpose", "permute", "flatten", "unflatten", "squeeze", "unsqueeze", "flip", "roll", "repeat",
        "split", "chunk", "gather", "scatter", "masked_fill", "index_select", "sum", "mean", "max", "min",
        "argmax", "argmin", "var", "std", "cumsum", "sort", "topk", "abs", "exp", "log", "sqrt", "pow", "clamp",
        "new_zeros", "new_ones", "new_full", "new_tensor", "is_floating_point", "element_size", "unfold",
        "retain_grad", "register_hook", "data_ptr", "grad_fn", "__iadd__", "__isub__", "__imul__",
        "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__", "__iand__", "__ior__", "__ixor__",
        "softmax", "log_softmax", "is_contiguous", "stride", "addcmul", "addcmul_", "addcdiv", "nan_to_num",
        "bernoulli", "multinomial",
    )),
    "torch.autograd": ("nablab.autograd", (
        "Function", "grad", "backward", "no_grad", "enable_grad", "set_grad_enabled",
    )),
    "torch.nn": ("nablab.nn", (
        "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
        "Linear", "Identity", "Flatten", "Unflatten", "Embedding", "Conv1d", "Conv2d", "ConvTranspose2d",
        "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "MaxUnpool2d", "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample", "Dropout", "Dropout1d", "Dropout2d", "BatchNorm1d",
        "BatchNorm2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm", "ReLU", "LeakyReLU",
        "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "SiLU", "ELU", "SELU", "CELU", "Softplus",
        "Softsign", "Mish", "Hardswish", "Hardsigmoid", "Hardtanh", "ReLU6", "LogSigmoid", "PReLU", "NLLLoss",
        "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
        "KLDivLoss", "ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d", "ConstantPad2d", "init", "utils",
        "functional", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "Transformer",
        "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
    )),
    "torch.nn.functional": ("nablab.nn.functional", (
        "linear", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
        "max_unpool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "interpolate", "pad",
        "dropout", "dropout2d", "batch_norm", "group_norm", "instance_norm", "layer_norm", "embedding", "one_hot",
        "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "elu", "selu", "celu", "softplus", "softsign",
        "mish", "hardswish", "hardsigmoid", "hardtanh", "relu6", "logsigmoid", "prelu", "softmax", "log_softmax",
        "normalize", "cosine_similarity", "nll_loss", "cross_entropy", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
        "scaled_dot_product_attention", "multi_head_attention_forward",
    )),
    "torch.nn.init": ("nablab.nn.init", (
        "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "calculate_gain",
    )),
    "torch.nn.utils": ("nablab.nn.utils", (
        "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "rnn",
    )),
    "torch.nn.utils.rnn": ("nablab.nn.utils.rnn", ("pad_sequence", "pack_padded_sequence", "pad_packed_sequence")),
    "torch.optim": ("nablab.optim", (
        "Optimizer", "SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "RMSprop", "NAdam", "RAdam", "Adamax",
        "LBFGS", "lr_scheduler",
    )),
    "torch.optim.lr_scheduler": ("nablab.optim.lr_scheduler", (
        "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "LinearLR", "OneCycleLR",
        "ReduceLROnPlateau", "SequentialLR", "CosineAnnealingWarmRestarts", "CyclicLR",
    )),
    "torch.utils.data": ("nablab.utils.data", (
        "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "Sampler",
        "RandomSampler", "SequentialSampler", "BatchSampler", "default_collate",
    )),
    "torchvision.datasets": ("nablab.data.datasets", ("MNIST", "FashionMNIST", "CIFAR10")),
    "torchvision.transforms": ("nablab.data.transforms", (
        "Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Lambda",
    )),
}

#: where a name exists in both but behaves differently, and how (a PyTorch user's surprises)
DIFFERENCES: dict[str, str] = {
    "Tensor.data": "the raw NumPy (or CuPy) array, not a tensor: `p.data.add_(…)` is `with nablab.no_grad(): "
                   "p.add_(…)` here",
    "dtypes": "`nablab.float32` and friends are NumPy dtypes (`repr` shows `dtype('float32')`)",
    "Tensor(data)": "`nablab.Tensor(array)` shares memory with the array where it can (PyTorch's legacy "
                    "constructor copies); both give float32 for floating data",
    "save / load": "safetensors whatever the suffix, never a pickle: `torch.load` cannot read the file, and "
                   "`nablab.load` reads tensors only (`weights_only=False` is refused)",
    "in-place ops in a graph": "a tensor changed in place while the graph is recorded takes a new array (the old "
                               "one stays with the nodes that saved it), so a NumPy view taken of it before does "
                               "not see the change; outside the graph the array itself is written",
    "views": "`view` and `reshape` copy where NumPy must (PyTorch's `view` refuses a non-contiguous input); "
             "views share memory with their source, but only `detach` shares its version counter, and while "
             "the graph is recorded a write into a view (`y = x[0]; y[1] = v`) does not reach `x`",
    "Mul and the saved inputs": "`x * 3` keeps `x` for backward although only the constant's gradient would "
                                "need it, so changing `x` in place before backward is refused where PyTorch "
                                "allows it",
    "index tensors": "a uint8 index tensor is read as integers (PyTorch reads it as a deprecated mask)",
    "sort / topk": "always stable and sorted (`stable=False`, `sorted=False` are accepted)",
    "devices": "only `cpu`, and `cuda` through CuPy where a GPU is present (no `mps`, no `xpu`)",
    "DataLoader workers": "`num_workers`, `pin_memory` and `persistent_workers` are accepted; batches are "
                          "assembled in the main process",
    "gradient clipping": "`clip_grad_norm_` and `clip_grad_value_` replace each `.grad` with a new tensor instead "
                         "of writing into it",
    "vector_to_parameters": "copies the values into the parameters (PyTorch makes them views of the vector)",
    "autograd": "no gradients of gradients: `create_graph=True` is refused (backward passes compute on arrays); a "
                "custom Function with several outputs shows each output's `grad_fn` as an `UnpackBackward0` node "
                "in front of its own; node names carry no overload number (`sum(0)` is `SumBackward0`, PyTorch's "
                "`SumBackward1`) and name nablab's ops (`MatMulBackward0` where PyTorch says `MmBackward0`)",
    "out=": "every free function takes `out=`; an `out` of another shape is given new memory (PyTorch resizes "
             "its storage), so a NumPy view taken of it before does not see the result",
    "printing": "as PyTorch's (4 decimals, `grad_fn=<…>`, `dtype=` where not implied) except that dtypes print "
                "as NumPy's names (`dtype=float64`, not `torch.float64`)",
    "optimizer switches": "`foreach`, `fused`, `capturable` and `differentiable` are not accepted; a state's "
                          "`step` is a Python int, not a tensor",
    "module printing": "`print(model)` is PyTorch's, layer by layer, except that a `MultiheadAttention`'s "
                       "`out_proj` prints as `Linear` (PyTorch's `NonDynamicallyQuantizableLinear`) and a "
                       "`ParameterList` or `ParameterDict` shows no entries",
    "transformer evaluation": "no fast path with nested tensors: in evaluation a `TransformerEncoder` computes "
                              "the padded positions of `src_key_padding_mask` as in training, where PyTorch's fast "
                              "path returns 0 there (the other positions agree)",
    "recurrent layers": "no packed sequences (`pack_padded_sequence`: pad with `nn.utils.rnn.pad_sequence` and "
                        "mask instead) and no LSTM `proj_size`",
    "set_num_threads": "sets the threads of nablab's own CPU kernels; the matrix products run in NumPy's BLAS, "
                       "whose threads `OPENBLAS_NUM_THREADS` or threadpoolctl set",
    "torchvision images": "data sets hand transforms H×W(×C) uint8 NumPy arrays where torchvision hands PIL "
                          "images; `ToTensor` takes either layout",
}


def resolve(path: str):
    """The object at a dotted path: a module, or an attribute of one (``nablab.Tensor``)."""
    try:
        return importlib.import_module(path)
    except ImportError:
        module, _, attr = path.rpartition(".")
        return getattr(importlib.import_module(module), attr)


def present(namespace: str) -> tuple[list[str], list[str]]:
    """(names nablab has, names it lacks) of one PyTorch namespace of :data:`NAMES`."""
    path, names = NAMES[namespace]
    target = resolve(path)
    if isinstance(target, type) and hasattr(target, "_make"):  # the Tensor class: ask an instance (x.grad)
        target = target._make(np.zeros((1, 1), np.float32))
    have = [n for n in names if hasattr(target, n)]
    return have, [n for n in names if n not in have]


def markdown() -> str:
    """The README's compatibility section: per namespace the count and the missing names, then the
    differences."""
    rows = ["| PyTorch | nablab | present | missing |", "|---|---|---|---|"]
    for namespace, (path, names) in NAMES.items():
        have, missing = present(namespace)
        gaps = ", ".join(f"`{n}`" for n in missing) or "—"
        rows.append(f"| `{namespace}` | `{path}` | {len(have)} of {len(names)} | {gaps} |")
    diffs = ["| where | how nablab differs |", "|---|---|"]
    diffs += [f"| {where} | {how} |" for where, how in DIFFERENCES.items()]
    return "\n".join(rows) + "\n\nBehaves differently:\n\n" + "\n".join(diffs) + "\n"
