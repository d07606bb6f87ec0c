"""``nablab bench``: the benchmark suite runs (quick form) and writes its sections and summary; the
GEMM-FLOP counter of the "fraction of the GEMM peak" figures counts every product once; the table of
hot single ops times every op nablab has against PyTorch and refuses to time one that disagrees; the
sequence models' benchmark (W8, W9) writes its section and figures and refuses a PyTorch twin that
computes another loss or gradient."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.cli import main

HAS_TORCH = importlib.util.find_spec("torch") is not None


def cells(row: str) -> list[str]:
    return [c.strip() for c in row.split("|")[1:-1]]


def test_quick_suite_writes_every_section_and_the_summary(tmp_path):
    report = tmp_path / "BENCHMARKS.md"
    assert main(["bench", "--workload", "W1", "W5", "W6", "W7", "--quick", "--output", str(report)]) == 0
    text = report.read_text()
    keys = ["bench_mlp_W1", "bench_mlp_W5", "bench_suite"] + (["bench_cnn"] if HAS_TORCH else [])
    for key in keys:
        assert f"<!-- BEGIN {key} -->" in text and f"<!-- END {key} -->" in text
    summary = text.split("<!-- BEGIN bench_suite -->")[1]
    rows = [line for line in summary.splitlines() if line.startswith("| W")]
    expected = ["W1", "W5", "W6", "W7"] if HAS_TORCH else ["W1", "W5"]
    assert [row.split("|")[1].split(":")[0].strip() for row in rows] == expected
    assert "GEMM peak:" in summary and "Quick run" in summary
    gemm_line = next(line for line in summary.splitlines() if "GEMM peak:" in line)
    assert ("PyTorch" in gemm_line) == HAS_TORCH, "PyTorch's steps are a fraction of a peak with PyTorch's GEMM"
    for row in rows:  # nablab's samples/s are positive numbers; fractions are percentages
        assert float(cells(row)[1].replace(",", "")) > 0 and cells(row)[6].endswith("%")
    for row in rows[:2]:  # W1 and W5 also against the hand-written NumPy
        assert float(cells(row)[2].replace(",", "")) > 0
    if not HAS_TORCH:
        assert "W6: skipped" in summary and "W7: skipped" in summary
        return
    assert "W1: nablab / PyTorch (CPU)" in summary and "target ≥ 1.1" in summary
    for key in ("W6", "W7"):
        assert f"- {key}: nablab / PyTorch (CPU)" in summary and "target ≥ 0.6" in summary
        assert f"- {key}: slowest of 2 fresh processes" in summary
    assert summary.count("target ≤ 1.25×") == 2
    cnn = text.split("<!-- BEGIN bench_cnn -->")[1].split("<!-- END bench_cnn -->")[0]
    assert "### W6:" in cnn and "### W7:" in cnn and "### W3:" not in cnn
    spread = cnn.split("### nablab's step in fresh processes")[1]
    spread_rows = [cells(line) for line in spread.splitlines() if line.startswith("| W")]
    assert [row[0] for row in spread_rows] == ["W6", "W7"]
    for row in spread_rows:  # two processes' figures, the median, the slowest and their ratio
        per_process = [float(v.replace(",", "")) for v in row[1].split(", ")]
        assert len(per_process) == 2 and float(row[3].replace(",", "")) == max(per_process)
        assert row[4].endswith("×") and row[5].startswith("≤ 1.25×")


def test_bench_rejects_a_thread_count_below_one():
    with pytest.raises(SystemExit, match="--threads must be at least 1, got 0"):
        main(["bench", "--threads", "0"])


def test_bench_rejects_fewer_than_one_process():
    with pytest.raises(SystemExit, match="--processes must be at least 1, got 0"):
        main(["bench", "--processes", "0"])


@pytest.fixture(scope="module")
def common():
    """benchmarks/common.py, loaded under a name of its own (the scripts import it as ``common``)."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "common.py"
    spec = importlib.util.spec_from_file_location("nablab_benchmarks_common", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_conv_macs_count_only_taps_on_the_input(common):
    # 3×3 with padding 1 on a 4×4 map: 10 taps per axis meet the input, 100 of 144 positions
    assert common.conv_macs((2, 3, 4, 4), (5, 3, 3, 3), (2, 5, 4, 4), padding=1) == 2 * 5 * 3 * 100
    # no padding: (output elements) · C · k · k; a strided 1×1 conv: one tap per output element
    assert common.conv_macs((2, 3, 6, 6), (5, 3, 3, 3), (2, 5, 4, 4)) == 2 * 5 * 16 * 3 * 9
    assert common.conv_macs((2, 32, 8, 8), (64, 32, 1, 1), (2, 64, 4, 4), stride=2) == 2 * 64 * 16 * 32
    # stride 2 with padding 1, 3×3 on 4×4 → 2×2: 2 + 3 taps per axis
    assert common.conv_macs((1, 1, 4, 4), (1, 1, 3, 3), (1, 1, 2, 2), stride=2, padding=1) == 25


@pytest.mark.parametrize("reference", [False, True], ids=["kernels", "reference"])
def test_gemm_flops_counts_each_product_once(common, reference):
    nablab.manual_seed(0)
    convs = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 8, 1, stride=2, bias=False))
    head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 2 * 2, 6), nn.ReLU(), nn.Linear(6, 5))  # Linear→ReLU fused
    x = nablab.Tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 4), dtype=np.float32))
    m = nablab.Tensor(np.ones((5, 7), np.float32), requires_grad=True)

    def step():
        out = head(convs(x)) @ m
        out.sum().backward()

    macs = [2 * 4 * 3 * 100, 2 * 8 * 4 * 4, 2 * 6 * 32, 2 * 5 * 6, 2 * 7 * 5]  # conv, 1×1/2 conv, fc, fc, @
    passes = [2, 3, 3, 3, 3]  # forward + dL/dW (+ dL/dx but for the data)
    with nablab.kernels.use_reference(reference):
        flops = common.gemm_flops(step)
        with nablab.no_grad():
            forward_only = common.gemm_flops(lambda: head(convs(x)) @ m)
    assert flops == {"forward": 2 * sum(macs), "training": 2 * sum(a * p for a, p in zip(macs, passes))}
    assert forward_only == {"forward": 2 * sum(macs), "training": 2 * sum(macs)}


OPS = ["softmax", "log_softmax", "nll_loss", "layer_norm", "embedding", "gelu", "conv1d"]


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the rows of the first table after ``heading``."""
    lines = [line for line in text.split(heading, 1)[1].splitlines() if line.startswith("|")]
    return [cells(line) for line in lines[2 : 2 + len(OPS)]]  # after the header and the rule


@pytest.mark.skipif(not HAS_TORCH, reason="the hot single ops are timed against PyTorch only")
def test_quick_ops_table_times_every_op_nablab_has_against_torch(tmp_path):
    report = tmp_path / "BENCHMARKS.md"
    assert main(["bench", "--workload", "OPS", "--quick", "--output", str(report)]) == 0
    text = report.read_text()
    section = text.split("<!-- BEGIN bench_ops -->")[1].split("<!-- END bench_ops -->")[0]
    summary = text.split("<!-- BEGIN bench_suite -->")[1].split("<!-- END bench_suite -->")[0]
    assert "Tiny sizes" in section and "Quick run" in summary and "| W" not in summary
    present = [hasattr(nn.functional, op) for op in OPS]
    for heading in ("### Forward + backward", "### Forward (no graph)"):
        rows = table_rows(section, heading)
        assert [row[0] for row in rows] == [f"`{op}`" for op in OPS]
        for row, has in zip(rows, present, strict=True):
            if not has:
                assert row[2:7] == ["–"] * 5 and row[7] == "≥ 0.5×: missing in nablab"
                continue
            nablab_ms, torch_ms, ratio = float(row[2]), float(row[3]), float(row[4].strip("*×"))
            assert nablab_ms > 0 and torch_ms > 0 and ratio == pytest.approx(torch_ms / nablab_ms, rel=0.002, abs=0.006)
            assert row[6] == "1 × 1" and row[7] == f"≥ 0.5×: {'met' if ratio >= 0.5 else 'NOT met'}"
    ops_rows = table_rows(summary, "OPS: hot single ops against PyTorch (CPU)")
    assert [row[0] for row in ops_rows] == [f"`{op}`" for op in OPS]
    assert all(row[2].endswith("×") and row[3].endswith("×") for row, has in zip(ops_rows, present, strict=True) if has)
    assert "ops ≥ 0.5× PyTorch in both modes" in summary


@pytest.fixture
def bench_ops(monkeypatch):
    """benchmarks/bench_ops.py, imported as the scripts import each other (``common`` on the path)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    monkeypatch.delitem(sys.modules, "common", raising=False)
    module = importlib.import_module("bench_ops")
    yield module
    for name in ("bench_ops", "common"):
        sys.modules.pop(name, None)


@pytest.mark.skipif(not HAS_TORCH, reason="the hot single ops are checked against PyTorch")
def test_ops_bench_refuses_to_time_an_op_that_differs_from_torch_or_is_missing(bench_ops, monkeypatch):
    args = bench_ops.parse_args(["--tiny", "--repeats", "1", "--block-seconds", "0", "--warmup", "0"])
    op = bench_ops.BY_NAME["softmax"]
    right = nn.functional.softmax
    monkeypatch.setattr(nn.functional, "softmax", lambda x, dim=None: right(x, dim=dim) * 1.001)
    record = bench_ops.bench_op(op, op.tiny, args)
    assert record["status"] == "differs" and record["modes"] == {}
    assert record["note"].startswith("output differs from PyTorch's by up to")
    # the right values with a wrong gradient (none flows back through the detached input)
    monkeypatch.setattr(nn.functional, "softmax", lambda x, dim=None: right(x.detach(), dim=dim) + 0.0 * x)
    record = bench_ops.bench_op(op, op.tiny, args)
    assert record["status"] == "differs" and record["note"].startswith("grad of x differs from PyTorch's")
    monkeypatch.delattr(nn.functional, "softmax")
    assert bench_ops.bench_op(op, op.tiny, args)["note"] == "missing in nablab"
    monkeypatch.setattr(nn.functional, "softmax", lambda x, dim=None: right(x, dim=5), raising=False)
    record = bench_ops.bench_op(op, op.tiny, args)
    assert record["status"] == "fails" and record["note"].startswith("fails in nablab: DimError")


@pytest.fixture
def bench_module(monkeypatch):
    """Import a script of benchmarks/ by name as the scripts import each other (``common`` on the path);
    the modules it imported from there are forgotten afterwards."""
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    monkeypatch.syspath_prepend(str(folder))
    scripts = {path.stem for path in folder.glob("*.py")}
    for name in scripts:
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield importlib.import_module
    for name in scripts:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("value, target, at_least, shown", [
    (0.4968, 0.5, True, "0.497"), (0.5001, 0.5, True, "0.50"), (0.4999996, 0.5, True, "0.4999996"),
    (0.7349, 0.5, True, "0.73"), (1.2504, 1.25, False, "1.2504"), (1.2496, 1.25, False, "1.25"),
    (241.857, 0.5, True, "241.86")])
def test_a_ratio_is_never_shown_on_the_other_side_of_its_target(bench_module, value, target, at_least, shown):
    """A "0.50×" beside "NOT met" (0.4968 rounded) read as a contradiction, and failed a CI run."""
    text = bench_module("common").ratio_text(value, target, at_least)
    assert text == shown
    meets = (lambda x: x >= target) if at_least else (lambda x: x <= target)
    assert meets(float(text)) == meets(value)


def test_suite_and_nablab_bench_run_the_sequence_workloads_in_one_process(bench_module):
    from nablab.cli.bench import WORKLOADS

    suite = bench_module("suite")
    assert WORKLOADS == suite.ALL and {"W8", "W9"} <= set(suite.NEEDS_TORCH)
    assert suite.runs(["W2", "W8", "W9"], 2) == [("bench_mlp.py", ["--workload", "W2"]),
                                                 ("bench_sequence.py", ["--workload", "W8", "W9"])]
    assert "bench_sequence.py" in suite.USES_GEMM_PEAK and suite.QUICK["bench_sequence.py"] == ["--quick"]


@pytest.mark.skipif(not HAS_TORCH, reason="the sequence models are timed against PyTorch only")
def test_quick_sequence_bench_writes_its_section_and_figures(bench_module, tmp_path):
    bench_sequence = bench_module("bench_sequence")
    peak, report, figures = tmp_path / "peak.json", tmp_path / "BENCHMARKS.md", tmp_path / "figures.json"
    peak.write_text('{"NumPy": 100.0, "PyTorch": 90.0, "peak": 100.0}')
    bench_sequence.main(["--quick", "--threads", "1", "--gemm-peak", str(peak), "--output", str(report),
                         "--json", str(figures)])
    section = report.read_text().split("<!-- BEGIN bench_sequence -->")[1].split("<!-- END bench_sequence -->")[0]
    assert "Tiny sizes" in section and "100 GFLOP/s" in section and "in one process with 1 thread " in section
    assert "1 round of 1 timed step per system, after 0 warm-up steps; 32 characters per step" in section
    data = json.loads(figures.read_text())
    assert list(data) == ["W8", "W9"]
    for key, heading in (("W8", "### W8: character LSTM language model (embedding 8 → LSTM 16 → Linear 65; Adam"),
                         ("W9", "### W9: TinyGPT (1 blocks × 2 heads, n_embd 16, block 8, tied head; AdamW")):
        part = section.split(heading)[1].split("###")[0]
        rows = {row[0]: row for row in (cells(line) for line in part.splitlines() if line.startswith("| "))}
        ours, theirs = rows["nablab"], rows["PyTorch (CPU)"]
        tokens = [float(row[2].replace(",", "")) for row in (ours, theirs)]
        assert min(tokens) > 0 and theirs[5] == "1.00×"
        f = data[key]
        assert f["tokens_per_step"] == 32 and f["batch"] == 4 and f["tiny"] is True
        shown = [f["tokens_per_s"][name] for name in ("nablab", "PyTorch (CPU)")]
        assert shown == pytest.approx(tokens, rel=1e-3, abs=0.5)
        assert f["tokens_per_s"]["nablab"] == pytest.approx(32 * float(ours[1].replace(",", "")), rel=5e-3)  # 3 digits
        ratio = f["ratios"]["PyTorch (CPU)"]  # one round: the paired ratio is the ratio of the medians
        assert ratio == pytest.approx(f["tokens_per_s"]["nablab"] / f["tokens_per_s"]["PyTorch (CPU)"])
        target = f["targets"]["PyTorch (CPU)"]
        assert target["target"] == 0.5 and target["met"] == (ratio >= 0.5)
        verdict = f"target ≥ 0.5: {'met' if ratio >= 0.5 else 'NOT met'}"
        shown_ratio = bench_module("common").ratio_text(ratio, 0.5)
        assert f"**nablab / PyTorch (CPU): {shown_ratio}**" in part and verdict in part
        assert f["gemm_flops_per_step"] == 6 * bench_sequence.gemm_macs(bench_sequence.WORKLOADS[key],
                                                                        bench_sequence.WORKLOADS[key].tiny)


@pytest.mark.skipif(not HAS_TORCH, reason="the sequence models are checked against PyTorch")
@pytest.mark.parametrize("key", ["W8", "W9"])
def test_sequence_bench_refuses_to_time_a_twin_that_computes_otherwise(bench_module, key):
    import torch

    bench_sequence = bench_module("bench_sequence")
    w = bench_sequence.WORKLOADS[key]
    size = w.tiny
    batches = bench_sequence.make_batches(size, 0)

    def systems():
        model = bench_sequence.make_model(w, size, 0)
        twin = bench_sequence.torch_twin(w, size, model)
        steps = {"nablab": bench_sequence.nablab_step(model, w, batches),
                 "PyTorch (CPU)": bench_sequence.torch_step(twin, w, batches)}
        return model, twin, steps

    model, twin, steps = systems()
    losses, gap = bench_sequence.check_agreement(w, steps, model, twin, 2)
    assert len(losses) == 2 and gap < bench_sequence.GRAD_RTOL
    # the same loss, one gradient off by 1% of its largest entry
    model, twin, steps = systems()
    losses = tuple(float(step().item()) for step in steps.values())
    assert bench_sequence.disagreement(model, twin, losses) is None
    name, p = next(iter(twin.named_parameters()))
    p.grad[(0,) * p.grad.ndim] += 0.01 * p.grad.abs().max()
    assert bench_sequence.disagreement(model, twin, losses).startswith(f"the gradient of {name} differs")
    # a twin with other weights: its loss differs
    model, twin, steps = systems()
    with torch.no_grad():
        next(iter(twin.parameters())).mul_(1.5)
    with pytest.raises(SystemExit, match=f"bench_sequence {key}: the first loss differs"):
        bench_sequence.check_agreement(w, steps, model, twin, 1)


@pytest.mark.parametrize("key", ["W8", "W9"])
def test_sequence_bench_counts_the_products_the_flop_counter_sees(bench_module, common, key):
    bench_sequence = bench_module("bench_sequence")
    w = bench_sequence.WORKLOADS[key]
    size = w.tiny
    step = bench_sequence.nablab_step(bench_sequence.make_model(w, size, 0), w, bench_sequence.make_batches(size, 0))
    seen = common.gemm_flops(step)
    if key == "W9":  # every product runs through a linear layer or a matrix product the counter catches
        assert seen["training"] == bench_sequence.gemm_flops(w, size)
    else:  # the LSTM's products may run inside its own node, out of the counter's sight: it sees the decoder's
        hidden = size.model["hidden_size"]
        decoder = 2 * size.tokens * hidden * bench_sequence.VOCAB
        lstm = 2 * size.tokens * (size.model["embed_dim"] + hidden) * 4 * hidden
        assert bench_sequence.gemm_flops(w, size) == 3 * (decoder + lstm)
        assert 3 * decoder <= seen["training"] <= 3 * (decoder + lstm)


@pytest.mark.skipif(not HAS_TORCH, reason="the GPU form times nablab against PyTorch")
def test_the_gpu_form_runs_on_the_stand_in_and_writes_its_section(bench_module, tmp_path):
    """benchmarks/bench_gpu.py, the script a GPU machine runs once (benchmarks/gpu_check.sh), works end to
    end on the strict stand-in device: the device path of both workloads, the loss check, the section."""
    report = tmp_path / "BENCHMARKS.md"
    text = bench_module("bench_gpu").main(["--stand-in", "--batch", "4", "--repeats", "1", "--steps", "1",
                                           "--warmup", "0", "--output", str(report)])
    assert "The strict stand-in device, not a GPU" in text
    rows = [cells(r) for r in text.splitlines() if r.startswith("| W")]
    assert [r[0] for r in rows] == ["W2 MLP 784-512-512-10", "W4 VGGNet on 3×32×32"] and all(r[1] == "4" for r in rows)
    assert "<!-- BEGIN The GPU form (issue 19) -->" in report.read_text()
