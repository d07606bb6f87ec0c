"""Downloads from mirrors, against a real HTTP server on 127.0.0.1: a 403 mirror, an HTML-page
mirror, a mirror with wrong bytes, a stalled mirror, and a good one."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from datafiles import spec_of, write_mnist

from nablab import data
from nablab.data import download, mnist
from nablab.data.files import DataError, DatasetFiles


@pytest.fixture
def server(tmp_path):
    """Serves /good/<file> from a folder of real files, and misbehaving mirrors beside it."""
    files = tmp_path / "served"
    write_mnist(files)
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            mirror, _, name = self.path.strip("/").partition("/")
            hits.append(mirror)
            if mirror == "forbidden":
                self.send_error(403)
            elif mirror == "html":
                body = b"<!DOCTYPE html><html><body>Moved</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")  # lies: sniffed from the bytes
                self.end_headers()
                self.wfile.write(body)
            elif mirror == "stall":
                time.sleep(1.5)
                self.send_error(500)
            elif mirror in ("good", "wrong") and (files / name).is_file():
                body = (files / name).read_bytes()
                if mirror == "wrong":
                    body = body[:-1] + bytes([body[-1] ^ 1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base, files, hits
    httpd.shutdown()
    httpd.server_close()


def _spec(files, base, mirrors):
    return DatasetFiles("mnist", [spec_of(p) for p in sorted(files.iterdir())], subdirs=["mnist"],
                        mirrors=[f"{base}/{m}/" for m in mirrors])


def test_bad_mirrors_are_skipped_and_the_good_one_used(server, tmp_path):
    base, files, hits = server
    spec = _spec(files, base, ["forbidden", "html", "wrong", "good"])
    dest = tmp_path / "dest"
    download.download(spec, dest, timeout=5, progress=False, log=None)
    for f in files.iterdir():
        assert (dest / f.name).read_bytes() == f.read_bytes()
    assert hits[:4] == ["forbidden", "html", "wrong", "good"]
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]


def test_a_stalled_mirror_times_out(server, tmp_path):
    base, files, _ = server
    spec = _spec(files, base, ["stall", "good"])
    spec.files[:] = spec.files[:1]
    download.download(spec, tmp_path / "dest", timeout=0.5, progress=False, log=None)
    assert (tmp_path / "dest" / spec.files[0].name).is_file()


def test_when_every_mirror_fails_each_failure_is_reported_and_nothing_is_left(server, tmp_path):
    base, files, _ = server
    spec = _spec(files, base, ["forbidden", "html", "wrong"])
    dest = tmp_path / "dest"
    with pytest.raises(DataError) as err:
        download.download(spec, dest, timeout=5, progress=False, log=None)
    text = str(err.value)
    assert "forbidden" in text and "HTML page" in text and "checksum mismatch" in text
    assert "Put these files" in text
    assert list(dest.iterdir()) == []


def test_load_downloads_into_the_cache_once(server, monkeypatch):
    base, files, hits = server
    monkeypatch.setattr(mnist, "MNIST", _spec(files, base, ["forbidden", "good"]))
    ds = data.load("mnist", val_size=2, progress=False)
    assert ds.info["source"] == str(data.cache_dir() / "mnist")
    assert len(ds.train) == 10 and all(d.startswith("sha256") for d in ds.info["checksums"].values())
    count = len(hits)
    again = data.load("mnist", val_size=2, progress=False)
    assert len(hits) == count  # found in the cache: no request
    np.testing.assert_array_equal(again.train.x, ds.train.x)


def test_unreachable_host_is_reported(tmp_path):
    spec = DatasetFiles("mnist", [mnist.MNIST.files[0]], subdirs=[], mirrors=["http://127.0.0.1:9/"])
    with pytest.raises(DataError, match="127.0.0.1:9"):
        download.download(spec, tmp_path, timeout=2, progress=False, log=None)
