"""Index arithmetic and table lookups: unravel_index, ravel_multi_index, ix_, digitize,
interp (as ``jax.numpy``).

All are fixed-shape compositions of elementwise ops, ``searchsorted`` and ``take``, so
they work under jit and vmap; ``interp`` is differentiable in ``x`` and ``fp``.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ._creation import asarray
from ._indexing import searchsorted, take
from ._shape import concatenate, reshape
from ._sorting import argsort
from ._ufuncs import clip, where

__all__ = ["unravel_index", "ravel_multi_index", "ix_", "digitize", "interp"]


def unravel_index(indices, shape):
    """Coordinates (one array per axis of ``shape``) of flat C-order ``indices``.

    As JAX: out-of-range indices are clipped into range, not an error."""
    idx = asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: indices must be integers, got {idx.dtype}")
    shape = tuple(operator.index(s) for s in shape)
    total = int(np.prod(shape, dtype=np.int64))
    idx = clip(idx, -total, max(total - 1, 0))
    idx = where(idx < 0, idx + total, idx)
    out, stride = [], total
    for n in shape:
        stride //= max(n, 1)
        out.append((idx // max(stride, 1)) % max(n, 1))
    return tuple(out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Flat indices of the coordinate arrays ``multi_index`` into an array of shape ``dims``.

    ``mode``: 'raise' (concrete out-of-range coordinates raise), 'wrap' or 'clip'."""
    dims = tuple(operator.index(d) for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(f"ravel_multi_index: {len(multi_index)} coordinate arrays for "
                         f"{len(dims)} dimensions {dims}")
    if order not in ("C", "F"):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    coords = [asarray(c) for c in multi_index]
    for c in coords:
        if c.dtype.kind not in "iu":
            raise TypeError(f"ravel_multi_index: coordinates must be integers, got {c.dtype}")
    fixed = []
    for c, n in zip(coords, dims):
        if mode == "wrap":
            c = c % n
        elif mode == "clip":
            c = clip(c, 0, n - 1)
        elif mode == "raise":
            v = _concrete(c)
            if v is not None and v.size and (v.min() < 0 or v.max() >= n):
                raise ValueError(f"ravel_multi_index: invalid entry in coordinates for a "
                                 f"dimension of size {n}")
        else:
            raise ValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip', "
                             f"got {mode!r}")
        fixed.append(c)
    order_axes = range(len(dims)) if order == "C" else range(len(dims) - 1, -1, -1)
    out, stride = None, 1
    for k in reversed(list(order_axes)):
        term = fixed[k] * stride
        out = term if out is None else out + term
        stride *= dims[k]
    return out


def _concrete(x):
    return None if isinstance(x, Tracer) else np.asarray(x)


def ix_(*args):
    """Open mesh from 1-d sequences: ``a[ix_(rows, cols)]`` picks the cross product."""
    n = len(args)
    out = []
    for k, a in enumerate(args):
        a = asarray(a)
        if a.ndim != 1:
            raise ValueError(f"ix_: cross index must be 1 dimensional, got shape {a.shape}")
        if a.dtype == dtypes.bool_:
            raise NotImplementedError("ix_: boolean arguments are not supported; pass "
                                      "lnp.nonzero(mask)[0]")
        out.append(reshape(a, (1,) * k + (a.shape[0],) + (1,) * (n - k - 1)))
    return tuple(out)


def digitize(x, bins, right=False):
    """Index of the bin each ``x`` falls in (bins increasing or decreasing), as NumPy."""
    x, bins = asarray(x), asarray(bins)
    if bins.ndim != 1:
        raise ValueError(f"digitize: bins must be 1-dimensional, got shape {bins.shape}")
    if bins.shape[0] == 0:
        return (x * 0).astype(dtypes.int32)
    side = "left" if right else "right"
    asc = bins[-1] >= bins[0]
    up = searchsorted(bins, x, side=side)
    down = bins.shape[0] - searchsorted(bins[::-1], x, side=side)
    return where(asc, up, down)  # searchsorted's int32, as JAX


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of (``xp``, ``fp``) at ``x`` (``xp`` increasing).

    ``left``/``right`` default to ``fp[0]``/``fp[-1]``; ``period`` interpolates a periodic
    function, as NumPy."""
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape != fp.shape:
        raise ValueError(f"interp: xp and fp must be 1-d of one length, got shapes "
                         f"{xp.shape} and {fp.shape}")
    if xp.shape[0] == 0:
        raise ValueError("interp: xp and fp must not be empty")
    if period is not None:
        if left is not None or right is not None:
            raise ValueError("interp: left/right are not allowed with period")
        p = asarray(period)
        x = x % p
        xp = xp % p
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate([xp[-1:] - p, xp, xp[:1] + p])
        fp = concatenate([fp[-1:], fp, fp[:1]])
    n = xp.shape[0]
    i = clip(searchsorted(xp, x, side="right"), 1, max(n - 1, 1))
    x0, x1 = take(xp, i - 1), take(xp, i)
    f0, f1 = take(fp, i - 1), take(fp, i)
    dx = x1 - x0
    safe = where(dx == 0, 1, dx)
    t = (x - x0) / safe
    out = where(dx == 0, f0, f0 + t * (f1 - f0)) if n > 1 else f0 + 0 * x
    if period is None:
        out = where(x < xp[0], fp[0] if left is None else left, out)
        out = where(x > xp[-1], fp[-1] if right is None else right, out)
    return out
