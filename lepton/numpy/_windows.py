"""Window functions (hamming, hanning, blackman, bartlett, kaiser) and the modified Bessel
function i0 they need, as jax.numpy.

i0 is NumPy's Cephes Chebyshev expansion built from elementwise ops, so it jits, vmaps
and differentiates (derivative 0 at x == 0, as JAX); no new primitive.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import numpy as lnp   # the package: its names are looked up at call time
from ..core import Tracer
from ..primitives.elementwise import stop_gradient

__all__ = ["i0", "hamming", "hanning", "blackman", "bartlett", "kaiser"]

# Cephes' Chebyshev coefficients for exp(-x) I0(x) on [0, 8] (A) and for
# exp(-x) sqrt(x) I0(x) on (8, inf) in 32/x - 2 (B); the same as numpy.i0's.
I0A = [
    -4.4153416464793395e-18, 3.3307945188222384e-17, -2.431279846547955e-16,
    1.715391285555133e-15, -1.1685332877993451e-14, 7.676185498604936e-14,
    -4.856446783111929e-13, 2.95505266312964e-12, -1.726826291441556e-11,
    9.675809035373237e-11, -5.189795601635263e-10, 2.6598237246823866e-09,
    -1.300025009986248e-08, 6.046995022541919e-08, -2.670793853940612e-07,
    1.1173875391201037e-06, -4.4167383584587505e-06, 1.6448448070728896e-05,
    -5.754195010082104e-05, 0.00018850288509584165, -0.0005763755745385824,
    0.0016394756169413357, -0.004324309995050576, 0.010546460394594998,
    -0.02373741480589947, 0.04930528423967071, -0.09490109704804764,
    0.17162090152220877, -0.3046826723431984, 0.6767952744094761,
]
I0B = [
    -7.233180487874754e-18, -4.830504485944182e-18, 4.46562142029676e-17,
    3.461222867697461e-17, -2.8276239805165836e-16, -3.425485619677219e-16,
    1.7725601330565263e-15, 3.8116806693526224e-15, -9.554846698828307e-15,
    -4.150569347287222e-14, 1.54008621752141e-14, 3.8527783827421426e-13,
    7.180124451383666e-13, -1.7941785315068062e-12, -1.3215811840447713e-11,
    -3.1499165279632416e-11, 1.1889147107846439e-11, 4.94060238822497e-10,
    3.3962320257083865e-09, 2.266668990498178e-08, 2.0489185894690638e-07,
    2.8913705208347567e-06, 6.889758346916825e-05, 0.0033691164782556943,
    0.8044904110141088,
]


def _chbevl(t, coeffs):
    """Clenshaw's recurrence for sum_k c_k T_k(t/2) (Cephes' chbevl)."""
    b0 = lnp.full_like(t, coeffs[0])
    b1 = b2 = lnp.zeros_like(t)
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = t * b1 - b2 + c
    return 0.5 * (b0 - b2)


def i0(x):
    """Modified Bessel function of the first kind, order 0 (real floats; ints promote)."""
    x = lnp.asarray(x)
    if x.dtype.kind == "c":
        raise ValueError(f"Unsupported input type to lnp.i0: {x.dtype} (real inputs only)")
    if x.dtype.kind not in "f":
        x = x.astype(lnp.asarray(1.0).dtype)
    if x.dtype.itemsize < 4:     # float16: evaluate the expansion in float32, round once
        return i0(x.astype(np.float32)).astype(x.dtype)
    # i0 is even: derivative exactly 0 at x == 0 (JAX's rule; the expansion's is ~eps).
    a = lnp.where(x == 0, stop_gradient(lnp.abs(x)), lnp.abs(x))
    small = a <= 8.0
    # Each branch sees only inputs it is valid for, so neither leaks nan into gradients.
    xs = lnp.where(small, a, 0.0)
    xl = lnp.where(small, 9.0, a)
    lo = lnp.exp(xs) * _chbevl(xs / 2.0 - 2.0, I0A)
    hi = lnp.exp(xl) * _chbevl(32.0 / xl - 2.0, I0B) / lnp.sqrt(xl)
    return lnp.where(small, lo, hi)


def _length(M, name):
    if isinstance(M, Tracer):
        raise TypeError(f"{name}: M (the window length) must be a static Python int; "
                        "it sets the output shape")
    return operator.index(M)


def _grid(M, dt=None):
    """(n, M - 1) for a window of length M >= 2, in the default float dtype (or ``dt``)."""
    return lnp.arange(M, dtype=dt or lnp.asarray(1.0).dtype), M - 1


def _small(M, dt=None):
    """Windows of length 0 and 1 are empty and [1.] (NumPy and JAX)."""
    return lnp.ones((max(M, 0),), dt or lnp.asarray(1.0).dtype)


def hamming(M):
    """Hamming window ``0.54 - 0.46 cos(2 pi n / (M - 1))`` (default float dtype)."""
    M = _length(M, "hamming")
    if M < 2:
        return _small(M)
    n, d = _grid(M)
    return 0.54 - 0.46 * lnp.cos(2 * np.pi * n / d)


def hanning(M):
    """Hann window ``0.5 - 0.5 cos(2 pi n / (M - 1))``."""
    M = _length(M, "hanning")
    if M < 2:
        return _small(M)
    n, d = _grid(M)
    return 0.5 * (1 - lnp.cos(2 * np.pi * n / d))


def blackman(M):
    """Blackman window ``0.42 - 0.5 cos(2 pi n/(M-1)) + 0.08 cos(4 pi n/(M-1))``."""
    M = _length(M, "blackman")
    if M < 2:
        return _small(M)
    n, d = _grid(M)
    return 0.42 - 0.5 * lnp.cos(2 * np.pi * n / d) + 0.08 * lnp.cos(4 * np.pi * n / d)


def bartlett(M):
    """Bartlett (triangular) window ``1 - |2n + 1 - M| / (M - 1)``."""
    M = _length(M, "bartlett")
    if M < 2:
        return _small(M)
    n, d = _grid(M)
    return 1 - lnp.abs(2 * n + 1 - M) / d


def kaiser(M, beta):
    """Kaiser window ``i0(beta sqrt(1 - ((n - a)/a)**2)) / i0(beta)``, ``a = (M - 1)/2``.

    Differentiable in ``beta`` (which may be traced)."""
    M = _length(M, "kaiser")
    beta = lnp.asarray(beta)
    if beta.dtype.kind == "c":
        raise ValueError(f"kaiser: beta must be real, got {beta.dtype}")
    # The default float, or beta's wider float (the grid too, for float64 accuracy).
    dt = lnp.result_type(beta, lnp.float32)
    if M < 2:
        return _small(M, dt)
    n, d = _grid(M, dt)
    alpha = 0.5 * d
    r = lnp.sqrt(lnp.maximum(1 - ((n - alpha) / alpha) ** 2, 0.0))
    return i0(beta * r) / i0(beta)
