"""conv_general_dilated as generated direct Numba kernels (its row in ``cpu/lowering.py``).

The driver step canonicalises the operands with one cheap NumPy copy each: the input
becomes planar ``(N, G, Cg, F)``, its padding and lhs dilation applied and its spatial
axes flattened (``F`` elements); the kernel ``(G, Og, Cg, ...)``.  On that flat grid a
kernel tap is a constant offset (``offs``) and an output position a window origin
(``pos``), whatever the rank, strides and dilations, so every conv runs one of two
rank-generic kernels whose innermost loop is contiguous and long:

* ``rows`` (many output positions, few taps: a forward conv): for each tap, an axpy
  along the flat grid into accumulator rows, read back at ``pos``.  The rows run through
  the padding columns (and, for strides, the skipped positions): wasted lanes that the
  cost model counts.
* ``dot`` (few output positions, many taps: the kernel-gradient conv that the transpose
  rule emits, whose "kernel" is a whole output cotangent): for each output position a
  dot product of the input from ``pos`` on with the kernel inflated onto the grid.

Both are register-blocked: each pass of the inner loop serves ``U`` taps (rows) or
output positions (dot) and ``V`` output features, so each load feeds several
multiply-adds.  Sources depend only on (kind, U, V, parallel) and read every size at run
time, so new batch or image sizes reuse the compiled kernels.  ``prange`` tasks are
(input-feature chunk, batch, group, feature block, row tile or position block); the
contraction is only chunked, with partial results summed afterwards, when there are too
few other tasks for the threads.  Results go straight into the output's own layout
through a strided view where its strides allow.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.np.numpy_support import from_dtype

from ...primitives.slicing import pad_p
from .. import cache
from .dialect import TARGET, bar, deferred, parallel

#: Modelled kernel time (``_Plan.direct_ns``) above which a conv runs its ``prange``
#: variant: a parallel launch costs ~10 us with passive OpenMP threads.
PARALLEL_NS = 50_000

#: The same bar in a program with steps that run threads of their own (``dialect.bar() >
#: 1``: every program with a direct conv), at least.  A serial conv leaves BLAS every thread,
#: and the serial kernel is often one the program's siblings compiled already: the
#: quick-start CNN's predict (batch 500, modelled 1.6 ms, its only prange conv) now
#: shares the train step's serial kernel instead of costing a 1.9 s compile that its
#: four calls never pay back (cold fit then predict: 3.8-4.0 s against 4.0-4.4 s).
#: stax_train's convs (modelled 9.6-300 ms) stay parallel.
SHARED_PARALLEL_NS = 4_000_000

#: Accumulator row length of one ``rows`` task, so that its V rows stay in L1.
TILE = 1024

#: Most taps (rows) or positions (dot) and output features per inner-loop pass: U * V
#: accumulators plus U + V loads must fit the vector registers.  Measured on the
#: cnn_step shapes (1 core, float32): rows 5x6 0.32 ms (5x1: 0.59), dot 5x2 0.20 ms (5x1:
#: 0.36; 5x3 no faster).
_ROWS_U, _ROWS_V, _DOT_U, _DOT_V = 5, 6, 5, 2

#: Cost model (ns, float32, one core; ``_Plan.direct_ns`` and ``host_ns``), least-squares
#: fits to 48 convs: 16 NHWC shapes (batch 4-64, 1-128 channels, 1x1-7x7 kernels,
#: strides 1-2, 8x8-64x64 images), each forward, input- and kernel-gradient, every one
#: timed as rows, dot and host (OPENBLAS_NUM_THREADS=1).  Each model is within 2x of
#: every measurement; choosing the cheapest by them picked the fastest of the three for
#: 45 of the 48 and took 91.4 ms in all, against 91.2 ms for the best choices and
#: 171.5 ms for the host impl everywhere.  Direct kernels lose where BLAS runs a wide
#: GEMM (>= 32 features on both sides) and with strides (their lanes are wasted).
_LOOP_NS = {"rows": 12.0, "dot": 11.0}                 # per inner loop
_LANE_NS = {"rows": (0.013, 0.031), "dot": (0.028, 0.027)}  # per lane: a + b * U * V
_PATCH_NS, _GEMM_NS = 0.64, 0.020                       # per patch element, per GEMM MAC

_FLOATS = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def emit(eqn, slot, drive) -> bool:
    """Add conv ``eqn`` to ``drive`` as a direct kernel; False where the NumPy impl (im2col
    and BLAS) should run it (``direct_plan``)."""
    plan = direct_plan(eqn)
    if plan is None:
        return False
    drive.call(conv_step(plan, eqn, slot), [slot(v) for v in eqn.invars],
               [slot(v) for v in eqn.outvars])
    return True


def direct_plan(eqn):
    """The plan of a direct kernel for conv ``eqn``, or None where the NumPy impl should
    run it: not real floats, no spatial axis, or im2col + BLAS is cheaper
    (``_Plan.direct_wins``)."""
    lhs = eqn.invars[0].aval
    if lhs.dtype not in _FLOATS or lhs.ndim <= 2:
        return None
    plan = _Plan(eqn)
    return plan if plan.direct_wins() and (plan.empty or not deferred()) else None


def conv_step(plan, eqn, slot):
    """The driver step running ``eqn`` as the direct kernel of ``plan`` (``direct_plan``)."""
    entry = None if plan.empty else cache.entry_point(plan.source(), plan.signature(), TARGET)
    ia, ib, io = slot(eqn.invars[0]), slot(eqn.invars[1]), slot(eqn.outvars[0])
    out = eqn.outvars[0].aval
    shape = (plan.n, plan.g, plan.og, plan.q)
    zero = np.zeros((), out.dtype)

    def step(env):
        if plan.empty:
            env[io] = np.zeros(out.shape, out.dtype)
            return
        x = np.transpose(env[ia], plan.lhs_perm)
        if plan.pad_config:
            x = pad_p.impl(x, zero, padding_config=plan.pad_config)
        x = np.ascontiguousarray(x).reshape(shape[:2] + (plan.cg, -1))
        res = np.empty(out.shape, out.dtype)
        canon = res.transpose(plan.out_spec)  # (N, G * Og, Q...) in the output's memory
        view = _view(canon, (1,) + shape) if plan.parts == 1 else None
        o = np.empty((plan.parts,) + shape, out.dtype) if view is None else view
        entry(x, plan.weights(env[ib]), plan.offs, plan.pos, o)
        if view is None:
            canon[...] = o.sum(0).reshape(canon.shape)
        env[io] = res

    return step


def _view(a, shape):
    """``a`` reshaped without copying, or None where its strides do not allow it."""
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        return None


def _grid(counts, steps) -> np.ndarray:
    """Flat offsets ``sum_d i_d * steps[d]`` over the row-major grid of shape ``counts``."""
    flat = np.zeros((), np.int64)
    for n, s in zip(counts, steps):
        flat = np.add.outer(flat, np.arange(n, dtype=np.int64) * s)
    return flat.ravel()


def _block(n: int, most: int) -> int:
    """The block size up to ``most`` that pads ``n`` least (the largest among ties)."""
    return min(range(max(1, min(n, most)), 0, -1), key=lambda b: _ceil(n, b) * b)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _span(a: np.ndarray) -> int:
    """Lanes from 0 through the last (largest) flat offset in ``a``."""
    return int(a[-1]) + 1 if a.size else 0


class _Plan:
    """The static geometry of one conv equation on the flat padded input grid, the kind
    of kernel that computes it fastest and its blocking."""

    def __init__(self, eqn, kind=None):
        p = eqn.params
        lhs_spec, rhs_spec, out_spec = p["dimension_numbers"]
        lhs, rhs = (v.aval for v in eqn.invars)
        self.dtype = lhs.dtype
        self.lhs_perm = (lhs_spec[0], lhs_spec[1]) + tuple(lhs_spec[2:])
        self.rhs_perm = (rhs_spec[0], rhs_spec[1]) + tuple(rhs_spec[2:])
        self.out_spec = tuple(out_spec)
        self.n, self.g = lhs.shape[lhs_spec[0]], p["feature_group_count"]
        self.cg, self.og = rhs.shape[rhs_spec[1]], rhs.shape[rhs_spec[0]] // self.g
        self.ksize = tuple(rhs.shape[d] for d in rhs_spec[2:])
        self.dilation = p["rhs_dilation"]
        qsize = tuple(eqn.outvars[0].aval.shape[d] for d in out_spec[2:])
        cfg = ((0, 0, 0),) * 2 + tuple((lo, hi, d - 1) for (lo, hi), d in
                                       zip(p["padding"], p["lhs_dilation"]))
        self.pad_config = cfg if any(c != (0, 0, 0) for c in cfg) else None
        self.grid = tuple(lo + hi + max(0, (lhs.shape[a] - 1) * d + 1) for a, (lo, hi), d in
                          zip(lhs_spec[2:], p["padding"], p["lhs_dilation"]))
        pitch = [math.prod(self.grid[d + 1:]) for d in range(len(self.grid))]
        self.taps = _grid(self.ksize, [d * s for d, s in zip(self.dilation, pitch)])
        self.origins = _grid(qsize, [d * s for d, s in zip(p["window_strides"], pitch)])
        self.q = len(self.origins)
        self.empty = not (self.taps.size and self.q and self.cg and self.n and self.og)
        self.macs = self.n * self.g * self.og * self.cg * self.q * len(self.taps)
        self._choose(kind or min(("rows", "dot"), key=self.direct_ns))

    def _choose(self, kind: str):
        """Block, pad and split the work for ``kind``'s kernel."""
        self.kind = kind
        self.u, self.v = self.blocks(kind)
        self.offs, self.pos = ((_pad_to(self.taps, self.u), self.origins) if kind == "rows"
                               else (self.taps, _pad_to(self.origins, self.u)))
        limit = PARALLEL_NS if bar() == 1 else max(PARALLEL_NS * bar(), SHARED_PARALLEL_NS)
        self.parallel = parallel(self.direct_ns(kind) >= limit)
        inner = _ceil(_span(self.pos), TILE) if kind == "rows" else len(self.pos) // self.u
        tasks = self.n * self.g * _ceil(self.og, self.v) * max(inner, 1)
        want = 4 * numba.get_num_threads() if self.parallel else 1
        self.parts = max(1, min(self.cg, _ceil(want, max(tasks, 1))))

    def blocks(self, kind: str) -> tuple:
        """(U, V) of ``kind``: taps (rows) or output positions (dot), output features."""
        if kind == "rows":
            return _block(len(self.taps), _ROWS_U), _block(self.og, _ROWS_V)
        return _block(self.q, _DOT_U), _block(self.og, _DOT_V)

    def direct_ns(self, kind: str) -> float:
        """Modelled single-thread time of ``kind``'s kernel: inner loops x (a fixed cost +
        lanes x cost per lane, which grows with the U x V multiply-adds of a pass)."""
        u, v = self.blocks(kind)
        per, length = ((len(self.taps), _span(self.origins)) if kind == "rows"
                       else (self.q, _span(self.taps)))
        loops = self.n * self.g * _ceil(self.og, v) * self.cg * _ceil(per, u)
        lane = _LANE_NS[kind][0] + _LANE_NS[kind][1] * u * v
        return loops * (_LOOP_NS[kind] + length * lane * self.dtype.itemsize / 4)

    def host_ns(self) -> float:
        """Modelled single-thread time of the im2col + BLAS impl: copying the patches
        plus a GEMM that is slower per multiply-add for few output features."""
        patches = self.macs // max(self.og, 1)
        return (patches * _PATCH_NS + self.macs * _GEMM_NS * max(1, 16 / max(self.og, 1))
                ) * self.dtype.itemsize / 4

    def direct_wins(self) -> bool:
        return self.empty or self.direct_ns(self.kind) <= self.host_ns()

    def source(self) -> str:
        make = rows_source if self.kind == "rows" else dot_source
        return make(self.u, self.v, self.parallel)

    def signature(self) -> tuple:
        f = from_dtype(self.dtype)
        flat, index = types.Array(f, 4, "C"), types.Array(types.int64, 1, "C")
        return (flat, flat, index, index, types.Array(f, 5, "A"))

    def weights(self, rhs):
        """``rhs`` as the kernel reads it, features padded to a multiple of V with zeros:
        ``(G, Og, Cg, taps)`` for rows (taps padded to a multiple of U), for dot the
        taps inflated onto the input grid, ``(G, Og, Cg, K0 x grid[1:])``."""
        og = _ceil(self.og, self.v) * self.v
        w = np.transpose(rhs, self.rhs_perm).reshape((self.g, self.og, self.cg) + self.ksize)
        if self.kind == "rows":
            out = np.zeros((self.g, og, self.cg, len(self.offs)), self.dtype)
            out[:, :self.og, :, :math.prod(self.ksize)] = w.reshape(w.shape[:3] + (-1,))
            return out
        e0 = (self.ksize[0] - 1) * self.dilation[0] + 1
        out = np.zeros((self.g, og, self.cg, e0) + self.grid[1:], self.dtype)
        out[(slice(None), slice(0, self.og), slice(None))
            + tuple(slice(0, (k - 1) * d + 1, d) for k, d in zip(self.ksize, self.dilation))] = w
        return out.reshape(self.g, og, self.cg, -1)


def _pad_to(a: np.ndarray, b: int) -> np.ndarray:
    """``a`` with zeros appended up to a multiple of ``b`` entries."""
    return np.concatenate([a, np.zeros(-len(a) % b, a.dtype)])


# ----------------------------------------------------------------------------- sources
def _task(parallel: bool, count: str, axes) -> list:
    """A ``prange`` (or ``range``) over ``count`` tasks, decomposed into ``axes``
    (innermost first: (name, extent) pairs; the last takes the quotient)."""
    lines, rest = [f"for t in {'prange' if parallel else 'range'}({count}):"], "t"
    for k, (name, extent) in enumerate(axes[:-1]):  # (never reassign the prange index)
        lines += [f"    {name} = {rest} % {extent}", f"    r{k} = {rest} // {extent}"]
        rest = f"r{k}"
    return lines + [f"    {axes[-1][0]} = {rest}"]


def _header(v: int) -> list:
    """Sizes, all read at run time."""
    return ["nparts, nb, ng, nog, nq = o.shape",
            f"cg, nob = x.shape[2], w.shape[1] // {v}"]


def _features(v: int) -> list:
    """The V kernel rows of the current feature block and input feature."""
    return [f"w{j} = w[g, ob * {v} + {j}, c]" for j in range(v)]


def rows_source(u: int, v: int, parallel: bool) -> str:
    """``kernel(x, w, offs, pos, o)`` of kind rows: task (p, n, g, ob, tile) accumulates
    ``acc[j, i] += x[n, g, c, j0 + i + offs[k]] * w[g, ob * V + j, c, k]`` for its row
    tile, then writes the outputs whose ``pos`` falls in it (through slices: indexing
    ``o`` and ``acc`` in full took 40% longer on the cnn_step forward conv)."""
    lines = _header(v) + [
        "ln = pos[nq - 1] + 1 if nq else 0", f"ntile = (ln + {TILE - 1}) // {TILE}"]
    lines += _task(parallel, "nparts * nb * ng * nob * ntile", [
        ("tile", "ntile"), ("ob", "nob"), ("g", "ng"), ("n", "nb"), ("p", "nparts")])
    body = [f"j0 = tile * {TILE}", f"jn = min({TILE}, ln - j0)",
            f"acc = np.zeros(({v}, jn), x.dtype)"]
    body += [f"a{j} = acc[{j}]" for j in range(v)]
    body += ["for c in range(p * cg // nparts, (p + 1) * cg // nparts):",
             "    xc = x[n, g, c, j0:]"]
    body += ["    " + ln for ln in _features(v)]
    body += [f"    for k in range(0, offs.shape[0], {u}):"]
    body += [f"        x{i} = xc[offs[k + {i}]:]" for i in range(u)]
    body += [f"        b{i}_{j} = w{j}[k + {i}]" for i in range(u) for j in range(v)]
    body += ["        for i in range(jn):"]
    body += [f"            y{i} = x{i}[i]" for i in range(u)]
    body += [f"            a{j}[i] += " + " + ".join(f"y{i} * b{i}_{j}" for i in range(u))
             for j in range(v)]
    body += ["qa, qz = np.searchsorted(pos, j0), np.searchsorted(pos, j0 + jn)",
             "at = pos[qa:qz]",
             f"for j in range(min({v}, nog - ob * {v})):",
             "    aj = acc[j]",
             f"    oj = o[p, n, g, ob * {v} + j, qa:qz]",
             "    for q in range(qz - qa):",
             "        oj[q] = aj[at[q] - j0]"]
    return _kernel(lines + ["    " + ln for ln in body], parallel)


def dot_source(u: int, v: int, parallel: bool) -> str:
    """``kernel(x, w, offs, pos, o)`` of kind dot: task (p, n, g, ob, qb) computes
    ``sum_{c, i} x[n, g, c, pos[q] + i] * w[g, ob * V + j, c, i]`` for its U positions
    ``q`` and V features ``j``."""
    sums = [f"s{i}_{j}" for i in range(u) for j in range(v)]
    lines = _header(v) + ["ln = offs[offs.shape[0] - 1] + 1", f"nqb = pos.shape[0] // {u}"]
    lines += _task(parallel, "nparts * nb * ng * nob * nqb", [
        ("qb", "nqb"), ("ob", "nob"), ("g", "ng"), ("n", "nb"), ("p", "nparts")])
    body = [f"q = qb * {u}", " = ".join(sums + ["x.dtype.type(0)"]),
            "for c in range(p * cg // nparts, (p + 1) * cg // nparts):",
            "    xc = x[n, g, c]"]
    body += [f"    x{i} = xc[pos[q + {i}]:]" for i in range(u)]
    body += ["    " + ln for ln in _features(v)]
    body += ["    for i in range(ln):"]
    body += [f"        y{i} = x{i}[i]" for i in range(u)]
    body += [f"        z{j} = w{j}[i]" for j in range(v)]
    body += [f"        s{i}_{j} += y{i} * z{j}" for i in range(u) for j in range(v)]
    for i in range(u):
        for j in range(v):
            body += [f"if q + {i} < nq and ob * {v} + {j} < nog:",
                     f"    o[p, n, g, ob * {v} + {j}, q + {i}] = s{i}_{j}"]
    return _kernel(lines + ["    " + ln for ln in body], parallel)


def _kernel(lines, parallel: bool) -> str:
    flags = "cache=True, error_model='numpy', fastmath={'reassoc', 'contract'}"
    if parallel:
        flags += ", parallel=True"
    return "\n".join([f"@njit({flags})", "def kernel(x, w, offs, pos, o):"]
                     + ["    " + ln for ln in lines]) + "\n"
