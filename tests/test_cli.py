import os
import subprocess
import sys

import pytest

from nablab.cli import main


def test_train_on_digits_reaches_the_target(capsys, tmp_path):
    assert main(["train", "--quiet", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    test_acc = float(out.split("test accuracy:")[1].split()[0])
    assert test_acc >= 0.96
    assert "64-128-10 relu MLP, 9,610 parameters" in out


def test_train_options(capsys, tmp_path):
    args = ["train", "--runs-dir", str(tmp_path), "--no-plots", "--hidden", "32,16", "--epochs", "2",
            "--optimizer", "adam", "--lr", "1e-3",
            "--activation", "improved_sigmoid", "--init", "lecun_normal", "--batch-size", "64"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "64-32-16-10 improved_sigmoid MLP" in out and "epoch 2/2" in out
    assert "run folder:" in out


def test_gradcheck_command(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "W1 max relative error:" in out and "FAIL" not in out
    assert "cross_entropy" in out


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "nablab.cli", "--help"], capture_output=True, text=True).stdout
    assert "train" in out and "gradcheck" in out


def test_bad_hidden_sizes_are_rejected(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--hidden", "12,x"])
    assert exc.value.code == 2
    assert "comma-separated" in capsys.readouterr().err


ROOT = os.environ.get("NABLAB_DATA")
needs_data = pytest.mark.skipif(not ROOT, reason="NABLAB_DATA does not point at MNIST and CIFAR-10")


def _test_accuracy(out):
    return float(out.split("test accuracy:")[1].split()[0])


@needs_data
def test_mnist_mlp_reaches_097(tmp_path, capsys):
    args = ["train", "--dataset", "mnist", "--data-dir", ROOT, "--epochs", "5", "--batch-size", "64", "--lr", "0.02",
            "--quiet", "--no-plots", "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    assert _test_accuracy(capsys.readouterr().out) >= 0.97


@needs_data
def test_cifar10_hlcv_split_end_to_end(tmp_path, capsys):
    args = ["train", "--dataset", "cifar10", "--data-dir", ROOT, "--split", "hlcv", "--preprocess", "mean_image",
            "--hidden", "100", "--epochs", "1", "--batch-size", "128", "--lr", "0.01", "--quiet", "--runs-dir",
            str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "train 49000, val 1000, test 1000" in out
    assert _test_accuracy(out) > 0.3


def test_data_info_reports_location_counts_and_checksums(capsys):
    assert main(["data", "info", "digits"]) == 0
    out = capsys.readouterr().out
    assert "digits: found in scikit-learn (bundled)" in out and "per class:" in out


@needs_data
def test_data_info_on_the_official_files(capsys):
    assert main(["data", "info", "mnist", "--data-dir", ROOT]) == 0
    out = capsys.readouterr().out
    assert "train-images-idx3-ubyte.gz: sha256 440fcabf" in out and "train  55000" in out


def test_data_fetch_downloads_into_the_cache(tmp_path, monkeypatch, capsys):
    """`nablab data fetch` against a local mirror (the real hosts are not reachable from tests)."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "data"))
    from datafiles import spec_of, write_mnist

    from nablab.data import mnist
    from nablab.data.files import DatasetFiles

    served = tmp_path / "served"
    write_mnist(served)
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        spec = DatasetFiles("mnist", [spec_of(p) for p in sorted(served.iterdir())], subdirs=["mnist"],
                            mirrors=[f"http://127.0.0.1:{httpd.server_address[1]}/"])
        monkeypatch.setattr(mnist, "MNIST", spec)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.delenv("NABLAB_DATA", raising=False)
        assert main(["data", "fetch", "mnist"]) == 0
    finally:
        httpd.shutdown()
        httpd.server_close()
    out = capsys.readouterr().out
    assert f"found in {tmp_path / 'cache' / 'nablab' / 'mnist'}" in out
    assert sorted(p.name for p in (tmp_path / "cache" / "nablab" / "mnist").iterdir()) == sorted(
        p.name for p in served.iterdir())
