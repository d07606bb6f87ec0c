"""``nablab bench``: the benchmark suite runs (quick form) and writes its sections and summary."""

import importlib.util

import pytest

from nablab.cli import main


def test_quick_suite_writes_every_section_and_the_summary(tmp_path, capsys):
    report = tmp_path / "BENCHMARKS.md"
    assert main(["bench", "--workload", "W1", "W5", "--quick", "--output", str(report)]) == 0
    text = report.read_text()
    for key in ("bench_mlp_W1", "bench_mlp_W5", "bench_suite"):
        assert f"<!-- BEGIN {key} -->" in text and f"<!-- END {key} -->" in text
    summary = text.split("<!-- BEGIN bench_suite -->")[1]
    rows = [line for line in summary.splitlines() if line.startswith("| W")]
    assert [row.split("|")[1].split(":")[0].strip() for row in rows] == ["W1", "W5"]
    assert "GEMM peak:" in summary and "Quick run" in summary
    for row in rows:  # nablab's and NumPy's samples/s are positive numbers; fractions are percentages
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert float(cells[1].replace(",", "")) > 0 and float(cells[2].replace(",", "")) > 0
        assert cells[6].endswith("%")
    if importlib.util.find_spec("torch") is not None:
        assert "W1: nablab / PyTorch (CPU)" in summary and "target ≥ 1.0" in summary


def test_bench_rejects_a_thread_count_below_one():
    with pytest.raises(SystemExit, match="--threads must be at least 1, got 0"):
        main(["bench", "--threads", "0"])
