"""``pad`` with every ``np.pad`` mode, built from slices, concatenation, gathers and reductions.

Modes: constant (``constant_values``), edge, linear_ramp (``end_values``), maximum, mean,
median, minimum (``stat_length``), reflect and symmetric (``reflect_type`` 'even' or
'odd'), wrap, empty (zeros here, as JAX: NumPy leaves the area uninitialised), and a
callable ``f(vector, iaxis_pad_width, iaxis, kwargs)`` that *returns* the padded vector
(lepton arrays are immutable; NumPy's callables modify ``vector`` in place).  Axes are
padded one after another, so later axes see the earlier axes' padding (NumPy's corners).
Widths, ``stat_length`` and ``end_values`` given as Python data are static; a scalar
``constant_values`` or ``end_values`` array may be traced and is differentiated through.
"""
from __future__ import annotations

import numpy as np

from ..core import ArrayBase
from ..primitives import slicing as sl
from ..primitives import structural as st
from ._creation import arange
from ._reductions import max as _max
from ._reductions import mean as _mean
from ._reductions import median as _median
from ._reductions import min as _min
from ._shape import _static_index, _static_ints, concatenate, gather_axis, moveaxis
from ._ufuncs import add, floor, floor_divide, multiply, round, subtract, true_divide
from .util import asarray, broadcast_to, inexact_dtype, to_dtype

__all__ = ["pad"]

_ALLOWED = {"constant": {"constant_values"}, "edge": set(), "wrap": set(), "empty": set(),
            "linear_ramp": {"end_values"}, "maximum": {"stat_length"},
            "mean": {"stat_length"}, "median": {"stat_length"}, "minimum": {"stat_length"},
            "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}}
_STATS = {"maximum": _max, "minimum": _min, "mean": _mean, "median": _median}


def _pairs(x, nd, name):
    try:
        return np.broadcast_to(np.asarray(x), (nd, 2))
    except ValueError:
        raise ValueError(f"pad: {name} {x!r} must be a scalar, a (before, after) pair or one "
                         f"pair per axis ({nd} axes)") from None


def pad(array, pad_width, mode="constant", **kwargs):
    """``np.pad`` with all of its modes (see the module docstring)."""
    a = asarray(array)
    widths = _pairs(_static_ints(pad_width, "pad_width"), a.ndim, "pad_width")
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {widths.dtype}")
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    widths = [tuple(int(w) for w in pair) for pair in widths.tolist()]
    if callable(mode):
        return _pad_callable(a, widths, mode, kwargs)
    if mode not in _ALLOWED:
        raise ValueError(f"pad: mode {mode!r} is not supported; use one of "
                         f"{sorted(_ALLOWED)} or a function")
    if set(kwargs) - _ALLOWED[mode]:
        raise TypeError(f"pad: unsupported keyword(s) {sorted(set(kwargs) - _ALLOWED[mode])} "
                        f"for mode {mode!r}")
    if mode == "constant":
        return _pad_constant(a, widths, kwargs.get("constant_values", 0))
    if mode == "empty":
        return _pad_constant(a, widths, 0)
    for ax, (lo, hi) in enumerate(widths):
        if a.shape[ax] == 0 and (lo or hi):
            raise ValueError(f"pad: cannot extend the empty axis {ax} with mode {mode!r}; "
                             "only modes 'constant' and 'empty' can")
    if a.size == 0:
        return _pad_constant(a, widths, 0)
    if mode in _STATS:
        return _pad_stat(a, widths, mode, kwargs.get("stat_length"))
    if mode == "linear_ramp":
        ends = kwargs.get("end_values", 0)
        ends = broadcast_to(ends, (a.ndim, 2)) if isinstance(ends, ArrayBase) else \
            _pairs(ends, a.ndim, "end_values")
        for ax, (lo, hi) in enumerate(widths):
            a = _ramp_axis(a, ax, lo, hi, ends[ax, 0], ends[ax, 1])
        return a
    method = kwargs.get("reflect_type", "even")
    if method not in ("even", "odd"):
        raise ValueError(f"pad: reflect_type must be 'even' or 'odd', got {method!r}")
    for ax, (lo, hi) in enumerate(widths):
        if lo or hi:
            n = a.shape[ax]
            if method == "odd" and n > 1:
                a = _reflect_odd(a, ax, lo, hi, include_edge=mode == "symmetric")
            else:  # as NumPy, odd reflection of a single element repeats it
                a = gather_axis(a, _static_index(_periodic_index(mode, lo, n, hi)), ax)
    return a


# ----------------------------------------------------------------------------- constant
def _pad_constant(a, widths, values):
    dt = a.aval.dtype
    cfg = [(lo, hi, 0) for lo, hi in widths]
    if isinstance(values, ArrayBase):  # possibly traced
        values = to_dtype(values, dt)
        if values.ndim == 0:
            return sl.pad(a, values, cfg)
        vals = broadcast_to(values, (a.ndim, 2))
        pick = vals.__getitem__
    else:
        with np.errstate(all="ignore"):
            vals = _pairs(values, a.ndim, "constant_values").astype(dt)
        if np.ndim(values) == 0:
            return sl.pad(a, st.scalar(np.asarray(values).astype(dt), dt), cfg)
        pick = lambda ij: st.scalar(vals[ij], dt)  # noqa: E731
    for ax, (lo, hi, _) in enumerate(cfg):  # axis by axis: later axes own the corners
        for side, width in ((0, lo), (1, hi)):
            if width:
                one = [(0, 0, 0)] * a.ndim
                one[ax] = (width, 0, 0) if side == 0 else (0, width, 0)
                a = sl.pad(a, pick((ax, side)), one)
    return a


# ----------------------------------------------------------------------------- periodic
def _periodic_index(mode, lo, n, hi):
    """Source positions along an axis for pad modes that extend periodically (or by edge)."""
    p = np.arange(-lo, n + hi)
    if mode == "edge":
        return np.clip(p, 0, n - 1)
    if mode == "wrap":
        return p % n
    if mode == "symmetric":
        q = p % (2 * n)
        return np.where(q < n, q, 2 * n - 1 - q)
    if n == 1:  # reflect
        return np.zeros_like(p)
    q = p % (2 * (n - 1))
    return np.where(q < n, q, 2 * (n - 1) - q)


def _reflect_odd(a, ax, lo, hi, include_edge):
    """NumPy's odd reflection: each chunk is ``2 * edge - mirrored chunk``, reflecting the
    whole (already extended) array again when the pad is wider than the data."""
    n = a.shape[ax]
    eo = 1 if include_edge else 0
    cut = lambda x, i, j: sl.slice_in_dim(x, i, j, axis=ax)  # noqa: E731
    while lo > 0 or hi > 0:
        length = a.shape[ax]
        if include_edge:
            old = length // n * n
        else:
            old = (length - 1) // (n - 1) * (n - 1)
        if lo > 0:
            k = min(old, lo)
            chunk = sl.rev(cut(a, 1 - eo, k + 1 - eo), (ax,))
            chunk = subtract(multiply(2, cut(a, 0, 1)), chunk)
            a = concatenate([chunk, a], ax)
            lo -= k
        if hi > 0:
            k = min(old, hi)
            m = a.shape[ax]
            chunk = sl.rev(cut(a, m - 1 + eo - k, m - 1 + eo), (ax,))
            chunk = subtract(multiply(2, cut(a, m - 1, m)), chunk)
            a = concatenate([a, chunk], ax)
            hi -= k
    return a


# ----------------------------------------------------------------------------- statistics
def _pad_stat(a, widths, mode, stat_length):
    func = _STATS[mode]
    if stat_length is None:
        lengths = [(None, None)] * a.ndim
    else:
        lens = _pairs(_static_ints(stat_length, "stat_length"), a.ndim, "stat_length")
        lens = np.round(lens).astype(np.int64)
        if (lens < 0).any():
            raise ValueError(f"pad: stat_length can't contain negative values, got "
                             f"{stat_length!r}")
        lengths = lens.tolist()
    dt = a.dtype
    for ax, ((lo, hi), (ll, rl)) in enumerate(zip(widths, lengths)):
        n = a.shape[ax]
        ll = n if ll is None or ll > n else ll
        rl = n if rl is None or rl > n else rl
        if (ll == 0 or rl == 0) and mode in ("maximum", "minimum"):
            raise ValueError("pad: stat_length of 0 yields no value for padding")
        if not (lo or hi):
            continue

        def stat(i, j):
            s = func(sl.slice_in_dim(a, i, j, axis=ax), axis=ax, keepdims=True)
            if dt.kind in "iub" and s.dtype != dt:
                s = round(s)  # half to even, as NumPy's _round_if_needed
            return to_dtype(s, dt, a.aval.weak_type)

        left = stat(0, ll)
        right = left if ll == rl == n else stat(n - rl, n)
        parts = []
        for w, s in ((lo, left), (0, None), (hi, right)):
            if s is None:
                parts.append(a)
            elif w:
                shape = list(a.shape)
                shape[ax] = w
                parts.append(broadcast_to(s, tuple(shape)))
        a = concatenate(parts, ax)
    return a


# ----------------------------------------------------------------------------- linear_ramp
def _ramp(a, ax, edge, end, w):
    """``linspace(end, edge, w, endpoint=False)`` along ``ax`` (NumPy's ramp toward an edge);
    integer arrays floor the ramp (exactly, in integers, for integer end values)."""
    shape = [1] * a.ndim
    shape[ax] = w
    dt = a.dtype
    concrete = not isinstance(end, ArrayBase)
    if dt.kind in "iu" and concrete and float(end).is_integer():
        i = arange(w, dtype=dt).reshape(shape)
        end = to_dtype(int(end), dt)
        return add(end, floor_divide(multiply(i, subtract(edge, end)), w))
    cdt, _ = inexact_dtype(dt)
    end = to_dtype(end, cdt)
    i = arange(w, dtype=cdt).reshape(shape)
    ramp = add(multiply(i, true_divide(subtract(to_dtype(edge, cdt), end), w)), end)
    return to_dtype(floor(ramp) if dt.kind in "iu" else ramp, dt, a.aval.weak_type)


def _ramp_axis(a, ax, lo, hi, end_lo, end_hi):
    n = a.shape[ax]
    parts = [a]
    if lo:
        parts.insert(0, _ramp(a, ax, sl.slice_in_dim(a, 0, 1, axis=ax), end_lo, lo))
    if hi:
        right = _ramp(a, ax, sl.slice_in_dim(a, n - 1, n, axis=ax), end_hi, hi)
        parts.append(sl.rev(right, (ax,)))
    return concatenate(parts, ax) if len(parts) > 1 else a


# ----------------------------------------------------------------------------- callable
def _vectorize():
    """``lepton.numpy.vectorize``, which ``lepton.transforms.vectorize`` installs late (it is
    built on vmap, a layer above this one), read when a callable mode is used."""
    from . import vectorize
    return vectorize


def _pad_callable(a, widths, func, kwargs):
    """JAX's form of NumPy's callable mode: ``func(vector, (before, after), axis, kwargs)``
    is applied to every 1-D lane of each axis in turn (by ``vectorize``) and returns it."""
    out = _pad_constant(a, widths, 0)
    if out.size == 0:
        return out
    for ax in range(out.ndim):
        def lane(v, ax=ax):
            r = func(v, widths[ax], ax, kwargs)
            if r is None:
                raise TypeError("pad: a callable mode must return the padded vector; lepton "
                                "arrays are immutable, so NumPy-style in-place updates "
                                "(vector[:k] = ...) become `return vector.at[:k].set(...)`")
            r = asarray(r)
            if r.shape != v.shape:
                raise ValueError(f"pad: the callable returned shape {r.shape} for a vector of "
                                 f"shape {v.shape}; it must keep the length")
            return to_dtype(r, out.dtype, out.aval.weak_type)
        moved = _vectorize()(lane, signature="(n)->(n)")(moveaxis(out, ax, -1))
        out = moveaxis(moved, -1, ax)
    return out
