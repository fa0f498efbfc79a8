"""More ``jax.numpy`` names built from existing lepton.numpy functions (no new primitives).

Grids (``mgrid``, ``ogrid``, ``fromfunction``), the array-API ``unique_*`` functions and
the 1-D set operations, and selection helpers.  Set operations have data-dependent output
lengths: as JAX, traced input needs a static ``size=`` (padded with ``fill_value``).
"""
from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..core import ArrayBase, Tracer
from ..errors import ConcretizationError, DTypeError
from .. import numpy as _lnp  # this package; attributes are read at call time

__all__ = ["mgrid", "ogrid", "fromfunction", "unique_all", "unique_counts", "unique_inverse",
           "unique_values", "intersect1d", "union1d", "setdiff1d", "setxor1d", "choose",
           "compress", "extract", "correlate", "resize",
           "apply_along_axis", "apply_over_axes", "fill_diagonal", "block"]


# ----------------------------------------------------------------------------- grids
def _grid_1d(s):
    """One slice as a 1-D array: a complex step ``nj`` means ``n`` points with the stop
    included (``linspace``); a real step means ``arange``."""
    if not isinstance(s, slice):
        raise TypeError(f"mgrid/ogrid take slices such as 0:5 or 0:1:5j, got {s!r}")
    start = 0 if s.start is None else s.start
    step = 1 if s.step is None else s.step
    for v in (start, s.stop, step):
        if isinstance(v, (ArrayBase, Tracer)):
            raise ConcretizationError("mgrid/ogrid: slice bounds set the output shape and "
                                      "must be Python numbers, not arrays")
    if isinstance(step, complex):
        return _lnp.linspace(start, s.stop, int(abs(step)), endpoint=True)
    return _lnp.arange(start, s.stop, step)


class _Grid:
    def __init__(self, sparse, name):
        self.sparse, self.name = sparse, name

    def __getitem__(self, key):
        if isinstance(key, slice):
            return _grid_1d(key)
        parts = [_grid_1d(k) for k in key]
        if not parts:
            return [] if self.sparse else _lnp.zeros((0,), dtypes.default_int())
        dt = _lnp.result_type(*(p.dtype for p in parts))
        parts = [p.astype(dt) for p in parts]
        grids = _lnp.meshgrid(*parts, indexing="ij", sparse=self.sparse)
        return list(grids) if self.sparse else _lnp.stack(grids, 0)

    def __repr__(self):
        return f"lepton.numpy.{self.name}"


mgrid = _Grid(False, "mgrid")
mgrid.__doc__ = """``mgrid[0:3, 0:2]``: dense index grids stacked on a new leading axis (int
steps as ``arange``, complex steps ``nj`` as ``linspace`` with ``n`` points)."""
ogrid = _Grid(True, "ogrid")
ogrid.__doc__ = """``ogrid[0:3, 0:2]``: the open (broadcastable) grids of ``mgrid`` as a list."""


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """``function(i0, i1, ...)`` called once on the index grids of ``shape`` (as ``dtype``).

    Deviation from JAX: JAX vmaps ``function`` over scalar indices; lepton (as NumPy)
    calls it once on the full grids, which gives the same result for the elementwise
    functions this is meant for, and is the only option in this layer.
    """
    shape = tuple(operator.index(s) for s in shape)
    dt = dtypes.canonicalize(dtype)
    grids = _lnp.indices(shape, dtype=dt)
    return function(*(grids[i] for i in range(len(shape))), **kwargs)


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


# ----------------------------------------------------------------------------- selection
def choose(a, choices, out=None, mode="raise"):
    """``choices[a[i...]][i...]`` with ``a`` and every choice broadcast together.

    ``mode='raise'`` checks the indices, so (as JAX) it needs a concrete ``a``; use
    ``'wrap'`` or ``'clip'`` under ``jit``/``vmap``."""
    if out is not None:
        raise NotImplementedError("choose: the 'out' argument is not supported (lepton "
                                  "arrays are immutable); use the returned array")
    a = _lnp.asarray(a)
    choices = [_lnp.asarray(c) for c in choices]
    if a.dtype.kind not in "iu":
        raise DTypeError(f"choose: the index array a must be integer typed, got {a.dtype}")
    n = len(choices)
    if n == 0:
        raise ValueError("choose: choices must be a non-empty sequence of arrays")
    if mode == "raise":
        if isinstance(a, Tracer):
            raise ConcretizationError(
                "choose: mode='raise' checks the index values, which a traced array does "
                "not have; use mode='wrap' or mode='clip' under jit/vmap.")
        av = np.asarray(a)
        if av.size and (av.min() < 0 or av.max() >= n):
            raise ValueError(f"choose: invalid entry in the choice array a (values must be "
                             f"in [0, {n}), got [{av.min()}, {av.max()}])")
    elif mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = _lnp.clip(a, 0, n - 1)
    else:
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    a, *choices = _lnp.broadcast_arrays(a, *choices)
    stacked = _lnp.stack(choices, 0)
    return _lnp.take_along_axis(stacked, a[None], axis=0)[0]


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of ``a`` along ``axis`` (flattened ``a`` if None) where the 1-D
    ``condition`` is true.  ``size=`` (needed when ``condition`` is traced) pads the result
    with ``fill_value`` or truncates it, as JAX."""
    if out is not None:
        raise NotImplementedError("compress: the 'out' argument is not supported")
    cond = _lnp.asarray(condition).astype(bool)
    arr = _lnp.asarray(a)
    if cond.ndim != 1:
        raise ValueError(f"compress: condition must be 1-D, got shape {cond.shape}")
    if axis is None:
        axis, arr = 0, _lnp.ravel(arr)
    else:
        arr = _lnp.moveaxis(arr, axis, 0)
    n = arr.shape[0]
    cond, extra = cond[:n], cond[n:]
    arr = arr[:cond.shape[0]]
    if size is None:
        if isinstance(cond, Tracer):
            raise ConcretizationError(
                f"compress: the result length depends on the traced condition "
                f"{cond.aval.str_short()}. Pass size= (a static result length) and "
                "optionally fill_value= for the padding.")
        if extra.shape[0] and bool(np.any(np.asarray(extra))):
            raise ValueError(f"compress: condition (length {cond.shape[0] + extra.shape[0]})"
                             f" has true entries beyond the axis length {n}")
        result = arr[np.flatnonzero(np.asarray(cond))]
    else:
        size = operator.index(size)
        if not 0 <= size <= arr.shape[0]:
            raise ValueError(f"compress: size must be in [0, a.shape[axis]]; got size={size}"
                             f" for a.shape[axis]={arr.shape[0]}")
        mask = _lnp.expand_dims(cond, tuple(range(1, arr.ndim)))
        arr = _lnp.where(mask, arr, _lnp.asarray(fill_value).astype(arr.dtype))
        result = arr[_lnp.argsort(cond, stable=True, descending=True)][:size]
    return _lnp.moveaxis(result, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of ``arr`` where ``condition`` is true, flattened (``compress`` on the
    raveled inputs); ``size=``/``fill_value=`` as ``compress``."""
    return compress(_lnp.ravel(condition), _lnp.ravel(arr), size=size, fill_value=fill_value)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """Cross-correlation of two 1-D arrays: ``convolve(a, conj(v[::-1]))`` (NumPy's
    definition; modes 'valid' (default), 'same', 'full').  ``precision`` is accepted for
    JAX compatibility and ignored."""
    a, v = _lnp.asarray(a), _lnp.asarray(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: both inputs must be 1-D, got shapes {a.shape}, "
                         f"{v.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    flipped = _lnp.conj(v[::-1]) if v.dtype.kind == "c" else v[::-1]
    out = _lnp.convolve(a, flipped, mode="full")
    n, m = a.shape[0], v.shape[0]
    # NumPy's windows of the full correlation; for n < m NumPy correlates the swapped
    # inputs and reverses the result, which moves the 'same' window
    start, length = {"full": (0, n + m - 1),
                     "valid": (min(n, m) - 1, abs(n - m) + 1),
                     "same": ((m - 1) // 2 if n >= m else n - 1 - (n - 1) // 2, max(n, m))}[mode]
    out = out[start:start + length]
    if preferred_element_type is not None:
        out = out.astype(preferred_element_type)
    return out


def resize(a, new_shape):
    """``a`` flattened, repeated cyclically and reshaped to ``new_shape`` (zeros if ``a`` is
    empty, as JAX; NumPy pads with zeros too)."""
    shape = (operator.index(new_shape),) if not isinstance(new_shape, (tuple, list)) \
        else tuple(operator.index(d) for d in new_shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"resize: all elements of new_shape must be non-negative, got {shape}")
    arr = _lnp.ravel(_lnp.asarray(a))
    new_size = int(np.prod(shape))
    if arr.shape[0] == 0 or new_size == 0:
        return _lnp.zeros(shape, arr.dtype)
    reps = -(-new_size // arr.shape[0])
    return _lnp.reshape(_lnp.tile(arr, reps)[:new_size], shape)


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` applied to every 1-D slice of ``arr`` along ``axis``; its output axes
    replace ``axis``.

    Deviation from JAX (which vmaps ``func1d``): lepton calls ``func1d`` once per slice
    in Python, as NumPy does, so under ``jit`` the trace grows with the number of slices.
    """
    arr = _lnp.asarray(arr)
    if arr.ndim == 0:
        raise ValueError("apply_along_axis: arr must have at least one dimension")
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise ValueError(f"apply_along_axis: axis {axis} is out of bounds for an array "
                         f"of dimension {arr.ndim}")
    moved = _lnp.moveaxis(arr, ax, -1)
    outer = moved.shape[:-1]
    if not int(np.prod(outer)):
        raise ValueError(f"apply_along_axis: cannot apply to the empty slices of shape "
                         f"{arr.shape} along axis {axis}")
    results = [_lnp.asarray(func1d(moved[idx], *args, **kwargs)) for idx in np.ndindex(outer)]
    out = _lnp.reshape(_lnp.stack(results, 0), outer + results[0].shape)
    k = results[0].ndim
    # the result axes go where ``axis`` was
    return _lnp.moveaxis(out, tuple(range(len(outer), len(outer) + k)),
                         tuple(range(ax, ax + k)))


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` applied for each axis in turn, keeping the rank (a reduced axis is
    re-inserted with length 1), as NumPy."""
    a = _lnp.asarray(a)
    for axis in [axes] if isinstance(axes, int) else axes:
        b = _lnp.asarray(func(a, axis))
        if b.ndim == a.ndim - 1:
            b = _lnp.expand_dims(b, axis)
        elif b.ndim != a.ndim:
            raise ValueError(f"apply_over_axes: func must keep the rank or drop one axis; "
                             f"got shape {b.shape} from {a.shape} on axis {axis}")
        a = b
    return a


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """A copy of ``a`` with its main diagonal set to ``val`` (tiled as NumPy).  As JAX,
    ``inplace=False`` is required (lepton arrays are immutable) and ``wrap`` is unsupported."""
    if inplace:
        raise NotImplementedError("fill_diagonal: lepton arrays are immutable; pass "
                                  "inplace=False and use the returned array")
    if wrap:
        raise NotImplementedError("fill_diagonal: wrap=True is not implemented; use "
                                  "wrap=False")
    a, val = _lnp.asarray(a), _lnp.asarray(val)
    if a.ndim < 2:
        raise ValueError(f"fill_diagonal: a must be at least 2-D, got shape {a.shape}")
    if a.ndim > 2 and any(d != a.shape[0] for d in a.shape[1:]):
        raise ValueError(f"fill_diagonal: all dimensions of a must have equal length for "
                         f"ndim > 2, got shape {a.shape}")
    n = min(a.shape)
    idx = _lnp.arange(n)
    if val.ndim:
        flat = _lnp.ravel(val)
        if not flat.shape[0]:
            return a
        val = _lnp.tile(flat, -(-n // flat.shape[0]))[:n]
    return a.at[(idx,) * a.ndim].set(val.astype(a.dtype))


def block(arrays):
    """Assemble an array from nested lists of blocks: the innermost lists concatenate
    along the last axis, the next along the second last, ... (as NumPy/JAX)."""
    out, _ = _block(arrays)
    return out


def _block(xs):
    if isinstance(xs, tuple):
        raise ValueError(f"block: tuples are not allowed, use lists; got {xs!r}")
    if isinstance(xs, list):
        if not xs:
            raise ValueError("block: empty lists are not allowed")
        parts, depths = zip(*(_block(x) for x in xs))
        if any(d != depths[0] for d in depths[1:]):
            raise ValueError(f"block: mismatched list depths {list(depths)}; every branch "
                             "must nest to the same depth")
        rank = max(depths[0], max(p.ndim for p in parts))
        parts = [_lnp.reshape(p, (1,) * (rank - p.ndim) + p.shape) for p in parts]
        return _lnp.concatenate(parts, axis=-depths[0]), depths[0] + 1
    return _lnp.asarray(xs), 1
