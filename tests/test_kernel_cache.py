"""The persistent kernel cache never fails a call (issue 10, defect 7).

Each scenario fills a cache in one process, damages it (truncates, flips a bit in or
deletes one file of each kind: Numba's index ``.nbi`` and code ``.nbc`` files, and
lepton's kernel source ``k_*.py``) or makes it read-only, then checks that the next
process answers correctly with the expected number of warnings and leaves a sound cache.

Read-only folders: permission bits do not bind root (the CI container runs as root), so
there a small prelude makes writes under the folder fail with EACCES, as they would for
an ordinary user; otherwise the folder is really made read-only.
"""
import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap

import pytest

from lepton.backends import cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROGRAM = textwrap.dedent("""
    import json, numpy as np, lepton, lepton.numpy as lnp
    from lepton.backends import cache
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    y = np.arange(12, dtype=np.float32).reshape(3, 4)
    f = lepton.jit(lambda x, y: lnp.sum(lnp.tanh(x) * y, axis=0), backend="cpu")
    g = lepton.jit(lambda x: lnp.exp(x) * 2.0 + 1.0, backend="cpu")
    ok = True
    for _ in range(2):  # in tiered mode: the reference tier, then the compiled one
        ok &= bool(np.allclose(f(x, y), np.sum(np.tanh(x) * y, axis=0), rtol=1e-5)
                   and np.allclose(g(x), np.exp(x) * 2 + 1, rtol=1e-5))
        lepton.wait_for_compilation()
    s = cache.stats
    print(json.dumps(dict(ok=bool(ok), compiles=s.numba_compiles, loads=s.disk_loads,
                          faults=s.cache_faults)))
""")

# Makes writes under READ_ONLY fail as they do for a user without write permission.
_READ_ONLY_PRELUDE = textwrap.dedent("""
    import builtins, errno, io, os
    READ_ONLY = tuple(os.path.realpath(p) + os.sep
                      for p in os.environ["LEPTON_TEST_READ_ONLY"].split(os.pathsep))

    def _blocked(path):
        try:
            return os.path.realpath(os.fsdecode(path) + os.sep).startswith(READ_ONLY)
        except TypeError:
            return False

    def _deny(path):
        raise PermissionError(errno.EACCES, "Permission denied (read-only test folder)",
                              os.fsdecode(path))

    _WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | getattr(os, "O_TMPFILE", 0)
    _open, _os_open = builtins.open, os.open

    def open_(file, mode="r", *a, **k):
        if isinstance(file, (str, bytes, os.PathLike)) and set(mode) & set("wax+") \\
                and _blocked(file):
            _deny(file)
        return _open(file, mode, *a, **k)

    def os_open(path, flags, *a, **k):
        if flags & _WRITE and _blocked(path):
            _deny(path)
        return _os_open(path, flags, *a, **k)

    def guard(fn):
        def wrapped(path, *a, **k):
            if _blocked(path):
                _deny(path)
            return fn(path, *a, **k)
        return wrapped

    builtins.open = io.open = open_
    os.open = os_open
    for name in ("mkdir", "unlink", "remove", "rmdir", "replace", "rename"):
        setattr(os, name, guard(getattr(os, name)))
""")


def _run(cache_root, tmpdir=None, read_only=None, simulate=False, cwd=ROOT, tiered="0"):
    env = dict(os.environ, LEPTON_CACHE_DIR=str(cache_root), LEPTON_TIERED=tiered,
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    code = _PROGRAM
    if read_only is not None and (simulate or os.geteuid() == 0):
        env["LEPTON_TEST_READ_ONLY"] = os.pathsep.join(map(str, read_only))
        code = _READ_ONLY_PRELUDE + code
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cache_warnings"] = out.stderr.count("KernelCacheWarning:")
    assert "CompileFallbackWarning" not in out.stderr, out.stderr
    result["stderr"] = out.stderr
    return result


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A cache filled by one process (and checked to serve the next one)."""
    root = tmp_path_factory.mktemp("filled")
    first = _run(root)
    assert first["ok"] and first["compiles"] > 0 and first["cache_warnings"] == 0
    return root


def _files(root, kind):
    pattern = {"nbi": "__pycache__/*.nbi", "nbc": "__pycache__/*.nbc", "py": "k_*.py"}[kind]
    return sorted(glob.glob(os.path.join(root, "numba_cpu", pattern)))


def _damage(path, how):
    if how == "delete":
        os.unlink(path)
        return
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "truncate":
        data = data[:len(data) // 2]
    else:  # one flipped bit in the middle (for the source: a byte that is not UTF-8)
        data[len(data) // 2] ^= 0x80
    with open(path, "wb") as f:
        f.write(data)


def _sound(root):
    """Every cache file is whole: index and code files pass their checksums."""
    for path in _files(root, "nbi") + _files(root, "nbc"):
        with open(path, "rb") as f:
            cache._unseal(f.read(), path)


@pytest.mark.parametrize("how", [pytest.param("truncate", marks=pytest.mark.slow), "bitflip",
                                 pytest.param("delete", marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", ["nbi", "nbc", "py"])
def test_a_damaged_cache_file_is_a_miss(filled, tmp_path, kind, how):
    root = tmp_path / "cache"
    shutil.copytree(filled, root)
    victims = _files(root, kind)
    assert len(victims) >= 2, "the program should leave at least two kernels"
    _damage(victims[0], how)
    r = _run(root)
    assert r["ok"], r["stderr"]
    if how == "delete":  # a missing file is an ordinary miss: silent
        assert r["cache_warnings"] == 0, r["stderr"]
    else:
        assert r["cache_warnings"] == 1, r["stderr"]
        assert r["faults"] >= 1
    if kind == "py":  # the rewritten source matches Numba's index again: nothing recompiles
        assert r["compiles"] == 0
    else:
        assert r["compiles"] == 1 and r["loads"] >= 1
    _sound(root)
    if how == "bitflip":  # the repaired cache serves the next process in full
        again = _run(root)
        assert again["ok"] and again["compiles"] == 0 and again["cache_warnings"] == 0


@pytest.mark.parametrize("tiered", ["0", "1"])
def test_every_file_damaged_warns_once(filled, tmp_path, tiered):
    """Also in tiered mode (the default), where the background compile meets the damage."""
    root = tmp_path / "cache"
    shutil.copytree(filled, root)
    for kind in ("nbi", "nbc", "py"):
        for path in _files(root, kind):
            _damage(path, "bitflip")
    r = _run(root, tiered=tiered)
    assert r["ok"] and r["cache_warnings"] == 1 and r["faults"] >= 2, r["stderr"]


@pytest.fixture
def read_only():
    """Make folders read-only for the test (really, unless we are root: see the module)."""
    made = []

    def make(path):
        if os.geteuid() != 0:
            for dirpath, dirnames, filenames in os.walk(path):
                for name in dirnames + filenames + [""]:
                    p = os.path.join(dirpath, name)
                    made.append((p, os.stat(p).st_mode))
                    os.chmod(p, os.stat(p).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP |
                                                       stat.S_IWOTH))
        return path

    yield make
    for p, mode in reversed(made):
        os.chmod(p, mode)


def test_a_read_only_filled_cache_is_read(filled, tmp_path, read_only):
    root = read_only(shutil.copytree(filled, tmp_path / "cache"))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = _run(root, tmpdir=tmp, read_only=[root])
    assert r["ok"] and r["compiles"] == 0 and r["loads"] >= 2, r["stderr"]
    assert r["cache_warnings"] == 0, r["stderr"]
    assert not os.listdir(tmp), "nothing needed a fallback folder"


def test_a_read_only_empty_cache_compiles_into_one_folder_per_user(tmp_path, read_only):
    root = tmp_path / "cache"
    root.mkdir()
    read_only(root)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    first = _run(root, tmpdir=tmp, read_only=[root])
    assert first["ok"] and first["compiles"] >= 2, first["stderr"]
    assert first["cache_warnings"] == 1 and "not writable" in first["stderr"]
    second = _run(root, tmpdir=tmp, read_only=[root])
    assert second["ok"] and second["compiles"] == 0, second["stderr"]  # served by the fallback
    assert os.listdir(tmp) == [f"lepton-kernels-{os.getuid()}"], "fallback folders pile up"
    assert not os.listdir(root)


def test_no_writable_folder_compiles_in_memory(tmp_path):
    """Nothing writable at all (cache, every temporary folder Python would try, the working
    directory; simulated for everyone, as /tmp cannot be made read-only here)."""
    root, tmp, cwd = tmp_path / "cache", tmp_path / "tmp", tmp_path / "cwd"
    for d in (root, tmp, cwd):
        d.mkdir()
    blocked = [root, tmp, cwd, "/tmp", "/var/tmp", "/usr/tmp", tempfile.gettempdir()]
    r = _run(root, tmpdir=tmp, read_only=blocked, simulate=True, cwd=cwd)
    assert r["ok"] and r["compiles"] >= 2, r["stderr"]
    assert r["cache_warnings"] == 1 and "compiled in memory" in r["stderr"], r["stderr"]
    assert not os.listdir(root) and not os.listdir(tmp) and not os.listdir(cwd)
