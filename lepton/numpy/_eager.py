"""Eager fast path: concrete arrays under no transform go straight to NumPy.

When every operand is a concrete ``Array`` (or Python scalar) and no transform is
active, an elementwise function's result is exactly the NumPy ufunc applied to
operands converted to the promoted dtype, so we skip the primitive machinery
(broadcast_in_dim, convert, bind).  Under any transform the primitives run as usual.
"""
from __future__ import annotations

import numpy as np

from .. import config as _config, dtypes
from ..core import Array, _ctx, new_array

_PY_DTYPES = {bool: dtypes.bool_, int: dtypes.int32, float: dtypes.float32,
              complex: dtypes.complex64}
_promote_cache: dict = {}


def _x64_changed():
    """Python scalars' dtypes and weak promotion results depend on the x64 mode."""
    _PY_DTYPES.update({int: dtypes.default_int(), float: dtypes.default_float(),
                       complex: dtypes.default_complex()})
    _promote_cache.clear()


_config.on_change(_x64_changed)
_x64_changed()


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
    return new_array(out, weak and out.dtype == dt)


def binary(np_fn, x, y, inexact=False, kinds="iufc", quiet=False):
    """``np_fn(x, y)`` with lepton promotion if both operands are concrete, else None."""
    if _ctx.trace.parent is not None:
        return None
    tx, ty = type(x), type(y)
    if tx is Array:
        xv = x._value
        xd, xw = xv.dtype, x._weak
    elif tx in _PY_DTYPES:
        xv, xd, xw = x, _PY_DTYPES[tx], True
    else:
        return None
    if ty is Array:
        yv = y._value
        yd, yw = yv.dtype, y._weak
    elif ty in _PY_DTYPES:
        yv, yd, yw = y, _PY_DTYPES[ty], True
    else:
        return None
    if xd == yd and xw == yw and (not inexact or xd.kind in "fc"):
        dt, weak = xd, xw
    else:
        dt, weak = _promoted((xd, xw, yd, yw), inexact)
    if dt.kind not in kinds:
        return None
    if xd != dt or tx is not Array:
        xv = _cast(xv, dt)
    if yd != dt or ty is not Array:
        yv = _cast(yv, dt)
    try:
        if quiet:  # functions whose NumPy warnings JAX users would not expect (e.g. x / 0)
            with np.errstate(all="ignore"):
                return _finish(np_fn(xv, yv), dt, weak)
        return _finish(np_fn(xv, yv), dt, weak)
    except ValueError:  # e.g. shapes that do not broadcast: the primitive path explains it
        return None


def unary(np_fn, x, inexact=False, kinds="iufc", quiet=True):
    if _ctx.trace.parent is not None or type(x) is not Array:
        return None
    v = x._value
    dt, weak = v.dtype, x._weak
    if inexact and dt.kind not in "fc":
        dt = dtypes.promote((dt, weak), (dtypes.float32, True))[0]
    if dt.kind not in kinds:
        return None
    if quiet:
        with np.errstate(all="ignore"):
            return _finish(np_fn(_cast(v, dt)), dt, weak)
    return _finish(np_fn(_cast(v, dt)), dt, weak)
