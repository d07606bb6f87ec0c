"""The PyTorch reference of the language-model experiments: the same model, data, budget and seed in PyTorch.

    python benchmarks/lm_torch_reference.py char-lstm [--quick] [--steps N] [--threads T] [--json OUT]

reads the experiment file (``experiments/char-lstm.toml`` or ``tiny-gpt.toml``), takes its first
variant's settings, and trains the same network in PyTorch:

- the same batches: nablab's corpus and :class:`nablab.data.SequenceLoader` with the run's seed, so
  both frameworks see the same windows in the same order;
- the same starting weights: the nablab model is built with the run's seed and its weights are
  copied into the PyTorch model (same names and layouts; TinyGPT's head tied to its embedding);
- the same optimizer, learning rate, gradient clipping and number of steps (dropout masks differ:
  each framework draws its own).

It prints, and with ``--json`` writes, the validation and test loss in nats, bits per character
and perplexity, the steps and the seconds taken — the figure each experiment file states its
target against (``[[variants]] published``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from nablab.lab import experiments  # noqa: E402
from nablab.lab.config import resolve  # noqa: E402
from nablab.lab.language import build  # noqa: E402


class TorchCharRNN(nn.Module):
    """Embedding → LSTM (batch_first) → Linear, as nablab.models.CharRNN, with its parameter names."""

    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers, dropout, tie_weights):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    def forward(self, ids):
        out, _ = self.lstm(self.dropout(self.embedding(ids)))
        return self.decoder(self.dropout(out))


class TorchBlock(nn.Module):
    """Pre-norm block: x + c_proj(causal attention(ln_1(x))), then x + mlp(ln_2(x))."""

    def __init__(self, n_embd, n_head, dropout, bias):
        super().__init__()
        self.n_head, self.dropout = n_head, dropout
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.attn.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.mlp.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(n, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                                       is_causal=True)
        x = x + self.drop(self.attn.c_proj(y.transpose(1, 2).reshape(n, t, c)))
        return x + self.drop(self.mlp.c_proj(nn.functional.gelu(self.mlp.c_fc(self.ln_2(x)))))


class TorchTinyGPT(nn.Module):
    """nablab.models.TinyGPT's network with its parameter names (``transformer.wte``, …, ``lm_head`` tied)."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias):
        super().__init__()
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(vocab_size, n_embd), "wpe": nn.Embedding(block_size, n_embd),
            "drop": nn.Dropout(dropout),
            "h": nn.ModuleList([TorchBlock(n_embd, n_head, dropout, bias) for _ in range(n_layer)]),
            "ln_f": nn.LayerNorm(n_embd, bias=bias)})
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, ids):
        positions = torch.arange(ids.shape[1])
        x = self.transformer.drop(self.transformer.wte(ids) + self.transformer.wpe(positions))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def torch_model(config: dict, ours):
    """The PyTorch twin of the nablab model ``ours``, holding ``ours``'s weights."""
    m = config["model"]
    if m["kind"] == "char_rnn":
        twin = TorchCharRNN(ours.vocab_size, m["embed_dim"], m["hidden_size"], m["num_layers"], m["dropout"],
                            m["tie_weights"])
    else:
        twin = TorchTinyGPT(ours.vocab_size, ours.block_size, m["n_layer"], m["n_head"], m["n_embd"], m["dropout"],
                            m["bias"])
    state = {k: torch.from_numpy(np.array(v.data)) for k, v in ours.state_dict().items()}
    missing, unexpected = twin.load_state_dict(state, strict=False)
    tied = {"lm_head.weight", "decoder.weight"}
    if unexpected or set(missing) - tied:
        raise SystemExit(f"the PyTorch twin does not fit the nablab model: missing {missing}, unexpected {unexpected}")
    return twin


def evaluate(model, loader) -> float:
    """Mean cross-entropy per token over ``loader`` (nats)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(torch.from_numpy(x.data))
            total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 torch.from_numpy(y.data).reshape(-1), reduction="sum").item()
            count += y.data.size
    model.train()
    return total / max(count, 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", help="char-lstm or tiny-gpt (or a path to an experiment file)")
    parser.add_argument("--quick", action="store_true", help="the experiment's quick form")
    parser.add_argument("--steps", type=int, default=None, help="train only this many steps (a brief check)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    spec = experiments.load(args.experiment)
    variant = spec["variants"][0]
    config = resolve(experiments.variant_config(spec, variant, args.quick))
    if args.steps:
        config["train"]["steps"] = args.steps
    parts = build(config, progress=False)  # nablab's corpus, loaders and model, from the run's seed
    loaders, ours = parts.loaders, parts.model
    model = torch_model(config, ours)
    o, t = config["optim"], config["train"]
    if o["optimizer"] != "adam" or o["schedule"] is not None or o["weight_decay"]:
        raise SystemExit("the reference reproduces Adam without a schedule or weight decay only")
    torch.manual_seed(config["seed"])
    optimizer = torch.optim.Adam(model.parameters(), lr=o["lr"])
    steps = t["steps"] or t["epochs"] * len(loaders["train"])
    step, epoch, start = 0, 0, time.perf_counter()
    model.train()
    while step < steps:
        loaders["train"].set_epoch(epoch)
        for x, y in loaders["train"]:
            if step >= steps:
                break
            logits = model(torch.from_numpy(x.data))
            targets = torch.from_numpy(y.data).reshape(-1)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)
            optimizer.zero_grad()
            loss.backward()
            if t["grad_clip"]:
                nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
            optimizer.step()
            step += 1
        epoch += 1
    seconds = time.perf_counter() - start
    result = {"experiment": spec["name"], "variant": variant["label"], "quick": args.quick, "steps": step,
              "seconds": seconds, "threads": torch.get_num_threads(), "torch": torch.__version__,
              "parameters": sum(p.numel() for p in model.parameters())}
    for part in ("val", "test"):
        loss = evaluate(model, loaders[part])
        result.update({f"{part}_loss": loss, f"{part}_bpc": loss / math.log(2), f"{part}_perplexity": math.exp(loss)})
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
