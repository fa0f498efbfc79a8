"""The array-API ``unique_*`` functions and the 1-D set operations as ``jax.numpy``.

Their output lengths depend on the data: as JAX, traced input needs a static ``size=``
(padded with ``fill_value``); eager calls without it give NumPy's result."""
from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..core import ArrayBase, Tracer
from ..errors import ConcretizationError
from .. import numpy as _lnp  # this package; attributes are read at call time

__all__ = ["unique_all", "unique_counts", "unique_inverse", "unique_values", "intersect1d",
           "union1d", "setdiff1d", "setxor1d"]


# ----------------------------------------------------------------------------- unique_*
class UniqueAllResult(NamedTuple):
    values: ArrayBase
    indices: ArrayBase
    inverse_indices: ArrayBase
    counts: ArrayBase


class UniqueCountsResult(NamedTuple):
    values: ArrayBase
    counts: ArrayBase


class UniqueInverseResult(NamedTuple):
    values: ArrayBase
    inverse_indices: ArrayBase


def unique_all(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_all``: sorted values, first indices, inverse (shape of ``x``) and
    counts.  As JAX, NaNs are not merged (``equal_nan=False``); ``size=`` as ``unique``."""
    x = _lnp.asarray(x)
    v, i, inv, c = _lnp.unique(x, return_index=True, return_inverse=True, return_counts=True,
                               equal_nan=False, size=size, fill_value=fill_value)
    return UniqueAllResult(v, i, _lnp.reshape(inv, x.shape), c)


def unique_counts(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_counts``: sorted values and their counts (NaNs not merged)."""
    v, c = _lnp.unique(x, return_counts=True, equal_nan=False, size=size,
                       fill_value=fill_value)
    return UniqueCountsResult(v, c)


def unique_inverse(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_inverse``: sorted values and the inverse (shape of ``x``)."""
    x = _lnp.asarray(x)
    v, inv = _lnp.unique(x, return_inverse=True, equal_nan=False, size=size,
                         fill_value=fill_value)
    return UniqueInverseResult(v, _lnp.reshape(inv, x.shape))


def unique_values(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_values``: the sorted unique values (NaNs not merged)."""
    return _lnp.unique(x, equal_nan=False, size=size, fill_value=fill_value)


# ----------------------------------------------------------------------------- set ops
def _set_args(name, ar1, ar2, size, promote=True):
    """Both inputs flattened (to the promoted dtype if ``promote``); a traced input needs
    ``size=``."""
    a1, a2 = _lnp.ravel(_lnp.asarray(ar1)), _lnp.ravel(_lnp.asarray(ar2))
    if promote:
        dt = _lnp.result_type(a1, a2)
        a1, a2 = a1.astype(dt), a2.astype(dt)
    if size is None and (isinstance(a1, Tracer) or isinstance(a2, Tracer)):
        raise ConcretizationError(
            f"{name}: the result length depends on the values of traced inputs "
            f"{a1.aval.str_short()}, {a2.aval.str_short()}. Pass size= (a static maximum "
            "number of elements) and optionally fill_value= for the padding.")
    return a1, a2, (None if size is None else operator.index(size))


def _concrete(*xs):
    return [np.asarray(x) for x in xs]


def _unique_padded(a):
    """(sorted unique values padded with the smallest, mask of the real ones, first
    indices) of a non-empty 1-D array, at its own length: traceable."""
    n = a.shape[0]
    u, first = _lnp.unique(a, return_index=True, size=n)
    count = n + 1 - _lnp.sum(u == u[0])  # padding repeats u[0], the smallest value
    return u, _lnp.arange(n) < count, first


def _select(vals, keep, size, fill_value, default_fill):
    """The ``keep`` entries of ``vals`` (in order), truncated or padded to ``size``."""
    n_keep = _lnp.sum(keep)
    idx = _lnp.nonzero(keep, size=size, fill_value=0)[0]
    out = vals[idx] if vals.shape[0] else _lnp.zeros((size,), vals.dtype)
    valid = _lnp.arange(size) < n_keep
    if fill_value is None:
        fill = default_fill(out, valid)
    else:
        fill = _lnp.asarray(fill_value).astype(vals.dtype)
    return _lnp.where(valid, out, fill), valid


def _min_of_valid(out, valid):
    """JAX's default padding for intersect1d/setxor1d: the smallest result (0 if none)."""
    if not out.shape[0]:
        return _lnp.zeros((), out.dtype)
    zero = _lnp.where(valid, out, _lnp.zeros((), out.dtype))
    top = _lnp.where(valid, zero, _lnp.max(zero))
    return _lnp.min(top)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
    """Sorted unique values in both inputs (flattened); with ``return_indices`` also their
    first positions in each.  With ``size=`` the result is padded with ``fill_value``
    (default: the smallest result) and the padded indices are ``ar1.size``/``ar2.size``."""
    a1, a2, size = _set_args("intersect1d", ar1, ar2, size)
    if size is None:
        res = np.intersect1d(*_concrete(a1, a2), assume_unique=assume_unique,
                             return_indices=return_indices)
        if not return_indices:
            return _lnp.asarray(res.astype(a1.dtype, copy=False))
        vals, i1, i2 = res
        it = dtypes.default_int()
        return (_lnp.asarray(vals.astype(a1.dtype, copy=False)), _lnp.asarray(i1.astype(it)),
                _lnp.asarray(i2.astype(it)))
    n1, n2 = a1.shape[0], a2.shape[0]
    if n1 and n2:
        u1, valid1, first1 = _unique_padded(a1)
        keep = valid1 & _lnp.isin(u1, a2)
    else:
        u1, keep, first1 = a1, _lnp.zeros((n1,), bool), _lnp.zeros((n1,), int)
    vals, valid = _select(u1, keep, size, fill_value, _min_of_valid)
    if not return_indices:
        return vals
    it = dtypes.default_int()
    i1 = first1[_lnp.nonzero(keep, size=size, fill_value=0)[0]] if n1 else \
        _lnp.zeros((size,), it)
    i2 = (_lnp.argmax(vals[:, None] == a2[None, :], axis=1) if n2
          else _lnp.zeros((size,), it))
    i1 = _lnp.where(valid, i1.astype(it), n1)
    i2 = _lnp.where(valid, i2.astype(it), n2)
    return vals, i1, i2


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """Sorted unique values in either input (flattened); ``size=``/``fill_value=`` as
    ``unique``."""
    a1, a2, size = _set_args("union1d", ar1, ar2, size)
    both = _lnp.concatenate([a1, a2])
    if size is None:
        return _lnp.unique(both)
    if not both.shape[0]:
        if fill_value is None:
            raise ValueError("union1d: both inputs are empty, so size= needs fill_value= "
                             "for the padding")
        return _lnp.full((size,), fill_value, both.dtype)
    return _lnp.unique(both, size=size, fill_value=fill_value)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Sorted unique values of ``ar1`` not in ``ar2``, in ``ar1``'s dtype.  With ``size=``
    the result is padded with ``fill_value`` (default 0, as JAX)."""
    a1, a2, size = _set_args("setdiff1d", ar1, ar2, size, promote=False)
    if size is None:
        res = np.setdiff1d(*_concrete(a1, a2), assume_unique=assume_unique)
        return _lnp.asarray(res.astype(a1.dtype, copy=False))
    if not a1.shape[0]:
        fill = 0 if fill_value is None else fill_value
        return _lnp.full((size,), fill, a1.dtype)
    u1, valid1, _ = _unique_padded(a1)
    keep = valid1 & ~_lnp.isin(u1, a2) if a2.shape[0] else valid1
    zero = lambda out, valid: _lnp.zeros((), out.dtype)  # noqa: E731
    return _select(u1, keep, size, fill_value, zero)[0]


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Sorted values in exactly one of the inputs.  With ``size=`` the result is padded
    with ``fill_value`` (default: the smallest result)."""
    a1, a2, size = _set_args("setxor1d", ar1, ar2, size)
    if size is None:
        res = np.setxor1d(*_concrete(a1, a2), assume_unique=assume_unique)
        return _lnp.asarray(res.astype(a1.dtype, copy=False))
    parts, keeps = [], []
    for a, b in ((a1, a2), (a2, a1)):
        if not a.shape[0]:
            continue
        u, valid, _ = _unique_padded(a)
        parts.append(u)
        keeps.append(valid & ~_lnp.isin(u, b) if b.shape[0] else valid)
    if not parts:
        return _lnp.full((size,), 0 if fill_value is None else fill_value, a1.dtype)
    cand, keep = _lnp.concatenate(parts), _lnp.concatenate(keeps)
    order = _lnp.lexsort((cand, ~keep))  # kept values first, sorted
    return _select(cand[order], keep[order], size, fill_value, _min_of_valid)[0]
