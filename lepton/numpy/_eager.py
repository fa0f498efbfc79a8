"""Eager fast path: concrete arrays under no transform go straight to NumPy.

When every operand is a concrete ``Array`` (or Python scalar) and no transform is
active, an elementwise function's result is exactly the NumPy ufunc applied to
operands converted to the promoted dtype, so we skip the primitive machinery
(broadcast_in_dim, convert, bind).  Under any transform the primitives run as usual.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Array, ShapedArray, _ctx

_PY_SCALARS = (bool, int, float, complex)
_promote_cache: dict = {}


def _typed(x):
    t = type(x)
    if t is Array:
        return x._value, x.aval.dtype, x.aval.weak_type
    if t in _PY_SCALARS:
        return x, dtypes.python_scalar_dtype(x), True
    return None


def _promoted(key, inexact):
    r = _promote_cache.get(key)
    if r is None:
        dt, weak = dtypes.promote(*zip(key[0::2], key[1::2]))
        if inexact and not dtypes.is_inexact(dt):
            dt = dtypes.promote((dt, weak), (dtypes.float32, True))[0]
        r = _promote_cache[key] = (dt, weak)
    return r


def _cast(v, dt):
    if type(v) is np.ndarray:
        return v if v.dtype == dt else v.astype(dt)
    return np.array(v, dtype=dt)


def _finish(out, dt, weak):
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    return Array(out, ShapedArray(out.shape, out.dtype, weak and out.dtype == dt))


def binary(np_fn, x, y, inexact=False, kinds="iufc", quiet=False):
    """``np_fn(x, y)`` with lepton promotion if both operands are concrete, else None."""
    if _ctx.trace.parent is not None:
        return None
    tx, ty = _typed(x), _typed(y)
    if tx is None or ty is None:
        return None
    dt, weak = _promoted((tx[1], tx[2], ty[1], ty[2]), inexact) if (tx[1], tx[2]) != (
        ty[1], ty[2]) else ((tx[1], tx[2]) if not inexact or dtypes.is_inexact(tx[1])
                            else _promoted((tx[1], tx[2], ty[1], ty[2]), True))
    if dt.kind not in kinds:
        return None
    try:
        if quiet:  # functions whose NumPy warnings JAX users would not expect (e.g. x / 0)
            with np.errstate(all="ignore"):
                return _finish(np_fn(_cast(tx[0], dt), _cast(ty[0], dt)), dt, weak)
        return _finish(np_fn(_cast(tx[0], dt), _cast(ty[0], dt)), dt, weak)
    except ValueError:  # e.g. shapes that do not broadcast: the primitive path explains it
        return None


def unary(np_fn, x, inexact=False, kinds="iufc"):
    if _ctx.trace.parent is not None or type(x) is not Array:
        return None
    a = x.aval
    dt, weak = a.dtype, a.weak_type
    if inexact and not dtypes.is_inexact(dt):
        dt = dtypes.promote((dt, weak), (dtypes.float32, True))[0]
    if dt.kind not in kinds:
        return None
    with np.errstate(all="ignore"):
        out = np_fn(_cast(x._value, dt))
    return _finish(out, dt, weak)
