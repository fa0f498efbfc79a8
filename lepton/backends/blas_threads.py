"""Compiled programs call BLAS single-threaded.

NumPy's OpenBLAS splits a product statically between its threads, and its idle threads
spin for a while after each call.  Inside a compiled training step, BLAS calls alternate
with Numba's parallel kernels, so the two thread pools take turns spinning on the same
cores; and when another process holds a core, every product waits for a descheduled BLAS
thread.  Measured on the 2-core CI machine with one other busy process (medians, lepton's
jit_workloads): mlp_step 168 -> 20 ms, cnn_step 8-30 -> 2.0 ms, per_example_grads 52 ->
12 ms with one BLAS thread; on an idle machine one thread costs the largest products
(784-1024-1024 MLP, batch 256) about a fifth.  So a compiled program runs with one BLAS
thread and restores the caller's setting when it returns (the user's own NumPy code keeps
its threads).  ``LEPTON_BLAS_THREADS=N`` chooses another count (0: leave BLAS alone).

OpenBLAS is found among the shared libraries this process has loaded (Linux); elsewhere,
or with another BLAS, this is a no-op.
"""
from __future__ import annotations

import ctypes
import functools
import os

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def _wanted() -> int:
    try:
        return max(0, int(os.environ.get("LEPTON_BLAS_THREADS", "1")))
    except ValueError:
        return 1


@functools.lru_cache(maxsize=None)
def _controls():
    """``(set_num_threads, get_num_threads)`` of the loaded OpenBLAS, or None."""
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
                return set_, get_
    return None


def limited(run):
    """``run`` (a compiled program's driver) calling BLAS with the wanted thread count; loop
    drivers (called with ``out=``) run inside a limited call already."""
    wanted = _wanted()
    controls = _controls() if wanted else None
    if controls is None:
        return run
    set_threads, get_threads = controls

    def call(*args, out=None):
        if out is not None:
            return run(*args, out=out)
        prev = get_threads()
        if prev == wanted:
            return run(*args)
        set_threads(wanted)
        try:
            return run(*args)
        finally:
            set_threads(prev)

    call.__dict__.update(run.__dict__)
    return call
