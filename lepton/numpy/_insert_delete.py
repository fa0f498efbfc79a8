"""insert, delete and put_along_axis, as JAX: each returns a new array (no in-place writes);
the output shapes come from static arguments only, so they trace, batch and differentiate
(gradients flow to ``arr`` and ``values``)."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ..errors import ConcretizationError
from ..primitives.structural import full
from ._creation import arange, array
from ._indexing import indices as _indices, nonzero
from ._shape import concatenate, moveaxis, ravel, reshape
from ._sorting import argsort
from ._ufuncs import clip, where
from .util import asarray, broadcast_shapes, broadcast_to, normalize_axis

__all__ = ["insert", "delete", "put_along_axis"]


def _flat_axis(a, axis, name):
    a = asarray(a)
    if axis is None:
        return ravel(a), 0
    if isinstance(axis, Tracer):
        raise ConcretizationError(f"{name}: axis must be a static int, not a traced value")
    return a, normalize_axis(axis, a.ndim)


def insert(arr, obj, values, axis=None):
    """``arr`` with ``values`` inserted before the positions ``obj`` (an int, a slice or a 1-d
    int array, possibly traced) along ``axis`` (the flattened array if None), as JAX."""
    a, axis = _flat_axis(arr, axis, "insert")
    n_input = a.shape[axis]
    if isinstance(obj, slice):
        idx = arange(*obj.indices(n_input))
    else:
        idx = asarray(obj)
    if idx.ndim > 1:
        raise ValueError(f"insert: obj must be a slice, a one-dimensional array or a scalar; "
                         f"got shape {idx.shape}")
    if idx.dtype.kind not in "iu":
        if idx.size == 0 and not isinstance(obj, Tracer):
            idx = idx.astype(dtypes.default_int())
        else:
            raise ValueError(f"insert: index array must be integer typed; got {idx.dtype}")
    vals = array(values, ndmin=a.ndim, dtype=a.dtype)
    if idx.size == 1:
        index = reshape(idx, ())
        if idx.ndim == 0:
            vals = moveaxis(vals, 0, axis)
        idx = broadcast_to(index, (vals.shape[axis],))
    n_insert = broadcast_shapes(idx.shape, (vals.shape[axis],), name="insert")[0]
    out_shape = list(a.shape)
    out_shape[axis] += n_insert
    idx = broadcast_to(idx, (n_insert,))
    idx = clip(where(idx < 0, idx + n_input, idx), 0, n_input)
    # Each inserted value lands at its index plus the number of values inserted before it
    # (a stable sort keeps equal indices in the order given); the old ones fill the rest.
    values_ind = idx.at[argsort(idx)].add(arange(n_insert, dtype=idx.dtype))
    arr_mask = full((n_input + n_insert,), True, dtypes.bool_)
    arr_mask = arr_mask.at[values_ind].set(False)
    arr_ind = nonzero(arr_mask, size=n_input)[0]
    out = full(tuple(out_shape), 0, a.dtype, a.weak_type)
    lead = (slice(None),) * axis
    out = out.at[lead + (values_ind,)].set(vals)
    return out.at[lead + (arr_ind,)].set(a)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """``arr`` without the entries ``obj`` (an int, a slice, a 1-d int or bool array) along
    ``axis`` (the flattened array if None), as JAX.  Integer arrays must be concrete (their
    duplicates set the output length) unless ``assume_unique_indices=True``."""
    a, axis = _flat_axis(arr, axis, "delete")
    n = a.shape[axis]
    lead = (slice(None),) * axis
    if not isinstance(obj, (slice, Tracer)) and np.ndim(obj) == 0 \
            and not isinstance(obj, (bool, np.bool_)) and hasattr(obj, "__index__"):
        i = operator.index(obj)
        if not -n <= i < n:
            raise IndexError(f"delete: index {i} is out of bounds for axis {axis} with size {n}")
        i %= n
        return concatenate([a[lead + (slice(0, i),)], a[lead + (slice(i + 1, None),)]],
                           axis=axis)
    if isinstance(obj, slice):
        obj = np.arange(n)[obj]
        assume_unique_indices = True
    o = asarray(obj)
    if o.dtype.kind in "iu" and assume_unique_indices:
        # the n - len(obj) positions left, in O(n) (JAX compares every pair: O(n len(obj)))
        o = ravel(o)
        o = where(o < 0, o + n, o)
        mask = full((n,), True, dtypes.bool_).at[o].set(False, mode="drop")
        keep = nonzero(mask, size=n - o.shape[0], fill_value=n - 1 if n else 0)[0]
        return a[lead + (keep,)]
    if isinstance(o, Tracer):
        raise ConcretizationError(
            f"delete: the output length depends on the values of obj ({o.aval.str_short()}), "
            "which are not known while tracing. Pass concrete indices, a slice, or "
            "assume_unique_indices=True for unique integer indices.")
    ov = np.asarray(o)
    if ov.dtype.kind in "iu":
        keep = np.ones(n, dtype=bool)
        try:
            keep[ov] = False
        except IndexError:
            raise IndexError(f"delete: indices {ov.tolist()} out of bounds for axis {axis} "
                             f"with size {n}") from None
    elif ov.dtype == np.bool_:
        if ov.shape != (n,):
            raise ValueError(f"delete: boolean obj must be one-dimensional with length {n} "
                             f"(the size of axis {axis}), got shape {ov.shape}")
        keep = ~ov
    else:
        raise ValueError(f"delete: obj must hold integers or booleans, got {ov.dtype}")
    return a[lead + (np.flatnonzero(keep),)]


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """``arr`` with ``values`` written at ``indices`` along ``axis`` (the flattened array if
    None), as ``numpy.put_along_axis``.  JAX arrays are immutable: pass ``inplace=False``
    (the default True raises, as in JAX).  As JAX, out-of-bounds indices are dropped (NumPy
    raises) unless ``mode`` says otherwise ("clip", "drop", "promise_in_bounds")."""
    if inplace:
        raise ValueError("put_along_axis cannot modify arrays in place, because lepton (like "
                         "JAX) arrays are immutable. Pass inplace=False to get an updated copy.")
    a = asarray(arr)
    shape0 = a.shape
    a, ax = _flat_axis(a, axis, "put_along_axis")
    i = asarray(indices)
    if i.dtype.kind not in "iu":
        raise IndexError(f"put_along_axis: indices must be integers, got {i.dtype}")
    if a.ndim != i.ndim:
        raise ValueError(f"put_along_axis: arr and indices must have the same number of "
                         f"dimensions, got arr shape {a.shape} and indices shape {i.shape}")
    try:
        v = broadcast_to(asarray(values), i.shape)
    except ValueError:
        raise ValueError(f"put_along_axis: values (shape {np.shape(values)}) must broadcast "
                         f"to the indices' shape {i.shape}") from None
    idx = list(_indices(a.shape, sparse=True))
    idx[ax] = i
    # mode None is JAX's scatter default: negative indices count from the end, indices out of
    # bounds are dropped (NumPy raises; lepton's eager x.at[...] follows NumPy there)
    out = a.at[tuple(idx)].set(v, mode="drop" if mode is None else mode)
    return reshape(out, shape0) if axis is None else out
