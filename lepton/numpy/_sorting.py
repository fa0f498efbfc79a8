"""Sorting and sets: sort, argsort, lexsort, partition, unique, isin, bincount.

All sorting is the stable multi-operand ``sort`` primitive (NaNs last, as NumPy).
Functions whose output size depends on the data (``unique``, ``bincount``) compute
directly on concrete arrays and need a static ``size=`` / ``length=`` under tracing.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ..errors import ConcretizationError, ShapeError
from ..primitives import elementwise as ew
from ..primitives import reductions as red
from ..primitives import sorting
from ..primitives.reductions import shift
from ..primitives.structural import broadcast_in_dim, full, iota, reshape
from ._shape import ravel
from ._ufuncs import _to_bool, isnan
from ._util import asarray, normalize_axis, promote_args, to_dtype

__all__ = ["sort", "argsort", "lexsort", "partition", "argpartition", "unique", "isin",
           "bincount"]


def _sort_axis(a, axis, name):
    """(array, axis): ``axis=None`` sorts the flattened array; 0-d arrays have no axis."""
    if axis is None:
        return ravel(a), 0
    if a.ndim == 0:
        raise ShapeError(f"{name}: axis {axis} is out of bounds for an array of dimension 0 "
                         "(pass axis=None to sort it as a 1-element array)")
    return a, normalize_axis(axis, a.ndim)


def _check_order(order, name):
    if order is not None:
        raise NotImplementedError(f"{name}: order= (structured arrays) is not supported")


def sort(a, axis=-1, *, kind=None, order=None, stable=True):
    """Sorted copy along ``axis`` (stable; NaNs last).  ``kind`` is accepted and ignored."""
    _check_order(order, "sort")
    a, axis = _sort_axis(asarray(a), axis, "sort")
    return sorting.sort([a], axis)[0]


def argsort(a, axis=-1, *, kind=None, order=None, stable=True):
    """Indices (int32) that sort ``a`` along ``axis``; always stable."""
    _check_order(order, "argsort")
    a, axis = _sort_axis(asarray(a), axis, "argsort")
    return sorting.argsort(a, axis)


def lexsort(keys, axis=-1):
    """Indices sorting by several keys; the last key is the primary one (as NumPy)."""
    keys = [asarray(k) for k in (keys if isinstance(keys, (list, tuple)) else
                                 [keys[i] for i in range(len(keys))])]
    if not keys:
        raise TypeError("lexsort: need at least one key")
    a, axis = _sort_axis(keys[0], axis, "lexsort")
    return sorting.argsort(keys[::-1], axis)


def partition(a, kth, axis=-1):
    """A partition around ``kth``: here the fully sorted array, which satisfies NumPy's
    contract (smaller elements before position kth, larger after)."""
    return sort(a, axis)


def argpartition(a, kth, axis=-1):
    """Indices of a partition around ``kth``: here ``argsort``, which satisfies the contract."""
    return argsort(a, axis)


# ----------------------------------------------------------------------------- unique
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None):
    """Sorted unique elements (and first indices, inverse, counts as int32).

    Concrete input is computed directly.  Traced input needs a static ``size=``: the
    result is padded with ``fill_value`` (default: the smallest element) or truncated to
    ``size``; padded counts are 0 and padded indices point at the first occurrence of
    the fill.  Under tracing only ``axis=None`` is supported.
    """
    ar = asarray(ar)
    if not isinstance(ar, Tracer):
        outs = _unique_concrete(ar, return_index, return_inverse, return_counts, axis,
                                equal_nan)
        if size is not None:
            outs = _unique_traced(ar, return_index, return_inverse, return_counts, equal_nan,
                                  size, fill_value)
    elif size is None:
        raise ConcretizationError(
            "unique: the number of unique elements of a traced array is not known while "
            "tracing. Pass size= (a static maximum number of unique elements) and optionally "
            "fill_value= for the padding.")
    elif axis is not None:
        raise NotImplementedError("unique: axis= is not supported for traced arrays")
    else:
        outs = _unique_traced(ar, return_index, return_inverse, return_counts, equal_nan,
                              size, fill_value)
    return outs[0] if len(outs) == 1 else tuple(outs)


def _unique_concrete(ar, return_index, return_inverse, return_counts, axis, equal_nan):
    res = np.unique(np.asarray(ar), return_index, return_inverse, return_counts, axis=axis,
                    equal_nan=equal_nan)
    res = res if isinstance(res, tuple) else (res,)
    vals = asarray(res[0].astype(ar.dtype, copy=False))
    return [vals] + [asarray(r.astype(np.int32)) for r in res[1:]]


def _unique_traced(ar, return_index, return_inverse, return_counts, equal_nan, size,
                   fill_value):
    """unique by sorting: mark where a sorted run starts, then move the run starts to the
    front with a second stable sort (keyed on "not a start")."""
    size = operator.index(size)
    flat = ravel(ar)
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
    fill = vals[0] if fill_value is None else to_dtype(asarray(fill_value), vals.dtype)
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
        from ..primitives.slicing import slice_in_dim
        return slice_in_dim(x, 0, size)
    fill = fill if hasattr(fill, "aval") else full((), fill, x.dtype)
    from ..primitives.slicing import pad
    return pad(x, fill, [(0, size - n, 0)])


# ----------------------------------------------------------------------------- isin/bincount
def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each element of ``element`` occurs in ``test_elements`` (shape of element)."""
    e, t = promote_args("isin", *_same_rank_free(element, test_elements))
    m = t.shape[0]
    shape = e.shape + (m,)
    hits = ew.eq(broadcast_in_dim(e, shape, tuple(range(e.ndim))),
                 broadcast_in_dim(t, shape, (e.ndim,)))
    found = red.reduce_or(hits, (e.ndim,))
    return ew.bitwise_not(found) if invert else found


def _same_rank_free(element, test_elements):
    """Convert without broadcasting: the test elements are flattened."""
    from ._util import result_type_of
    dt, weak = result_type_of(element, test_elements)
    return to_dtype(asarray(element), dt, weak), to_dtype(ravel(asarray(test_elements)), dt, weak)


def bincount(x, weights=None, minlength=0, *, length=None):
    """Counts (int32) or summed ``weights`` of each value in the non-negative int array ``x``.

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
    out_dt = dtypes.int32 if w is None else (
        w.dtype if dtypes.is_inexact(w.dtype) else
        dtypes.float64 if w.dtype.itemsize == 8 else dtypes.float32)
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
    length = operator.index(length)
    ones = full(x.shape, 1, out_dt) if w is None else to_dtype(w, out_dt)
    shape = x.shape + (length,)
    hit = ew.eq(broadcast_in_dim(to_dtype(x, dtypes.int32), shape, (0,)),
                iota(dtypes.int32, shape, 1))
    vals = broadcast_in_dim(ones, shape, (0,))
    return red.reduce_sum(ew.select(hit, vals, full(shape, 0, out_dt)), (0,))
