"""Backends compile a Jaxpr into a callable on NumPy arrays.

``reference`` interprets the jaxpr with each primitive's NumPy ``impl``: it is the
executable spec every compiled backend is tested against.  Compiled backends are
imported lazily, so importing lepton never imports Numba.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import sys
import threading

_BACKENDS = {"reference": "lepton.backends.reference", "cpu": "lepton.backends.cpu.backend"}


#: Per compiled backend, a module whose ``limited(run)`` wraps the reference tier while that
#: backend compiles in the background: on the cpu, one BLAS thread, since the compile
#: thread holds a core (mlp_step on the reference tier: 300 -> 90-100 ms per step on the
#: shared 2-core machine).  Named by string, like ``_BACKENDS``: loaded only when used.
_TIER_LIMITS = {"cpu": "lepton.backends.cpu.blas_threads"}


def reference_tier(name: str, run):
    """``run`` (a reference executable) as it should run while ``name`` compiles."""
    module = _TIER_LIMITS.get(name)
    return run if module is None else importlib.import_module(module).limited(run)


#: Held while a backend module is imported (``forked`` holds it across a fork, so that no
#: thread is half-way through importing Numba when a child is made).
import_lock = threading.RLock()


def get_backend(name: str):
    try:
        module = _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; choose one of {sorted(_BACKENDS)}") from None
    with import_lock:  # (not sys.modules: a module another thread is importing is there)
        return importlib.import_module(module)


def kernel_compiles() -> int:
    """Kernels compiled (not loaded from a cache) by the compiled backends so far in this
    process: each backend module counts its own in ``statistics()``.  A backend that was
    never imported has compiled nothing, so this never imports one (nor Numba)."""
    total = 0
    for module in _BACKENDS.values():
        loaded = sys.modules.get(module)
        stats = getattr(loaded, "statistics", None)
        if stats is not None:
            total += stats().kernel_compiles
    return total


@functools.lru_cache(maxsize=None)
def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def default_backend() -> str:
    """``$LEPTON_BACKEND`` if set, else the Numba CPU backend (the NumPy reference without Numba)."""
    name = os.environ.get("LEPTON_BACKEND")
    if name:
        return name
    return "cpu" if _numba_installed() else "reference"


def cache_root() -> str:
    """The persistent cache folder (``$LEPTON_CACHE_DIR``, default ``~/.cache/lepton``)."""
    return os.environ.get("LEPTON_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "lepton")


_running = threading.local()


def running_backend() -> str:
    """The backend executing the current jitted program ('reference' outside any)."""
    return getattr(_running, "name", "reference")


@contextlib.contextmanager
def running(name: str):
    """Mark ``name`` as executing, so nested loop bodies compile with the same backend."""
    prev = getattr(_running, "name", "reference")
    _running.name = name
    try:
        yield
    finally:
        _running.name = prev
