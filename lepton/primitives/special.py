"""Special-function primitives: erf, erfc, erf_inv, lgamma, digamma, polygamma.

They are primitives (not compositions) so that their derivatives are exact closed forms
(d erf = 2/sqrt(pi) exp(-x^2), d lgamma = digamma, d digamma = polygamma(1, .), ...) and
so that the cpu backend can fuse erf, erfc and lgamma as libm calls.  Impls compute in
float64 and round to the input dtype: erf, erfc and lgamma call the C library (the
same functions the fused kernels call), erf_inv, digamma and polygamma are vectorised
NumPy (series with recurrence shifts and reflection).  Float inputs only.

Conventions follow XLA/JAX: lgamma is log|Gamma(x)| (inf at 0, -1, -2, ...);
digamma and polygamma are NaN at 0, -1, -2, ... (scipy gives -inf/inf at 0);
erf_inv is +-inf at +-1 and NaN outside [-1, 1].
"""
from __future__ import annotations

import math

import numpy as np

from .base import defjvp
from .elementwise import FLOAT, _const, elementwise, exp, mul, neg, square

_SQRT_PI = math.sqrt(math.pi)


def _f64(fn):
    """Compute in float64 and round to the input dtype."""
    def impl(x, **params):
        return np.asarray(fn(np.asarray(x, np.float64), **params)).astype(x.dtype, copy=False)
    return impl


def _libm(fn):
    """A libm scalar function applied elementwise (``math`` raises where C returns a value:
    lgamma at poles, so those are filled by the caller)."""
    u = np.frompyfunc(fn, 1, 1)

    def apply(x):
        return np.asarray(u(x), np.float64) if x.size else np.empty(x.shape, np.float64)
    return apply


_lgamma_u = _libm(math.lgamma)

# erf and erfc as vectorised rational approximations (Cephes, the forms lepton.random
# uses): within a few ulps of libm's and 10-50x faster than calling it per element.
ERF_F64 = (
    (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
     7.00332514112805075473E3, 5.55923013010394962768E4),
    (1.00000000000000000000E0, 3.35617141647503099647E1, 5.21357949780152679795E2,
     4.59432382970980127987E3, 2.26290000613890934246E4, 4.92673942608635921086E4))
ERFC_F64 = (
    (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
     4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
     9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2),
    (1.00000000000000000000E0, 1.32281951154744992508E1, 8.67072140885989742329E1,
     3.54937778887819891062E2, 9.75708501743205489753E2, 1.82390916687909736289E3,
     2.24633760818710981792E3, 1.65666309194161350182E3, 5.57535340817727675546E2),
    (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
     6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0),
    (1.00000000000000000000E0, 2.26052863220117276590E0, 9.39603524938001434673E0,
     1.20489539808096656605E1, 1.70814450747565897222E1, 9.60896809063285878198E0,
     3.36907645100081516050E0))


def _erf_small(x):
    """erf for |x| < 1 (and harmless elsewhere: callers select)."""
    z = x * x
    return x * _horner(z, ERF_F64[0]) / _horner(z, ERF_F64[1])


def _erfc_large(x):
    """erfc for |x| >= 1; exp(-x^2) as exp(-hi^2) exp(-(x^2 - hi^2)) with hi = x rounded
    to 1/16, so the rounding of x^2 is not amplified in the tail."""
    ax = np.abs(x)
    hi = np.floor(ax * 16 + 0.5) / 16
    e = np.exp(-hi * hi) * np.exp(-(ax - hi) * (ax + hi))
    p, q, r, t = ERFC_F64
    safe = np.where(ax < 28, ax, 1.0)  # beyond 27.3 erfc underflows to 0
    y = np.where(ax < 8, e * _horner(safe, p) / _horner(safe, q),
                 e * _horner(safe, r) / _horner(safe, t))
    y = np.where(ax < 28, y, np.where(np.isnan(ax), np.nan, 0.0))
    return np.where(x < 0, 2 - y, y)


def _erf_u(x):
    small = np.abs(x) < 1
    return np.where(small, _erf_small(np.where(small, x, 0.0)),
                    np.copysign(1 - _erfc_large(np.abs(np.where(small, 1.0, x))), x))


def _erfc_u(x):
    small = np.abs(x) < 1
    return np.where(small, 1 - _erf_small(np.where(small, x, 0.0)),
                    _erfc_large(np.where(small, 1.0, x)))


def _lgamma_np(x):
    pole = (x <= 0) & (x == np.floor(x))
    finite = np.isfinite(x) & ~pole
    out = np.where(np.isnan(x), np.nan, np.inf)
    out[finite] = _lgamma_u(x[finite])
    return out


# ----------------------------------------------------------------------------- erf_inv
ERF_INV_F64 = (  # Giles (2010), double precision: w < 6.25, w < 16, w >= 16 (as XLA)
    (-3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
     1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
     6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
     2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
     1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
     4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
     0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
     0.24015818242558961693, 1.6536545626831027356),
    (2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
     1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
     2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
     6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
     0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
     -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
     3.0838856104922207635),
    (-2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
     -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
     2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
     -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
     7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
     1.0103004648645343977, 4.8499064014085844221))


def _horner(x, coeffs):
    p = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        p = p * x + c
    return p


def _erf_inv_np(y):
    """Giles' polynomials, then one Newton step on erf (|y| < 0.5) or on erfc (the tail,
    where 1 - |y| is exact): full double precision out to |y| = 1 - 2**-53."""
    ay = np.abs(y)
    inside = ay < 1
    w = -np.log1p(-np.where(inside, y * y, 0.0))
    s = np.sqrt(np.maximum(w, 6.25))
    p = np.where(w < 6.25, _horner(w - 3.125, ERF_INV_F64[0]),
                 np.where(w < 16, _horner(s - 3.25, ERF_INV_F64[1]), _horner(s - 5.0, ERF_INV_F64[2])))
    x = p * np.where(inside, ay, 0.0)
    deriv = 2 / _SQRT_PI * np.exp(-x * x)
    resid = np.where(ay < 0.5, _erf_u(x) - ay, (1.0 - ay) - _erfc_u(x))
    with np.errstate(all="ignore"):
        x = np.where(deriv > 0, x - resid / deriv, x)
    out = np.where(inside, np.copysign(x, y), np.where(ay == 1, np.copysign(np.inf, y), np.nan))
    return out


# ----------------------------------------------------------------------------- digamma/polygamma
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_SHIFT = 12.0  # recurrence shifts arguments to >= this before the asymptotic series


def _shift_count(x):
    """Iterations of the upward recurrence that bring every element to >= _SHIFT."""
    lo = np.min(x, initial=_SHIFT)
    return int(max(0.0, math.ceil(_SHIFT - lo)))


def _digamma_pos(x):
    """psi(x) for x >= 0.5: shift up with psi(x) = psi(x + 1) - 1/x, then the series."""
    acc = np.zeros_like(x)
    for _ in range(_shift_count(x)):
        small = x < _SHIFT
        acc = acc - np.where(small, 1 / np.where(small, x, 1.0), 0.0)
        x = np.where(small, x + 1, x)
    z = 1 / (x * x)
    series = np.zeros_like(x)
    for k in range(len(_B2K), 0, -1):
        series = series * z + _B2K[k - 1] / (2 * k)
    return acc + np.log(x) - 0.5 / x - series * z


def _digamma_np(x):
    pole = (x <= 0) & (x == np.floor(x))
    reflect = x < 0.5
    xr = np.where(reflect, 1 - x, x)
    xr = np.where(np.isfinite(xr), xr, 1.0)
    out = _digamma_pos(xr)
    with np.errstate(all="ignore"):
        frac = x - np.floor(x)  # pi / tan(pi x) with x reduced to [0, 1): exact argument
        out = np.where(reflect, out - np.pi / np.tan(np.pi * frac), out)
    out = np.where(x == np.inf, np.inf, out)
    return np.where(pole | np.isnan(x) | (x == -np.inf), np.nan, out)


_POLY_MIN = -64.0  # below this polygamma (n >= 2) would need too many recurrence steps


def _polygamma_np(x, *, n):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x), n >= 1: the Hurwitz zeta by the upward
    recurrence and Euler-Maclaurin; trigamma of negative x by reflection."""
    s = n + 1
    pole = (x <= 0) & (x == np.floor(x))
    bad = pole | ~np.isfinite(x) | (x < _POLY_MIN) if n > 1 else pole | ~np.isfinite(x)
    reflect = (x < 0.5) if n == 1 else np.zeros(x.shape, bool)
    a = np.where(bad, 1.0, np.where(reflect, 1 - x, x))
    acc = np.zeros_like(a)
    for _ in range(_shift_count(a)):
        small = a < _SHIFT
        acc = acc + np.where(small, np.where(small, a, 1.0) ** -s, 0.0)
        a = np.where(small, a + 1, a)
    zeta = acc + a ** (1 - s) / (s - 1) + 0.5 * a ** -s
    rising, fact = float(s), 2.0  # s (s+1) ... (s+2k-2) and (2k)!
    for k, b in enumerate(_B2K, start=1):
        zeta = zeta + b / fact * rising * a ** (-s - 2 * k + 1)
        rising *= (s + 2 * k - 1) * (s + 2 * k)
        fact *= (2 * k + 1) * (2 * k + 2)
    out = (-1) ** (n + 1) * math.factorial(n) * zeta
    if n == 1:
        with np.errstate(all="ignore"):
            sin = np.sin(np.pi * (x - np.floor(x)))
            out = np.where(reflect, (np.pi / sin) ** 2 - out, out)
    out = np.where(x == np.inf, 0.0, out)
    return np.where(bad & (x != np.inf), np.nan, out)


# ----------------------------------------------------------------------------- primitives
erf_p = elementwise("erf", _f64(_erf_u), FLOAT)
erfc_p = elementwise("erfc", _f64(_erfc_u), FLOAT)
erf_inv_p = elementwise("erf_inv", _f64(_erf_inv_np), FLOAT)
lgamma_p = elementwise("lgamma", _f64(_lgamma_np), FLOAT)
digamma_p = elementwise("digamma", _f64(_digamma_np), FLOAT)
polygamma_p = elementwise("polygamma", None, FLOAT)
_polygamma_f64 = _f64(_polygamma_np)


def _polygamma_impl(x, *, n):
    with np.errstate(all="ignore"):
        return _polygamma_f64(x, n=n)


polygamma_p.impl = _polygamma_impl


def erf(x):
    """The error function 2/sqrt(pi) int_0^x exp(-t^2) dt (``lax.erf``)."""
    return erf_p.bind(x)


def erfc(x):
    """1 - erf(x), accurate where erf(x) is close to 1 (``lax.erfc``)."""
    return erfc_p.bind(x)


def erf_inv(x):
    """The inverse of erf on [-1, 1] (``lax.erf_inv``): +-inf at +-1, NaN outside."""
    return erf_inv_p.bind(x)


def lgamma(x):
    """log|Gamma(x)| (``lax.lgamma``): inf at the poles 0, -1, -2, ..."""
    return lgamma_p.bind(x)


def digamma(x):
    """psi(x) = d/dx lgamma(x) (``lax.digamma``): NaN at 0, -1, -2, ..."""
    return digamma_p.bind(x)


def polygamma(n: int, x):
    """psi^(n)(x), the n-th derivative of digamma, for a static integer n >= 0.  For
    n >= 2, arguments below -64 give NaN (the recurrence would be too long)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"polygamma: the order n must be a non-negative Python int, got {n!r} "
                        "(lepton takes n static; pass an int, not an array)")
    n = int(n)
    return digamma(x) if n == 0 else polygamma_p.bind(x, n=n)


# ----------------------------------------------------------------------------- JVP rules
def _gauss(x, scale):
    return mul(_const(x, scale), exp(neg(square(x))))


defjvp(erf_p, lambda t, x, ans: mul(t, _gauss(x, 2 / _SQRT_PI)))
defjvp(erfc_p, lambda t, x, ans: mul(t, _gauss(x, -2 / _SQRT_PI)))
defjvp(erf_inv_p, lambda t, x, ans: mul(t, mul(_const(x, _SQRT_PI / 2), exp(square(ans)))))
defjvp(lgamma_p, lambda t, x, ans: mul(t, digamma(x)))
defjvp(digamma_p, lambda t, x, ans: mul(t, polygamma(1, x)))
defjvp(polygamma_p, lambda t, x, ans, *, n: mul(t, polygamma(n + 1, x)))

__all__ = ["erf", "erfc", "erf_inv", "lgamma", "digamma", "polygamma",
           "erf_p", "erfc_p", "erf_inv_p", "lgamma_p", "digamma_p", "polygamma_p"]
