"""Kernels compiled in different processes meet in one process through the disk cache,
so the symbols Numba gives them must differ between processes.

Numba names a ``prange`` kernel's loop body ``<dynamic>.__numba_parfor_gufunc_0x<id>``
after the ``id()`` of a compiler object and a per-process function counter.  Forked
compile children inherit the counter, so two of them compiling the same-shaped kernels
(``sin(x) * c0 - c1`` and ``cos(x) * c0 - c1``) gave both loop bodies the same symbol
whenever the ids coincided; loaded into one process, the JIT linked both kernels to the
body loaded first: ``jit(lambda x: cos(x) * 3 - 1)`` returned ``3 * sin(x) - 1`` (seen
once in tests/test_tiered.py).  ``cache`` gives every process, and every fork, its own
range of function numbers.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from numba.core.bytecode import FunctionIdentity
from numba.parfors.parfor import Parfor

import lepton
import lepton.numpy as lnp
from lepton.backends import cache, forked
from lepton.backends.cpu import backend as numba_cpu
from lepton.backends.cpu import helpers
from lepton.transforms.jit import _flat_jaxpr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
can_fork = pytest.mark.skipif(not (hasattr(os, "fork") and sys.platform.startswith("linux")),
                              reason="compile children are forked on Linux only")


def _program(fun, x):
    """``fun``'s flat jaxpr, its consts and its one kernel job (source, signature, target)."""
    closed = lepton.jit(fun, backend="cpu").make_jaxpr(x)
    flat = _flat_jaxpr(closed)
    with cache.collect() as jobs:
        numba_cpu.compile(flat)
    assert len(jobs) == 1 and "prange(" in jobs[0][0]
    return flat, [c._value for c in closed.consts], jobs[0]


@can_fork
def test_prange_kernels_compiled_in_forked_children_keep_their_own_loops(monkeypatch,
                                                                         tmp_path):
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba_cpu, "PARALLEL_WORK", 0)  # prange kernels
    monkeypatch.setattr(cache, "_entries", {})  # kernels this process has not loaded
    monkeypatch.setattr(cache, "_dispatchers", {})
    # The loop bodies' ids coincide by chance (rarely); here always.  With the helpers
    # compiled in this process, both children compile the same sequence of functions,
    # so they would number their loop bodies alike.
    monkeypatch.setattr(Parfor, "__hash__", lambda self: 0x1e9707)
    helpers.sin_f32(np.float32(1))
    helpers.cos_f32(np.float32(1))
    x = np.linspace(-3, 3, 513).astype(np.float32)
    programs = [(lambda v: lnp.sin(v) * 3 - 1, np.sin(x) * 3 - 1),
                (lambda v: lnp.cos(v) * 3 - 1, np.cos(x) * 3 - 1),
                (lambda v: lnp.tanh(v) * 3 - 1, np.tanh(x) * 3 - 1)]
    built = [_program(f, x) for f, _ in programs]
    for _, _, job in built:  # one child each, compiling into the disk cache
        child = forked.start(lambda report, job=job: (cache.entry_point(*job), report(1)))
        assert child is not None and list(child.stages()) == [1]
    loads = cache.stats.disk_loads
    for (flat, consts, _), (_, want) in zip(built, programs):
        with cache.only_cached():  # loaded from the children's files, not compiled here
            run = numba_cpu.compile(flat)
        np.testing.assert_allclose(run(*consts, x)[0], want, rtol=2e-6, atol=1e-6)
    assert cache.stats.disk_loads == loads + len(programs)


_NEXT_ID = ("import lepton.backends.cache\n"
            "from numba.core.bytecode import FunctionIdentity\n"
            "print(next(FunctionIdentity._unique_ids))")


@can_fork
def test_every_process_and_fork_numbers_numba_functions_in_its_own_range():
    """Numba starts its counter at 1 in every process, and a fork copies it: lepton
    draws a random 62-bit start instead, far from any other process's range."""
    mine = next(FunctionIdentity._unique_ids)
    assert mine >= 1 << 32  # not Numba's own numbering from 1
    child = forked.start(
        lambda report: report(int(abs(next(FunctionIdentity._unique_ids) - mine) > 1 << 24)))
    assert list(child.stages()) == [1]
    out = subprocess.run([sys.executable, "-c", _NEXT_ID], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    other = int(out.stdout)
    assert other >= 1 << 32 and abs(other - mine) > 1 << 24
