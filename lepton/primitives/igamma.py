"""Regularized incomplete gamma primitives: igamma P(a, x), igammac Q(a, x) = 1 - P, and
igamma_grad_a dP/da.

Impls are vectorised NumPy in float64 (rounded to the input dtype): the power series of
P for x < a + 1 and the continued fraction of Q elsewhere (Cephes' igam/igamc), each
iterated until every element has converged.  dP/da differentiates the same recurrences
forward alongside them (as XLA's igamma_grad_a does), so it is as accurate as P itself.

Conventions follow XLA/JAX: NaN for a < 0, x < 0, a NaN, a = inf, or a = x = 0;
P(0, x > 0) = 1, P(a > 0, 0) = 0, P(a, inf) = 1.  dP/dx is the closed form
x^(a-1) e^-x / Gamma(a) (1 at a = 1, x = 0, where JAX gives NaN).  igamma_grad_a is
differentiable in x (d/dx dP/da = dP/dx (log x - digamma(a))); its derivative in a is
not implemented (JAX implements neither).
"""
from __future__ import annotations

import numpy as np

from .base import defjvp
from .elementwise import FLOAT, _const, elementwise, eq, exp, gt, log, mul, neg, select, sub
from .special import _digamma_np, _lgamma_np, digamma, lgamma

_EPS = np.finfo(np.float64).eps
_BIG = 4503599627370496.0  # 2**52: the continued fraction's rescaling threshold
_MAX_ITER = 2000


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a)) and its derivative in a."""
    with np.errstate(all="ignore"):
        lp = a * np.log(x) - x - _lgamma_np(a)
        return lp, np.log(x) - _digamma_np(a)


def _series(a, x, want_da):
    """P(a, x) by its power series (x < a + 1), and dP/da if ``want_da``."""
    r, c, ans = a.copy(), np.ones_like(a), np.ones_like(a)
    dc, dans = np.zeros_like(a), np.zeros_like(a)
    live = np.ones(a.shape, bool)
    for _ in range(_MAX_ITER):
        r = r + 1
        dc = np.where(live, dc * x / r - c * x / (r * r), dc)
        c = np.where(live, c * x / r, c)
        ans = ans + np.where(live, c, 0.0)
        dans = dans + np.where(live, dc, 0.0)
        live &= (c > ans * _EPS) | (want_da & (np.abs(dc) > np.abs(dans) * _EPS))
        if not live.any():
            break
    lp, dlp = _log_prefactor(a, x)
    pref = np.exp(lp) / a  # x^a e^-x / Gamma(a + 1)
    p = pref * ans
    if not want_da:
        return p, None
    # d/da log(1 / a) = -1 / a, and digamma(a + 1) = digamma(a) + 1 / a
    return p, p * (dlp - 1 / a) + pref * dans


def _contfrac(a, x, want_da):
    """Q(a, x) by its continued fraction (x >= a + 1), and dQ/da if ``want_da``."""
    y = 1 - a
    z = x + y + 1
    c = np.zeros_like(a)
    pkm2, qkm2, pkm1, qkm1 = np.ones_like(a), x.copy(), x + 1, z * x
    dpkm2, dqkm2, dpkm1, dqkm1 = (np.zeros_like(a), np.zeros_like(a), np.zeros_like(a), -x)
    ans, dans = pkm1 / qkm1, (dpkm1 - pkm1 / qkm1 * dqkm1) / qkm1
    live = np.ones(a.shape, bool)
    for _ in range(_MAX_ITER):
        c, y, z = c + 1, y + 1, z + 2
        yc = y * c
        pk, qk = pkm1 * z - pkm2 * yc, qkm1 * z - qkm2 * yc
        dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c  # dz/da = -1, d(yc)/da = -c
        dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c
        ok = live & (qk != 0)
        safe_qk = np.where(ok, qk, 1.0)
        r = pk / safe_qk
        dr = (dpk - r * dqk) / safe_qk
        conv = np.abs(ans - r) <= _EPS * np.abs(r)
        if want_da:
            conv &= np.abs(dans - dr) <= _EPS * np.abs(dr)
        ans, dans = np.where(ok, r, ans), np.where(ok, dr, dans)
        pkm2, pkm1 = np.where(live, pkm1, pkm2), np.where(live, pk, pkm1)
        qkm2, qkm1 = np.where(live, qkm1, qkm2), np.where(live, qk, qkm1)
        dpkm2, dpkm1 = np.where(live, dpkm1, dpkm2), np.where(live, dpk, dpkm1)
        dqkm2, dqkm1 = np.where(live, dqkm1, dqkm2), np.where(live, dqk, dqkm1)
        big = live & (np.abs(pk) > _BIG)
        s = np.where(big, 1 / _BIG, 1.0)
        pkm2, pkm1, qkm2, qkm1 = pkm2 * s, pkm1 * s, qkm2 * s, qkm1 * s
        dpkm2, dpkm1, dqkm2, dqkm1 = dpkm2 * s, dpkm1 * s, dqkm2 * s, dqkm1 * s
        live &= ~(ok & conv)
        if not live.any():
            break
    lp, dlp = _log_prefactor(a, x)
    pref = np.exp(lp)
    q = pref * ans
    return q, (q * dlp + pref * dans if want_da else None)


def _igamma_f64(a, x, which):
    """P (which='p'), Q ('q') or dP/da ('da') of float64 arrays of one shape."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    nan = np.isnan(a) | np.isnan(x) | (a < 0) | (x < 0) | (a == np.inf) | ((a == 0) & (x == 0))
    if which == "da":
        edge = ~nan & ((x == 0) | (x == np.inf))
        out[edge] = 0.0  # P is constant in a there
        out[~nan & (a == 0) & ~edge] = np.nan  # P jumps to 1 at a = 0
    else:
        p_edge = np.where((a == 0) | (x == np.inf), 1.0, 0.0)
        edge = ~nan & ((a == 0) | (x == 0) | (x == np.inf))
        out[edge] = p_edge[edge] if which == "p" else 1 - p_edge[edge]
    rest = ~nan & (a > 0) & (x > 0) & (x < np.inf)
    want_da = which == "da"
    use_series = rest & (x < a + 1)
    use_cf = rest & ~use_series
    with np.errstate(all="ignore"):
        if use_series.any():
            p, dp = _series(a[use_series], x[use_series], want_da)
            out[use_series] = dp if want_da else (p if which == "p" else 1 - p)
        if use_cf.any():
            q, dq = _contfrac(a[use_cf], x[use_cf], want_da)
            out[use_cf] = -dq if want_da else (q if which == "q" else 1 - q)
    return out


def _impl(which):
    def impl(a, x):
        return _igamma_f64(a, x, which).astype(a.dtype, copy=False)
    return impl


igamma_p = elementwise("igamma", _impl("p"), FLOAT)
igammac_p = elementwise("igammac", _impl("q"), FLOAT)
igamma_grad_a_p = elementwise("igamma_grad_a", _impl("da"), FLOAT)


def igamma(a, x):
    """The regularized lower incomplete gamma function P(a, x) (``lax.igamma``); a and x
    have one shape and float dtype."""
    return igamma_p.bind(a, x)


def igammac(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)
    (``lax.igammac``), accurate where P is close to 1."""
    return igammac_p.bind(a, x)


def igamma_grad_a(a, x):
    """dP(a, x)/da (``lax.igamma_grad_a``)."""
    return igamma_grad_a_p.bind(a, x)


# ----------------------------------------------------------------------------- JVP rules
def _dp_dx(a, x):
    """x^(a-1) e^-x / Gamma(a), with 0^0 = 1 (so 1 at a = 1, x = 0)."""
    zero, one = _const(x, 0.0), _const(x, 1.0)
    am1 = sub(a, one)
    x0 = eq(x, zero)
    logx = log(select(x0, one, x))  # the unused branch stays finite (and so its gradient)
    pw = select(eq(am1, zero), zero, mul(am1, logx))
    at0 = select(gt(am1, zero), _const(x, -np.inf),
                 select(eq(am1, zero), zero, _const(x, np.inf)))
    return exp(sub(sub(select(x0, at0, pw), x), lgamma(a)))


def _no_second_a(t, a, x, ans):
    raise NotImplementedError(
        "the derivative of igamma_grad_a (dP(a, x)/da) with respect to a is not implemented "
        "(JAX implements none): differentiate gammainc twice in x, or once in a")


defjvp(igamma_p, lambda t, a, x, ans: mul(t, igamma_grad_a(a, x)),
       lambda t, a, x, ans: mul(t, _dp_dx(a, x)))
defjvp(igammac_p, lambda t, a, x, ans: neg(mul(t, igamma_grad_a(a, x))),
       lambda t, a, x, ans: neg(mul(t, _dp_dx(a, x))))
defjvp(igamma_grad_a_p, _no_second_a,
       lambda t, a, x, ans: mul(t, mul(_dp_dx(a, x),
                                       sub(log(x), digamma(a)))))

__all__ = ["igamma", "igammac", "igamma_grad_a", "igamma_p", "igammac_p", "igamma_grad_a_p"]
