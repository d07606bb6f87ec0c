"""pytorch/examples' MNIST script, kept verbatim but for its imports (see README.md here), runs on
nablab as a user runs it: ``python main.py`` in a folder whose ``../data`` holds MNIST in
torchvision's layout."""

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("pytorch_examples_mnist_main.py")
TODAY = Path(__file__).with_name("mnist_today.py")
REAL_MNIST = Path(os.environ.get("NABLAB_DATA", "/nonexistent")) / "mnist"


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file: the magic number, the sizes (big-endian uint32) and the uint8 data."""
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_torchvision_mnist(root: Path, train, test) -> None:
    """The four IDX files, extracted, where torchvision leaves them: root/MNIST/raw/."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, (x, y) in (("train", train), ("t10k", test)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(x, 0x803))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(y, 0x801))


def _run(tmp_path: Path, *args: str, script: Path = SCRIPT) -> str:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(script, work / "main.py")
    env = {k: v for k, v in os.environ.items() if k != "NABLAB_DATA"}  # only ../data may be found
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    out = subprocess.run([sys.executable, "main.py", *args], cwd=work, env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, f"the script failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def test_the_script_runs_an_epoch_on_a_tiny_data_set(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (200, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 200, dtype=np.uint8)
    _write_torchvision_mnist(tmp_path / "data", (images[:128], labels[:128]), (images[128:], labels[128:]))
    log = _run(tmp_path, "--epochs", "1", "--batch-size", "32", "--test-batch-size", "50", "--log-interval", "1")
    steps = re.findall(r"Train Epoch: 1 \[(\d+)/128 \((\d+)%\)\]\tLoss: (\d+\.\d{6})", log)
    assert [int(s[0]) for s in steps] == [0, 32, 64, 96] and [int(s[1]) for s in steps] == [0, 25, 50, 75]
    assert all(0.0 < float(s[2]) < 10.0 for s in steps)
    assert re.search(r"Test set: Average loss: \d+\.\d{4}, Accuracy: \d+/72 \(\d+%\)", log)


def test_todays_idiom_runs_dry_and_saves_safetensors(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 100, dtype=np.uint8)
    _write_torchvision_mnist(tmp_path / "data", (images[:64], labels[:64]), (images[64:], labels[64:]))
    log = _run(tmp_path, "--dry-run", "--batch-size", "16", "--save-model", script=TODAY)
    assert re.findall(r"Train Epoch: 1 \[(\d+)/64\]", log) == ["0"], "--dry-run stops after the first step"
    assert re.search(r"Test set: Average loss: \d+\.\d{4}, Accuracy: \d+/36", log)
    import nablab

    state = nablab.load(tmp_path / "work" / "mnist_cnn.pt")
    assert tuple(state["conv1.weight"].shape) == (32, 1, 3, 3) and tuple(state["fc1.weight"].shape) == (128, 9216)
    assert (tmp_path / "work" / "mnist_cnn.pt").read_bytes()[8:9] == b"{", "a safetensors header, not a pickle"


@pytest.mark.skipif(not (REAL_MNIST / "train-images-idx3-ubyte.gz").is_file(),
                    reason="the real MNIST files are not here (set NABLAB_DATA to a folder with mnist/)")
def test_the_script_learns_real_digits_in_one_short_epoch(tmp_path):
    from nablab.data.idx import read_idx_pair

    train = read_idx_pair(REAL_MNIST / "train-images-idx3-ubyte.gz", REAL_MNIST / "train-labels-idx1-ubyte.gz")
    test = read_idx_pair(REAL_MNIST / "t10k-images-idx3-ubyte.gz", REAL_MNIST / "t10k-labels-idx1-ubyte.gz")
    subset = lambda pair, n: (pair[0][:n, 0], pair[1][:n])  # noqa: E731
    _write_torchvision_mnist(tmp_path / "data", subset(train, 6000), subset(test, 2000))
    log = _run(tmp_path, "--epochs", "1", "--lr", "0.05")  # 94 steps: the script's own flag for a faster start
    correct = int(re.search(r"Accuracy: (\d+)/2000", log).group(1))
    assert correct >= 1500, f"only {correct}/2000 right after one epoch of 6000 digits:\n{log}"
