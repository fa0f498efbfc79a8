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
    over disjoint windows whose innermost, unpooled axis is shorter than a vector (its
    loop never reaches LLVM's vector body: 64x28x28xC float32, 2x2 windows: C=6 0.83 ms,
    C=8 1.27, C=12 1.9 against the NumPy impl's 0.61, 0.70, 0.80; C=16 0.12) unless
    ``flat_scatter_source`` applies (C=6: 0.29 ms)."""
    if not all(v.aval.dtype.kind in "biuf" for v in eqn.invars):
        return False
    if eqn.prim.name == "select_and_scatter_add" and _short(eqn) and not _rows(eqn):
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
    hi = [h for _, h in p["padding"]]
    zero = const(0, out.dtype)
    flat = disjoint and _short(eqn)  # then ``emit`` made sure ``_rows`` holds
    if flat:
        source = flat_scatter_source(x.ndim - 2, init, p["select"], zero, wd[:-2], ws[:-2],
                                     lo[:-2], hi[:-2], wd[-2])
    elif disjoint:
        source = disjoint_scatter_source(x.ndim, init, p["select"], zero, wd, ws, lo, hi)
    else:
        source = window_source(name, x.ndim, init, p.get("select", "max"), wd, ws, lo)
    ranks = [v.aval.ndim - flat for v in eqn.invars + eqn.outvars]
    arrays = [types.Array(from_dtype(v.aval.dtype), r, "C")
              for v, r in zip(eqn.invars + eqn.outvars, ranks)]
    tables = ()
    if flat:  # a row's column tap and pooled position, per element (``flat_scatter_source``)
        c, w = x.shape[-1], wd[-2]
        f = np.arange(x.shape[-2] * c)
        tables = (((f // c) % w).astype(np.int32), ((f // (w * c)) * c + f % c).astype(np.int32))
        arrays += [types.Array(types.int32, 1, "C")] * 2 + [types.int64]
        tables += (c,)
    entry = cache.entry_point(source, tuple(arrays), TARGET)
    ins = [slot(v) for v in eqn.invars]
    so = slot(eqn.outvars[0])
    covered = disjoint and all(  # every input position in a window: all of o is written
        w == s and o * s - lo_ >= n for w, s, lo_, o, n in
        zip(wd, ws, lo, eqn.invars[0].aval.shape, x.shape))
    alloc = np.zeros if name == "select_and_scatter_add" and not covered else np.empty
    shapes = [v.aval.shape[:-2] + (-1,) if flat else v.aval.shape for v in eqn.invars]

    def step(env):
        args = [np.ascontiguousarray(env[i]).reshape(sh) for i, sh in zip(ins, shapes)]
        o = alloc(out.shape, out.dtype)
        entry(*args, o.reshape(shapes[-1]) if flat else o, *tables)
        env[so] = o

    return step


def _short(eqn) -> bool:
    """Whether a disjoint scatter's innermost axis is unpooled and shorter than a vector."""
    x, p = eqn.invars[-1].aval, eqn.params
    return bool(x.ndim and p["window_dimensions"][-1] == 1 and _disjoint(
        p["window_dimensions"], p["window_strides"], [lo for lo, _ in p["padding"]])
        and x.shape[-1] * x.dtype.itemsize < VECTOR_BYTES)


def _rows(eqn) -> bool:
    """Whether ``flat_scatter_source`` can run scatter ``eqn``: an unpooled innermost
    axis, and windows along the one before it that tile it exactly (window = stride, no
    padding, no remainder)."""
    x, p = eqn.invars[-1].aval, eqn.params
    wd, ws, pad = p["window_dimensions"], p["window_strides"], p["padding"]
    if x.ndim < 2 or wd[-1] != 1 or ws[-1] != 1 or tuple(pad[-1]) != (0, 0):
        return False
    return wd[-2] == ws[-2] and tuple(pad[-2]) == (0, 0) and x.shape[-2] % wd[-2] == 0 \
        and x.shape[-2] > 0


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
        lines += [pad + ln for ln in _select_tap(t, cmp)]
    lines += [pad + f"g = v[{j}]", pad + f"z = {zero}"]
    for t, ks in enumerate(taps):
        store = f"o[i{t}] = g if pick == {t} else z"
        if any(lo[d] or hi[d] for d in range(ndim)):
            lines += [pad + f"if n{t}:", pad + "    " + store]
        else:
            lines.append(pad + store)
    return "\n".join([f"@njit({KERNEL_OPTIONS})", "def kernel(v, x, o):"]
                     + ["    " + ln for ln in lines]) + "\n"


def flat_scatter_source(nlead: int, init: str, select: str, zero: str, wd, ws, lo, hi,
                        w: int) -> str:
    """Source of ``kernel(v, x, o, tap, pos, c)`` for a disjoint scatter whose innermost
    axis (``c`` long) is unpooled and short and whose windows tile the axis before it
    exactly, ``w`` wide (``_rows``).  The last two axes are merged: rows of ``x`` and ``o``
    are W*c long, ``v``'s W/w*c.  The innermost loop runs along a whole row, long whatever
    c is: element ``f`` is column tap ``tap[f]`` of the window at ``v`` row position
    ``pos[f]`` (tables from the caller); it reads its window's taps (the row at
    ``f - tap[f]*c + k*c``), picks the first max (min; NaN first) in row-major window order
    and writes its own value: ``v`` if it is the pick, ``zero`` otherwise.  Each element
    redoes its window's selection.  The ``nlead`` leading axes are windowed (``wd``,
    ``ws``, ``lo``, ``hi``) as in ``disjoint_scatter_source``."""
    j = "".join(f"j{d}, " for d in range(nlead))
    lines = ["    " * d + f"for j{d} in range(v.shape[{d}]):" for d in range(nlead)]
    pad = "    " * (nlead + 1)
    lines += ["    " * nlead + "for f in range(x.shape[-1]):",
              pad + "t = tap[f]", pad + "b = f - t * c"]
    cmp = ">" if select == "max" else "<"
    checked = any(lo[d] or hi[d] for d in range(nlead))
    rows = list(itertools.product(*(range(n) for n in wd)))
    n = 0
    for r, ks in enumerate(rows):
        idx = [_affine(f"j{d}", ws[d], str(k) if k else None, lo[d]) for d, k in enumerate(ks)]
        rows[r] = "".join(i + ", " for i in idx)
        if checked:
            inside = " and ".join(f"0 <= {i} < x.shape[{d}]" for d, i in enumerate(idx)
                                  if lo[d] or hi[d])
            lines.append(pad + f"n{r} = {inside}")
        for k in range(w):
            read = f"x[{rows[r]}b{f' + {k} * c' if k else ''}]"
            lines.append(pad + (f"a{n} = {read} if n{r} else {init}" if checked
                                else f"a{n} = {read}"))
            lines += [pad + ln for ln in _select_tap(n, cmp)]
            n += 1
    lines += [pad + f"g = v[{j}pos[f]]", pad + f"z = {zero}"]
    for r, row in enumerate(rows):
        store = f"o[{row}f] = g if pick == {r * w} + t else z"
        lines += [pad + f"if n{r}:", pad + "    " + store] if checked else [pad + store]
    return "\n".join([f"@njit({KERNEL_OPTIONS})", "def kernel(v, x, o, tap, pos, c):"]
                      + ["    " + ln for ln in lines]) + "\n"


def _select_tap(t: int, cmp: str) -> list:
    """Lines keeping ``best``/``pick``, the first max (``cmp`` '>'; min: '<') of taps
    ``a0..a{t}`` in order, NaN first, without branches, once tap ``a{t}`` is read."""
    if t == 0:
        return ["best = a0", "pick = 0"]
    return [f"take = a{t} {cmp} best or (a{t} != a{t} and best == best)",
            f"best = a{t} if take else best", f"pick = {t} if take else pick"]


def _affine(j: str, stride: int, k: str | None, lo: int) -> str:
    """``j * stride + k - lo`` with the constant terms folded away."""
    terms = [j if stride == 1 else f"{j} * {stride}"]
    if k is not None:
        terms.append(k)
    text = " + ".join(terms)
    return text if lo == 0 else f"{text} - {lo}" if lo > 0 else f"{text} + {-lo}"
