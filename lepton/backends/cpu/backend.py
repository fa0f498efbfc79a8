"""The Numba CPU backend: fused, optionally parallel loop-nest kernels plus host ops.

``compile(jaxpr)`` schedules the equations (``schedule``, by the cpu lowering table),
renders each fused group as a Numba kernel (``render`` in the cpu ``dialect``), loads or
compiles it (``cache``) and returns a driver (``driver``: generated Python) that runs the
steps in order on NumPy arrays; other equations become the steps their lowering row says
(direct kernel, BLAS call, or the primitive's NumPy impl).  Each group
picks its serial or ``prange`` variant from its size and cost once, here, because a
jaxpr's shapes are static; only the chosen variant is ever compiled.  The driver calls
compiled entry points directly (no Numba dispatch) with precomputed shapes, so a call
costs microseconds.
"""
from __future__ import annotations

import contextlib
import os
import sys

# Parallel kernels' OpenMP threads sleep between launches instead of spinning: spinning
# workers compete with the Python thread on busy or small machines (measured on 2 shared
# cores: 8 ms per launch when spinning, 10 us when passive).  Set before Numba loads its
# OpenMP layer; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402
from numba import types  # noqa: E402
from numba.np.numpy_support import from_dtype  # noqa: E402

from ..._quiet import quiet  # noqa: E402
from ...ir import Jaxpr, Literal, Namer, sub_jaxprs  # noqa: E402
from .. import cache, driver, render, schedule  # noqa: E402
from ..index import Nest  # noqa: E402
from ..reference import _as_dtype  # noqa: E402
from . import allocator, blas_threads  # noqa: E402
from .dialect import (TARGET, NumbaCpu, bar, granted, parallel, raised_bar,  # noqa: E402
                      serial_only)
from .lowering import LOWERINGS  # noqa: E402

DIALECT = NumbaCpu(LOWERINGS)

allocator.tune()
allocator.quick_exit()

#: Domain elements x per-element cost (``render.cost``) above which a kernel runs its
#: prange variant: about 1M elements for one cheap op, 2k for a libm transcendental one,
#: 100k for a vectorised float32 one (``render.cost``).
#: ``LEPTON_PARALLEL_WORK`` overrides it (0: always parallel, a huge value: never).
PARALLEL_WORK = int(os.environ.get("LEPTON_PARALLEL_WORK", 1 << 21))

#: A program with steps that run threads of their own (BLAS products, direct convolution
#: and pooling kernels) needs this factor more work in a kernel (direct convolutions
#: included) for its prange variant (``dialect.raised_bar``).  Below it the serial kernels were the faster program,
#: because they also leave every thread to BLAS (``blas_threads.limited``), and they
#: compile in about half the time, which a cold loop spent sharing the cores with the
#: compile.  Measured on 2 cores, serial against prange kernels: mlp_step 11.2 vs 11.5 ms,
#: cnn_step 1.55 vs 1.63 ms, the stax CNN step 19-21 vs 20-21 ms; ew_fused (8M elements,
#: no host step, so the bar stays) 8.8 vs 4.6 ms.
SPREAD_FACTOR = 16


def compile(jaxpr: Jaxpr, quick: bool = False):
    """A callable ``f(*numpy_arrays) -> list of numpy arrays`` evaluating ``jaxpr``.

    ``quick``: every kernel serial (``dialect.serial_only``), the cheapest program to
    compile; its ``upgradable`` attribute then says whether the full compile differs."""
    prepare()
    if not quick:
        return _compile(jaxpr)
    with serial_only() as tier:
        run = _compile(jaxpr)
    run.upgradable = tier.demoted > 0
    return run


def _compile(jaxpr: Jaxpr):
    if jaxpr.constvars:
        raise ValueError("the cpu backend takes consts as leading arguments; "
                         "pass a jaxpr without constvars")
    before, prange_before = cache.stats.numba_compiles, granted()
    slots: dict = {}
    template: list = []

    def slot(v):
        if v not in slots:
            slots[v] = len(template)
            template.append(v.value._value if type(v) is Literal else None)
        return slots[v]

    for v in jaxpr.invars:
        slot(v)
    name_of = Namer()  # the names make_jaxpr prints
    for v in jaxpr.invars + [v for e in jaxpr.eqns for v in e.outvars]:
        name_of(v)

    def names(vs):
        return ", ".join(name_of(v) for v in vs)

    listing, sources = [], []
    outs = [slot(v) for v in jaxpr.outvars]
    drive = driver.Driver(len(jaxpr.invars), template, _buffers())
    drive.outputs(outs)
    steps = list(schedule.schedule(jaxpr, LOWERINGS, DIALECT.max_kernel_eqns))
    hosts = [LOWERINGS.row(s.eqn.prim.name) for s in steps if not isinstance(s, schedule.Group)]
    threaded = any(row.kind in ("library", "direct") or row.blas for row in hosts)
    with raised_bar(SPREAD_FACTOR if threaded else 1):
        for s in steps:
            if isinstance(s, schedule.Group):
                k = kernel_for(s)
                name = f"kernel_{len(sources)}"
                _add_kernel(drive, cache.entry_point(k.source, _signature(k), TARGET), k, slot)
                sources.append(f"# {name}: {', '.join(e.prim.name for e in s.eqns)} over "
                               f"{s.domain}{' (parallel)' if k.parallel else ''}\n"
                               + k.source.replace("def kernel(", f"def {name}(", 1))
                listing.append(f"{names(v for v, _ in k.outputs)} = "
                               f"{name}({names(v for v, _ in k.inputs)})")
                continue
            eqn = s.eqn
            how = _lower_step(eqn, slot, drive)
            lhs = f"{names(eqn.outvars)} = " if eqn.outvars else ""  # effects: no outputs
            listing.append(f"{lhs}{eqn.prim.name}({names(eqn.invars)})  # {how}")
    checks = [(v.aval.shape, v.aval.dtype) for v in jaxpr.invars]
    n_in = len(jaxpr.invars)
    _statistics.kernel_compiles += cache.stats.numba_compiles - before

    def check(args):
        if len(args) != n_in:
            raise TypeError(f"compiled program takes {n_in} arguments, got {len(args)}")
        for a, (shape, dtype) in zip(args, checks):
            if a.shape != shape or a.dtype != dtype:
                raise TypeError(f"argument of shape {a.shape} and dtype {a.dtype} where the "
                                f"program was compiled for {shape} {dtype}")

    run = drive.build(check)
    run.source = "\n\n".join(["# driver\n" + "\n".join(listing)] + sources)
    # no NumPy warnings from host steps (inf * 0 in a product...), as in JAX
    serial = granted() == prange_before and not _large_inner_values(jaxpr)
    # (NumPy runs only in host steps: kernel-only programs need no quiet)
    return blas_threads.limited(quiet(run) if hosts else run, serial)


#: Elements from which a value computed inside a loop body may get a prange kernel when
#: the body compiles (at its first run, after the program's BLAS policy is set).
INNER_PARALLEL_ELEMENTS = 1 << 16


def _large_inner_values(jaxpr: Jaxpr, inner: bool = False) -> bool:
    """Whether a loop or branch body of ``jaxpr`` computes a value large enough for a
    prange kernel (``INNER_PARALLEL_ELEMENTS``)."""
    for e in jaxpr.eqns:
        if inner and any(int(np.prod(v.aval.shape)) >= INNER_PARALLEL_ELEMENTS
                         for v in e.outvars):
            return True
        for sub in sub_jaxprs(e.params):
            if _large_inner_values(sub, True):
                return True
    return False


def prepare():
    """Load Numba's CPU target (its typing and lowering registries: ~0.2 s) now rather
    than inside the first kernel compile or load: tiered does it before forking a compile
    child, so that the child and the parent's loads skip it."""
    global _prepared
    if _prepared:
        return
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import cpu_target
    with global_compiler_lock, _no_scipy_probe():  # refreshing beside a compile in another
        cpu_target.target_context.refresh()  # thread breaks it (a shared registry
        cpu_target.typing_context.refresh()  # generator: "already executing")
    _prepared = True


_prepared = False


@contextlib.contextmanager
def _no_scipy_probe():
    """Numba's ``np`` registry asks at import whether SciPy's BLAS is there, only to pick
    ``np.convolve``'s and ``np.correlate``'s inner product, and the probe imports
    ``scipy.linalg``: 0.2 s on a quiet machine (SciPy comes with JAX), a first call's
    largest cost with a warm cache.  Lepton's kernels call no Numba BLAS, so the probe
    answers "no" while the registries load (those two functions then loop in Numba);
    ``np.dot`` and ``np.linalg`` in anyone's Numba code still import SciPy when typed."""
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        yield
        return
    import numba.np.linalg as linalg
    real = linalg.ensure_blas

    def absent():
        raise ImportError("not probed while lepton loads Numba's registries")
    linalg.ensure_blas = absent
    try:
        yield
    finally:
        linalg.ensure_blas = real
        arraymath = sys.modules.get("numba.np.arraymath")
        if arraymath is not None and getattr(arraymath, "ensure_blas", None) is absent:
            arraymath.ensure_blas = real


def kernel_for(group) -> render.Kernel:
    nest = Nest(group)
    work = int(np.prod(group.domain, dtype=np.int64)) * render.cost(group, LOWERINGS)
    return render.render(group, nest, parallel(work >= PARALLEL_WORK * bar()), DIALECT)


def _buffers() -> dict:
    """The allocator/buffer interface the driver's generated code calls."""
    return {"empty": np.empty, "matmul": blas_threads.matmul(),
            "ascontiguousarray": np.ascontiguousarray}


def _signature(k: render.Kernel) -> tuple:
    arrays = [types.Array(from_dtype(v.aval.dtype), len(shape), "C")
              for v, shape in k.inputs + k.outputs]
    params = ((types.Array(types.int64, 1, "C") if k.params_array
               else types.UniTuple(types.int64, len(k.params))),) if k.params else ()
    consts = [from_dtype(c.dtype) for c in k.consts]
    return (types.UniTuple(types.int64, len(k.sizes)), *params, *consts, *arrays)


def _add_kernel(drive, entry, k: render.Kernel, slot):
    q = np.array(k.params, np.int64) if k.params_array else k.params
    prefix = (tuple(int(n) for n in k.sizes),) + ((q,) if k.params else ()) + k.consts
    ins = [(slot(v), shape if shape != v.aval.shape else None) for v, shape in k.inputs]
    outs = [(slot(v), shape, v.aval.dtype, v.aval.shape if shape != v.aval.shape else None)
            for v, shape in k.outputs]
    drive.kernel(entry, prefix, ins, outs)


def _lower_step(eqn, slot, drive) -> str:
    """Add the driver step of a non-fused equation as its lowering row says; returns the
    listing note.  A direct kernel or library call may decline: the NumPy impl runs."""
    row = LOWERINGS.row(eqn.prim.name)
    if row.emit is not None and row.emit(eqn, slot, drive):
        return "host: BLAS" if row.kind == "library" else "direct kernel"
    step = _host_step(eqn, slot)
    if row.blas:  # im2col products, batched dot_general
        step = blas_threads.widened_step(step)
    drive.call(step, [slot(v) for v in eqn.invars], [slot(v) for v in eqn.outvars])
    return "host: NumPy impl"


def _host_step(eqn, slot):
    """A NumPy impl as a driver step.  It runs without floating-point warnings, as the
    kernels around it do (inf - inf, overflow...: the values say it, as in JAX): the whole
    program runs under ``_quiet.quiet``, so loop bodies' host steps are silent too."""
    impl, params = eqn.prim.impl, eqn.params
    ins = [slot(v) for v in eqn.invars]
    outs = [(slot(v), v) for v in eqn.outvars]
    if eqn.prim.multiple_results:
        def step(env):
            res = impl(*[env[i] for i in ins], **params)
            for (s, v), r in zip(outs, res):
                env[s] = _as_dtype(r, v)
    else:
        (s0, v0), = outs

        def step(env):
            env[s0] = _as_dtype(impl(*[env[i] for i in ins], **params), v0)
    return step


class Statistics:
    """``kernel_compiles``: kernels Numba compiled (not loaded from the disk cache) while
    this backend compiled programs.  ``jit.cache_info()`` reads it; the backend never
    calls up into ``jit``."""

    def __init__(self):
        self.kernel_compiles = 0

    def __repr__(self):
        return f"Statistics(kernel_compiles={self.kernel_compiles})"


_statistics = Statistics()


def statistics() -> Statistics:
    return _statistics
