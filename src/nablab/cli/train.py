"""``nablab train``: train a model into a run folder."""

from __future__ import annotations

import argparse
import math
import sys


def add_parser(sub) -> None:
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
    train.add_argument("--seed", type=int, default=0, help="seeds initialisation, dropout and shuffling")
    train.add_argument("--split-seed", type=int, default=0,
                       help="seeds the train/val(/test) split, kept fixed when --seed changes (default 0)")
    train.add_argument("--name", default=None, help="run name (the folder is runs/NAME-TIMESTAMP)")
    train.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    train.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    train.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue an interrupted run")
    train.add_argument("--no-plots", action="store_true", help="write the report without figures")
    train.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    train.set_defaults(func=run)


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated widths like 128,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden widths must be positive, got {text!r}")
    return sizes


def _train_config(args) -> dict:
    """The configuration (see nablab.lab.config) that the command-line options describe."""
    return {
        "name": args.name or f"{args.dataset}-{args.model}",
        "seed": args.seed,
        "data": {"dataset": args.dataset, "data_dir": args.data_dir, "split": args.split, "val_size": args.val_size,
                 "split_seed": args.split_seed, "preprocess": args.preprocess, "augment": args.augment},
        "model": {"kind": args.model, "hidden": args.hidden, "activation": args.activation, "init": args.init,
                  "dropout": args.dropout, "widths": args.widths, "batch_norm": args.batch_norm},
        "optim": {"optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum, "nesterov": args.nesterov,
                  "weight_decay": args.weight_decay, "l2": args.l2,
                  "schedule": "exponential" if args.lr_decay != 1 else None, "lr_decay": args.lr_decay},
        "train": {"epochs": args.epochs, "batch_size": args.batch_size, "grad_clip": args.grad_clip,
                  "patience": args.patience, "checkpoint_every": args.checkpoint_every},
    }


def run(args) -> int:
    from ..data import DataError
    from ..lab import ConfigError, TrainingDiverged
    from ..lab import train as train_run

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
