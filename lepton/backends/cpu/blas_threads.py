"""How many threads BLAS gets inside a compiled program.

NumPy's OpenBLAS splits a product statically between its threads, and its idle threads
spin for a while after each call.  Inside a compiled training step, BLAS calls alternate
with Numba's parallel kernels, so the two thread pools take turns spinning on the same
cores; and when another process holds a core, every multi-threaded product waits for a
descheduled BLAS thread.  Measured on the 2-core CI machine with one other busy process
(lepton's jit_workloads, medians): mlp_step 168 -> 20 ms, cnn_step 8-30 -> 2.0 ms,
per_example_grads 52 -> 12 ms with one BLAS thread.  On an idle machine, though, a large
product (the 784-1024-1024 MLP at batch 256) runs nearly twice as fast on both cores.

So a compiled program runs BLAS with one thread, and a large product (``BIG`` multiply-
adds or more, or a host convolution) gets all of BLAS's threads only while no other
process has kept the cores busy over the last half second (``/proc/stat`` less this
process's own CPU time).  The caller's setting comes back when the program returns, so the
user's own NumPy code keeps its threads.  ``LEPTON_BLAS_THREADS=N`` fixes the count
instead (0: leave BLAS alone).

OpenBLAS is found among the shared libraries this process has loaded (Linux); elsewhere,
or with another BLAS, all of this is a no-op.
"""
from __future__ import annotations

import ctypes
import functools
import os
import time

import numpy as np

from .. import forked

#: Multiply-adds from which a product may use every BLAS thread (about 0.3 ms of work).
BIG = 1 << 25
#: Cores kept busy by other processes above which the machine counts as contended.
BUSY_ELSEWHERE = 0.5
_WINDOW_S = 0.5
_FIRST_WINDOW_S = 0.1
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def fixed_threads() -> int | None:
    """``LEPTON_BLAS_THREADS`` as a count, or None for the adaptive policy."""
    value = os.environ.get("LEPTON_BLAS_THREADS", "").strip()
    try:
        return max(0, int(value)) if value else None
    except ValueError:
        return None


@functools.lru_cache(maxsize=None)
def blas_controls():
    """``(set_num_threads, get_num_threads, default count)`` of the loaded OpenBLAS."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({ln.split()[-1] for ln in f
                            if "openblas" in ln.lower() and ".so" in ln})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            getter = name.replace("set_num_threads", "get_num_threads")
            if hasattr(lib, name) and hasattr(lib, getter):
                set_, get_ = getattr(lib, name), getattr(lib, getter)
                set_.argtypes, set_.restype = [ctypes.c_int], None
                get_.argtypes, get_.restype = [], ctypes.c_int
                return set_, get_, max(1, get_())
    return None


class _Neighbours:
    """Whether other processes kept the cores busy over the last sampling window.

    The first window opens when this module loads (with the backend, before a program's
    first call) and closes after ``_FIRST_WINDOW_S``: a warm process then decides with the
    loading of its kernels as the window, instead of running its first half second of
    products single-threaded (mlp_step's first 20 warm steps took 22 ms, later ones 12)."""

    def __init__(self):
        self._last = self._sample(time.monotonic())
        self._measured = False
        self._children = 0  # this process's compile children alive at the last sample
        self.busy = True  # until measured, assume the worst

    def contended(self) -> bool:
        now = time.monotonic()
        stale = self._last is not None and now - self._last[0] > 2 * _WINDOW_S
        if stale or (self._children and not forked.alive()):
            # A window that opened long ago (a cold program's first compiled call, after
            # seconds on the reference tier), or one whose load was our own compile
            # children, all ended now, says little about the next products: measure
            # afresh over a short window (a cold LSTM loop ran 0.5 s of single-threaded
            # products after its compile, 8.8 ms steps where 5.3 ms were due).
            self._last, self._measured, self._children = self._sample(now), False, 0
        window = _WINDOW_S if self._measured else _FIRST_WINDOW_S
        if self._last is not None and now - self._last[0] < window:
            return self.busy
        sample = self._sample(now)
        if sample is None:
            return self.busy
        if self._last is not None:
            dt = sample[0] - self._last[0]
            others = (sample[1] - self._last[1]) - (sample[2] - self._last[2])
            self.busy = others / dt > BUSY_ELSEWHERE
            self._measured = True
        self._last, self._children = sample, forked.alive()
        return self.busy

    @staticmethod
    def _sample(now):
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        t = os.times()
        return now, busy, t.user + t.system


neighbours = _Neighbours()


def wide_threads() -> int:
    """Threads for a large product now: all of BLAS's, unless the machine is contended."""
    controls = blas_controls()
    return 1 if controls is None or neighbours.contended() else controls[2]


def limited(run, serial: bool = False):
    """``run`` (a compiled program's driver) calling BLAS single-threaded (or with the
    fixed count); loop drivers (called with ``out=``) run inside a limited call.

    A ``serial`` program (no prange kernel, so no OpenMP threads to share the cores with)
    gives BLAS every thread for the whole call while the machine is free: its threads then
    spin between the products instead of being woken for each (an LSTM step, 56 products
    of 64x128x512 between serial cell kernels, 2 cores: 9.6 -> 6.4-7.9 ms; widening each
    product on its own measured no faster)."""
    fixed = fixed_threads()
    controls = blas_controls() if fixed != 0 else None
    if controls is None:
        return run
    set_threads, get_threads, _ = controls
    wanted = fixed or 1
    adaptive = serial and not fixed

    def call(*args, out=None):
        if out is not None:
            return run(*args, out=out)
        prev = get_threads()
        n = wide_threads() if adaptive else wanted
        if prev == n:
            return run(*args)
        set_threads(n)
        try:
            return run(*args)
        finally:
            set_threads(prev)

    call.__dict__.update(run.__dict__)
    return call


def _widened(fn):
    """``fn`` run with every BLAS thread when the machine is free (inside ``limited``)."""
    controls = blas_controls()
    if controls is None or fixed_threads() is not None:
        return fn
    set_threads = controls[0]

    get_threads = controls[1]

    @functools.wraps(fn)
    def call(*args):
        n, prev = wide_threads(), get_threads()
        if n == prev:
            return fn(*args)
        set_threads(n)
        try:
            return fn(*args)
        finally:
            set_threads(prev)
    return call


def widens(m: int, k: int, n: int) -> bool:
    """Whether an (m x k) @ (k x n) product is big enough to get every BLAS thread."""
    return m * k * n >= BIG


def matmul():
    """The driver's product: ``np.matmul``, widened for products of ``BIG`` or more."""
    wide = _widened(np.matmul)
    if wide is np.matmul:
        return np.matmul

    def product(a, b):
        m = a.shape[0] if a.ndim == 2 else 1
        n = b.shape[-1] if b.ndim == 2 else 1
        return wide(a, b) if widens(m, a.shape[-1], n) else np.matmul(a, b)
    return product


def widened_step(step):
    """A host step (e.g. an im2col convolution) that may use every BLAS thread."""
    return _widened(step)
