"""The README runs as written: its Python tour, and every line of its shell blocks, top to bottom.

The shell blocks (fenced ```bash, or ``` with no language) run line by line with bash in one fresh
folder, in order, as a newcomer would type them, with the installed nablab and the budget caps
(NABLAB_MAX_EPOCHS, NABLAB_MAX_STEPS, NABLAB_MAX_EVAL, NABLAB_MAX_TRIALS; see nablab.lab.budget) so
that every run is short. Lines
are left out, each with the reason printed, only where running them here makes no sense (installing
the package the test runs from, running the test suite that runs this test) or where they need the
MNIST / Fashion-MNIST / CIFAR-10 files and NABLAB_DATA does not point at them.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: the budget every documented command runs under here (a smoke run, not the published numbers)
BUDGET = {"NABLAB_MAX_EPOCHS": "2", "NABLAB_MAX_STEPS": "30", "NABLAB_MAX_EVAL": "300", "NABLAB_MAX_TRIALS": "2"}
#: lines that are not run, and why
NOT_RUN = [
    (re.compile(r"^pip install\b"), "installs nablab, which the test runs from (already installed)"),
    (re.compile(r"\bpython -m pytest\b"), "runs the test suite, which runs this test"),
]
DOWNLOADED = ("mnist", "fashion_mnist", "cifar10")
#: an install in front of the command that uses it (the README's first line): the rest runs
INSTALL_FIRST = re.compile(r"^pip install [^&]*&& ")


def test_readme_tour_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python tour"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    assert "50890" in capsys.readouterr().out


def shell_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, command)`` of every command in the README's shell blocks, in order (comments dropped).

    The block under "## Commands" is the generated synopsis of the commands (tests/lab/test_settings.py
    holds it to the parsers), not commands to type.
    """
    lines, fence, section = [], None, ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("## ") and fence is None:
            section = line[3:].strip()
        elif line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
        elif (fence in ("", "bash") and section != "Commands" and line.strip()
              and not line.lstrip().startswith("#")):
            lines.append((number, line))
    return lines


def test_shell_blocks_are_found():
    lines = shell_lines(README.read_text())
    assert any("nablab export" in command for _, command in lines)
    assert not any(command.lstrip().startswith(("nablab train [", "nablab report RUN_DIR")) for _, command in lines)


def _experiment_datasets() -> dict[str, str]:
    """Each experiment's data set (``data.dataset`` of [base], ``settings.dataset``, else the kind's default)."""
    found = {}
    for path in (ROOT / "experiments").glob("*.toml"):
        spec = tomllib.loads(path.read_text())
        dataset = spec.get("base", {}).get("data", {}).get("dataset") or spec.get("settings", {}).get("dataset")
        if dataset is None and spec.get("kind") == "two_layer_net":
            dataset = "cifar10"
        found[path.stem] = dataset or "digits"
    return found


def needs_downloaded_data(command: str, datasets: dict[str, str]) -> str | None:
    """The data set ``command`` needs that is not bundled (MNIST, Fashion-MNIST, CIFAR-10), else None."""
    words = re.findall(r"[\w-]+", command)
    for word in words:
        if word in DOWNLOADED:
            return word
        if datasets.get(word) in DOWNLOADED:
            return datasets[word]
    if re.search(r"runs/(mnist|fashion_mnist|cifar10)", command):
        return "a run trained on downloaded data"
    return None


def test_readme_shell_blocks_run(tmp_path):
    have_data = bool(os.environ.get("NABLAB_DATA"))
    datasets = _experiment_datasets()
    env = {**os.environ, **BUDGET, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "default",
           "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    ran, not_made = 0, {}  # run names whose training line was not run → that line's number
    for number, command in shell_lines(README.read_text()):
        command = INSTALL_FIRST.sub("", command)  # `pip install … && nablab train`: the install is done already
        reason = next((why for pattern, why in NOT_RUN if pattern.search(command)), None)
        if reason is None and not have_data and (needed := needs_downloaded_data(command, datasets)):
            reason = f"needs {needed} (set NABLAB_DATA to the folder holding the files)"
        if reason is None:
            used = [name for name in not_made if f"runs/{name}-" in command]
            reason = used and f"uses runs/{used[0]}-*, which README.md:{not_made[used[0]]} (not run) makes"
        if reason:
            print(f"README.md:{number}: not run: {command.strip()} — {reason}")
            not_made.update(dict.fromkeys(re.findall(r"--name (\S+)", command), number))
            continue
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        ran += 1
        if done.returncode != 0:
            pytest.fail(f"README.md:{number}: `{command.strip()}` exited with {done.returncode}\n"
                        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
        assert "Warning" not in done.stderr, f"README.md:{number}: `{command.strip()}` warned:\n{done.stderr}"
    assert ran >= 5, f"only {ran} README commands ran"
