"""The README's Python tour runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python tour"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    assert "50890" in capsys.readouterr().out
