"""Compiled-kernel caches: in-process by source hash, and on disk across processes.

Numba caches machine code only for functions defined in a real source file, so each
kernel is written to ``$LEPTON_CACHE_DIR/<target>/k_<hash>.py`` (default
``~/.cache/lepton``; ``numba_cpu`` for the cpu backend) and executed as a module; Numba's
index (``.nbi``) and code (``.nbc``) files go to the ``__pycache__`` folder next to it.
The hash covers the source, the target (its module header and the helper modules the
kernels inline), lepton's and Numba's versions and the host CPU, because Numba's own
cache key ignores globals.  A device declares its ``Target``; this module knows none.

A cache is a performance aid, never a reason for a call to fail, so:

* every file is written atomically (temporary file + ``os.replace``); concurrent writers
  produce identical files, so any of them may win;
* index and code files carry a SHA-256 checksum of their contents (Numba's own format
  has none: a bit flip in cached machine code would run).  A file that fails its
  checksum or does not load is deleted and the kernel recompiled, with one warning per
  process (``KernelCacheWarning``); a kernel source file whose contents do not match
  its name is rewritten the same way.  Missing files are ordinary misses;
* a cache folder that is not writable is still read; kernels it lacks are written to
  one private folder per user (``$TMPDIR/lepton-kernels-<uid>``), or compiled in memory.

Kernels compiled by different processes (forked compile children, the exit worker,
earlier runs) meet in one process, whose JIT links each symbol to the first definition
it loaded; so every process numbers Numba's functions in a range of its own
(``_own_function_ids``).
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import itertools
import os
import pickle
import shutil
import stat
import sys
import tempfile
import threading
import types

import numba
from numba.core import caching
from numba.core.bytecode import FunctionIdentity

from ..errors import KernelCacheWarning, warn
from . import cache_root

#: Part of every kernel's hash: bump it when the on-disk format changes, so files of an
#: older format are never read (they would fail their checksums and warn).  3: kernels
#: compiled before ``_own_function_ids`` may share symbols, so they are not loaded.
FORMAT = "lepton-kernel-cache-3"


def _own_function_ids():
    """Number the functions Numba compiles in this process from a random 62-bit start.

    Numba writes a per-process counter, which starts at 1 and which a fork copies, into
    every symbol it makes, and names a ``prange`` kernel's loop body after that number and
    the ``id()`` of a compiler object (``<dynamic>.__numba_parfor_gufunc_0x<id>``), so two
    processes could give two different loop bodies one symbol.  Loaded into one process
    through the disk cache, both kernels then ran the body loaded first: ``cos(x) * 3 - 1``
    computed ``sin(x) * 3 - 1`` (tests/test_kernel_symbols.py).  Ranges drawn at random
    overlap with odds of about 1e-12 for a million compiles.  Numba's counter is private
    (``FunctionIdentity._unique_ids``): if it is gone, nothing is done and that test fails."""
    if isinstance(getattr(FunctionIdentity, "_unique_ids", None), itertools.count):
        FunctionIdentity._unique_ids = itertools.count(
            int.from_bytes(os.urandom(8), "little") >> 2)


_own_function_ids()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_own_function_ids)


class Target:
    """Where and how a device's kernels are cached: ``name`` is the cache subfolder,
    ``header`` the module text before each kernel's source (its imports), and
    ``helpers`` the files of the modules that kernels call into (hashed into every key,
    since a changed helper changes the machine code that inlines it)."""

    def __init__(self, name: str, header: str, helpers=()):
        self.name, self.header, self.helpers = name, header, tuple(helpers)

    def __repr__(self):
        return f"Target({self.name!r})"


class Stats:
    """``numba_compiles``: kernels Numba actually compiled; ``disk_loads``: kernels loaded
    from the persistent cache; ``reuses``: kernels found already loaded in this process;
    ``cache_faults``: damaged cache files found (and deleted or rewritten)."""

    def __init__(self):
        self.numba_compiles = self.disk_loads = self.reuses = self.cache_faults = 0

    def __repr__(self):
        return (f"Stats(numba_compiles={self.numba_compiles}, disk_loads={self.disk_loads}, "
                f"reuses={self.reuses}, cache_faults={self.cache_faults})")


stats = Stats()
_lock = threading.RLock()
_dispatchers: dict = {}   # digest -> Numba dispatcher
_entries: dict = {}       # (digest, signature) -> compiled entry point
_warned: set = set()      # kinds of warning already given in this process


def lock():
    """The lock around this process's kernel tables (``forked`` holds it across a fork)."""
    return _lock


def cache_dir(target: Target) -> str:
    return os.path.join(cache_root(), target.name)


@functools.lru_cache(maxsize=None)
def _environment(target: Target) -> str:
    import llvmlite.binding as llvm

    version = sys.modules["lepton"].__version__  # the package above is loaded: no import
    helpers = []
    for path in target.helpers:
        with open(path, "rb") as f:
            helpers.append(hashlib.sha256(f.read()).hexdigest())
    return "\n".join([FORMAT, target.name, target.header, version,
                      numba.__version__, llvm.get_host_cpu_name(),
                      llvm.get_host_cpu_features().flatten(), *helpers])


def digest(source: str, target: Target) -> str:
    return hashlib.sha256((_environment(target) + "\n" + source).encode()).hexdigest()[:40]


def entry_point(source: str, signature: tuple, target: Target):
    """The compiled entry point of ``source``'s ``kernel`` for ``signature`` (Numba types)
    on ``target``; loads or compiles only what this process has not seen."""
    key = digest(source, target)
    wanted = getattr(_local, "wanted", None)
    if wanted is not None:  # ``collect``: note it, compile nothing
        if (key, signature) not in _entries:  # not _on_disk: that is per source, not per
            wanted.append((source, signature, target))  # signature (the worker loads those)
        return _not_compiled
    with _lock:
        hit = _entries.get((key, signature))
        if hit is not None:
            stats.reuses += 1
            return hit
        if getattr(_local, "listing", None) is not None and key not in _dispatchers \
                and not _on_disk(key, target):
            raise NotCached(key)
        disp = _dispatchers.get(key)
        if disp is None:
            disp = _dispatchers[key] = _import(key, target.header + source, target).kernel
        misses, hits = _count(disp.stats.cache_misses), _count(disp.stats.cache_hits)
        try:
            entry = disp.compile(signature)
        except Exception as e:
            raise KernelCompileError(source, signature, disp.py_func.__code__.co_filename,
                                     e) from e
        stats.numba_compiles += _count(disp.stats.cache_misses) - misses
        stats.disk_loads += _count(disp.stats.cache_hits) - hits
        _entries[(key, signature)] = entry
        return entry


class NotCached(Exception):
    """Inside ``only_cached``: a kernel that neither this process nor the disk cache has."""


_local = threading.local()  # .listing: per target folder, its __pycache__ names


@contextlib.contextmanager
def only_cached():
    """Within this block (in this thread), ``entry_point`` raises ``NotCached`` instead of
    compiling a kernel whose cache files are missing.  The check reads file names only,
    so a caller can find out in milliseconds whether a program loads without Numba
    compiling anything (tiered execution then loads it synchronously).  A kernel whose
    files exist but do not load (stale or damaged) is still compiled."""
    prev = getattr(_local, "listing", None)
    _local.listing = {}
    try:
        yield
    finally:
        _local.listing = prev


@contextlib.contextmanager
def collect():
    """Within this block (in this thread), ``entry_point`` compiles nothing: it appends
    each kernel this process has not loaded or compiled to the yielded list as (source, signature,
    target) and returns a placeholder.  ``tiered`` uses it at exit to hand the kernels of
    programs still compiling to a worker process (``lepton.backends.warm``)."""
    prev = getattr(_local, "wanted", None), getattr(_local, "listing", None)
    _local.wanted, _local.listing = [], {}
    try:
        yield _local.wanted
    finally:
        _local.wanted, _local.listing = prev


def _not_compiled(*args):
    raise RuntimeError("a kernel collected for a compile worker was called")


def on_disk(jobs) -> bool:
    """Whether every ``(source, signature, target)`` job's kernel file and Numba index are
    in the primary cache folder (file names only: a compile child checks whether the
    program it helped build is complete)."""
    with only_cached():  # (its fresh listing of the folders)
        return all(_on_disk(digest(source, target), target) for source, _, target in jobs)


def _on_disk(key: str, target: Target) -> bool:
    """Whether the primary cache folder holds ``k_<key>.py`` and a Numba index for it."""
    directory = cache_dir(target)
    listing = _local.listing.get(directory)
    if listing is None:
        try:
            names = os.listdir(os.path.join(directory, "__pycache__"))
        except OSError:
            names = []
        listing = _local.listing[directory] = {n.split(".", 1)[0] for n in names
                                               if n.endswith(".nbi")}
    return f"k_{key}" in listing and os.path.isfile(os.path.join(directory, f"k_{key}.py"))


class KernelCompileError(RuntimeError):
    """Numba failed on a generated kernel (a lepton bug): carries the kernel's source."""

    def __init__(self, source, signature, path, error):
        self.kernel_source, self.signature, self.path = source, signature, path
        super().__init__(f"Numba could not compile kernel {os.path.basename(path)} for "
                         f"({', '.join(map(str, signature))}): {type(error).__name__}: "
                         f"{str(error).strip().splitlines()[0] if str(error).strip() else ''}")


def _count(counter):
    return sum(counter.values())


def njit(**options):
    """``numba.njit`` for the generated kernels: ``cache=True`` caches through lepton's
    checked cache files instead of Numba's unchecked ones."""
    cache = options.pop("cache", False)

    def decorate(fn):
        disp = numba.njit(**options)(fn)
        if cache and os.path.isfile(fn.__code__.co_filename):  # else: in memory only
            disp._cache = _KernelCache(disp.py_func)
        return disp

    return decorate


# ----------------------------------------------------------------------------- source files
def _import(key: str, text: str, target: Target):
    """Execute the kernel module from ``text`` itself (not from the file, nor a ``.pyc``,
    which Python does not checksum); the file is what Numba's cache is keyed on."""
    try:
        path = _source_path(key, text, target)
    except OSError as e:  # no folder can take it: compile in memory, uncached
        _warn_once("memory", f"lepton: no kernel cache folder is writable ({e}); kernels "
                   "are compiled in memory for this process only.")
        path = f"<lepton kernel k_{key}>"
    name = f"lepton_kernel_{key}"
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    exec(compile(text, path, "exec"), module.__dict__)
    return module


def _source_path(key: str, text: str, target: Target) -> str:
    """A file holding exactly ``text``: the cache folder's, else the per-user fallback's."""
    name = f"k_{key}.py"
    data = text.encode("utf-8")
    primary = cache_dir(target)
    path = os.path.join(primary, name)
    if _holds(path, data):
        return path
    if _writable(primary):
        _write(path, data)
        return path
    directory = _fallback_dir(primary)
    path = os.path.join(directory, name)
    if not _holds(path, data):
        _write(path, data)
    return path


def _holds(path: str, data: bytes) -> bool:
    """Whether ``path`` holds ``data``; a file of other contents is damaged (its name is
    the hash of its contents) and is reported."""
    try:
        with open(path, "rb") as f:
            found = f.read()
    except FileNotFoundError:
        return False
    except OSError as e:
        _fault(path, f"unreadable: {e}")
        return False
    if found == data:
        return True
    _fault(path, "its contents do not match its name, so it is rewritten")
    return False


def _write(path: str, data: bytes):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path),
                               prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


@functools.lru_cache(maxsize=None)
def _writable(directory: str) -> bool:
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


@functools.lru_cache(maxsize=None)
def _fallback_dir(primary: str) -> str:
    """One private folder per user for kernels the cache folder cannot take (it is reused
    by later processes, so fallback folders do not pile up)."""
    user = str(os.getuid()) if hasattr(os, "getuid") else _safe_user()
    path = os.path.join(tempfile.gettempdir(), f"lepton-kernels-{user}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        path = None
    if path is None or not _private(path):
        # Someone else's folder (or none can be made): a private one, removed at exit.
        path = tempfile.mkdtemp(prefix=f"lepton-kernels-{user}-")
        atexit.register(shutil.rmtree, path, True)
    _warn_once("fallback", f"lepton: the kernel cache {primary!r} is not writable; new "
               f"kernels are cached in {path!r} instead. Set LEPTON_CACHE_DIR to a "
               "writable folder to keep them.")
    return path


def _safe_user() -> str:
    import getpass
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name: one shared name is still one folder
        user = "user"
    return "".join(c for c in user if c.isalnum()) or "user"


def _private(path: str) -> bool:
    """A real folder owned by this user that nobody else can write to."""
    st = os.lstat(path)
    return (stat.S_ISDIR(st.st_mode) and not st.st_mode & 0o022
            and (not hasattr(os, "getuid") or st.st_uid == os.getuid()))


# ----------------------------------------------------------------------------- faults
def _warn_once(kind: str, message: str):
    with _lock:
        if kind in _warned:
            return
        _warned.add(kind)
    warn(message, KernelCacheWarning)


def _fault(what: str, reason: str, paths=()):
    """Report a damaged cache entry (once per process) and delete its files where it can."""
    stats.cache_faults += 1
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            reason += f"; {path} could not be deleted (read-only cache), so it is bypassed"
    _warn_once("fault", f"lepton: kernel cache entry {what!r} is damaged ({reason}); the "
               "kernel is recompiled. This is reported once per process; "
               "lepton.backends.cache.stats.cache_faults counts them.")


class _Corrupt(Exception):
    pass


_MAGIC = b"lepton-numba-cache\x00"


def _seal(body: bytes) -> bytes:
    return _MAGIC + hashlib.sha256(body).digest() + body


def _unseal(raw: bytes, path: str) -> bytes:
    n = len(_MAGIC)
    body = raw[n + 32:]
    if not raw.startswith(_MAGIC) or raw[n:n + 32] != hashlib.sha256(body).digest():
        raise _Corrupt(f"{os.path.basename(path)} fails its checksum: truncated or altered")
    return body


class _CheckedFile(caching.IndexDataCacheFile):
    """Numba's index and code files, each sealed with a checksum."""

    def _load_index(self):
        try:
            with open(self._index_path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return {}
        version, stamp, overloads = pickle.loads(_unseal(raw, self._index_path))
        if version != self._version or stamp != self._source_stamp:
            return {}  # stale: overwritten by the next save
        return overloads

    def _save_index(self, overloads):
        body = self._dump((self._version, self._source_stamp, overloads))
        with self._open_for_write(self._index_path) as f:
            f.write(_seal(body))

    def _load_data(self, name):
        path = self._data_path(name)
        with open(path, "rb") as f:
            raw = f.read()
        return pickle.loads(_unseal(raw, path))

    def _save_data(self, name, data):
        with self._open_for_write(self._data_path(name)) as f:
            f.write(_seal(self._dump(data)))

    @property
    def entry_name(self):
        return os.path.join(self._cache_path, self._index_name[:-len(".nbi")])

    def entry_files(self):
        """The index and every code file of this function (the ones to drop)."""
        base = self._index_name[:-len(".nbi")]
        try:
            names = os.listdir(self._cache_path)
        except OSError:
            names = []
        return [os.path.join(self._cache_path, n) for n in names
                if n == self._index_name or n.startswith(base + ".") and n.endswith(".nbc")]


class _Locator(caching.InTreeCacheLocator):
    """``__pycache__`` next to the kernel file, also when it is read-only (then nothing
    is saved: see ``_KernelCache.save_overload``)."""

    @classmethod
    def from_function(cls, py_func, py_file):
        return cls(py_func, py_file)


class _Impl(caching.CompileResultCacheImpl):
    _locator_classes = [_Locator]


class _KernelCache(caching.FunctionCache):
    """Numba's function cache with checked files; a load that fails is a miss."""

    _impl_class = _Impl

    def __init__(self, py_func):
        super().__init__(py_func)
        f = self._cache_file
        self._cache_file = _CheckedFile(f._cache_path, f._index_name[:-len(".nbi")],
                                        f._source_stamp)

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as e:  # noqa: BLE001 - any damage: drop the entry, compile anew
            reason = str(e) if isinstance(e, _Corrupt) else f"{type(e).__name__}: {e}"
            _fault(self._cache_file.entry_name, reason, self._cache_file.entry_files())
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception:  # noqa: BLE001 - read-only or full disk: the kernel stays in memory
            pass
