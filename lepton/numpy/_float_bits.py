"""Floating-point decomposition: ldexp, frexp, modf, spacing, nextafter (as jax.numpy).

Composed from lepton's elementwise primitives and bit casts, so they jit and vmap;
frexp's mantissa and ldexp differentiate like JAX's (d mantissa / dx = 2**-exponent).
"""
from __future__ import annotations

import numpy as np

from ..primitives import elementwise as ew
from ..primitives.slicing import bitcast_convert_type
from .util import asarray, broadcast_to, broadcast_shapes, promote_args_inexact, scalar_like

__all__ = ["ldexp", "frexp", "modf", "spacing", "nextafter"]

_INT_OF_BITS = {16: np.int16, 32: np.int32, 64: np.int64}


def _const(x, value, dtype=None):
    """A constant shaped like ``x`` (``dtype`` defaults to x's)."""
    dt = np.dtype(dtype or x.aval.dtype)
    return asarray(np.full(x.aval.shape, value, dt))


def _real_float(name, x):
    (x,) = promote_args_inexact(name, x)
    if x.aval.dtype.kind == "c":
        raise TypeError(f"{name} does not support complex-valued inputs (got {x.aval.str_short()})")
    return x


def _frexp_bits(x):
    """(mantissa, int32 exponent) from x's bits (no gradient); 0/inf/nan pass through."""
    info = np.finfo(x.aval.dtype)
    ity = _INT_OF_BITS[info.bits]
    mask = (1 << info.nexp) - 1
    bias = 1 - info.minexp
    tiny = ew.lt(ew.abs(x), _const(x, info.tiny))
    # Subnormals: scale up by 2**nmant first so their exponent field is meaningful.
    x1 = ew.select(tiny, ew.mul(x, _const(x, float(2 ** info.nmant))), x)
    e0 = ew.select(tiny, _const(x, -info.nmant, ity), _const(x, 0, ity))
    bits = bitcast_convert_type(x1, ity)
    field = ew.bitwise_and(ew.shift_right_logical(bits, _const(x, info.nmant, ity)),
                           _const(x, mask, ity))
    e = ew.add(e0, ew.add(field, _const(x, 1 - bias, ity)))
    bits = ew.bitwise_and(bits, _const(x, ~(mask << info.nmant), ity))
    bits = ew.bitwise_or(bits, _const(x, (bias - 1) << info.nmant, ity))
    m = bitcast_convert_type(bits, x.aval.dtype)
    special = ew.bitwise_or(ew.bitwise_not(ew.is_finite(x)), ew.eq(x, _const(x, 0)))
    e = ew.select(special, _const(x, 0, ity), e)
    return ew.select(special, x, m), ew.convert_element_type(e, np.int32), special


def _pow2(e, like):
    """Exact 2.0**e (float, like ``like``'s dtype) for integer-valued float ``e``."""
    return ew.pow(_const(like, 2.0), e)


def frexp(x, /):
    """Split x into mantissa in [0.5, 1) (signed) and int32 exponent, ``x == m * 2**e``.

    0, inf and nan give ``(x, 0)``; subnormals are normalised (as NumPy).  The mantissa's
    derivative is ``2**-e`` (JAX's rule); the exponent is an integer output.
    """
    x = _real_float("frexp", x)
    m, e, special = _frexp_bits(ew.stop_gradient(x))
    # Straight-through tangent: value m, derivative 2**-e (x - stop_gradient(x) is 0).
    # 2**-e is applied in two halves: it overflows for subnormal x (e down to -148).
    half = ew.shift_right_arithmetic(ew.neg(e), _const(e, 1))
    a = ew.convert_element_type(half, x.aval.dtype)
    b = ew.convert_element_type(ew.sub(ew.neg(e), half), x.aval.dtype)
    dx = ew.sub(x, ew.stop_gradient(x))
    term = ew.mul(ew.mul(dx, _pow2(a, x)), _pow2(b, x))
    # 0/inf/nan are their own mantissa (derivative 1 = 2**-0, as JAX's rule).
    return ew.select(special, x, ew.add(m, term)), e


def ldexp(x1, x2, /):
    """``x1 * 2**x2`` without overflow in the intermediate ``2**x2`` (x2 integer)."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.aval.dtype.kind == "c" or x2.aval.dtype.kind in "fc":
        raise ValueError(f"ldexp not supported for input types {(x1.aval.dtype, x2.aval.dtype)}: "
                         "x1 must be real and x2 an integer array")
    x1 = _real_float("ldexp", x1)
    shape = broadcast_shapes(x1.aval.shape, x2.aval.shape, name="ldexp")
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    x2 = ew.convert_element_type(x2, x1.aval.dtype)
    m, e = frexp(x1)
    e = ew.add(ew.convert_element_type(e, x1.aval.dtype), x2)
    pos = ew.gt(e, _const(e, 0))
    m = ew.select(pos, ew.mul(m, _const(m, 2.0)), m)
    e = ew.select(pos, ew.sub(e, _const(e, 1.0)), e)
    out = ew.mul(m, _pow2(e, m))
    keep = ew.bitwise_or(ew.eq(ew.abs(x1), _const(x1, np.inf)), ew.eq(x1, _const(x1, 0)))
    return ew.select(keep, x1, out)


def modf(x, /, out=None):
    """(fractional, integral) parts, both with x's sign (floats; ints promote)."""
    if out is not None:
        raise NotImplementedError("The 'out' argument to lnp.modf is not supported.")
    (x,) = promote_args_inexact("modf", x)
    whole = ew.select(ew.ge(x, scalar_like(x, 0)), ew.floor(x), ew.ceil(x))
    return ew.sub(x, whole), whole


def nextafter(x, y, /):
    """Next representable float after x towards y (no gradient, as JAX)."""
    x, y = promote_args_inexact("nextafter", x, y)
    shape = broadcast_shapes(x.aval.shape, y.aval.shape, name="nextafter")
    return ew.nextafter(broadcast_to(x, shape), broadcast_to(y, shape))


def spacing(x, /):
    """Distance from x to the next float away from zero (nan at inf/nan).

    As JAX, ``spacing(-0.0)`` is ``-smallest_subnormal`` (NumPy: ``+``); its derivative is
    zero (JAX raises: nextafter has no derivative rule)."""
    (x,) = promote_args_inexact("spacing", x)
    if x.aval.dtype.kind == "c":
        raise ValueError("lnp.spacing is not defined for complex inputs.")
    x = ew.stop_gradient(x)    # piecewise constant: zero derivative (as lax.nextafter's)
    inf = _const(x, np.inf)
    away = ew.select(_signbit(x), ew.neg(inf), inf)
    if x.aval.dtype == np.float16:
        return ew.sub(ew.nextafter(x, inf), x)
    res = ew.sub(ew.nextafter(x, away), x)
    tinyest = float(np.finfo(x.aval.dtype).smallest_subnormal)
    sub = ew.select(_signbit(x), _const(x, -tinyest), _const(x, tinyest))
    return ew.select(ew.eq(res, _const(x, 0)), sub, res)


def _signbit(x):
    ity = _INT_OF_BITS[np.finfo(x.aval.dtype).bits]
    return ew.lt(bitcast_convert_type(x, ity), _const(x, 0, ity))
