"""lepton.datasets: IDX reading, the lookup order, the embedded sample, and the downloader.

Downloads are tested against a local HTTP server on 127.0.0.1 that serves the real MNIST
test files (from ``<repo>/../shared/data/mnist`` when present, else the byte-identical copy
embedded in the package) with injected faults: server errors, corrupted and truncated
files, dropped and stalled connections. An autouse fixture turns downloads off
(``LEPTON_OFFLINE=1``), points every mirror at 127.0.0.1, and makes any request to another
host fail the test, so no test can reach the network.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib.util
import io
import os
import shutil
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lepton.datasets import (DatasetCorruptError, DatasetNotFoundError, fashion_mnist,
                             mnist)
from lepton.datasets import _base, _download
from lepton.datasets._idx import read_idx, write_idx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "mnist")
SRC = SHARED if os.path.isdir(SHARED) else mnist.SAMPLE_DIR  # byte-identical copies
IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


def _read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


REAL = {name: _read(os.path.join(SRC, name)) for name in (IMAGES, LABELS)}
SPEC_T10K = {f.name: f for f in mnist.SPEC.files if f.name.startswith("t10k")}


@pytest.fixture(autouse=True)
def sandbox(monkeypatch, tmp_path):
    """No network, no user files: every location points into tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("LEPTON_DATA_DIR", raising=False)
    monkeypatch.setenv("LEPTON_OFFLINE", "1")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", "http://127.0.0.1:9/none/")
    monkeypatch.setenv("LEPTON_DATASETS_TIMEOUT", "5")
    monkeypatch.setenv("LEPTON_DATASETS_RETRIES", "2")
    monkeypatch.setenv("LEPTON_DATASETS_BACKOFF", "0.01")
    monkeypatch.setattr(_base, "SYSTEM_DIRS", [str(tmp_path / "system")])
    calls = []
    real_open = _download._open

    def guarded_open(url, offset, timeout):
        host = urllib.parse.urlsplit(url).hostname
        assert host == "127.0.0.1", f"a test tried to reach {url}"
        calls.append(url)
        return real_open(url, offset, timeout)

    monkeypatch.setattr(_download, "_open", guarded_open)
    return calls


def cache(spec=mnist.SPEC):
    return _base.cache_dir(spec)


def real_arrays():
    return (read_idx(os.path.join(SRC, IMAGES)), read_idx(os.path.join(SRC, LABELS)))


def put_mnist(directory, x, y, n_test=None, gz=True):
    """Write a 4-file MNIST-format dataset (train = x, y; test = the first n_test)."""
    os.makedirs(directory, exist_ok=True)
    n_test = len(x) if n_test is None else n_test
    ext = ".gz" if gz else ""
    write_idx(os.path.join(directory, "train-images-idx3-ubyte" + ext), x)
    write_idx(os.path.join(directory, "train-labels-idx1-ubyte" + ext), y)
    write_idx(os.path.join(directory, "t10k-images-idx3-ubyte" + ext), x[:n_test])
    write_idx(os.path.join(directory, "t10k-labels-idx1-ubyte" + ext), y[:n_test])


def tiny(label, n=5):
    """n distinguishable 28x28 images whose labels are all ``label``."""
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, 0, 0] = label
    return x, np.full(n, label, np.uint8)


def no_partial_files(directory):
    if not os.path.isdir(directory):
        return True
    return not [f for f in os.listdir(directory) if f.endswith(".part") or f.startswith(".")]


# ----------------------------------------------------------------------------------- IDX

IDX_DTYPES = st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])


@settings(max_examples=25, deadline=None)
@given(dtype=IDX_DTYPES, shape=st.lists(st.integers(0, 4), max_size=4),
       gz=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_idx_roundtrip(tmp_path_factory, dtype, shape, gz, seed):
    a = (np.random.default_rng(seed).standard_normal(shape) * 100).astype(dtype)
    path = str(tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx"))
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape and b.flags.writeable
    np.testing.assert_array_equal(a, b)


def test_idx_is_big_endian_by_spec(tmp_path):
    # Built by hand (not by write_idx): magic 0x00000C01 (int32, 1-D), dim 2, data.
    raw = bytes([0, 0, 0x0C, 1]) + (2).to_bytes(4, "big") + (1).to_bytes(4, "big") \
        + (-2).to_bytes(4, "big", signed=True)
    (tmp_path / "a.idx").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), np.array([1, -2], np.int32))


def test_real_mnist_header_and_first_labels():
    x, y = real_arrays()
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the published first labels
    assert REAL[IMAGES][:2] == b"\x1f\x8b"
    assert gzip.decompress(REAL[IMAGES])[:4] == b"\x00\x00\x08\x03"


@pytest.mark.parametrize("make, why", [
    (lambda: b"", "only 0 bytes"),
    (lambda: b"\x00\x00\x08", "only 3 bytes"),
    (lambda: b"\x12\x34\x08\x01" + bytes(8), "magic number"),
    (lambda: b"\x00\x00\x07\x01" + bytes(8), "magic number"),
    (lambda: b"\x00\x00\x08\x03\x00\x00", "header ends"),
    (lambda: b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(9), "truncated"),
    (lambda: b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(11), "data after"),
    (lambda: gzip.compress(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(10))[:-12],
     "decompressed"),
    (lambda: REAL[LABELS][:-8] + b"\xff" * 8, "decompressed"),  # bad CRC/length trailer
    (lambda: b"\x1f\x8b\x08garbage-not-deflate", "decompressed"),
])
def test_corrupt_idx_names_the_file(tmp_path, make, why):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(make())
    with pytest.raises(DatasetCorruptError, match=why) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_idx_header_checks(tmp_path):
    write_idx(tmp_path / "a.idx", np.zeros((2, 3), np.int32))
    with pytest.raises(DatasetCorruptError, match="element type byte is 0x0c, expected 0x08"):
        read_idx(tmp_path / "a.idx", dtype=0x08)
    with pytest.raises(DatasetCorruptError, match="2 dimensions, expected 3"):
        read_idx(tmp_path / "a.idx", ndim=3)
    with pytest.raises(TypeError, match="complex128"):
        write_idx(tmp_path / "b.idx", np.zeros(2, complex))


# --------------------------------------------------------------------------- the sample

def test_load_sample_is_the_real_test_set_split_every_fifth():
    (xtr, ytr), (xte, yte) = mnist.load_sample()
    assert (xtr.shape, ytr.shape, xte.shape, yte.shape) == \
        ((8000, 28, 28), (8000,), (2000, 28, 28), (2000,))
    assert all(a.dtype == np.uint8 for a in (xtr, ytr, xte, yte))
    x, y = real_arrays()
    np.testing.assert_array_equal(xte, x[4::5])
    np.testing.assert_array_equal(yte, y[4::5])
    keep = np.arange(10000) % 5 != 4
    np.testing.assert_array_equal(xtr, x[keep])
    np.testing.assert_array_equal(ytr, y[keep])
    assert set(np.unique(yte)) == set(range(10)) and np.bincount(yte).min() > 150
    (x2, _), _ = mnist.load_sample()
    np.testing.assert_array_equal(x2, xtr)  # deterministic


def test_embedded_sample_files_are_the_published_ones():
    for name in (IMAGES, LABELS):
        with open(os.path.join(mnist.SAMPLE_DIR, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == SPEC_T10K[name].sha256
    readme = _read(os.path.join(mnist.SAMPLE_DIR, "README"), "r")
    assert "CC BY-SA 3.0" in readme and "LeCun" in readme


def test_load_sample_from_a_directory(tmp_path):
    for name in (IMAGES, LABELS):
        shutil.copy(os.path.join(SRC, name), tmp_path / name)
    (a, b), (c, d) = mnist.load_sample(tmp_path)
    (a2, b2), (c2, d2) = mnist.load_sample()
    np.testing.assert_array_equal(c, c2)
    write_idx(tmp_path / LABELS, np.zeros(5, np.uint8))
    with pytest.raises(DatasetCorruptError, match="damaged"):
        mnist.load_sample(tmp_path)


# ---------------------------------------------------------------------- local lookup

def test_load_data_never_returns_the_sample_and_says_where_to_put_files(sandbox, tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        mnist.load_data(path=tmp_path / "mine")
    msg = str(e.value)
    assert "4 of 4 files not found" in msg and "LEPTON_OFFLINE" in msg
    for f in mnist.SPEC.files:
        assert f.name in msg and f.sha256 in msg
        for base in mnist.MIRRORS:
            assert base + f.name not in msg  # the env override replaces them ...
        assert "http://127.0.0.1:9/none/" + f.name in msg  # ... and is listed
    for d in (tmp_path / "mine" / "mnist", tmp_path / "mine", tmp_path / "system" / "mnist",
              tmp_path / "xdg" / "lepton" / "datasets" / "mnist",
              tmp_path / "keras" / "datasets"):
        assert str(d) in msg
    assert "$LEPTON_DATA_DIR/mnist" in msg
    assert sandbox == []  # offline: no request was made


def test_not_found_lists_default_mirrors_and_only_missing_files(monkeypatch, tmp_path):
    monkeypatch.delenv("LEPTON_DATASETS_MIRRORS")
    x, y = tiny(3)
    d = tmp_path / "data" / "mnist"
    put_mnist(d, x, y)
    os.remove(d / "train-images-idx3-ubyte.gz")
    with pytest.raises(DatasetNotFoundError) as e:
        mnist.load_data(tmp_path / "data", download=False)
    msg = str(e.value)
    assert "1 of 4 files not found" in msg and "download=False" in msg
    assert "Missing: train-images-idx3-ubyte.gz\n" in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in msg
    assert "t10k-images-idx3-ubyte.gz  sha256" not in msg


@pytest.mark.parametrize("gz", [True, False])
def test_path_dir_subdir_and_itself(tmp_path, gz):
    x, y = real_arrays()
    x, y = x[:100], y[:100]
    put_mnist(tmp_path / "root" / "mnist", x, y, n_test=30, gz=gz)
    for p in (tmp_path / "root", tmp_path / "root" / "mnist", str(tmp_path / "root")):
        (xtr, ytr), (xte, yte) = mnist.load_data(p)
        np.testing.assert_array_equal(xtr, x)
        np.testing.assert_array_equal(ytr, y)
        np.testing.assert_array_equal(xte, x[:30])
        np.testing.assert_array_equal(yte, y[:30])
        assert xtr.flags.writeable
    if not gz:  # Kaggle's spelling of the uncompressed names
        for f in os.listdir(tmp_path / "root" / "mnist"):
            os.rename(tmp_path / "root" / "mnist" / f,
                      tmp_path / "root" / "mnist" / f.replace("-idx", ".idx"))
        np.testing.assert_array_equal(mnist.load_data(tmp_path / "root")[1][1], y[:30])


def test_lookup_order(monkeypatch, tmp_path):
    """path= > LEPTON_DATA_DIR > user cache > system > Keras cache, file by file."""
    where = {"path": (tmp_path / "p" / "mnist", 1), "env": (tmp_path / "e" / "mnist", 2),
             "cache": (tmp_path / "xdg" / "lepton" / "datasets" / "mnist", 3),
             "system": (tmp_path / "system" / "mnist", 4)}
    for d, label in where.values():
        put_mnist(d, *tiny(label))
    monkeypatch.setenv("LEPTON_DATA_DIR", str(tmp_path / "e"))

    def labels():
        (_, ytr), (_, yte) = mnist.load_data(tmp_path / "p")
        return int(ytr[0]), int(yte[0])

    assert labels() == (1, 1)
    os.remove(where["path"][0] / "t10k-labels-idx1-ubyte.gz")  # per file: test labels fall
    os.remove(where["path"][0] / "t10k-images-idx3-ubyte.gz")  # through to the next place
    assert labels() == (1, 2)
    shutil.rmtree(where["path"][0])
    assert labels() == (2, 2)
    shutil.rmtree(where["env"][0])
    assert labels() == (3, 3)
    assert mnist.files()["x_train"] == ("idx", str(where["cache"][0] /
                                                   "train-images-idx3-ubyte.gz"))
    shutil.rmtree(where["cache"][0])
    assert labels() == (4, 4)
    shutil.rmtree(where["system"][0])
    os.makedirs(tmp_path / "keras" / "datasets")
    x, y = tiny(5)
    np.savez(tmp_path / "keras" / "datasets" / "mnist.npz", x_train=x, y_train=y,
             x_test=x, y_test=y)
    assert labels() == (5, 5)


def test_lepton_data_dir_is_a_root_not_the_dataset_dir(monkeypatch, tmp_path):
    # MNIST and Fashion-MNIST share file names, so files directly in $LEPTON_DATA_DIR
    # would be taken for either; only <dir>/mnist and <dir>/fashion-mnist are read.
    put_mnist(tmp_path / "root", *tiny(1))
    monkeypatch.setenv("LEPTON_DATA_DIR", str(tmp_path / "root"))
    with pytest.raises(DatasetNotFoundError):
        fashion_mnist.load_data()
    put_mnist(tmp_path / "root" / "fashion_mnist", *tiny(7))
    put_mnist(tmp_path / "other" / "mnist", *tiny(6))
    monkeypatch.setenv("LEPTON_DATA_DIR", str(tmp_path / "root") + os.pathsep
                       + str(tmp_path / "other"))
    assert int(fashion_mnist.load_data()[0][1][0]) == 7
    assert int(mnist.load_data()[0][1][0]) == 6


def test_keras_npz(tmp_path):
    x, y = real_arrays()
    np.savez_compressed(tmp_path / "mnist.npz", x_train=x[:50], y_train=y[:50],
                        x_test=x[50:60], y_test=y[50:60])
    for p in (tmp_path / "mnist.npz", tmp_path):
        (xtr, ytr), (xte, yte) = mnist.load_data(p)
        np.testing.assert_array_equal(xtr, x[:50])
        np.testing.assert_array_equal(yte, y[50:60])
    np.savez(tmp_path / "bad.npz", x_train=x[:5])
    with pytest.raises(DatasetCorruptError, match=r"bad.npz lacks the arrays \['y_train'"):
        mnist.load_data(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetCorruptError, match="junk.npz is not a readable .npz"):
        mnist.load_data(tmp_path / "junk.npz")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file; pass the directory"):
        mnist.load_data(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="is a file"):
        fashion_mnist.load_data(tmp_path / "mnist.npz")  # Fashion-MNIST has no npz


@pytest.mark.parametrize("damage, match", [
    ("count", r"10 images in .*train-images.* but 9 labels in .*train-labels"),
    ("label", r"train-labels-idx1-ubyte.gz holds label 12"),
    ("size", r"images of shape \(27, 28\), expected \(28, 28\)"),
    ("dtype", r"element type byte is 0x0c, expected 0x08"),
])
def test_inconsistent_local_files_are_named(tmp_path, damage, match):
    x, y = tiny(1, n=10)
    d = tmp_path / "mnist"
    put_mnist(d, x, y)
    if damage == "count":
        write_idx(d / "train-labels-idx1-ubyte.gz", y[:9])
    elif damage == "label":
        write_idx(d / "train-labels-idx1-ubyte.gz", np.full(10, 12, np.uint8))
    elif damage == "size":
        write_idx(d / "t10k-images-idx3-ubyte.gz", x[:, :27])
    else:
        write_idx(d / "t10k-labels-idx1-ubyte.gz", y.astype(np.int32))
    with pytest.raises(DatasetCorruptError, match=match):
        mnist.load_data(tmp_path)


def test_fashion_mnist_from_a_system_dir(tmp_path):
    put_mnist(tmp_path / "system" / "fashion-mnist", *tiny(9))
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data()
    assert ytr.tolist() == [9] * 5 and xte.shape == (5, 28, 28)
    with pytest.raises(DatasetNotFoundError):  # and not from MNIST's directory
        mnist.load_data()


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_debian_package(monkeypatch):
    monkeypatch.setattr(_base, "SYSTEM_DIRS", ["/usr/share/datasets"])
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data()
    assert (xtr.shape, ytr.shape, xte.shape, yte.shape) == \
        ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    assert np.bincount(ytr).tolist() == [6000] * 10 and np.bincount(yte).tolist() == [1000] * 10
    assert len(fashion_mnist.CLASS_NAMES) == 10


def test_layering_numpy_and_stdlib_only():
    import ast
    import sys
    pkg = os.path.join(ROOT, "lepton", "datasets")
    for name in os.listdir(pkg):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(_read(os.path.join(pkg, name), "r"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: must stay inside lepton.datasets
                    assert node.level == 1, f"{name} imports from above lepton.datasets"
                    continue
                mods = [node.module]
            else:
                continue
            for m in mods:
                top = m.split(".")[0]
                assert top == "numpy" or top in sys.stdlib_module_names, f"{name}: {m}"


# --------------------------------------------------------------------- the downloader

class Server:
    """A local HTTP server with per-path behaviour; records (path, Range) of each GET."""

    def __init__(self):
        self.routes, self.log = {}, []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.log.append((self.path, rng))
                route = outer.routes.get(self.path)
                if route is None:
                    return self.send_error(404)
                kind, data = route
                count = sum(1 for p, _ in outer.log if p == self.path)
                try:
                    outer.serve(self, kind, data, rng, count)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, h, kind, data, rng, count):
        if kind == "500":
            return h.send_error(500)
        if kind == "stall":  # accept, then send nothing
            self.release.wait(10)
            return None
        start = 0
        if rng and kind in ("ok", "truncate_once", "stall_mid_once"):
            start = int(rng.split("=")[1].split("-")[0])
        body = data[start:]
        h.send_response(206 if start else 200)
        if start:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        first = count == 1
        if kind in ("truncate_once", "truncate_always") and (first or kind == "truncate_always"):
            h.wfile.write(body[: len(body) // 3])  # then close: fewer bytes than announced
            return None
        if kind == "stall_mid_once" and first:
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            self.release.wait(10)
            return None
        h.wfile.write(body)
        return None

    def route(self, path, kind, data):
        self.routes[path] = (kind, data)

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    s = Server()
    monkeypatch.delenv("LEPTON_OFFLINE")
    yield s
    s.close()


def with_train_files(monkeypatch, tmp_path):
    """Provide the two train files locally so load_data downloads only the test files."""
    x, y = real_arrays()
    d = tmp_path / "data" / "mnist"
    os.makedirs(d)
    write_idx(d / "train-images-idx3-ubyte.gz", x[:20])
    write_idx(d / "train-labels-idx1-ubyte.gz", y[:20])
    monkeypatch.setenv("LEPTON_DATA_DIR", str(tmp_path / "data"))


def serve_real(server, prefix, kind="ok", only=None):
    for name, data in REAL.items():
        if only is None or name == only:
            server.route(f"/{prefix}/{name}", kind, data)


def corrupted(data):
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def check_downloaded_test_split(result):
    x, y = real_arrays()
    (xtr, ytr), (xte, yte) = result
    np.testing.assert_array_equal(xte, x)
    np.testing.assert_array_equal(yte, y)
    assert xtr.shape == (20, 28, 28)
    for name in (IMAGES, LABELS):
        with open(os.path.join(cache(), name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == SPEC_T10K[name].sha256
    assert sorted(os.listdir(cache())) == sorted([IMAGES, LABELS])  # nothing else


def test_download_into_the_cache_then_reuse(server, monkeypatch, tmp_path, capsys):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "m1")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1")
    check_downloaded_test_split(mnist.load_data())
    assert [p for p, _ in server.log] == [f"/m1/{IMAGES}", f"/m1/{LABELS}"]
    assert os.stat(os.path.join(cache(), IMAGES)).st_mode & 0o777 == 0o644
    err = capsys.readouterr().err.splitlines()  # not a terminal: one line per file
    assert len(err) == 2 and all("downloading" in e and " done (" in e for e in err), err
    assert f"{server.url}/m1/{IMAGES}" in err[0] and "1.6 MB" in err[0]
    mnist.load_data()  # now cached: no new request
    assert len(server.log) == 2


def test_mirror_list_env_and_module_list(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "mnist")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"http://127.0.0.1:9/x, {server.url}/{{name}}/")
    assert _base.mirrors(mnist.SPEC) == ["http://127.0.0.1:9/x/", f"{server.url}/mnist/"]
    monkeypatch.delenv("LEPTON_DATASETS_MIRRORS")
    monkeypatch.setattr(mnist, "MIRRORS", mnist.MIRRORS)  # restored after the test
    saved = list(mnist.MIRRORS)
    try:
        mnist.MIRRORS[:] = [f"{server.url}/mnist"]
        check_downloaded_test_split(mnist.load_data(verbose=False))
    finally:
        mnist.MIRRORS[:] = saved


def test_server_error_then_next_mirror(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "bad", "500")
    serve_real(server, "good")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/bad {server.url}/good")
    check_downloaded_test_split(mnist.load_data(verbose=False))
    # 500 is transient: retried (LEPTON_DATASETS_RETRIES=2) before the next mirror
    assert [p for p, _ in server.log][:3] == [f"/bad/{IMAGES}", f"/bad/{IMAGES}",
                                              f"/good/{IMAGES}"]


def test_404_moves_on_without_retry(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "good")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/missing {server.url}/good")
    check_downloaded_test_split(mnist.load_data(verbose=False))
    assert [p for p, _ in server.log][:2] == [f"/missing/{IMAGES}", f"/good/{IMAGES}"]


@pytest.mark.parametrize("bad", ["corrupt", "short"])
def test_bad_file_fails_checksum_and_tries_next_mirror(server, monkeypatch, tmp_path, bad):
    with_train_files(monkeypatch, tmp_path)
    for name, data in REAL.items():  # "short": a truncated file served with its own length
        server.route(f"/m1/{name}", "ok", corrupted(data) if bad == "corrupt"
                     else data[: len(data) - 100])
    serve_real(server, "m2")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1 {server.url}/m2")
    check_downloaded_test_split(mnist.load_data(verbose=False))
    assert [p for p, _ in server.log] == [f"/m1/{IMAGES}", f"/m2/{IMAGES}",
                                          f"/m1/{LABELS}", f"/m2/{LABELS}"]


def test_every_mirror_bad_gives_a_clear_error_and_leaves_nothing(server, monkeypatch,
                                                                 tmp_path, capsys):
    with_train_files(monkeypatch, tmp_path)
    for name, data in REAL.items():
        server.route(f"/m1/{name}", "ok", corrupted(data))
        server.route(f"/m2/{name}", "truncate_always", data)
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1 {server.url}/m2")
    with pytest.raises(DatasetNotFoundError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert "2 of 4 files not found, and downloading failed" in msg
    assert f"{server.url}/m1/{IMAGES}: checksum mismatch: got sha256" in msg
    assert SPEC_T10K[IMAGES].sha256 in msg
    assert f"{server.url}/m2/{IMAGES}: attempt 2/2: connection closed after" in msg
    assert os.listdir(cache()) == []  # no partial or unverified file
    err = capsys.readouterr().err
    assert "failed: checksum mismatch" in err and "failed: attempt 2/2" in err


def test_truncated_transfer_resumes_with_range(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "m1", "truncate_once")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1")
    check_downloaded_test_split(mnist.load_data(verbose=False))
    n = len(REAL[IMAGES]) // 3
    assert server.log[:2] == [(f"/m1/{IMAGES}", None), (f"/m1/{IMAGES}", f"bytes={n}-")]


def test_server_ignoring_range_restarts_cleanly(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    for name, data in REAL.items():  # truncates once, then ignores Range: sends all (200)
        server.route(f"/m1/{name}", "truncate_first_then_full", data)
    orig = server.serve

    def serve(h, kind, data, rng, count):
        if kind == "truncate_first_then_full":
            kind = "truncate_always" if count == 1 else "full"
        return orig(h, kind, data, None, count)

    server.serve = serve
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1")
    check_downloaded_test_split(mnist.load_data(verbose=False))
    assert server.log[1][1] is not None  # it asked to resume, got the whole file, coped


def test_stalled_server_times_out_then_next_mirror(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "stall", "stall", only=IMAGES)
    serve_real(server, "good")
    monkeypatch.setenv("LEPTON_DATASETS_TIMEOUT", "0.5")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/stall {server.url}/good")
    t0 = time.monotonic()
    check_downloaded_test_split(mnist.load_data(verbose=False))
    assert time.monotonic() - t0 < 8  # 2 attempts x 0.5 s, not the 10 s stall
    paths = [p for p, _ in server.log]
    assert paths[:3] == [f"/stall/{IMAGES}", f"/stall/{IMAGES}", f"/good/{IMAGES}"]


def test_stall_mid_body_times_out_and_resumes(server, monkeypatch, tmp_path):
    with_train_files(monkeypatch, tmp_path)
    serve_real(server, "m1", "stall_mid_once")
    monkeypatch.setenv("LEPTON_DATASETS_TIMEOUT", "0.5")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1")
    check_downloaded_test_split(mnist.load_data(verbose=False))
    path, rng = server.log[1]
    assert path == f"/m1/{IMAGES}" and rng.startswith("bytes=")
    assert 0 < int(rng[6:-1]) <= len(REAL[IMAGES]) // 2  # resumed from what had arrived


def test_unreachable_mirrors_stop_after_the_first_file(sandbox, server, monkeypatch, tmp_path):
    import socket
    with socket.socket() as s:  # a port with nothing listening: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{dead}/a {dead}/b")
    with pytest.raises(DatasetNotFoundError) as e:
        mnist.load_data(verbose=False)
    assert "4 of 4 files not found, and no download mirror could be reached" in str(e.value)
    assert "cannot connect" in str(e.value)
    assert sandbox == [f"{dead}/a/train-images-idx3-ubyte.gz",
                       f"{dead}/b/train-images-idx3-ubyte.gz"]  # one try each, one file
    assert no_partial_files(cache())


def test_download_false_and_offline_make_no_request(sandbox, server, monkeypatch):
    serve_real(server, "m1")
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m1")
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        mnist.load_data(download=False)
    monkeypatch.setenv("LEPTON_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="LEPTON_OFFLINE"):
        mnist.load_data()
    assert sandbox == [] and server.log == []


def test_full_load_data_download_path(server, monkeypatch, tmp_path):
    """All four files downloaded, verified and loaded, through a spec whose train files
    are the real test files under the train names (the 60k files are not available)."""
    files = tuple(dataclasses.replace(SPEC_T10K[IMAGES if f.part.startswith("x") else LABELS],
                                      part=f.part, name=f.name) for f in mnist.SPEC.files)
    spec = dataclasses.replace(mnist.SPEC, name="mnist-test", files=files)
    for f in files:
        server.route(f"/m/{f.name}", "ok", REAL[IMAGES if f.part.startswith("x") else LABELS])
    monkeypatch.setenv("LEPTON_DATASETS_MIRRORS", f"{server.url}/m")
    (xtr, ytr), (xte, yte) = _base.load(spec, verbose=False)
    x, y = real_arrays()
    for got, want in ((xtr, x), (ytr, y), (xte, x), (yte, y)):
        np.testing.assert_array_equal(got, want)
    assert sorted(os.listdir(_base.cache_dir(spec))) == sorted(f.name for f in files)


def test_progress_on_a_terminal_redraws_one_line():
    class TTY(io.StringIO):
        def isatty(self):
            return True

    out = TTY()
    p = _download.Progress("http://x/f.gz", 1000, stream=out, short="f.gz")
    for i in range(0, 1001, 100):
        p.last = 0.0  # lift the 10-per-second throttle
        p.update(i)
    p.close("done")
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and text.count("\r") == 12
    assert "f.gz 100% [########################] 1.0 kB/1.0 kB" in text
    quiet = TTY()
    _download.Progress("u", 10, stream=quiet, enabled=False).close("done")
    assert quiet.getvalue() == ""


def test_bad_settings_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("LEPTON_DATASETS_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="LEPTON_DATASETS_TIMEOUT='soon'"):
        _download.download(["http://127.0.0.1:9/x"], str(tmp_path / "x"), sha256=None)


# ------------------------------------------------------------------- examples/_data.py

def _examples_data():
    spec = importlib.util.spec_from_file_location("_data", os.path.join(ROOT, "examples",
                                                                         "_data.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_load_digits_prefers_full_mnist(monkeypatch, tmp_path, capsys):
    x, y = real_arrays()
    put_mnist(tmp_path / "d" / "mnist", x[:300], y[:300], n_test=100)
    monkeypatch.setenv("LEPTON_DATA_DIR", str(tmp_path / "d"))
    xtr, ytr, xte, yte, desc = _examples_data().load_digits()
    assert xtr.shape == (300, 28, 28) and xte.shape == (100, 28, 28)
    assert "full MNIST" in desc and desc in capsys.readouterr().out


def test_examples_load_digits_falls_back_with_a_reason(sandbox, monkeypatch, capsys):
    data = _examples_data()
    xtr, ytr, xte, yte, desc = data.load_digits()
    assert (xtr.shape, xte.shape) == ((8000, 28, 28), (2000, 28, 28))
    out = capsys.readouterr().out
    assert "full MNIST not found" in out and desc in out
    assert ("shared/data/mnist" in desc) == os.path.isdir(SHARED)
    monkeypatch.setattr(data, "SHARED_MNIST", "/nonexistent")
    *_, desc = data.load_digits(verbose=False)
    assert "embedded" in desc and capsys.readouterr().out == ""
    assert sandbox == []  # never downloads
