"""``nablab train``: train a model into a run folder."""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def add_parser(sub) -> None:
    from ..lab.settings import SECTIONS, SETTINGS

    train = sub.add_parser("train", help="train a model into a run folder (default: an MLP on the bundled digits)",
                           description="Every setting below is a key of the run's config.toml "
                                       "(nablab.lab.settings); the defaults are in brackets.")
    groups = {None: train.add_argument_group("run")}
    groups.update({section: train.add_argument_group(f"[{section}]") for section in SECTIONS})
    for setting in SETTINGS:
        add_setting(groups[setting.section], setting)
    train.add_argument("--runs-dir", default="runs", metavar="DIR", help="where run folders go (default: runs)")
    train.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue an interrupted run")
    train.add_argument("--no-plots", action="store_true", help="write the report without figures")
    train.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    train.set_defaults(func=run)


def add_setting(parser, setting) -> argparse.Action:
    """The option of ``setting`` (see nablab.lab.settings): absent from the parsed namespace unless given."""
    default = "DATASET-MODEL" if setting.path == "name" else setting.show_default()
    options = {"dest": setting.path, "default": argparse.SUPPRESS, "help": f"{setting.help} [{default}]"}
    if setting.kind is bool:
        state = f"on; {setting.option} turns it off" if setting.default else "off"
        options.update(action="store_const", const=not setting.default, help=f"{setting.help} [{state}]")
    else:
        options.update(type=_int_list if setting.kind is list else setting.kind, metavar=setting.metavar)
        if setting.choices is not None:
            options.update(choices=setting.choices, metavar=None)
    action = parser.add_argument(setting.option, **options)
    action.setting = setting
    if setting.path == "name":
        action.shown = default
    return action


def _int_list(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes comma-separated widths like 128,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return sizes


def _given(args) -> dict:
    """The settings given on the command line (see nablab.lab.settings), nested by section; no defaults."""
    from ..lab.settings import SETTINGS

    options, given = vars(args), {}
    for setting in SETTINGS:
        if setting.path in options:
            table = given if setting.section is None else given.setdefault(setting.section, {})
            table[setting.key] = options[setting.path]
    return given


def _resume_settings(args) -> dict:
    """The settings given with ``--resume``, capped by NABLAB_MAX_EPOCHS / NABLAB_MAX_STEPS (smoke runs)."""
    from ..lab.budget import capped_resume, caps
    from ..lab.run import Run

    given = _given(args)
    if not caps() or not (Path(args.resume) / "metrics.jsonl").is_file():
        return given
    return capped_resume(given, Run(args.resume).read_metrics())


def _train_config(args) -> dict:
    """The configuration that the options given describe (the defaults fill in the rest)."""
    from ..lab.budget import capped
    from ..lab.settings import SECTIONS

    config = {section: {} for section in SECTIONS} | _given(args)
    if "lr_decay" in config["optim"]:
        config["optim"].setdefault("schedule", "exponential")  # --lr-decay alone: decay every epoch
    config.setdefault("name", f"{config['data'].get('dataset', 'digits')}-{config['model'].get('kind', 'mlp')}")
    return capped(config)  # NABLAB_MAX_EPOCHS / NABLAB_MAX_STEPS, for smoke runs


def run(args) -> int:
    from ..lab import train as train_run
    from ..lab.settings import LANGUAGE_MODELS
    from .errors import UsageError, floating_point_notes

    log = None if args.quiet else print
    if args.resume:  # the settings given again must be the run's own, except the resumable ones (train.epochs …)
        try:
            with floating_point_notes():
                run, result = train_run(_resume_settings(args) or None, resume=args.resume, progress=not args.quiet,
                                        log=log, plots=not args.no_plots)
        except _toml_error() as exc:
            raise UsageError(f"{args.resume}/config.toml: {exc}") from None
    else:
        with floating_point_notes():  # train() checks every value of the configuration before any work
            run, result = train_run(_train_config(args), runs_root=args.runs_dir, progress=not args.quiet, log=log,
                                    plots=not args.no_plots)
    config = run.read_config()
    meta = config["meta"]
    print(f"data: {config['data']['dataset']} — train {meta['sizes']['train']}, val {meta['sizes']['val']}, "
          f"test {meta['sizes']['test']} (from {meta['data_source']}); preprocessing: {meta['preprocessing']}")
    m = config["model"]
    if m["kind"] in LANGUAGE_MODELS:
        _print_language_run(config, result)
        print(f"run folder: {run.path} (report: {run.report_path})")
        return 0
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


def _print_language_run(config: dict, result: dict) -> None:
    """The summary lines of a language model's run: model, losses in bits per character, the sample."""
    m, meta = config["model"], config["meta"]
    print(f"model: {m['kind']} over {len(meta['classes'])} tokens ({meta['tokenizer']} tokenizer), windows of "
          f"{config['data']['seq_len']}, {result['parameters']:,} parameters; {config['optim']['optimizer']} lr "
          f"{config['optim']['lr']}, batch {config['train']['batch_size']}")
    for part in ("val", "test"):
        bpc, ppl = result.get(f"{part}_bpc"), result.get(f"{part}_perplexity")
        if bpc is not None:
            print(f"{'validation' if part == 'val' else 'test'}: {bpc:.4f} bits per character, perplexity {ppl:.3f}")
    print(f"time: {result['seconds']:.1f} s of training")
    if "sample" in result:
        print(f"sample ({result['sample_settings']}):\n{result['sample']}")


def _toml_error():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib.TOMLDecodeError
