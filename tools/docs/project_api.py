"""The API pages (``api/…``): one page per part of nablab, each a few ``:::`` blocks that mkdocstrings
fills from the docstrings when the site builds, and ``api/SUMMARY.md``, the section's navigation.

Only public names are shown (no ``_private`` members). The optimizers are found in ``nablab.optim``
(every :class:`~nablab.optim.Optimizer` it exports), each followed by the update rule of its module (the
function whose docstring writes the rule out), so a new optimizer gets its entry without a change here.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from project_markdown import docstring

import nablab.optim

#: options of every block: public members only, in source order, the constructor's signature on the class
COMMON = {"filters": ["!^_"], "merge_init_into_class": True, "show_bases": False, "show_root_full_path": False}


@dataclass
class Block:
    """One ``::: identifier`` block and the options that differ from :data:`COMMON`."""

    identifier: str
    options: dict = field(default_factory=dict)

    def markdown(self) -> str:
        lines = [f"::: {self.identifier}", "    options:"]
        for key, value in (COMMON | self.options).items():
            lines.append(f"      {key}: {_yaml(value)}")
        return "\n".join(lines) + "\n"


def _yaml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return str(value)


@dataclass
class Rule:
    """An update rule: the docstring of the function that applies it, its formulas as code blocks (see
    :func:`project_markdown.docstring`), under a heading that names the function and its signature."""

    function: object

    def markdown(self) -> str:
        fn = self.function
        name = f"{fn.__module__}.{fn.__name__}"
        return (f"### The rule: `{fn.__name__}`\n\n`{name}{inspect.signature(fn)}`\n\n"
                f"{docstring(fn)}")


@dataclass
class Page:
    """An API page: its file under ``api/``, its title, a paragraph saying what the part is for, its blocks."""

    path: str
    title: str
    intro: str
    blocks: list[Block | Rule]

    def markdown(self) -> str:
        return f"# {self.title}\n\n{self.intro}\n\n" + "\n".join(block.markdown() for block in self.blocks)


def _module_block(name: str, members: list[str] | None = None, **options) -> Block:
    """A module's docstring and (some of) its members, one heading level below the module's."""
    settings = {"show_root_heading": True, "show_root_full_path": True, "heading_level": 2, "members_order": "source",
                "show_submodules": False}
    if members is not None:
        settings["members"] = members
    return Block(name, settings | options)


def optimizer_blocks() -> list[Block | Rule]:
    """The base class, then every optimizer nablab.optim exports, each with its module's update rule."""
    exported = [getattr(nablab.optim, name) for name in nablab.optim.__all__]
    classes = [*nablab.optim.OPTIMIZERS.values()]
    classes += [obj for obj in exported if inspect.isclass(obj) and issubclass(obj, nablab.optim.Optimizer)
                and obj not in classes and obj is not nablab.optim.Optimizer]
    blocks: list[Block | Rule] = [Block("nablab.optim.Optimizer")]
    shown_rules: set[object] = set()
    for cls in classes:
        blocks.append(Block(f"nablab.optim.{cls.__name__}", {"members": False}))
        module = inspect.getmodule(cls)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and fn not in shown_rules:
                shown_rules.add(fn)
                blocks.append(Rule(fn))
    return blocks


def pages() -> list[Page]:
    """Every API page, in the order of the navigation."""
    return [
        Page("tensor.md", "Tensor and autograd",
             "A `Tensor` holds an array and, when it takes part in a computation that needs gradients, the node "
             "that made it. Each op is a `Function` with a `forward` and a `backward` on raw arrays; "
             "`Tensor.backward()` walks the recorded graph back and adds up the gradients. The grad modes switch "
             "the recording off where no gradient is wanted (evaluation, parameter updates).",
             [Block("nablab.Tensor", {"inherited_members": True}), Block("nablab.tensor"),
              Block("nablab.function.Function"), Block("nablab.function.backward"),
              Block("nablab.function.unbroadcast"),
              Block("nablab.no_grad"), Block("nablab.enable_grad"), Block("nablab.set_grad_enabled"),
              Block("nablab.is_grad_enabled"), Block("nablab.inference_mode"), Block("nablab.set_printoptions"),
              _module_block("nablab.autograd", ["Function", "FunctionCtx", "grad", "backward"]),
              _module_block("nablab.linalg")]),
        Page("nn.md", "Modules and containers",
             "A model is a `Module`: it registers the parameters and sub-modules assigned to its attributes, so "
             "`parameters()`, `state_dict()`, `train()` and `eval()` reach all of them. The containers hold "
             "modules or parameters in a list or a dictionary. The layers have their own pages, with their math, "
             "in the reference.",
             [Block("nablab.nn.Module"), Block("nablab.nn.Parameter", {"members": False}),
              Block("nablab.nn.Sequential"), Block("nablab.nn.ModuleList"), Block("nablab.nn.ModuleDict"),
              Block("nablab.nn.ParameterList"), Block("nablab.nn.ParameterDict")]),
        Page("optim.md", "Optimizers",
             "An optimizer updates the parameters from their gradients, one `step()` after each `backward()`. "
             "Each optimizer below is followed by its update rule, written out in the docstring of the function "
             "that applies it to one array: that function is the readable reference (faster kernels compute "
             "the same numbers).",
             optimizer_blocks()),
        Page("lr_scheduler.md", "Learning-rate schedules",
             "A schedule changes the optimizer's learning rate as training goes on, one `step()` per epoch "
             "(or per batch). The formula of each is in the module's docstring below.",
             [_module_block("nablab.optim.lr_scheduler")]),
        Page("data.md", "Data sets, transforms and loaders",
             "Two ways to feed a model. `nablab.utils.data` is PyTorch's: a `Dataset` of samples and a "
             "`DataLoader` that batches them. `nablab.data` is the lab's: data sets loaded by name from their "
             "official files with their splits, whole-batch transforms, and torchvision's `datasets` and "
             "`transforms`.",
             [_module_block("nablab.utils.data"),
              _module_block("nablab.data", ["load", "fetch", "Dataset", "Split", "DataLoader", "stratified_split",
                                            "carve_validation", "cache_dir", "DataError", "DataNotFoundError"]),
              _module_block("nablab.data.batch_transforms"), _module_block("nablab.data.datasets"),
              _module_block("nablab.data.transforms"), _module_block("nablab.data.text")]),
        Page("gradcheck.md", "Gradient checking",
             "How nablab knows its gradients are right: every op's `backward` is compared with central "
             "differences in float64.",
             [_module_block("nablab.gradcheck")]),
        Page("io.md", "Saving, loading and exchanging weights",
             "Weights are saved as safetensors files (never a pickle, which runs code when it is read), and go "
             "to and from PyTorch and ONNX.",
             [_module_block("nablab.io", ["save", "load", "load_model", "read_metadata", "from_torch", "to_torch",
                                          "to_onnx", "run_onnx", "load_classifier", "load_image", "WeightsError"]),
              _module_block("nablab.io.safetensors_file")]),
        Page("lab.md", "The lab: Trainer, runs and reports",
             "The lab runs training the same way every time: a `Trainer` loop, run folders with their "
             "configuration, metrics and checkpoints, and reports with plots.",
             [_module_block("nablab.lab")]),
        Page("kernels.md", "Kernels and threads",
             "Faster CPU versions of some ops register themselves here; `use_reference()` turns them off, to read "
             "or test what runs. The kernels' threads are set with PyTorch's names.",
             [_module_block("nablab.kernels"),
              _module_block("nablab.kernels.cpu.threads", ["get_num_threads", "set_num_threads", "parallel_ranges",
                                                           "parallel_blocks", "BLOCK_BYTES"])]),
    ]


INDEX = """\
# API

The classes and functions of nablab, from their docstrings. Each page begins with what its part is
for; the ops and layers, with their math and their code, are in the reference.
"""


def index(all_pages: list[Page]) -> str:
    """``api/index.md``: the list of the API pages."""
    return INDEX + "\n" + "\n".join(f"- [{p.title}]({p.path})" for p in all_pages) + "\n"


def summary(all_pages: list[Page]) -> str:
    """``api/SUMMARY.md``: the literate-nav navigation of the API section."""
    return "* [API](index.md)\n" + "".join(f"* [{p.title}]({p.path})\n" for p in all_pages)
