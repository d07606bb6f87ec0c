"""How long batch assembly takes next to the training step it feeds.

Two pipelines, batch 128, timed as the DataLoader runs them (index gather, transform, wrap):
- MNIST: uint8 1×28×28 images → scale and flatten (784 floats);
- CIFAR-10: uint8 3×32×32 images → random crop (padding 4) + horizontal flip + per-channel
  normalisation.
Each is compared with a training step of the MLP it would feed (784-512-512-10 and
3072-512-512-10, SGD momentum). Random images of the real shapes are used: the timing does not
depend on the pixel values. Target: assembly under 10% of the step.

    python benchmarks/bench_loader.py --output BENCHMARKS.md
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_mlp import sgd_step
from common import (
    OtherLoad,
    fmt_rate,
    limit_threads,
    machine_info,
    machine_lines,
    markdown_table,
    time_steps,
    write_section,
)

import nablab
from nablab import data
from nablab.data import batch_transforms as T
from nablab.models import MLP

SECTION_KEY = "bench_loader"
BATCH = 128


def pipelines(n: int, rng):
    mnist = rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8)
    cifar = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    mnist_tf = T.Compose([T.Standardize(255).fit(mnist), T.Flatten()])
    cifar_tf, _ = T.build("channel", 255, cifar, flatten=True, augment=True)
    return {"MNIST: scale + flatten": (data.Split(mnist, labels), mnist_tf, 784),
            "CIFAR-10: crop + flip + normalise + flatten": (data.Split(cifar, labels), cifar_tf, 3072)}


def assembly_step(split, transform):
    loader = data.DataLoader(split, BATCH, shuffle=True, seed=0, transform=transform)
    batches = iter(())

    def step():
        nonlocal batches
        try:
            next(batches)
        except StopIteration:
            batches = iter(loader)
            next(batches)

    return step


def training_step(features: int):
    """A training step of the MLP a batch of ``features`` inputs would feed (bench_mlp's step)."""
    nablab.manual_seed(0)
    rng = np.random.default_rng(0)
    batch = (rng.standard_normal((BATCH, features), dtype=np.float32), rng.integers(0, 10, BATCH))
    return sgd_step(MLP(features, [512, 512], 10), [batch])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default=None, help="write the section into this Markdown file")
    args = parser.parse_args()
    rows = []
    with limit_threads(args.threads), OtherLoad() as load:
        for name, (split, transform, features) in pipelines(20_000, np.random.default_rng(0)).items():
            assemble = time_steps(assembly_step(split, transform), args.steps, args.repeats, warmup=5)
            train = time_steps(training_step(features), args.steps, args.repeats, warmup=5)
            share = assemble.ms_per_step / train.ms_per_step
            rows.append([name, f"{assemble.ms_per_step:.3f}", f"{train.ms_per_step:.2f}",
                         f"{features}-512-512-10", f"{share:.1%}", "yes" if share < 0.1 else "NO",
                         fmt_rate(assemble.median * BATCH)])
    table = markdown_table(["pipeline (batch 128)", "assembly ms", "MLP step ms", "MLP", "assembly / step",
                            "< 10%", "images/s assembled"], rows)
    body = "\n\n".join([
        "## Batch assembly against the training step",
        "DataLoader batches (index gather + transform + tensor), medians of "
        f"{args.repeats} rounds of {args.steps} batches, {args.threads} threads; the MLP step is forward, "
        "cross-entropy, backward and an SGD-momentum update of the MLP the batch would feed.",
        table, machine_lines(machine_info({"Other load during the run": load.describe()}))])
    print(body)
    if args.output:
        write_section(args.output, SECTION_KEY, body)


if __name__ == "__main__":
    main()
