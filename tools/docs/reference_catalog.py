"""What the reference pages list, found in the code: every op (a ``Function`` subclass of a module of
``nablab.ops``), every public layer (an ``nn.Module`` subclass that ``nablab.nn`` exports), which public
names reach each op, and each public name's PyTorch counterpart.

Who calls an op is read from the source: each public callable's code is parsed, and every name and
attribute chain in it (``ops.BatchNormTrain``, ``F.relu``, ``self._cast``) is resolved in the
callable's module to the object it denotes. A callable uses the ops it names, and those its private
helpers (``_binary``, ``self._cast``) name, recursively; a layer's ``forward`` also goes through the
public functions it calls (``F.batch_norm``), which is how a layer reaches its ops.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap
from dataclasses import dataclass, field

import nablab
import nablab.nn
import nablab.nn.functional
from nablab import compat, kernels, ops
from nablab.function import Function

TORCH_DOCS = "https://pytorch.org/docs/stable/generated/{}.html"


@dataclass
class Op:
    """One reference op: its class, its ops module, and the public names that call it."""

    cls: type
    module: str  # the module's last name: "normalization"
    callers: list[str] = field(default_factory=list)  # "nablab.nn.functional.batch_norm", …

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass
class Layer:
    """One public layer: its class, the ``nablab.nn`` module that defines it, and the ops its forward reaches."""

    cls: type
    module: str  # "batchnorm"
    ops: list[type] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.cls.__name__


def op_modules() -> list:
    """The modules of ``nablab.ops``, in name order."""
    return [importlib.import_module(info.name)
            for info in sorted(pkgutil.iter_modules(ops.__path__, prefix="nablab.ops."), key=lambda i: i.name)]


def ops_of(module) -> list[type]:
    """The Function subclasses that ``module`` defines, in the order of its source."""
    found = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
             if issubclass(cls, Function) and cls.__module__ == module.__name__]
    return sorted(found, key=lambda cls: cls.forward.__code__.co_firstlineno)


def all_ops() -> list[type]:
    """Every op, module by module."""
    return [cls for module in op_modules() for cls in ops_of(module)]


def public_layers() -> list[type]:
    """The ``nn.Module`` subclasses exported by ``nablab.nn`` (the base class ``Module`` itself is the API's)."""
    return [cls for name in nablab.nn.__all__
            if isinstance(cls := getattr(nablab.nn, name), type) and issubclass(cls, nablab.nn.Module)
            and cls is not nablab.nn.Module]


# --------------------------------------------------------------------------- reading who calls what
def _is_ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("nablab")


@functools.cache
def _tree(fn):
    """The parsed source of a function (None where it has none: a builtin, a C function)."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _resolve(node, namespace: dict, self_cls):
    """The object an expression ``a``, ``a.b.c`` or ``self.b`` denotes in ``namespace``; None if unknown."""
    if isinstance(node, ast.Name):
        if node.id == "self" and self_cls is not None:
            return self_cls
        return namespace.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type":
        return self_cls if [ast.unparse(a) for a in node.args] == ["self"] else None  # type(self)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace, self_cls)
        if base is None:  # a method of a local value (x.abs()): in nablab's wrappers the locals are tensors
            return _tensor_method(node.attr)
        return inspect.getattr_static(base, node.attr, None)
    return None


def _tensor_method(name: str):
    """``nablab.Tensor``'s public method ``name``, if it has one."""
    obj = None if name.startswith("_") else _unwrap(inspect.getattr_static(nablab.Tensor, name, None))
    return obj if inspect.isfunction(obj) else None


def _unwrap(obj):
    """The function behind a method, static/class method or property (its getter), or behind a
    ``functools.wraps`` wrapper (the free functions that add ``out=``)."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    elif isinstance(obj, property):
        obj = obj.fget
    return inspect.unwrap(obj) if inspect.isfunction(obj) else obj


def _closure(fn) -> dict:
    """The variables a nested function takes from the function that made it (``method`` in the wrappers
    that ``nablab.math_functions._method`` builds): name → value."""
    cells = getattr(fn, "__closure__", None) or ()
    values = {}
    for name, cell in zip(fn.__code__.co_freevars, cells):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
    return values


def _is_tensor_method(obj) -> bool:
    """Whether ``obj`` is the function behind a public method of ``nablab.Tensor``."""
    name = getattr(obj, "__name__", "")
    return not name.startswith("_") and _unwrap(inspect.getattr_static(nablab.Tensor, name, None)) is obj


def referenced(fn, self_cls=None) -> list:
    """Every nablab object that ``fn``'s code names (ops, functions, methods of ``self_cls`` via ``self``)."""
    fn = _unwrap(fn)
    tree = _tree(fn)
    if tree is None:
        return []
    namespace = {**getattr(fn, "__globals__", {}), **_closure(fn)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            obj = _unwrap(_resolve(node, namespace, self_cls))
            if obj is not None and obj is not fn and _is_ours(obj) and obj not in found:
                found.append(obj)
    return found


def _is_op(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, Function) and obj.__module__.startswith("nablab.ops.")


def ops_reached(fn, self_cls=None, through_public: bool = False, through_methods: bool = False,
                _seen=None) -> list[type]:
    """The ops ``fn`` names, and those its private helpers name (with ``through_methods``, also those of
    the Tensor methods ``fn`` itself calls, as a free function ``nablab.logit`` calls ``Tensor.logit``;
    with ``through_public``, those of every nablab function it calls), in the order they are first met."""
    seen = set() if _seen is None else _seen
    seen.add(fn)
    found = []
    for obj in referenced(fn, self_cls):
        if _is_op(obj):
            found.append(obj)
        elif inspect.isfunction(obj) and obj not in seen:
            method = through_methods and _is_tensor_method(obj)
            if obj.__name__.startswith("_") or through_public or method:
                owner = nablab.Tensor if method else self_cls if self_cls is not None and obj.__qualname__.split(
                    ".")[0] in {c.__name__ for c in self_cls.__mro__} else None
                found += ops_reached(obj, owner, through_public, _seen=seen)
    return list(dict.fromkeys(found))


def public_callables() -> dict[str, tuple]:
    """Public name → (function, the class ``self`` stands for) for the callables of ``nablab``,
    ``nablab.Tensor`` (methods, operators and properties) and ``nablab.nn.functional``."""
    found = {}
    for prefix, namespace in (("nablab", nablab), ("nablab.nn.functional", nablab.nn.functional)):
        for name in dir(namespace):
            obj = getattr(namespace, name)
            if not name.startswith("_") and inspect.isfunction(obj) and _is_ours(obj):
                found[f"{prefix}.{name}"] = (obj, None)
    tensor = nablab.Tensor
    for name in dir(tensor):
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        obj = _unwrap(inspect.getattr_static(tensor, name))
        if inspect.isfunction(obj) and _is_ours(obj):
            found[f"nablab.Tensor.{name}"] = (obj, tensor)
    return found


@dataclass
class FusedKernel:
    """A CPU kernel registered for a nablab function (not an op): one graph node that replaces the ops the
    function would run (``F.linear_relu`` as ``LinearReLU``), for the calls ``when`` accepts."""

    function: object
    when: object
    cls: type
    ops: list[type]  # the ops the function reaches, which the kernel replaces

    @property
    def name(self) -> str:
        """The function's public name (nablab.nn.functional.linear_relu), else where it is defined."""
        for prefix, namespace in (("nablab.nn.functional", nablab.nn.functional), ("nablab", nablab)):
            if getattr(namespace, self.function.__name__, None) is self.function:
                return f"{prefix}.{self.function.__name__}"
        return f"{self.function.__module__}.{self.function.__name__}"


def fused_kernels() -> list[FusedKernel]:
    """The kernels registered for functions whose code reaches ops, with those ops."""
    found = []
    for reference, pairs in kernels._registry.items():
        if not inspect.isfunction(reference):
            continue
        reached = ops_reached(reference, through_public=True)
        for when, kernel in pairs:
            cls = getattr(kernel, "__self__", kernel)  # registered as its bound apply
            if reached and isinstance(cls, type) and issubclass(cls, Function):
                found.append(FusedKernel(reference, when, cls, reached))
    return found


# --------------------------------------------------------------------------- PyTorch counterparts
def torch_name(public: str) -> str:
    """The same name in PyTorch's namespace: nablab.nn.functional.relu → torch.nn.functional.relu."""
    return "torch" + public.removeprefix("nablab")


@functools.cache
def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


@functools.cache
def torch_has(qualified: str) -> bool:
    """Whether PyTorch has ``qualified`` (a name such as torch.nn.functional.relu): by the compatibility
    lists of :mod:`nablab.compat`, else by asking torch itself when it is installed."""
    namespace, _, name = qualified.rpartition(".")
    if namespace in compat.NAMES and name in compat.NAMES[namespace][1]:
        return True
    torch = _torch()
    if torch is None:
        return False
    obj = torch
    for part in qualified.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def torch_link(qualified: str) -> str:
    """Markdown for a PyTorch name: a link to its documentation page (operators and other dunder
    methods have none: their name alone)."""
    if qualified.rpartition(".")[2].startswith("__"):
        return f"`{qualified}`"
    return f"[`{qualified}`]({TORCH_DOCS.format(qualified)})"


# --------------------------------------------------------------------------- the catalog
@dataclass
class Catalog:
    """Everything the reference shows, by module: ops and layers, with who calls which."""

    ops: dict[str, list[Op]]  # ops module → its ops
    layers: dict[str, list[Layer]]  # nn module → its layers
    op_modules: dict[str, object]
    layer_modules: dict[str, object]
    fused: list[FusedKernel]

    def all_ops(self) -> list[Op]:
        return [op for group in self.ops.values() for op in group]

    def all_layers(self) -> list[Layer]:
        return [layer for group in self.layers.values() for layer in group]

    def op_of(self, cls) -> Op | None:
        return next((op for op in self.all_ops() if op.cls is cls), None)


def build() -> Catalog:
    """Enumerate the ops and layers and index who calls each op."""
    modules = {m.__name__.rpartition(".")[2]: m for m in op_modules()}
    by_module = {name: [Op(cls, name) for cls in ops_of(m)] for name, m in modules.items()}
    by_module = {name: group for name, group in by_module.items() if group}
    by_class = {op.cls: op for group in by_module.values() for op in group}
    for public, (fn, self_cls) in sorted(public_callables().items()):
        for cls in ops_reached(fn, self_cls, through_methods=self_cls is None):
            by_class[cls].callers.append(public)
    layers, layer_modules = {}, {}
    for cls in public_layers():
        short = cls.__module__.rpartition(".")[2]
        layer_modules[short] = importlib.import_module(cls.__module__)
        reached = ops_reached(cls.forward, cls, through_public=True) if hasattr(cls, "forward") else []
        layer = Layer(cls, short, reached)
        layers.setdefault(short, []).append(layer)
        for op in reached:
            by_class[op].callers.append(f"nablab.nn.{cls.__name__}")
    publics = {c for op in by_class.values() for c in op.callers} | {f"nablab.nn.{c.__name__}" for c in public_layers()}
    for public in publics:
        torch_has(torch_name(public))  # looked up now (and remembered): torch is imported once, here
    return Catalog(by_module, dict(sorted(layers.items())), {n: modules[n] for n in by_module}, layer_modules,
                   fused_kernels())
