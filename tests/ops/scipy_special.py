"""Op rows: lepton.scipy.special, lepton.scipy.stats and lepton.scipy.linalg.

References are closed forms (NumPy plus ``math.erf``/``math.lgamma``) where one exists;
rows whose only reference is scipy (digamma, polygamma, erfinv, ndtri, expm) are left out
when scipy is not installed.  Gradient draws stay away from poles and support edges.
"""
import math

import numpy as np
from hypothesis import strategies as st

import lepton.scipy.linalg as lsl
import lepton.scipy.special as lss
import lepton.scipy.stats as lst
from tests.ops import Op, array, binary, bshape, shape, unary

try:
    import scipy.linalg as _sl
    import scipy.special as _ss
except ImportError:  # scipy is optional: its rows are skipped
    _ss = _sl = None


def _vec(fn):
    u = np.frompyfunc(fn, 1, 1)

    def apply(x):
        x = np.asarray(x)
        return np.asarray(u(x), np.float64).astype(x.dtype if x.dtype.kind == "f" else "f8")
    return apply


def _lgamma_scalar(x):
    if x <= 0 and x == math.floor(x):
        return math.inf
    return math.lgamma(x) if math.isfinite(x) else (x if x != -math.inf else math.inf)


_erf, _erfc, _gammaln = _vec(math.erf), _vec(math.erfc), _vec(_lgamma_scalar)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _f64(*xs):
    return [np.asarray(x, np.float64) for x in xs]


def _cast(like, out):
    return np.asarray(out).astype(np.result_type(*[np.asarray(x).dtype for x in like]))


def _xlogy(x, y):
    x64, y64 = _f64(x, y)
    with np.errstate(all="ignore"):
        return _cast((x, y), np.where(x64 == 0, 0.0, x64 * np.log(y64)))


def _xlog1py(x, y):
    x64, y64 = _f64(x, y)
    with np.errstate(all="ignore"):
        return _cast((x, y), np.where(x64 == 0, 0.0, x64 * np.log1p(y64)))


def _logsumexp(a, axis=None, b=None, keepdims=False):
    a64 = np.asarray(a, np.float64)
    m = np.max(a64, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(a64 - m) * (1 if b is None else b)
    out = np.log(np.sum(e, axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return out.astype(np.asarray(a).dtype)


def _gen(*kinds, lows=None, highs=None):
    """Arguments of these kinds with mutually broadcastable shapes."""
    def gen(draw, dtype, for_grad):
        s = shape(draw, max_dims=2)
        out = []
        for i, kind in enumerate(kinds):
            lo = None if lows is None else lows[i]
            hi = None if highs is None else highs[i]
            si = bshape(draw, s) if i else s
            out.append(array(draw, si, dtype, kind, for_grad, low=lo, high=hi, salt=i))
        return tuple(out), {}
    return gen


def _prob(draw, dtype, for_grad):
    return (array(draw, shape(draw), dtype, "positive", True, low=0.05, high=0.95),), {}


def _logsumexp_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, max_dims=3, min_side=1)
    a = array(draw, s, dtype, "real", for_grad)
    axis = draw(st.sampled_from([None] + list(range(-len(s), len(s)))))
    kw = {"axis": axis, "keepdims": draw(st.booleans())}
    if draw(st.booleans()):
        return (a, array(draw, s, dtype, "positive", True, salt=1)), kw
    return (a,), kw


def _norm_logpdf(x, loc, scale):
    x64, l64, s64 = _f64(x, loc, scale)
    z = (x64 - l64) / s64
    return _cast((x, loc, scale), -0.5 * z * z - _LOG_SQRT_2PI - np.log(s64))


def _norm_cdf(x, loc, scale):
    x64, l64, s64 = _f64(x, loc, scale)
    return _cast((x, loc, scale), 0.5 * _erfc(-(x64 - l64) / s64 / math.sqrt(2)))


def _t_logpdf(x, df):
    x64, d64 = _f64(x, df)
    out = (_gammaln((d64 + 1) / 2) - _gammaln(d64 / 2) - 0.5 * np.log(d64 * np.pi)
           - (d64 + 1) / 2 * np.log1p(x64 * x64 / d64))
    return _cast((x, df), out)


def _gamma_logpdf(x, a):
    x64, a64 = _f64(x, a)
    return _cast((x, a), (a64 - 1) * np.log(x64) - x64 - _gammaln(a64))


def _beta_logpdf(x, a, b):
    x64, a64, b64 = _f64(x, a, b)
    lbeta = _gammaln(a64) + _gammaln(b64) - _gammaln(a64 + b64)
    out = (a64 - 1) * np.log(x64) + (b64 - 1) * np.log1p(-x64) - lbeta
    return _cast((x, a, b), np.where((x64 < 0) | (x64 > 1), -np.inf, out))


def _bernoulli_gen(draw, dtype, for_grad):
    s = shape(draw, max_dims=2)
    k = array(draw, s, "int32", "int", low=0, high=1)
    return (k, array(draw, bshape(draw, s), dtype, "positive", True, low=0.05, high=0.95)), {}


def _bernoulli_logpmf(k, p):
    p64 = np.asarray(p, np.float64)
    return np.where(k == 1, np.log(p64), np.log1p(-p64)).astype(np.asarray(p).dtype)


def _poisson_gen(draw, dtype, for_grad):
    s = shape(draw, max_dims=2)
    k = array(draw, s, "int32", "int", low=0, high=6)
    return (k, array(draw, bshape(draw, s), dtype, "positive", True, salt=1)), {}


def _poisson_logpmf(k, mu):
    mu64 = np.asarray(mu, np.float64)
    return (k * np.log(mu64) - _gammaln(k + 1.0) - mu64).astype(np.asarray(mu).dtype)


def _spd(draw, dtype, n):
    b = array(draw, (n, n), dtype, "unit", True)
    return (b @ b.conj().T + n * np.eye(n)).astype(dtype)  # Hermitian positive definite


def _mvn_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 3))
    batch = shape(draw, max_dims=1, min_side=1, max_side=3)
    x = array(draw, batch + (n,), dtype, "real", True)
    return (x, array(draw, (n,), dtype, "real", True, salt=1), _spd(draw, dtype, n)), {}


def _mvn_logpdf(x, mean, cov):
    x64, m64, c64 = _f64(x, mean, cov)
    d = x64 - m64
    sol = np.linalg.solve(c64, d[..., None])[..., 0]
    n = m64.shape[-1]
    out = -0.5 * np.sum(d * sol, -1) - 0.5 * np.linalg.slogdet(c64)[1] - 0.5 * n * math.log(
        2 * math.pi)
    return out.astype(np.asarray(x).dtype)


def _cho_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 4))
    k = draw(st.sampled_from([None, 1, 2]))
    b = array(draw, (n,) if k is None else (n, k), dtype, "real", True, salt=1)
    return (_spd(draw, dtype, n), b), {"lower": draw(st.booleans())}


def _sym(a):
    return (a + a.conj().T) / 2  # Hermitian for complex inputs


def _cho_solve(a, b, lower):
    return lsl.cho_solve(lsl.cho_factor(_sym(a), lower=lower), b)


def _tri_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 4))
    lower = draw(st.booleans())
    a = array(draw, (n, n), dtype, "unit", True) + 2 * np.eye(n, dtype=dtype)
    a = (np.tril(a) if lower else np.triu(a)).astype(dtype)
    b = array(draw, (n, draw(st.integers(1, 3))) if draw(st.booleans()) else (n,), dtype,
              "real", True, salt=1)
    return (a, b), {"lower": lower, "trans": draw(st.sampled_from([0, 1, "T"]))}


def _tri_ref(a, b, lower, trans):
    op = a.T if trans in (1, "T") else a
    wide = np.complex128 if a.dtype.kind == "c" else np.float64
    return np.linalg.solve(op.astype(wide), b.astype(wide)).astype(a.dtype)


def _expm_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([0.1, 1.0, 4.0] if for_grad else [0.1, 1.0, 4.0, 30.0]))
    return ((array(draw, (n, n), dtype, "real", True) * scale).astype(dtype),), {}


def _ndtri_ref(p):
    return _ss.ndtri(p)


OPS = [
    unary("scipy.special.erf", lss.erf, _erf),
    unary("scipy.special.erfc", lss.erfc, _erfc),
    unary("scipy.special.gammaln", lss.gammaln, _gammaln, kind="positive"),
    unary("scipy.special.expit", lss.expit, lambda x: (0.5 * (1 + np.tanh(
        np.asarray(x, np.float64) / 2))).astype(x.dtype)),
    Op("scipy.special.logit", lss.logit,
       lambda p: (np.log(p.astype(np.float64)) - np.log1p(-p.astype(np.float64))).astype(p.dtype),
       _prob),
    unary("scipy.special.ndtr", lss.ndtr,
          lambda x: (0.5 * _erfc(-np.asarray(x, np.float64) / math.sqrt(2))).astype(x.dtype)),
    unary("scipy.special.log_ndtr", lss.log_ndtr, lambda x: np.log(
        0.5 * _erfc(-np.asarray(x, np.float64) / math.sqrt(2))).astype(x.dtype)),
    binary("scipy.special.xlogy", lss.xlogy, _xlogy, kind="real", kind2="positive"),
    binary("scipy.special.xlog1py", lss.xlog1py, _xlog1py, kind="real", kind2="positive"),
    binary("scipy.special.betaln", lss.betaln, lambda a, b: _cast(
        (a, b), _gammaln(a.astype("f8")) + _gammaln(b.astype("f8"))
        - _gammaln(a.astype("f8") + b.astype("f8"))), kind="positive"),
    Op("scipy.special.logsumexp", lambda a, b=None, **kw: lss.logsumexp(a, b=b, **kw),
       lambda a, b=None, **kw: _logsumexp(a, b=b, **kw), _logsumexp_gen),
    Op("scipy.stats.norm.logpdf", lst.norm.logpdf, _norm_logpdf,
       _gen("real", "real", "positive")),
    Op("scipy.stats.norm.cdf", lst.norm.cdf, _norm_cdf, _gen("real", "real", "positive")),
    Op("scipy.stats.t.logpdf", lst.t.logpdf, _t_logpdf, _gen("real", "positive"),
       rtol=1e-5),
    Op("scipy.stats.gamma.logpdf", lst.gamma.logpdf, _gamma_logpdf,
       _gen("positive", "positive", lows=(0.1, 0.5))),
    Op("scipy.stats.beta.logpdf", lst.beta.logpdf, _beta_logpdf,
       _gen("positive", "positive", "positive", lows=(0.05, 0.5, 0.5), highs=(0.95, 3, 3))),
    Op("scipy.stats.bernoulli.logpmf", lst.bernoulli.logpmf, _bernoulli_logpmf,
       _bernoulli_gen, diff_args=(1,)),
    Op("scipy.stats.poisson.logpmf", lst.poisson.logpmf, _poisson_logpmf, _poisson_gen,
       diff_args=(1,)),
    Op("scipy.stats.multivariate_normal.logpdf",  # cov symmetrised: Cholesky reads one triangle
       lambda x, m, c: lst.multivariate_normal.logpdf(x, m, _sym(c)), _mvn_logpdf,
       _mvn_gen, rtol=1e-5, atol=1e-5),
    Op("scipy.linalg.cho_solve", _cho_solve,
       lambda a, b, lower: np.linalg.solve(a, b), _cho_gen, rtol=1e-4, atol=1e-5,
       scalable=False),  # the matrices are drawn at fixed small sizes
    Op("scipy.linalg.solve_triangular", lsl.solve_triangular, _tri_ref, _tri_gen,
       rtol=1e-4, atol=1e-5, scalable=False),
]

if _ss is not None:
    OPS += [
        unary("scipy.special.digamma", lss.digamma, _ss.digamma, kind="positive"),
        unary("scipy.special.erfinv", lss.erfinv, _ss.erfinv, kind="unit"),
        Op("scipy.special.polygamma1", lambda x: lss.polygamma(1, x),
           lambda x: _ss.polygamma(1, x).astype(x.dtype), _gen("positive"), id=None),
        Op("scipy.special.ndtri", lss.ndtri, _ndtri_ref, _prob),
        Op("scipy.stats.norm.ppf", lst.norm.ppf,
           lambda q, loc, scale: _cast((q, loc, scale), _ss.ndtri(q.astype("f8")) * scale + loc),
           lambda draw, dtype, fg: ((array(draw, (3,), dtype, "positive", True, low=0.2,
                                           high=0.8),
                                     array(draw, (3,), dtype, "real", True, salt=1),
                                     array(draw, (), dtype, "positive", True, salt=2)), {}),
           scalable=False),  # fixed shapes
        Op("scipy.linalg.expm", lsl.expm, lambda a: _sl.expm(a.astype(np.promote_types(a.dtype, "f8"))).astype(a.dtype),
           _expm_gen, rtol=1e-4, atol=1e-5, scalable=False),
    ]
