"""``lepton.scipy.special`` (as ``jax.scipy.special``).

Inputs are promoted as NumPy/JAX do (ints and bools to float).  The elementary
functions (erf, erfc, erfinv, gammaln, digamma, polygamma) are primitives with closed-form
derivatives (``lepton.primitives.special``); the rest are compositions.  ``xlogy`` and
``xlog1py`` are 0 where ``x == 0`` (even at y == 0) with JAX's derivative rule
``dx * log(y) + dy * x / y``.  ``polygamma`` takes a static Python int order.
"""
from __future__ import annotations

import math

import numpy as np

from .. import numpy as lnp
from ..core import Tracer
from ..numpy.util import promote_args_inexact
from ..primitives import igamma as _ig
from ..primitives import special as _sp
from ..primitives.elementwise import logistic as _logistic
from ..transforms.custom import custom_jvp, stop_gradient
from ._util import quiet

__all__ = ["betaln", "digamma", "entr", "erf", "erfc", "erfinv", "expit", "factorial", "gamma", "gammainc",
           "gammaincc", "gammaln",
           "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
           "polygamma", "kl_div", "rel_entr", "softmax", "xlog1py", "xlogy"]


def _unary(name, prim_fn, doc):
    def fn(x):
        (x,) = promote_args_inexact(name, x)
        return prim_fn(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


erf = _unary("erf", _sp.erf, "The error function 2/sqrt(pi) int_0^x exp(-t^2) dt.")
erfc = _unary("erfc", _sp.erfc, "1 - erf(x), accurate where erf(x) is near 1.")
erfinv = _unary("erfinv", _sp.erf_inv, "The inverse of erf: +-inf at +-1, NaN outside [-1, 1].")
gammaln = _unary("gammaln", _sp.lgamma, "log|Gamma(x)|: inf at 0, -1, -2, ...")
digamma = _unary("digamma", _sp.digamma,
                 "psi(x) = d/dx gammaln(x): NaN at 0, -1, -2, ... (as JAX; scipy gives -inf at 0).")
expit = _unary("expit", _logistic, "1 / (1 + exp(-x)), without overflow.")


def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a).
    Differentiable in x and (once) in a, as JAX; NaN for a < 0 or x < 0."""
    return _ig.igamma(*promote_args_inexact("gammainc", a, x))


def gammaincc(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), accurate
    where P is close to 1.  Differentiable in x and (once) in a, as JAX."""
    return _ig.igammac(*promote_args_inexact("gammaincc", a, x))


@quiet
def rel_entr(p, q):
    """p log(p / q) for p, q > 0; 0 where p == 0 and q >= 0; inf elsewhere (as scipy)."""
    p, q = promote_args_inexact("rel_entr", p, q)
    both = (p > 0) & (q > 0)
    safe_p, safe_q = lnp.where(both, p, 1), lnp.where(both, q, 1)
    val = safe_p * lnp.log(safe_p / safe_q)
    return lnp.where(both, val, lnp.where((p == 0) & (q >= 0), 0, np.inf).astype(p.dtype))


@quiet
def kl_div(p, q):
    """p log(p / q) - p + q for p, q > 0; q where p == 0 and q >= 0; inf elsewhere."""
    p, q = promote_args_inexact("kl_div", p, q)
    both = (p > 0) & (q > 0)
    safe_p, safe_q = lnp.where(both, p, 1), lnp.where(both, q, 1)
    val = safe_p * lnp.log(safe_p / safe_q) - safe_p + safe_q
    return lnp.where(both, val, lnp.where((p == 0) & (q >= 0), q, np.inf).astype(p.dtype))


@quiet
def factorial(n, exact=False):
    """n! = Gamma(n + 1) for n >= 0 (0 for negative n, as scipy); ``exact`` is not
    supported (as JAX)."""
    if exact:
        raise NotImplementedError("factorial: exact=True is not supported (as in JAX); use "
                                  "math.factorial for Python ints")
    (n,) = promote_args_inexact("factorial", n)
    return lnp.where(n < 0, 0, lnp.exp(_sp.lgamma(lnp.where(n < 0, 0, n) + 1)))


@quiet
def polygamma(n, x):
    """The n-th derivative of digamma; ``n`` is a static non-negative Python int (JAX also
    takes an array of orders)."""
    if isinstance(n, (Tracer,)) or (hasattr(n, "shape") and np.shape(n) != ()):
        raise TypeError("lepton.scipy.special.polygamma: the order n must be a Python int "
                        f"(got {type(n).__name__}); lepton does not take an array of orders")
    if hasattr(n, "shape"):
        n = np.asarray(n).item()
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    (x,) = promote_args_inexact("polygamma", x)
    return _sp.polygamma(n, x)


@quiet
def gamma(x):
    """Gamma(x) = sign * exp(gammaln(x)): inf at 0 and at the poles -1, -2, ... (the sign
    of a pole is undefined; scipy gives NaN there)."""
    (x,) = promote_args_inexact("gamma", x)
    odd = lnp.mod(lnp.floor(x), 2) == 1  # Gamma < 0 on (-1, 0), (-3, -2), ...
    sign = lnp.where((x < 0) & odd, -1.0, 1.0).astype(x.dtype)
    return sign * lnp.exp(_sp.lgamma(x))


@quiet
def multigammaln(a, d):
    """log of the multivariate gamma function of dimension ``d`` (a static int)."""
    d = int(d)
    (a,) = promote_args_inexact("multigammaln", a)
    js = lnp.arange(d, dtype=a.dtype)
    terms = _sp.lgamma(lnp.expand_dims(a, -1) - 0.5 * js)
    return lnp.sum(terms, axis=-1) + 0.25 * d * (d - 1) * math.log(math.pi)


@quiet
def entr(x):
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0."""
    (x,) = promote_args_inexact("entr", x)
    return lnp.where(x < 0, -np.inf, -xlogy(x, x))


@quiet
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the (gradient-free) max."""
    (x,) = promote_args_inexact("softmax", x)
    m = stop_gradient(lnp.max(x, axis=axis, keepdims=True))
    e = lnp.exp(x - lnp.where(lnp.isfinite(m), m, 0))
    return e / lnp.sum(e, axis=axis, keepdims=True)


@quiet
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    (x,) = promote_args_inexact("log_softmax", x)
    return x - logsumexp(x, axis=axis, keepdims=True)


@quiet
def logit(x):
    """log(x / (1 - x)), the inverse of expit."""
    (x,) = promote_args_inexact("logit", x)
    return lnp.log(x) - lnp.log1p(-x)


@quiet
def betaln(a, b):
    """log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)."""
    a, b = promote_args_inexact("betaln", a, b)
    return _sp.lgamma(a) + _sp.lgamma(b) - _sp.lgamma(a + b)


@custom_jvp
def _xlogy(x, y):
    return lnp.where(x != 0, x * lnp.log(lnp.where(x != 0, y, 1)), 0)


_xlogy.defjvp(lambda primals, tangents: (
    _xlogy(*primals),
    tangents[0] * lnp.log(primals[1]) + tangents[1] * primals[0] / primals[1]))


@custom_jvp
def _xlog1py(x, y):
    return lnp.where(x != 0, x * lnp.log1p(lnp.where(x != 0, y, 0)), 0)


_xlog1py.defjvp(lambda primals, tangents: (
    _xlog1py(*primals),
    tangents[0] * lnp.log1p(primals[1]) + tangents[1] * primals[0] / (1 + primals[1])))


@quiet
def xlogy(x, y):
    """x * log(y), and 0 where x == 0 (even if y is 0)."""
    return _xlogy(*promote_args_inexact("xlogy", x, y))


@quiet
def xlog1py(x, y):
    """x * log1p(y), and 0 where x == 0 (even if y is -1)."""
    return _xlog1py(*promote_args_inexact("xlog1py", x, y))


# ----------------------------------------------------------------------------- normal CDF
_SQRT1_2 = 1 / math.sqrt(2)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@quiet
def ndtr(x):
    """The standard normal CDF, accurate in both tails (0.5 erfc(-x / sqrt 2))."""
    (x,) = promote_args_inexact("ndtr", x)
    return 0.5 * _sp.erfc(-x * _SQRT1_2)


_ASYMPTOTIC_BELOW = -20.0


@quiet
def log_ndtr(x):
    """log of the standard normal CDF, accurate far into the left tail (an asymptotic
    series below x = -20, where the CDF itself would underflow near x = -38)."""
    (x,) = promote_args_inexact("log_ndtr", x)
    far = x < _ASYMPTOTIC_BELOW
    xs = lnp.where(far, x, _ASYMPTOTIC_BELOW)  # each branch sees only its own range
    right = lnp.log1p(-0.5 * _sp.erfc(lnp.maximum(x, 0) * _SQRT1_2))
    left = lnp.log(0.5 * _sp.erfc(-lnp.clip(x, _ASYMPTOTIC_BELOW, 0) * _SQRT1_2))
    # log Phi(x) = -x^2/2 - log(-x) - log sqrt(2 pi) + log(1 + sum (-1)^k (2k-1)!! / x^2k)
    z = 1 / (xs * xs)
    series, coef = 0.0 * z, 1.0
    for k in range(1, 8):
        coef *= 2 * k - 1
        series = series + (-1) ** k * coef * z ** k
    tail = -0.5 * xs * xs - lnp.log(-xs) - _LOG_SQRT_2PI + lnp.log1p(series)
    return lnp.where(far, tail, lnp.where(x > 0, right, left))


@custom_jvp
def _ndtri(p):
    central = math.sqrt(2) * _sp.erf_inv(2 * p - 1)
    # Left half: Newton on log_ndtr(x) = log(p), from erf_inv's guess (or the asymptotic
    # one where 2p - 1 rounds to -1): exact to the last bits down to p = 1e-308.
    lp = lnp.log(lnp.where(p < 0.5, p, 0.25))
    t = -2 * lp
    guess = -lnp.sqrt(lnp.maximum(t - lnp.log(t) - 2 * _LOG_SQRT_2PI, 1.0))
    x = lnp.where((p > 1e-8) & (p < 0.5), central, guess)
    for _ in range(5):
        ln = log_ndtr(x)
        x = x - (ln - lp) * lnp.exp(ln + 0.5 * x * x + _LOG_SQRT_2PI)
    out = lnp.where(p < 0.5, x, central)
    out = lnp.where(p == 0, -np.inf, out)
    return lnp.where((p < 0) | (p > 1), np.nan, out)


_ndtri.defjvp(lambda primals, tangents: (
    _ndtri(primals[0]),
    tangents[0] * lnp.exp(0.5 * lnp.square(_ndtri(primals[0])) + _LOG_SQRT_2PI)))


@quiet
def ndtri(p):
    """The inverse of ndtr (the standard normal quantile): -inf at 0, inf at 1, NaN outside."""
    (p,) = promote_args_inexact("ndtri", p)
    return _ndtri(p)


# ----------------------------------------------------------------------------- logsumexp
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """log(sum(b * exp(a))) along ``axis`` without overflow (as ``jax.scipy.special``).

    With ``return_sign=True`` returns ``(log|s|, sign(s))``; otherwise a negative sum
    gives NaN.  All -inf inputs give -inf; the max shift carries no gradient."""
    if b is not None:
        a, b = promote_args_inexact("logsumexp", a, b)
    else:
        (a,) = promote_args_inexact("logsumexp", a)
    if where is not None:
        a = lnp.where(where, a, -np.inf)
        if b is not None:
            b = lnp.where(where, b, 0)
    if axis is not None and not isinstance(axis, (tuple, list)):
        axis = (axis,)
    axis = None if axis is None else tuple(int(d) for d in axis)
    amax = lnp.max(a, axis=axis, keepdims=True, initial=-np.inf)
    amax = stop_gradient(lnp.where(lnp.isfinite(amax), amax, 0))
    e = lnp.exp(a - amax)
    if b is not None:
        e = e * b
    s = lnp.sum(e, axis=axis, keepdims=True)
    if return_sign:
        sign = lnp.sign(s)
        s = lnp.abs(s)
    out = lnp.log(s) + amax
    if not keepdims:
        sq = tuple(range(a.ndim)) if axis is None else axis
        out = lnp.squeeze(out, axis=sq)
        if return_sign:
            sign = lnp.squeeze(sign, axis=sq)
    if return_sign:
        return out, sign
    return out


