"""The ``nablab`` command: ``nablab train``, ``nablab gradcheck`` (``nablab --help`` lists them)."""

from __future__ import annotations

import argparse
import math
import sys


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated widths like 128,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden widths must be positive, got {text!r}")
    return sizes


def _load_data(args):
    from . import data

    kwargs = {"data_dir": args.data_dir, "seed": args.seed}
    if args.split is not None:
        kwargs["split"] = args.split
    if args.val_size is not None:
        kwargs["val_size"] = args.val_size
    try:
        return data.load(args.dataset, **kwargs)
    except data.DataError as exc:
        raise SystemExit(f"nablab: {exc}") from None


def _train_config(args) -> dict:
    """The configuration (see nablab.lab.config) that the command-line options describe."""
    return {
        "name": args.name or f"{args.dataset}-{args.model}",
        "seed": args.seed,
        "data": {"dataset": args.dataset, "data_dir": args.data_dir, "split": args.split, "val_size": args.val_size,
                 "preprocess": args.preprocess, "augment": args.augment},
        "model": {"kind": args.model, "hidden": args.hidden, "activation": args.activation, "init": args.init,
                  "dropout": args.dropout, "widths": args.widths, "batch_norm": args.batch_norm},
        "optim": {"optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum, "nesterov": args.nesterov,
                  "weight_decay": args.weight_decay, "l2": args.l2,
                  "schedule": "exponential" if args.lr_decay != 1 else None, "lr_decay": args.lr_decay},
        "train": {"epochs": args.epochs, "batch_size": args.batch_size, "grad_clip": args.grad_clip,
                  "patience": args.patience, "checkpoint_every": args.checkpoint_every},
    }


def cmd_train(args) -> int:
    from .data import DataError
    from .lab import ConfigError, TrainingDiverged
    from .lab import train as train_run

    log = None if args.quiet else print
    try:
        if args.resume:
            run, result = train_run(resume=args.resume, progress=not args.quiet, log=log, plots=not args.no_plots)
        else:
            run, result = train_run(_train_config(args), runs_root=args.runs_dir, progress=not args.quiet, log=log,
                                    plots=not args.no_plots)
    except (DataError, ConfigError, FileNotFoundError) as exc:
        raise SystemExit(f"nablab: {exc}") from None
    except TrainingDiverged as exc:
        print(f"nablab: training stopped: {exc}", file=sys.stderr)
        return 1
    config = run.read_config()
    meta = config["meta"]
    print(f"data: {config['data']['dataset']} — train {meta['sizes']['train']}, val {meta['sizes']['val']}, "
          f"test {meta['sizes']['test']} (from {meta['data_source']}); preprocessing: {meta['preprocessing']}")
    m = config["model"]
    if m["kind"] == "mlp":
        widths = [math.prod(meta["input_shape"]), *m["hidden"], len(meta["classes"])]
        described = f"{'-'.join(map(str, widths))} {m['activation']} MLP"
    else:
        described = m["kind"]
    print(f"model: {described}, {result['parameters']:,} parameters; "
          f"{config['optim']['optimizer']} lr {config['optim']['lr']}, batch {config['train']['batch_size']}")
    if result.get("final_val_acc") is not None:
        print(f"final validation accuracy: {result['final_val_acc']:.4f} (best {result['best_val_acc']:.4f} "
              f"at epoch {result['best_epoch']})")
    print(f"test accuracy: {result['test_acc']:.4f}")
    if "best_test_acc" in result:
        print(f"test accuracy with the best-validation weights: {result['best_test_acc']:.4f}")
    print(f"time: {result['seconds']:.1f} s of training")
    print(f"run folder: {run.path} (report: {run.report_path})")
    return 0


def cmd_report(args) -> int:
    from .lab import Run, write_comparison, write_report

    try:
        runs = [Run(p) for p in args.runs]
        for run in runs:
            print(f"wrote {write_report(run)}")
        if len(runs) > 1:
            print(f"wrote {write_comparison(runs, args.output or runs[0].path.parent)}")
    except FileNotFoundError as exc:
        raise SystemExit(f"nablab: {exc}") from None
    return 0


def cmd_reproduce(args) -> int:
    from .data import DataError
    from .lab import experiments

    if args.list or not args.name:
        for name, title in experiments.available().items():
            print(f"{name:24s} {title}")
        return 0
    try:
        report = experiments.reproduce(args.name, out_root=args.out, quick=args.quick,
                                       log=None if args.quiet else print)
    except (experiments.ExperimentError, DataError) as exc:
        raise SystemExit(f"nablab: {exc}") from None
    print(f"report: {report}")
    return 0


def cmd_gradcheck(args) -> int:
    from . import gradcheck_cases
    from .gradcheck import numerical_gradient, relative_error
    from .models.two_layer import toy_problem

    print(f"Central differences (eps={args.eps:g} unless a case sets its own step or stencil) against backward(), "
          "float64; max relative error per input.")
    worst = 0.0
    width = max(map(len, gradcheck_cases.CASES)) + 1
    for name, case, errors in gradcheck_cases.run(eps=args.eps):
        limit = 1e-8 if case.smooth else 1e-6
        worst = max(worst, max(errors) / limit)
        status = "ok" if max(errors) < limit else "FAIL"
        print(f"{name:{width}s} " + "  ".join(f"{e:.1e}" for e in errors) + f"   (< {limit:.0e}) {status}")

    print("\nTwoLayerNet(4, 10, 3) on the toy data, reg 0.05, closed-form gradients:")
    net, X, y = toy_problem()
    _, grads = net.loss(X, y, reg=0.05)
    for key in ("W1", "b1", "W2", "b2"):
        numeric = numerical_gradient(lambda: net.loss(X, y, reg=0.05)[0], net.params[key], eps=1e-5)
        error = relative_error(grads[key], numeric)
        worst = max(worst, error / 1e-8)
        print(f"{key} max relative error: {error:.2e}")
    return 0 if worst < 1 else 1


def cmd_data(args) -> int:
    import numpy as np

    from . import data

    if args.action == "fetch":
        try:
            folder, digests = data.fetch(args.name)
        except data.DataError as exc:
            raise SystemExit(f"nablab: {exc}") from None
        print(f"{args.name}: found in {folder}")
        for name, digest in digests.items():
            print(f"  {name}: {digest} ✓")
        return 0
    ds = _load_data(argparse.Namespace(dataset=args.name, data_dir=args.data_dir, seed=0, split=None, val_size=None))
    print(f"{ds.name}: found in {ds.info.get('source')}")
    for name, digest in ds.info.get("checksums", {}).items():
        print(f"  {name}: {digest} ✓")
    print(f"classes: {', '.join(ds.classes)}")
    print(f"split: {ds.info.get('split', 'fixed')}")
    for split_name in ("train", "val", "test"):
        split = getattr(ds, split_name)
        counts = np.bincount(split.y, minlength=ds.num_classes)
        print(f"{split_name:5s} {len(split):6d} × {split.x.shape[1:]} {split.x.dtype}  per class: {counts.tolist()}")
    print(f"cache: {data.cache_dir()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="nablab", description="nablab: deep learning from scratch on NumPy")
    parser.add_argument("--version", action="version", version=f"nablab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train an MLP into a run folder (default: on the bundled digits data)")
    train.add_argument("--dataset", default="digits", choices=["digits", "mnist", "fashion_mnist", "cifar10", "spiral"],
                       help="data set (default: the digits bundled with scikit-learn)")
    train.add_argument("--data-dir", default=None, help="folder holding the official files (else NABLAB_DATA, "
                       "the cache, system folders, then a download)")
    train.add_argument("--split", default=None, choices=["full", "hlcv"], help="CIFAR-10's hlcv split: 49k/1k/1k")
    train.add_argument("--val-size", type=int, default=None, help="validation images held out of the training set")
    train.add_argument("--preprocess", default="scale", choices=["scale", "mean_image", "channel", "global"],
                       help="x/max (scale), minus the mean image, per-channel or global standardisation")
    train.add_argument("--augment", action="store_true", help="random crops (padding 1/8) and horizontal flips")
    train.add_argument("--model", default="mlp", choices=["mlp", "small_cnn", "vgg"],
                       help="an MLP, the small CNN or the UvA report's VGG network")
    train.add_argument("--hidden", type=_hidden, default=[128], help="hidden widths, e.g. 128 or 256,128")
    train.add_argument("--widths", type=_hidden, default=[32, 64], help="small_cnn: channels of its conv blocks")
    train.add_argument("--batch-norm", action="store_true", help="small_cnn: BatchNorm after each conv")
    train.add_argument("--activation", default="relu",
                       choices=["relu", "leaky_relu", "sigmoid", "tanh", "improved_sigmoid"])
    train.add_argument("--init", default=None, help="weight init scheme (default: PyTorch's)",
                       choices=["fan_in_uniform", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                                "kaiming_normal", "lecun_normal"])
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--lr", type=float, default=0.05)
    train.add_argument("--lr-decay", type=float, default=1.0, help="multiply the rate by this every epoch")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    train.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    train.add_argument("--nesterov", action="store_true", help="SGD with Nesterov momentum")
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--l2", type=float, default=0.0, help="the reports' penalty reg·Σ‖W‖² on weight matrices")
    train.add_argument("--dropout", type=float, default=0.0, help="dropout after each hidden activation")
    train.add_argument("--grad-clip", type=float, default=None, help="clip the gradient norm to this")
    train.add_argument("--patience", type=int, default=None, help="stop after N epochs without a better val acc")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--name", default=None, help="run name (the folder is runs/NAME-TIMESTAMP)")
    train.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    train.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    train.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue an interrupted run")
    train.add_argument("--no-plots", action="store_true", help="write the report without figures")
    train.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    train.set_defaults(func=cmd_train)

    report = sub.add_parser("report", help="regenerate report.md of run folders (and compare several)")
    report.add_argument("runs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--output", default=None, help="folder for the comparison (default: beside the runs)")
    report.set_defaults(func=cmd_report)

    repro = sub.add_parser("reproduce", help="run an experiment that reproduces a course report's table")
    repro.add_argument("name", nargs="?", help="experiment name (see --list) or a path to a TOML file")
    repro.add_argument("--list", action="store_true", help="list the experiments")
    repro.add_argument("--quick", action="store_true", help="a small version (for CI), not comparable")
    repro.add_argument("--out", default="runs/reproduce", help="where the experiment folder goes")
    repro.add_argument("--quiet", action="store_true")
    repro.set_defaults(func=cmd_reproduce)

    data_cmd = sub.add_parser("data", help="where a data set is found, its sizes, class counts and checksums")
    data_sub = data_cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    info = data_sub.add_parser("info", help="show where NAME was found, its splits, class counts and checksums")
    info.add_argument("name", choices=["digits", "mnist", "fashion_mnist", "cifar10", "toy", "spiral"])
    info.add_argument("--data-dir", default=None)
    fetch = data_sub.add_parser("fetch", help="download NAME into the cache and verify it")
    fetch.add_argument("name", choices=["mnist", "fashion_mnist", "cifar10"])
    data_cmd.set_defaults(func=cmd_data)

    check = sub.add_parser("gradcheck", help="check every op's and TwoLayerNet's gradients numerically")
    check.add_argument("--eps", type=float, default=1e-6, help="central-difference step")
    check.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
