"""The GPU form of the suite (issue 19): nablab on CuPy against PyTorch CUDA eager, in one run.

- W2 at batch 1024: the MLP 784-512-512-10 (ReLU), cross-entropy, SGD lr 0.01 momentum 0.9;
  target nablab ≥ 0.7× PyTorch's throughput.
- W4 at batch 256: ``nablab.models.VGGNet()`` on 3×32×32 inputs, the same loss and update;
  target ≥ 0.5×.

Both systems start from the same weights (nablab's initialisation, copied), train on the same
batches, already on the GPU (no data loading in the step), and are first checked to compute the
same losses. Each step ends by reading its loss on the host (``loss.item()``), as a training
loop that logs every step does: the read waits for the GPU, so the time is the GPU's, not the
launch queue's. The systems are timed round-robin (:func:`common.time_interleaved`).

    python benchmarks/bench_gpu.py --output BENCHMARKS.md      # on a machine with an NVIDIA GPU

Without a GPU, ``--stand-in`` runs the same script on nablab's strict stand-in device
(:mod:`nablab.testing.strict_device`) against PyTorch on the CPU: a check that the script and
nablab's device path work, whose figures mean nothing (the tests run it so).
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_cnn import torch_step  # noqa: E402
from bench_mlp import LR, MOMENTUM, sgd_step  # noqa: E402
from common import machine_info, machine_lines, paired_ratio, ratio_line, time_interleaved, write_section  # noqa: E402

import nablab  # noqa: E402
from nablab import models  # noqa: E402

#: workload → (title, model builder, input shape, batch, target ratio)
WORKLOADS = {
    "W2": ("MLP 784-512-512-10", lambda: models.MLP(784, [512, 512], 10), (784,), 1024, 0.7),
    "W4": ("VGGNet on 3×32×32", lambda: models.VGGNet(3, 10), (3, 32, 32), 256, 0.5),
}


def batches(shape, batch: int, count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, *shape)).astype(np.float32), rng.integers(0, 10, batch))
            for _ in range(count)]


def run_workload(key: str, args, torch_device: str) -> tuple[dict, float]:
    """Timings of both systems on ``key`` and nablab's ratio to PyTorch; the first losses must agree."""
    title, build, shape, batch, target = WORKLOADS[key]
    batch = args.batch or batch
    nablab.manual_seed(args.seed)
    model = build()
    data = batches(shape, batch, 4, args.seed)
    import torch

    # the mirror copies the weights before the model moves; each step ends by reading its loss
    torch_train = torch_step(model, data, torch.get_num_threads(), torch_device)
    nablab_train = sgd_step(model.cuda(), data, LR, MOMENTUM, device="cuda")
    systems = {"PyTorch": lambda: torch_train().item(), "nablab": lambda: nablab_train().item()}
    first = {name: step() for name, step in systems.items()}
    if not np.isclose(first["nablab"], first["PyTorch"], rtol=1e-3):
        raise SystemExit(f"{key}: the first losses differ: {first}")
    timings = time_interleaved(systems, args.steps, args.repeats, args.warmup)
    ratio, _ = paired_ratio(timings, "nablab", "PyTorch")
    return timings, ratio


def report(results: dict, args, info: dict, torch_device: str) -> str:
    lines = ["## The GPU form (issue 19)", "", machine_lines(info), ""]
    if args.stand_in:
        lines += ["**The strict stand-in device, not a GPU: these figures test the script and mean nothing.**", ""]
    lines += ["| workload | batch | nablab steps/s | PyTorch steps/s | nablab / PyTorch | target |",
              "|---|---|---|---|---|---|"]
    for key, (timings, ratio) in results.items():
        title, _, _, batch, target = WORKLOADS[key]
        lines.append(f"| {key} {title} | {args.batch or batch} | {timings['nablab'].median:.1f} | "
                     f"{timings['PyTorch'].median:.1f} | {ratio:.2f}× | ≥ {target}× "
                     f"{'met' if ratio >= target else 'not met'} |")
    lines += ["", f"PyTorch ran on `{torch_device}`.", ""]
    lines += [f"- {key}: {ratio_line(t, 'nablab', 'PyTorch', WORKLOADS[key][4])}" for key, (t, _) in results.items()]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", nargs="+", choices=sorted(WORKLOADS), default=sorted(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds per system (default 10)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed round (default 20)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--batch", type=int, help="override every workload's batch size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stand-in", action="store_true",
                        help="no GPU: nablab on the strict stand-in device, PyTorch on the CPU (a smoke test)")
    parser.add_argument("--output", metavar="FILE", help="write the section into this Markdown file")
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    import torch

    if args.stand_in:
        from nablab.testing import strict_device

        device_context, torch_device = strict_device.enable(), "cpu"
    else:
        if not nablab.cuda.is_available() or not torch.cuda.is_available():
            raise SystemExit("bench_gpu: no GPU (nablab.cuda and torch.cuda must both see one); --stand-in "
                             "runs the script without one")
        device_context, torch_device = contextlib.nullcontext(), "cuda"
    with device_context:
        results = {key: run_workload(key, args, torch_device) for key in args.workload}
    extra = {"GPU": torch.cuda.get_device_name(0) if torch_device == "cuda" else "none (the strict stand-in)"}
    text = report(results, args, machine_info(extra), torch_device)
    if args.output:
        write_section(args.output, "The GPU form (issue 19)", text)
    print(text)
    return text


if __name__ == "__main__":
    main()
