"""The Python and PyTorch protocol of :class:`~nablab.Tensor`: sizes, conversions, devices, comparisons.

What a PyTorch user calls on a tensor without thinking of it as math: ``x.size(1)``, ``x.dim()``,
``float(loss)``, ``f"{loss:.3f}"``, ``for row in x``, ``x.to(device)``, ``x.long()``,
``pred.eq(target)``, ``x.clone()``. :class:`~nablab.Tensor` inherits these from
:class:`ProtocolMethods`.
"""

from __future__ import annotations

import numpy as np

from . import ops
from .backend import get_array_module, settle_checks, to_host
from .device import device, device_of, resolve
from .errors import DimError, ShapeError
from .random import numpy_generator
from .size import Size

#: the legacy tensor type names ``x.type()`` returns, as PyTorch's (``torch.FloatTensor``)
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}


def _dim_index(dim: int, ndim: int) -> int:
    """``dim`` as an index in ``[0, ndim)``, or PyTorch's IndexError."""
    if not -ndim <= dim < ndim:
        raise DimError(f"dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def _size_tuple(size) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` alike: the sizes as one tuple."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def device_and_dtype(args, kwargs) -> tuple:
    """The (device, dtype) that ``to(...)``'s arguments name (either may be None): a device or its
    string, a dtype, a tensor (both of its), and the keywords ``device``, ``dtype``,
    ``non_blocking`` and ``memory_format`` (the last two have no effect in nablab)."""
    kwargs = dict(kwargs)
    target_device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, ProtocolMethods):
            target_device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (str, device)):
            target_device = arg
        elif isinstance(arg, bool):  # the positional non_blocking / copy flags of PyTorch's signature
            continue
        else:
            try:
                dtype = np.dtype(arg)
            except TypeError:
                raise TypeError(f"to() takes a device, a dtype or a tensor, not {arg!r}") from None
    return target_device, dtype


class ProtocolMethods:
    """Sizes, Python conversions, devices, dtype conversions and comparison methods of a tensor."""

    # ----------------------------------------------------------------- sizes
    @property
    def shape(self) -> Size:
        return Size(self.data.shape)

    def size(self, dim: int | None = None):
        """The shape (a :class:`~nablab.Size`), or the length of dimension ``dim``."""
        if dim is None:
            return Size(self.data.shape)
        if self.data.ndim == 0:
            raise DimError(f"dimension specified as {dim} but tensor has no dimensions")
        return self.data.shape[_dim_index(dim, self.data.ndim)]

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self.data.itemsize

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        """The sub-tensors along the first dimension (``for row in x``), each differentiable."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    # ----------------------------------------------------------------- Python numbers
    def _scalar(self, what: str):
        if self.data.size != 1:
            raise ValueError(f"only one-element tensors can be converted to Python {what}s, "
                             f"this one has shape {tuple(self.data.shape)}")
        settle_checks()
        return self.data.item()

    def __float__(self) -> float:
        return float(self._scalar("scalar"))

    def __int__(self) -> int:
        return int(self._scalar("scalar"))

    def __index__(self) -> int:
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"only integer tensors of a single element can be converted to an index, "
                            f"not {self.data.dtype}")
        return int(self._scalar("index"))

    def __abs__(self):
        return self.abs()

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others as their repr, and only
        without a format spec (PyTorch's TypeError otherwise)."""
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} passed to Tensor.__format__ (a tensor of shape "
                            f"{tuple(self.data.shape)}: format x.item() or a 0-d tensor)")
        return repr(self)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(x)``: the data as a NumPy array (copied to the host from a GPU)."""
        array = np.asarray(self.numpy())  # a 0-d result may hold a NumPy scalar
        return array if dtype is None else array.astype(dtype, copy=False)

    # ----------------------------------------------------------------- devices and dtypes
    @property
    def device(self) -> device:
        return device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def get_device(self) -> int:
        """The GPU index, or −1 on the CPU (PyTorch's convention)."""
        where = self.device
        return -1 if where.type == "cpu" else where.index or 0

    def to(self, *args, **kwargs):
        """This tensor on another device and/or in another dtype: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)``, ``to(other_tensor)``, or the keywords ``device=``, ``dtype=``.

        Returns the tensor itself when nothing changes (unless ``copy=True``), as PyTorch does;
        the conversion is differentiable. ``non_blocking`` and ``memory_format`` are accepted and
        have no effect.
        """
        copy = kwargs.pop("copy", False)
        target_device, dtype = device_and_dtype(args, kwargs)
        out = self
        if target_device is not None:
            target = resolve(target_device)
            if target.type != self.device.type:
                out = ops.ToDevice.apply(out, device_type=target.type)
        if dtype is not None:
            out = out._cast(np.dtype(dtype))
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):  # noqa: ARG002 - PyTorch's signature; nablab uses the current GPU
        return self.to("cuda")

    def type(self, dtype=None):
        """Without an argument the type name (``"nablab.FloatTensor"``); with one, ``to(dtype)``."""
        if dtype is None:
            return f"nablab.{_TYPE_NAMES.get(self.data.dtype.name, self.data.dtype.name)}"
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def int(self):
        return self.to(np.int32)

    def long(self):
        return self.to(np.int64)

    def short(self):
        return self.to(np.int16)

    def char(self):
        return self.to(np.int8)

    def byte(self):
        return self.to(np.uint8)

    def bool(self):
        return self.to(np.bool_)

    def data_ptr(self) -> int:
        """The address of the first element (tensors sharing memory share it)."""
        data = self.data
        return data.__array_interface__["data"][0] if isinstance(data, np.ndarray) else int(data.data.ptr)

    def is_contiguous(self, memory_format=None) -> bool:  # noqa: ARG002 - PyTorch's signature
        """True when the elements lie in row-major order without gaps (a NumPy C-contiguous array)."""
        return bool(self.data.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps in elements (not bytes, unlike NumPy's ``strides``) between neighbours along each dim."""
        steps = tuple(s // self.data.itemsize for s in self.data.strides)
        if dim is None:
            return steps
        if not -len(steps) <= dim < len(steps):
            raise DimError(f"Dimension out of range (expected to be in range of [{-len(steps)}, {len(steps) - 1}], "
                           f"but got {dim})")
        return steps[dim]

    # ----------------------------------------------------------------- random draws shaped by this tensor
    def bernoulli(self, p=None, *, generator=None):
        """1 with probability self (elementwise; or with the number ``p`` everywhere), else 0, in this
        dtype, outside the graph (``torch.bernoulli``)."""
        probs = to_host(self.data) if p is None else np.full(self.data.shape, p)
        if np.any((probs < 0) | (probs > 1)):
            raise RuntimeError("bernoulli expects all probabilities in [0, 1]")
        draw = numpy_generator(generator).random(probs.shape) < probs
        return type(self)._make(get_array_module(self.data).asarray(draw, dtype=self.data.dtype))

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        """Indices drawn with probabilities proportional to the non-negative weights of each row (a
        1-D tensor is one row): int64 of shape (rows, num_samples) or (num_samples,)."""
        weights = np.asarray(to_host(self.data), dtype=np.float64)
        if weights.ndim not in (1, 2):
            raise ShapeError(f"multinomial expects a 1-D or 2-D tensor of weights, got shape {weights.shape}")
        rows = weights.reshape(-1, weights.shape[-1])
        if np.any(rows < 0) or not np.all(np.isfinite(rows)):
            raise RuntimeError("multinomial expects finite, non-negative weights")
        rng = numpy_generator(generator)
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for i, row in enumerate(rows):
            nonzero = np.count_nonzero(row)
            if nonzero == 0:
                raise RuntimeError(f"multinomial: row {i} of the weights sums to 0")
            if not replacement and num_samples > nonzero:
                raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement from row "
                                   f"{i}, which has {nonzero} nonzero weights")
            out[i] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / row.sum())
        return type(self)._make(get_array_module(self.data).asarray(out.reshape(weights.shape[:-1] + (num_samples,))))

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self.data.dtype.kind == "c"

    # ----------------------------------------------------------------- comparisons and copies
    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other) -> bool:
        """True when both have the same shape and the same values (``torch.equal``)."""
        return tuple(self.data.shape) == tuple(other.data.shape) and bool((self == other).data.all())

    def clone(self):
        """A copy in new memory that stays in the graph (gradients flow back to this tensor)."""
        return ops.Clone.apply(self)

    # ----------------------------------------------------------------- new tensors like this one
    def new_full(self, size, fill_value, dtype=None):
        """A tensor of ``size`` filled with ``fill_value``, on this tensor's device, in its dtype unless given."""
        xp = get_array_module(self.data)
        return type(self)._make(xp.full(tuple(size), fill_value, dtype=dtype or self.data.dtype))

    def new_zeros(self, *size, dtype=None):
        return self.new_full(_size_tuple(size), 0, dtype)

    def new_ones(self, *size, dtype=None):
        return self.new_full(_size_tuple(size), 1, dtype)

    def new_empty(self, *size, dtype=None):
        return self.new_full(_size_tuple(size), 0, dtype)

    def new_tensor(self, data, dtype=None):
        xp = get_array_module(self.data)
        return type(self)._make(xp.array(data, dtype=dtype or self.data.dtype))
