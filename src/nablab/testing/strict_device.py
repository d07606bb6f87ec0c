"""A strict stand-in for a GPU, on the CPU: arrays that behave towards nablab as CuPy's do.

Code that never ran on a GPU will not work there, and a GPU is rarely at hand. The three ways
code written for NumPy breaks on CuPy are all about where the data lives:

1. **implicit conversion to the host** — ``np.asarray(gpu_array)`` and everything that calls it
   (``np.array``, ``float(x)`` on an array, a NumPy function CuPy does not take over) raise on CuPy;
2. **mixing devices** — an op with one host (NumPy) array and one device array raises;
3. **host syncs** — ``.item()``, ``float()``, ``bool()`` (every ``if (x < 0).any():``) and copies to
   the host wait for the GPU to finish; one per op makes training crawl.

:class:`StrictArray` wraps a NumPy array and keeps all three rules: ``__array__`` raises (CuPy's
message), a NumPy array among an op's operands raises, and every sync is counted (:func:`syncs`).
Its arithmetic is NumPy's own, on the wrapped array, so a result on the stand-in must equal the CPU
result **bit for bit**: any difference is a device path that computes something else.

:data:`xp` is the stand-in's array module (what ``cupy`` is to CuPy arrays): every NumPy function,
taking and returning stand-in arrays; ``xp.asarray(host_array)`` is the explicit upload and
``xp.asnumpy(a)`` / ``a.get()`` the explicit download (a sync). :func:`enable` makes it nablab's
"cuda" device, so ``nablab.device("cuda")``, ``Tensor.to("cuda")`` and ``Module.cuda()`` use it::

    from nablab.testing import strict_device
    with strict_device.enable():
        model = nablab.models.MLP(64, [32], 10).to("cuda")
        with strict_device.count_syncs() as count:
            model(x.to("cuda")).sum().backward()
        print(count.syncs)

What the stand-in does not model: which NumPy functions CuPy lacks, performance, and asynchrony
(its "device" computes at once). Those only a real GPU shows.
"""

from __future__ import annotations

import contextlib
import functools
import types

import numpy as np

#: CuPy's error for np.asarray(cupy_array)
_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
             "array explicitly (nablab's strict stand-in device, behaving as CuPy)")


class _SyncCounter:
    """The number of host syncs since the counter was made."""

    def __init__(self):
        self.syncs = 0
        self.where: list[str] = []


_counters: list[_SyncCounter] = []


def _sync(what: str) -> None:
    for counter in _counters:
        counter.syncs += 1
        counter.where.append(what)


@contextlib.contextmanager
def count_syncs():
    """``with count_syncs() as c:`` counts the host syncs in the block: ``c.syncs``, and ``c.where``
    names each (``"item"``, ``"bool"``, ``"get"``, …)."""
    counter = _SyncCounter()
    _counters.append(counter)
    try:
        yield counter
    finally:
        _counters.remove(counter)


def _mixing_error(value) -> TypeError:
    return TypeError(f"a host (NumPy) array of shape {value.shape} and dtype {value.dtype} was given to an op on "
                     "the device (nablab's strict stand-in, behaving as CuPy): move it with .to(device) or "
                     "xp.asarray first")


def _unwrap(value, allow_host: bool = False):
    """The NumPy value behind ``value`` (tuples and lists element by element); a host array raises
    unless ``allow_host``."""
    if type(value) is StrictArray:
        return value._array
    if isinstance(value, np.ndarray):
        if not allow_host:
            raise _mixing_error(value)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, allow_host) for v in value)
    return value


def _wrap(value):
    """Arrays (and NumPy scalars, which CuPy returns as 0-d arrays) as stand-in arrays."""
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _unwrap_kwargs(kwargs: dict, allow_host: bool = False) -> dict:
    return {k: _unwrap(v, allow_host) for k, v in kwargs.items()}


class _Device:
    """What ``cupy_array.device`` is: the GPU's number."""

    id = 0

    def __repr__(self):
        return "<strict stand-in device 0>"


_DEVICE = _Device()


class StrictArray:
    """A device array of the stand-in: a NumPy array that cannot leave the device implicitly."""

    __slots__ = ("_array", "__weakref__")
    __array_priority__ = 100  # NumPy defers to our operators when one operand is ours

    def __init__(self, array: np.ndarray):
        self._array = array

    # ------------------------------------------------------------- the three rules
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap_kwargs(kwargs))
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap_kwargs(kwargs)))

    def get(self, stream=None, order="C", out=None) -> np.ndarray:
        """The explicit copy to the host (a sync)."""
        _sync("get")
        return np.array(self._array, order=order)

    def item(self):
        _sync("item")
        return self._array.item()

    def tolist(self):
        _sync("tolist")
        return self._array.tolist()

    def __bool__(self):
        _sync("bool")
        return bool(self._array)

    def __float__(self):
        _sync("float")
        return float(self._array)

    def __int__(self):
        _sync("int")
        return int(self._array)

    def __index__(self):
        _sync("index")
        return self._array.__index__()

    def __complex__(self):
        _sync("complex")
        return complex(self._array)

    def __repr__(self):
        _sync("repr")
        return f"strict_array({np.array2string(self._array, separator=', ')}, dtype={self._array.dtype})"

    __str__ = __repr__

    # ------------------------------------------------------------- what lives on the device
    @property
    def device(self):
        return _DEVICE

    @property
    def shape(self):
        return self._array.shape

    @shape.setter
    def shape(self, value):
        self._array.shape = value

    @property
    def dtype(self):
        return self._array.dtype

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def size(self):
        return self._array.size

    @property
    def itemsize(self):
        return self._array.itemsize

    @property
    def nbytes(self):
        return self._array.nbytes

    @property
    def strides(self):
        return self._array.strides

    @property
    def flags(self):
        return self._array.flags

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return StrictArray(self._array.T)

    @property
    def real(self):
        return StrictArray(self._array.real)

    @property
    def imag(self):
        return StrictArray(self._array.imag)

    @property
    def base(self):
        return None if self._array.base is None else _wrap(self._array.base)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (StrictArray(np.asarray(row)) for row in self._array)

    def __getitem__(self, key):
        return _wrap(self._array[_unwrap(key, allow_host=True)])

    def __setitem__(self, key, value):
        self._array[_unwrap(key, allow_host=True)] = _unwrap(value, allow_host=True)

    def __getattr__(self, name):
        """The NumPy array's methods (``reshape``, ``sum``, ``astype``, …), on device arrays; not its
        protocols (``__array_interface__`` would hand NumPy the host memory)."""
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self._array, name)
        if not callable(attribute):
            return _wrap(attribute)

        @functools.wraps(attribute)
        def method(*args, **kwargs):
            return _wrap(attribute(*_unwrap(args), **_unwrap_kwargs(kwargs)))

        return method

    def __copy__(self):
        return StrictArray(self._array.copy())

    def __deepcopy__(self, memo):
        return StrictArray(self._array.copy())

    def __reduce__(self):
        raise TypeError("a stand-in device array cannot be pickled; copy it to the host with .get()")


def _operator(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _inplace(ufunc):
    def apply(self, other):
        ufunc(self._array, _unwrap(other), out=self._array)
        return self

    return apply


for _name, _ufunc in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
                      ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
                      ("matmul", np.matmul), ("and", np.bitwise_and), ("or", np.bitwise_or),
                      ("xor", np.bitwise_xor), ("lshift", np.left_shift), ("rshift", np.right_shift)):
    setattr(StrictArray, f"__{_name}__", _operator(_ufunc))
    setattr(StrictArray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(StrictArray, f"__i{_name}__", _inplace(_ufunc))
for _name, _ufunc in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                      ("eq", np.equal), ("ne", np.not_equal)):
    setattr(StrictArray, f"__{_name}__", _operator(_ufunc))
StrictArray.__neg__ = lambda self: np.negative(self)
StrictArray.__pos__ = lambda self: np.positive(self)
StrictArray.__abs__ = lambda self: np.absolute(self)
StrictArray.__invert__ = lambda self: np.invert(self)
StrictArray.__hash__ = None


class _Ufunc:
    """A NumPy ufunc called on stand-in arrays, with its methods (``xp.add.at``, ``xp.maximum.reduce``)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _wrap(self._ufunc(*_unwrap(args), **_unwrap_kwargs(kwargs)))

    def __getattr__(self, name):
        attribute = getattr(self._ufunc, name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: _wrap(attribute(*_unwrap(args), **_unwrap_kwargs(kwargs)))


class _ArrayModule(types.ModuleType):
    """The stand-in's ``cupy``: NumPy's namespace over stand-in arrays."""

    def __init__(self, name: str, numpy_module):
        super().__init__(name)
        self.__file__ = __file__
        self._numpy = numpy_module
        self.ndarray = StrictArray

    def asarray(self, a, dtype=None, order=None):
        """A device array: ``a`` itself (cast if asked) when it is one, else a copy of the host data (an upload)."""
        if type(a) is StrictArray:
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        return StrictArray(np.array(a, dtype=dtype, order=order or "K"))

    def array(self, a, dtype=None, copy=True, order="K", ndmin=0):
        source = a._array if type(a) is StrictArray else a
        return StrictArray(np.array(source, dtype=dtype, copy=True if copy is None else copy, order=order,
                                    ndmin=ndmin))

    def ascontiguousarray(self, a, dtype=None):
        return StrictArray(np.ascontiguousarray(self.asarray(a)._array, dtype=dtype))

    def asnumpy(self, array, stream=None, order="C", out=None):
        """The explicit download, as ``cupy.asnumpy``."""
        return array.get(order=order) if type(array) is StrictArray else np.asarray(array, order=order)

    def get_array_module(self, *arrays):
        return self if any(type(a) is StrictArray for a in arrays) else np

    def __getattr__(self, name):
        attribute = getattr(self._numpy, name)
        if isinstance(attribute, np.ufunc):
            wrapped = _Ufunc(attribute)
        elif isinstance(attribute, types.ModuleType):
            wrapped = _ArrayModule(f"{self.__name__}.{name}", attribute)
        elif isinstance(attribute, type) or not callable(attribute):
            return attribute  # dtypes and constants: the same objects as NumPy's, as in CuPy
        else:

            @functools.wraps(attribute)
            def wrapped(*args, **kwargs):
                return _wrap(attribute(*_unwrap(args), **_unwrap_kwargs(kwargs)))

        setattr(self, name, wrapped)
        return wrapped


#: the stand-in device's array module
xp = _ArrayModule("nablab.testing.strict_device.xp", np)


def upload(array) -> StrictArray:
    """A host array (or anything ``np.asarray`` takes) copied to the stand-in device."""
    return StrictArray(np.array(array))


@contextlib.contextmanager
def enable():
    """Make the stand-in nablab's "cuda" device inside the block (``nablab.cuda.is_available()`` is
    then True); the previous GPU module, CuPy or none, comes back after it."""
    from .. import backend

    previous = backend.set_gpu_module(xp)
    try:
        yield xp
    finally:
        backend.set_gpu_module(previous)
