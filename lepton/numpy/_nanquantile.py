"""NaN-ignoring order statistics and cumulative ops: nanquantile, nanpercentile, nanmedian,
nancumsum, nancumprod (as ``jax.numpy``).

Each slice is sorted (NaNs last) and read at ``q * (count - 1)``, where ``count`` is that
slice's number of non-NaN values, so everything is fixed-shape and works under jit, grad
and vmap.  A slice of only NaNs gives NaN, without NumPy's RuntimeWarning.
"""
from __future__ import annotations

import numpy as np

from ._creation import asarray
from ._indexing import take_along_axis
from ._reductions import _float_dtype, cumprod, cumsum, sum
from ._shape import moveaxis, reshape
from ._sorting import sort
from ._ufuncs import ceil, clip, floor, isnan, logical_not, round, where
from .util import broadcast_to, normalize_axes

__all__ = ["nanquantile", "nanpercentile", "nanmedian", "nancumsum", "nancumprod"]

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _to_last(a, axis):
    """``a`` with the reduced axes merged into one trailing axis, and the keepdims shape."""
    if axis is None:
        return reshape(a, (a.size,)), (1,) * a.ndim
    axes = normalize_axes(axis, a.ndim)
    rest = tuple(d for d in range(a.ndim) if d not in axes)
    moved = moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
    size = int(np.prod([a.shape[d] for d in axes], dtype=np.int64))
    kept = tuple(1 if d in axes else a.shape[d] for d in range(a.ndim))
    return reshape(moved, tuple(a.shape[d] for d in rest) + (size,)), kept


def _nanquantile(a, q, axis, method, keepdims, name, scale=1):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {_METHODS}, got {method!r}")
    a = asarray(a)
    if a.dtype.kind == "c":
        raise TypeError(f"{name}: not defined for complex arrays, got {a.dtype}")
    if a.dtype.kind != "f":
        a = a.astype(_float_dtype(a.dtype))
    q = asarray(q, dtype=a.dtype)
    if scale != 1:
        q = q / scale
    flat, kept = _to_last(a, axis)
    n = flat.shape[-1]
    s = sort(flat, axis=-1)  # NaNs sort last
    count = sum(logical_not(isnan(flat)), axis=-1, keepdims=True).astype(a.dtype)
    qx = reshape(q, q.shape + (1,) * flat.ndim)  # q axes lead, as NumPy
    pos = qx * clip(count - 1, 0, None)
    lo, hi = floor(pos), ceil(pos)
    idx = {"lower": lo, "higher": hi, "nearest": round(pos)}.get(method)

    def pick(i):
        i = clip(i, 0, max(n - 1, 0)).astype(np.int32)
        return take_along_axis(broadcast_to(s, i.shape[:-1] + (n,)), i, -1)

    if n == 0:
        out = where(count > 0, 0.0, np.nan) + 0 * qx
    elif idx is not None:
        out = pick(idx)
    else:
        t = pos - lo
        if method == "midpoint":
            t = where(t == 0, t, 0.5)
        v0, v1 = pick(lo), pick(hi)
        out = v0 + (v1 - v0) * t
    out = where(count > 0, out, np.nan)[..., 0]
    if keepdims:
        return reshape(out, q.shape + kept)
    return out


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False):
    """``quantile`` that ignores NaNs; an all-NaN (or empty) slice gives NaN."""
    if out is not None:
        raise NotImplementedError("nanquantile: out= is not supported (arrays are immutable)")
    return _nanquantile(a, q, axis, method, keepdims, "nanquantile")


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False):
    """``percentile`` that ignores NaNs (``q`` in percent)."""
    if out is not None:
        raise NotImplementedError("nanpercentile: out= is not supported (arrays are immutable)")
    return _nanquantile(a, q, axis, method, keepdims, "nanpercentile", 100)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``median`` that ignores NaNs; an all-NaN (or empty) slice gives NaN."""
    if out is not None:
        raise NotImplementedError("nanmedian: out= is not supported (arrays are immutable)")
    return _nanquantile(a, 0.5, axis, "linear", keepdims, "nanmedian")


def nancumsum(a, axis=None, dtype=None, out=None):
    """``cumsum`` treating NaNs as 0."""
    a = asarray(a)
    return cumsum(where(isnan(a), 0, a) if a.dtype.kind in "fc" else a, axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """``cumprod`` treating NaNs as 1."""
    a = asarray(a)
    return cumprod(where(isnan(a), 1, a) if a.dtype.kind in "fc" else a, axis, dtype, out)
