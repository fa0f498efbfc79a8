"""Tiered execution: run the NumPy reference while the compiled program builds.

A cold compile of a training step costs seconds of Numba time (about 0.2-0.8 s per
kernel).  Rather than make the first call wait, a tiered executable starts compiling in
a background thread and serves calls with the reference interpreter until the compiled
program is ready, then switches over.  Results agree to the compiled backend's accuracy
(its float32 transcendentals are within 0.51 ulp of correctly rounded, sums accumulate
in float64), so a tiered run can differ from a fully compiled one in the last bits of
its first steps; ``LEPTON_TIERED=0`` makes every compile synchronous.
"""
from __future__ import annotations

import os
import threading
import time

from . import get_backend, reference

_pending: list = []
_pending_lock = threading.Lock()

#: A compile that finishes this quickly (e.g. all kernels already cached) is simply waited for.
QUICK_SECONDS = 0.05


def enabled() -> bool:
    return os.environ.get("LEPTON_TIERED", "1") != "0"


class Tiered:
    """An executable that is the reference interpreter until the compiled one is ready."""

    def __init__(self, jaxpr, backend: str, on_compiled):
        self._fallback = reference.compile(jaxpr)
        self.reference_calls = 0  # calls answered before the compiled program was ready
        self._compiled = None
        self._error = None
        self._thread = threading.Thread(target=self._build, args=(jaxpr, backend, on_compiled),
                                        name=f"lepton-compile-{backend}", daemon=True)
        with _pending_lock:
            _pending.append(self)
        self._thread.start()
        self._thread.join(QUICK_SECONDS)

    def _build(self, jaxpr, backend, on_compiled):
        t0 = time.perf_counter()
        try:
            self._compiled = get_backend(backend).compile(jaxpr)
        except BaseException as e:  # surfaced on the next call, never lost in the thread
            self._error = e
        finally:
            on_compiled(time.perf_counter() - t0)
            with _pending_lock:
                if self in _pending:
                    _pending.remove(self)

    def __call__(self, *args, out=None):
        exe = self._compiled
        if exe is not None:
            return exe(*args, out=out)
        if self._error is not None:
            raise self._error
        self.reference_calls += 1
        return self._fallback(*args, out=out)

    def wait(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._compiled

    @property
    def source(self):
        return self.wait().source


def wait_for_compilation():
    """Block until every background compile has finished (e.g. before timing a step)."""
    while True:
        with _pending_lock:
            pending = list(_pending)
        if not pending:
            return
        for t in pending:
            t._thread.join()
