"""Pooling and its gradients (reduce_window_*, select_and_*) as direct cpu kernels.

Rank-generic source, any window shape: the window dimensions, strides and low paddings
are static parameters written into the source (LLVM then unrolls the small window
loops).  Measured in the cnn_step benchmark (64x28x28x6 float32, 2x2 max-pooling):
reduce_window_max 0.9 ms vs 3.2 ms for the NumPy impl, select_and_scatter_add 2.0 ms vs
5.0 ms.

The gradient of max-pooling, ``select_and_scatter_add``, scatters each window's value onto
its first max: as a scatter into a zero-filled output, its loop cannot vectorise.  Where
windows do not overlap (strides >= window, the usual pooling), every input position
belongs to at most one window, so the kernel writes each position once, the value or a
zero, without branches; channels-last, that loop vectorises along the channels.  Measured
(64x28x28x32 float32, 2x2 windows): 0.25 ms against 4.9 ms for the scatter.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from numba import types
from numba.np.numpy_support import from_dtype

from .. import cache
from ..templates import const, identity
from .dialect import KERNEL_OPTIONS, TARGET


#: Bytes of a vector register: LLVM vectorises a loop this many bytes at a time.
VECTOR_BYTES = 64


def emit(eqn, slot, drive) -> bool:
    """Add ``eqn`` (a window primitive) to ``drive`` as a direct kernel; False (the NumPy
    impl runs it) for operands that are not booleans or real numbers, and for a scatter
    over disjoint windows whose innermost, unpooled axis is shorter than a vector: its
    loop then never reaches LLVM's vector body (2 cores, 64x28x28xC float32, 2x2 windows:
    C=6 0.83 ms, C=8 1.27, C=12 1.9 against the NumPy impl's 0.61, 0.70, 0.80; C=16 0.12)."""
    if not all(v.aval.dtype.kind in "biuf" for v in eqn.invars):
        return False
    if eqn.prim.name == "select_and_scatter_add":
        x, p = eqn.invars[-1].aval, eqn.params
        lo = [low for low, _ in p["padding"]]
        short = x.ndim and p["window_dimensions"][-1] == 1 and \
            x.shape[-1] * x.dtype.itemsize < VECTOR_BYTES
        if short and _disjoint(p["window_dimensions"], p["window_strides"], lo):
            return False
    drive.call(window_step(eqn, slot), [slot(v) for v in eqn.invars],
               [slot(v) for v in eqn.outvars])
    return True


def window_step(eqn, slot):
    """The driver step running window primitive ``eqn`` as its direct kernel."""
    name, p = eqn.prim.name, eqn.params
    x = eqn.invars[-1].aval
    kind = p.get("select") or name[len("reduce_window_"):]
    wd, ws, lo = (tuple(int(n) for n in t) for t in (
        p["window_dimensions"], p["window_strides"], (lo for lo, _ in p["padding"])))
    out = eqn.outvars[0].aval
    init = identity(kind, x.dtype)
    disjoint = name == "select_and_scatter_add" and _disjoint(wd, ws, lo)
    source = disjoint_scatter_source(x.ndim, init, p["select"], const(0, out.dtype), wd, ws,
                                     lo, [h for _, h in p["padding"]]) if disjoint \
        else window_source(name, x.ndim, init, p.get("select", "max"), wd, ws, lo)
    arrays = [types.Array(from_dtype(v.aval.dtype), v.aval.ndim, "C")
              for v in eqn.invars + eqn.outvars]
    entry = cache.entry_point(source, tuple(arrays), TARGET)
    ins = [slot(v) for v in eqn.invars]
    so = slot(eqn.outvars[0])
    covered = disjoint and all(  # every input position in a window: all of o is written
        w == s and o * s - lo_ >= n for w, s, lo_, o, n in
        zip(wd, ws, lo, eqn.invars[0].aval.shape, x.shape))
    alloc = np.zeros if name == "select_and_scatter_add" and not covered else np.empty

    def step(env):
        args = [np.ascontiguousarray(env[i]) for i in ins]
        o = alloc(out.shape, out.dtype)
        entry(*args, o)
        env[so] = o

    return step


def window_source(name: str, ndim: int, init: str, select: str, wd, ws, lo) -> str:
    """Source of the direct kernel for window primitive ``name`` on rank ``ndim``:
    ``kernel(x, o)`` for reduce_window_*, ``kernel(v, x, o)`` for select_and_* (``o``
    zero-filled by the caller for the scatter).  The window's sizes, strides and low
    padding are static primitive parameters, so they are written into the source as
    constants (LLVM then unrolls the small window loops); array sizes stay run-time.
    ``init`` is the identity, which is also the value of padding; select_and_* pick each
    window's first max (min) in row-major window order, NaN first, as the NumPy impl's
    argmax does."""
    j = ", ".join(f"j{d}" for d in range(ndim))
    i = ", ".join(f"i{d}" for d in range(ndim))
    reduce = name.startswith("reduce")
    loops = "v" if name == "select_and_scatter_add" else "o"
    lines = ["    " * d + f"for j{d} in range({loops}.shape[{d}]):" for d in range(ndim)]
    if reduce:
        op = {"reduce_window_sum": "acc + x[{i}]",
              "reduce_window_max": "acc if (acc >= x[{i}] or acc != acc) else x[{i}]",
              "reduce_window_min": "acc if (acc <= x[{i}] or acc != acc) else x[{i}]"}[name]
        pre, body, post = [f"acc = {init}"], [f"acc = {op.format(i=i)}"], [f"o[{j}] = acc"]
    else:
        cmp = ">" if select == "max" else "<"
        b = ", ".join(f"b{d}" for d in range(ndim))
        inside = " and ".join(f"0 <= i{d} < x.shape[{d}]" for d in range(ndim))
        pre = ["first = True", f"best = {init}", "hit = False"] + [f"b{d} = 0" for d in range(ndim)]
        body = [f"inb = {inside}", f"val = x[{i}] if inb else {init}",
                f"if first or val {cmp} best or (val != val and best == best):",
                "    first = False", "    best = val", "    hit = inb"]
        body += [f"    b{d} = i{d}" for d in range(ndim)]
        post = ([f"o[{j}] = v[{b}] if hit else 0"] if name == "select_and_gather_add"
                else ["if hit:", f"    o[{b}] += v[{j}]"])
    lines += ["    " * ndim + ln for ln in pre]
    for d in range(ndim):
        depth = ndim + d
        index = _affine(f"j{d}", ws[d], f"k{d}" if wd[d] > 1 else None, lo[d])
        lines += ["    " * depth + f"for k{d} in range({wd[d]}):",
                  "    " * (depth + 1) + f"i{d} = {index}"]
        if reduce:  # padding is the identity (high padding too: a size-1 window at stride 1
            # with no low padding still reaches past x when the high side is padded)
            lines += ["    " * (depth + 1) + f"if i{d} < 0 or i{d} >= x.shape[{d}]:",
                      "    " * (depth + 2) + "continue"]
    lines += ["    " * (2 * ndim) + ln for ln in body]
    lines += ["    " * ndim + ln for ln in post]
    args = "x, o" if reduce else "v, x, o"
    return "\n".join([f"@njit({KERNEL_OPTIONS})", f"def kernel({args}):"]
                     + ["    " + ln for ln in lines]) + "\n"


#: Most window positions that ``disjoint_scatter_source`` writes out one by one.
MAX_TAPS = 16


def _disjoint(wd, ws, lo) -> bool:
    """Whether windows never overlap (nor start before a negative low padding) and are
    small enough to unroll: the case of ``disjoint_scatter_source``."""
    return all(s >= w and low >= 0 for w, s, low in zip(wd, ws, lo)) and \
        math.prod(wd) <= MAX_TAPS


def disjoint_scatter_source(ndim: int, init: str, select: str, zero: str, wd, ws, lo,
                            hi) -> str:
    """Source of ``kernel(v, x, o)`` for select_and_scatter_add over windows that do not
    overlap: for each window, its taps (row-major) are read, the first max (min; NaN
    first, as ``window_source``) is picked with selects, and every tap inside ``x`` is
    written: ``v`` at the pick, ``zero`` elsewhere.  Padded taps read ``init`` and are
    never written; positions outside every window are left to the caller (a zero-filled
    ``o``).  Dimensions without padding need no bounds checks."""
    j = ", ".join(f"j{d}" for d in range(ndim))
    lines = ["    " * d + f"for j{d} in range(v.shape[{d}]):" for d in range(ndim)]
    pad = "    " * ndim
    taps = list(itertools.product(*(range(w) for w in wd)))
    cmp = ">" if select == "max" else "<"
    for t, ks in enumerate(taps):
        index = ", ".join(_affine(f"j{d}", ws[d], str(k) if k else None, lo[d])
                          for d, k in enumerate(ks))
        checks = [f"0 <= {_affine(f'j{d}', ws[d], str(k) if k else None, lo[d])} < x.shape[{d}]"
                  for d, k in enumerate(ks) if lo[d] or hi[d]]
        inside = " and ".join(checks)
        lines.append(pad + f"i{t} = ({index})")
        if checks:
            lines += [pad + f"n{t} = {inside}", pad + f"a{t} = x[i{t}] if n{t} else {init}"]
        else:
            lines.append(pad + f"a{t} = x[i{t}]")
        if t == 0:
            lines += [pad + "best = a0", pad + "pick = 0"]
        else:
            lines += [pad + f"take = a{t} {cmp} best or (a{t} != a{t} and best == best)",
                      pad + f"best = a{t} if take else best",
                      pad + f"pick = {t} if take else pick"]
    lines += [pad + f"g = v[{j}]", pad + f"z = {zero}"]
    for t, ks in enumerate(taps):
        store = f"o[i{t}] = g if pick == {t} else z"
        if any(lo[d] or hi[d] for d in range(ndim)):
            lines += [pad + f"if n{t}:", pad + "    " + store]
        else:
            lines.append(pad + store)
    return "\n".join([f"@njit({KERNEL_OPTIONS})", "def kernel(v, x, o):"]
                     + ["    " + ln for ln in lines]) + "\n"


def _affine(j: str, stride: int, k: str | None, lo: int) -> str:
    """``j * stride + k - lo`` with the constant terms folded away."""
    terms = [j if stride == 1 else f"{j} * {stride}"]
    if k is not None:
        terms.append(k)
    text = " + ".join(terms)
    return text if lo == 0 else f"{text} - {lo}" if lo > 0 else f"{text} + {-lo}"
