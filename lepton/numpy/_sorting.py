"""Sorting and sets: sort, argsort, lexsort, partition, unique, isin, bincount.

All sorting is the stable multi-operand ``sort`` primitive (NaNs last, as NumPy).
Functions whose output size depends on the data (``unique``, ``bincount``) compute
directly on concrete arrays and need a static ``size=`` / ``length=`` under tracing.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import Array, ArrayBase, Tracer
from ..errors import ConcretizationError, ShapeError
from ..primitives import elementwise as ew
from ..primitives import reductions as red
from ..primitives import sorting
from ..primitives.indexing import scatter_add
from ..primitives.reductions import shift
from ..primitives import slicing as sl
from ..primitives.slicing import pad, slice_in_dim
from ..primitives.structural import broadcast_in_dim, full, iota, reshape
from ._reductions import _eager_value, _float_dtype
from ._ufuncs import isnan
from .util import asarray, normalize_axis, result_type_of, to_dtype

__all__ = ["sort", "argsort", "lexsort", "partition", "argpartition", "unique", "isin",
           "bincount"]


def _sort_axis(a, axis, name):
    """(array, axis): ``axis=None`` sorts the flattened array; 0-d arrays have no axis."""
    if axis is None:
        v = _eager_value(a)
        flat = (a.size,)
        return (Array(v.reshape(flat), a.aval.update(shape=flat)) if v is not None
                else reshape(a, flat)), 0
    if a.ndim == 0:
        raise ShapeError(f"{name}: axis {axis} is out of bounds for an array of dimension 0 "
                         "(pass axis=None to sort it as a 1-element array)")
    return a, normalize_axis(axis, a.ndim)


def _check_order(order, name):
    if order is not None:
        raise NotImplementedError(f"{name}: order= (structured arrays) is not supported")


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy along ``axis`` (stable; NaNs last, first when ``descending``, as JAX).
    ``kind`` is accepted and ignored."""
    _check_order(order, "sort")
    a, axis = _sort_axis(asarray(a), axis, "sort")
    v = _eager_value(a)  # the primitive's impl, without the dispatch overhead
    if v is not None:
        out = np.sort(v, axis, kind="stable")
        return Array(np.flip(out, axis) if descending else out, a.aval)
    out = sorting.sort([a], axis)[0]
    return sl.rev(out, (axis,)) if descending else out


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Indices (int32; int64 in x64 mode, as JAX) that sort ``a`` along ``axis``; always
    stable (with ``descending``, equal elements keep their original order, as JAX)."""
    _check_order(order, "argsort")
    a, axis = _sort_axis(asarray(a), axis, "argsort")
    if descending:  # stable descending: sort the reversed array, map indices back, reverse
        n = a.shape[axis]
        idx = argsort(sl.rev(a, (axis,)), axis)
        return sl.rev(ew.sub(full(idx.shape, n - 1, idx.dtype), idx), (axis,))
    v = _eager_value(a)  # the primitive's permutation, without the dispatch overhead
    if v is not None:
        return Array(np.argsort(v, axis, kind="stable").astype(dtypes.default_int()))
    return sorting.argsort(a, axis, index_dtype=dtypes.default_int())


def lexsort(keys, axis=-1):
    """Indices sorting by several keys; the last key is the primary one (as NumPy).

    ``keys`` is a sequence of arrays or an array with one key per row; a 1-D array is one
    key (NumPy would read its elements as 0-d keys)."""
    if isinstance(keys, (ArrayBase, np.ndarray)):
        keys = asarray(keys)
        keys = [_row(keys, i) for i in range(keys.shape[0])] if keys.ndim > 1 else [keys]
    keys = [asarray(k) for k in keys]
    if not keys:
        raise TypeError("lexsort: need sequence of keys with len > 0")
    _, axis = _sort_axis(keys[0], axis, "lexsort")
    return sorting.argsort(keys[::-1], axis, index_dtype=dtypes.default_int())


def _row(x, i):
    return reshape(slice_in_dim(x, i, i + 1), x.shape[1:])


def _check_kth(a, kth, axis):
    n = a.shape[axis]
    for k in np.atleast_1d(kth):
        if not -n <= operator.index(k) < n:
            raise ValueError(f"kth(={k}) out of bounds ({n})")


def partition(a, kth, axis=-1):
    """A partition around ``kth``: here the fully sorted array, which satisfies NumPy's
    contract (smaller elements before position kth, larger after)."""
    a, ax = _sort_axis(asarray(a), axis, "partition")
    _check_kth(a, kth, ax)
    return sorting.sort([a], ax)[0]


def argpartition(a, kth, axis=-1):
    """Indices of a partition around ``kth``: here ``argsort``, which satisfies the contract."""
    a, ax = _sort_axis(asarray(a), axis, "argpartition")
    _check_kth(a, kth, ax)
    return sorting.argsort(a, ax)


# ----------------------------------------------------------------------------- unique
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None):
    """Sorted unique elements (and first indices, inverse, counts as int32; int64 in x64).

    Concrete input is computed directly.  With a static ``size=`` (required for traced
    input) the unique values are found by sorting and padded with ``fill_value`` (default:
    the smallest element) or truncated to ``size``; padded indices and counts are 0.
    ``size=`` supports only ``axis=None``.
    """
    ar = asarray(ar)
    if size is None:
        if isinstance(ar, Tracer):
            raise ConcretizationError(
                "unique: the number of unique elements of a traced array is not known while "
                "tracing. Pass size= (a static maximum number of unique elements) and "
                "optionally fill_value= for the padding.")
        outs = _unique_concrete(ar, return_index, return_inverse, return_counts, axis,
                                equal_nan)
    elif axis is not None:
        raise NotImplementedError("unique: axis= cannot be combined with size=")
    else:
        outs = _unique_sized(ar, return_index, return_inverse, return_counts, equal_nan,
                             operator.index(size), fill_value)
    outs = outs[:1] + [to_dtype(o, dtypes.default_int()) for o in outs[1:]]  # as JAX in x64
    return outs[0] if len(outs) == 1 else tuple(outs)


def _unique_concrete(ar, return_index, return_inverse, return_counts, axis, equal_nan):
    res = np.unique(np.asarray(ar), return_index, return_inverse, return_counts, axis=axis,
                    equal_nan=equal_nan)
    res = res if isinstance(res, tuple) else (res,)
    vals = asarray(res[0].astype(ar.dtype, copy=False))
    return [vals] + [asarray(r.astype(np.int32)) for r in res[1:]]


def _unique_sized(ar, return_index, return_inverse, return_counts, equal_nan, size,
                  fill_value):
    """unique by sorting: mark where a sorted run starts, then move the run starts to the
    front with a second stable sort (keyed on "not a start")."""
    flat = reshape(ar, (ar.size,))
    n = flat.shape[0]
    if n == 0:
        raise ValueError("unique: size= needs a non-empty array to pad from")
    pos = iota(dtypes.int32, (n,))
    vals, perm = sorting.sort([flat, pos], 0)
    new = ew.ne(vals, shift(vals, 1, 0, 0))
    if equal_nan and vals.dtype.kind in "fc":
        nan = isnan(vals)
        new = ew.bitwise_and(new, ew.bitwise_not(ew.bitwise_and(nan, shift(nan, 1, False, 0))))
    new = ew.bitwise_or(new, ew.eq(pos, full((n,), 0, dtypes.int32)))
    count = red.reduce_sum(to_dtype(new, dtypes.int32), (0,))
    not_start = to_dtype(ew.bitwise_not(new), dtypes.int32)
    _, uvals, first, start = sorting.sort([not_start, vals, perm, pos], 0)
    valid = ew.lt(pos, broadcast_in_dim(count, (n,), ()))
    if fill_value is None:  # as JAX: pad with the smallest element
        fill = reshape(slice_in_dim(vals, 0, 1), ())
    else:
        fill = to_dtype(asarray(fill_value), vals.dtype)
    uvals = _fit(ew.select(valid, uvals, broadcast_in_dim(fill, (n,), ())), size, fill)
    outs = [uvals]
    if return_index:
        outs.append(_fit(ew.select(valid, first, full((n,), 0, dtypes.int32)), size, 0))
    if return_inverse:
        group = ew.sub(red.cumsum(to_dtype(new, dtypes.int32), 0), full((n,), 1, dtypes.int32))
        inverse = sorting.sort([perm, group], 0)[1]  # back to the input's order
        outs.append(reshape(inverse, ar.shape))
    if return_counts:
        start = ew.select(valid, start, full((n,), n, dtypes.int32))
        counts = ew.sub(shift(start, 1, n, 0, reverse=True), start)
        outs.append(_fit(counts, size, 0))
    return outs


def _fit(x, size, fill):
    """``x`` (1-D) truncated or padded with ``fill`` to length ``size``."""
    n = x.shape[0]
    if size <= n:
        return slice_in_dim(x, 0, size)
    return pad(x, fill, [(0, size - n, 0)])


# ----------------------------------------------------------------------------- isin/bincount
def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each element of ``element`` occurs in ``test_elements`` (shape of element)."""
    dt, weak = result_type_of(element, test_elements)
    e = to_dtype(asarray(element), dt, weak)
    t = asarray(test_elements)
    t = to_dtype(reshape(t, (t.size,)), dt, weak)
    m = t.shape[0]
    shape = e.shape + (m,)
    hits = ew.eq(broadcast_in_dim(e, shape, tuple(range(e.ndim))),
                 broadcast_in_dim(t, shape, (e.ndim,)))
    found = red.reduce_or(hits, (e.ndim,))
    return ew.bitwise_not(found) if invert else found


def bincount(x, weights=None, minlength=0, *, length=None):
    """Counts (int32; int64 in x64 mode) or summed ``weights`` of each value in the non-negative int array ``x``.

    The output length is ``max(x) + 1`` (at least ``minlength``), or ``length`` (needed when
    ``x`` is traced).  Weighted sums are float32 (float64 for 64-bit weights), as NumPy's
    float64 under lepton's defaults.  Under tracing, values outside [0, length) are dropped.
    """
    x = asarray(x)
    if x.dtype.kind not in "biu":
        raise TypeError(f"bincount: x must be an array of non-negative integers, got "
                        f"{x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"bincount: x must be 1-dimensional, got shape {x.shape}")
    w = None if weights is None else asarray(weights)
    out_dt = dtypes.default_int() if w is None else _float_dtype(w.dtype)
    if w is not None and w.shape != x.shape:
        raise ValueError(f"bincount: weights shape {w.shape} must equal x's shape {x.shape}")
    if length is None:
        if isinstance(x, Tracer):
            raise ConcretizationError(
                "bincount: the output length depends on max(x), which is not known while "
                "tracing. Pass length= (a static number of bins).")
        xv = np.asarray(x)
        if xv.size and xv.min() < 0:
            raise ValueError("bincount: x must have no negative elements")
        length = max(int(xv.max()) + 1 if xv.size else 0, operator.index(minlength))
        if w is None or not isinstance(w, Tracer):
            wv = None if w is None else np.asarray(w)
            return asarray(np.bincount(xv, wv, length).astype(out_dt))
    updates = full(x.shape, 1, out_dt) if w is None else to_dtype(w, out_dt)
    return scatter_add(full((operator.index(length),), 0, out_dt), updates,
                       [to_dtype(x, dtypes.int32)], (0,), mode="drop")
