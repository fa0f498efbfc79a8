"""More elementwise NumPy functions: fabs, degree/radian conversion, sinc, logaddexp2.

All are compositions of lepton primitives, so they differentiate, batch and jit.
"""
from __future__ import annotations

import numpy as np

from ..primitives import elementwise as ew
from .util import promote_args_inexact, scalar_like

__all__ = ["fabs", "deg2rad", "rad2deg", "degrees", "radians", "sinc", "logaddexp2"]


def fabs(x, /):
    """Absolute value of real numbers as floats (ints compute in float32, as JAX)."""
    (x,) = promote_args_inexact("fabs", x)
    if x.aval.dtype.kind == "c":
        raise TypeError("fabs is not defined for complex numbers; use lnp.abs")
    return ew.abs(x)


def deg2rad(x, /):
    (x,) = promote_args_inexact("deg2rad", x)
    return ew.mul(x, scalar_like(x, np.pi / 180))


def rad2deg(x, /):
    (x,) = promote_args_inexact("rad2deg", x)
    return ew.mul(x, scalar_like(x, 180 / np.pi))


radians = deg2rad
degrees = rad2deg

# Maclaurin coefficients of sin(y)/y in y**2: 1 - y^2/3! + y^4/5! - ...
_SINC_TAYLOR = [(-1) ** k / float(np.prod(np.arange(1, 2 * k + 2, dtype=np.float64)))
                for k in range(8)]


def sinc(x, /):
    """Normalised sinc, ``sin(pi x) / (pi x)`` with ``sinc(0) = 1``.

    At ``x == 0`` the value is a Maclaurin polynomial in ``pi x`` (degree 14), so every
    derivative up to order 15 is exact there (``grad(sinc)(0.) == 0``, the second
    derivative ``-pi**2 / 3``), as JAX's custom rule gives."""
    (x,) = promote_args_inexact("sinc", x)
    zero = ew.eq(x, scalar_like(x, 0))
    y = ew.mul(scalar_like(x, np.pi), x)
    safe = ew.select(zero, scalar_like(y, 1), y)
    y2 = ew.mul(y, y)
    poly = scalar_like(y, _SINC_TAYLOR[-1])
    for c in reversed(_SINC_TAYLOR[:-1]):
        poly = ew.add(ew.mul(poly, y2), scalar_like(y, c))
    return ew.select(zero, poly, ew.div(ew.sin(safe), safe))


def logaddexp2(x1, x2, /):
    """``log2(2**x1 + 2**x2)`` without overflow (exact at infinities, as NumPy)."""
    x1, x2 = promote_args_inexact("logaddexp2", x1, x2)
    amax = ew.max(x1, x2)
    delta = ew.sub(x1, x2)
    finite = ew.eq(delta, delta)  # equal infinities (or a nan) give a nan delta
    # -|delta| as min(delta, -delta): at a tie each operand's derivative is then 1/2
    safe = ew.select(finite, ew.min(delta, ew.neg(delta)), scalar_like(delta, 0))
    ln2 = scalar_like(x1, np.log(2))
    tail = ew.div(ew.log1p(ew.exp(ew.mul(safe, ln2))), ln2)
    return ew.select(finite, ew.add(amax, tail), ew.add(x1, x2))
