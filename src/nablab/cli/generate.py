"""``nablab generate``: text from a trained language model's run folder."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    """Register ``nablab generate`` on the sub-command parsers ``sub``."""
    generate = sub.add_parser("generate", help="sample text from a language model's run (char_rnn, tiny_gpt)",
                              description="Loads the run's best-validation weights (else its last) and its "
                                          "tokenizer, reads the prompt and prints it followed by the sampled text.")
    generate.add_argument("run_dir", metavar="RUN_DIR")
    generate.add_argument("--prompt", default=None, metavar="TEXT", help="the text to continue (default: a new line)")
    generate.add_argument("--length", type=_count, default=200, metavar="N", help="tokens to sample (default 200)")
    generate.add_argument("--temperature", type=float, default=1.0, metavar="T",
                          help="> 0: below 1 safer, above 1 more varied (default 1)")
    generate.add_argument("--top-k", type=_count, default=None, metavar="K",
                          help="sample among the K most likely tokens only (default: all)")
    generate.add_argument("--seed", type=int, default=0, metavar="N", help="seeds the sampling (default 0)")
    generate.set_defaults(func=run)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a positive integer, got {text!r}")
    return value


def run(args) -> int:
    from ..lab import Run
    from ..lab.language import generate_text, load_tokenizer
    from .errors import UsageError

    if not args.temperature > 0:
        raise UsageError(f"--temperature must be a number > 0 (1 samples the model's own distribution), got "
                         f"{args.temperature:g}")
    run_folder = Run(args.run_dir)
    tokenizer = load_tokenizer(run_folder)
    if args.top_k is not None and args.top_k > tokenizer.vocab_size:
        raise UsageError(f"--top-k {args.top_k} is more than the run's {tokenizer.vocab_size} tokens")
    model = run_folder.load_model()
    try:
        prompt = "\n" if args.prompt is None else args.prompt
        text = generate_text(model, tokenizer, prompt, args.length, args.temperature, args.top_k, args.seed)
    except ValueError as exc:  # the prompt's characters
        raise UsageError(str(exc)) from None
    print(text)
    return 0
