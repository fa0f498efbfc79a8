"""Eager fast path: concrete arrays under no transform go straight to NumPy.

When every operand is a concrete ``Array`` (or Python scalar) and no transform is
active, an elementwise function's result is exactly the NumPy ufunc applied to
operands converted to the promoted dtype, so we skip the primitive machinery
(broadcast_in_dim, convert, bind).  Under any transform the primitives run as usual.

Each call names the primitive it stands in for, and reads from it whether NumPy's
floating-point warnings must be silenced (``prim.quiet``, set where the primitive is
defined), so both routes agree on which ops warn (none, as in JAX).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Array, new_array, trace_context as _ctx
from .._quiet import STATE, ignore_all, IGNORING, restore
from .util import cast_operand, inexact_dtype, promoted_dtype, scalar_dtypes

# shared with the tape's eager rules (``transforms.tape``), so public in ``util``
_py_dtypes, _promoted, _cast = scalar_dtypes, promoted_dtype, cast_operand
_PY_TYPES = (bool, int, float, complex)


def _finish(out, dt, weak):
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    return new_array(out, weak and out.dtype == dt)


def binary(prim, x, y, inexact=False, kinds="iufc", np_fn=None):
    """``prim``'s NumPy function of ``x, y`` with lepton promotion if both operands are
    concrete, else None.

    ``prim`` is the primitive the slow path binds: its ``numpy_impl`` is called (unless
    ``np_fn`` is given) and its ``quiet`` flag (absent: False) says whether NumPy's
    floating-point warnings are silenced."""
    t = _ctx.trace
    if t.parent is not None:  # an eager vjp's tape runs it as one staged step (tape.py)
        h = getattr(t, "eager_ufunc", None)
        return None if h is None else h(np_fn or prim.numpy_impl, (x, y), inexact)
    tx, ty = type(x), type(y)
    if tx is Array:
        xv = x._value
        xd, xw = xv.dtype, x._weak
    elif tx in _PY_TYPES:
        xv, xd, xw = x, _py_dtypes()[tx], True
    else:
        return None
    if ty is Array:
        yv = y._value
        yd, yw = yv.dtype, y._weak
    elif ty in _PY_TYPES:
        yv, yd, yw = y, _py_dtypes()[ty], True
    else:
        return None
    if xd == yd and xw == yw and (not inexact or xd.kind in "fc"):
        dt, weak = xd, xw
    else:
        dt, weak = _promoted(xd, xw, yd, yw, inexact)
    if dt.kind not in kinds:
        return None
    if np_fn is None:
        np_fn = prim.numpy_impl
    try:
        if xd != dt or tx is not Array:
            xv = _cast(xv, dt)
        if yd != dt or ty is not Array:
            yv = _cast(yv, dt)
        if getattr(prim, "quiet", False):  # as the primitive: no warning (e.g. x / 0)
            token = STATE.set(IGNORING.get(STATE.get()) or ignore_all())  # _quiet.silence, inlined
            try:
                return _finish(np_fn(xv, yv), dt, weak)
            finally:
                restore(token)
        return _finish(np_fn(xv, yv), dt, weak)
    except (ValueError, OverflowError):  # e.g. shapes that do not broadcast, an int that
        return None  # does not fit: the primitive path raises its own (JAX's) error


def unary(prim, x, inexact=False, kinds="iufc"):
    """``prim``'s NumPy function of ``x`` if ``x`` is concrete, else None (as ``binary``)."""
    t = _ctx.trace
    if t.parent is not None:
        h = getattr(t, "eager_ufunc", None)
        return None if h is None else h(prim.numpy_impl, (x,), inexact)
    if type(x) is not Array:
        return None
    v = x._value
    dt, weak = v.dtype, x._weak
    if inexact and dt.kind not in "fc":  # as promote_args_inexact (a weak bool is not weak)
        dt, weak = inexact_dtype(*dtypes.promote((dt, weak)))
    if dt.kind not in kinds:
        return None
    if prim.quiet:
        token = STATE.set(IGNORING.get(STATE.get()) or ignore_all())  # _quiet.silence, inlined
        try:
            return _finish(prim.numpy_impl(_cast(v, dt)), dt, weak)
        finally:
            restore(token)
    return _finish(prim.numpy_impl(_cast(v, dt)), dt, weak)
