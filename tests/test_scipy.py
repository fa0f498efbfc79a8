"""lepton.scipy and the special-function primitives: values (against scipy where it is
installed, closed forms otherwise), JAX's edge conventions, derivatives, vmap and jit on
the cpu backend."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax, test_util
from lepton.errors import ShapeError
from lepton.scipy import linalg as lsl
from lepton.scipy import special as lss
from lepton.scipy import stats as lst

EULER = 0.5772156649015329


@pytest.fixture(autouse=True)
def _x64():
    with lepton.enable_x64():
        yield


def _scipy():
    return pytest.importorskip("scipy.special")


def _grid():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.uniform(-10, 10, 500), rng.uniform(0, 0.01, 50),
                           rng.uniform(-60, 60, 100), [0.5, 1.0, 2.0, 1.4616321449683623,
                                                       1e-300, 1e300, 170.5]])


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("name,ref", [("erf", "erf"), ("erfc", "erfc"), ("gammaln", "gammaln")])
def test_libm_functions_match_scipy(name, ref):
    ss = _scipy()
    x = _grid()
    np.testing.assert_allclose(getattr(lss, name)(x), getattr(ss, ref)(x), rtol=1e-11,
                               atol=1e-300)


def test_digamma_and_polygamma_match_scipy():
    ss = _scipy()
    x = _grid()
    x = x[(x > 0) | (x != np.floor(x))]
    np.testing.assert_allclose(lss.digamma(x), ss.digamma(x), rtol=1e-13, atol=1e-14)
    for n in (1, 2, 3, 6):
        xs = x if n == 1 else x[x > -30]
        np.testing.assert_allclose(lss.polygamma(n, xs), ss.polygamma(n, xs), rtol=1e-12)


def test_inverse_functions_match_scipy():
    ss = _scipy()
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 500), 1 - 10.0 ** -rng.uniform(1, 16, 100)])
    np.testing.assert_allclose(lss.erfinv(y), ss.erfinv(y), rtol=2e-15)
    p = np.concatenate([rng.uniform(0, 1, 500), 10.0 ** -rng.uniform(0, 307, 200)])
    np.testing.assert_allclose(lss.ndtri(p), ss.ndtri(p), rtol=2e-15)
    x = np.concatenate([rng.uniform(-60, 10, 500), [-1e5, -20.0, -19.999]])
    np.testing.assert_allclose(lss.log_ndtr(x), ss.log_ndtr(x), rtol=1e-13)


def test_closed_forms():
    """Identities that need no reference library."""
    n = np.arange(1.0, 20.0)
    np.testing.assert_allclose(lss.gammaln(n), [math.log(math.factorial(int(k) - 1)) for k in n],
                               rtol=1e-14, atol=1e-15)
    harmonic = np.concatenate([[0.0], np.cumsum(1 / n[:-1])])
    np.testing.assert_allclose(lss.digamma(n), -EULER + harmonic, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(lss.digamma(0.5), -EULER - 2 * math.log(2), rtol=1e-15)
    np.testing.assert_allclose(lss.polygamma(1, 1.0), math.pi ** 2 / 6, rtol=1e-15)
    np.testing.assert_allclose(lss.polygamma(1, 0.5), math.pi ** 2 / 2, rtol=1e-15)
    np.testing.assert_allclose(lss.polygamma(2, 1.0), -2 * 1.2020569031595942, rtol=1e-14)
    x = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(lss.erf(x), [math.erf(v) for v in x], rtol=1e-15)
    np.testing.assert_allclose(lss.erfinv(lss.erf(x / 2)), x / 2, rtol=1e-14, atol=1e-15)
    left = x[x <= 2]  # beyond, ndtr rounds toward 1 and the inverse is ill-conditioned
    np.testing.assert_allclose(lss.ndtri(lss.ndtr(left)), left, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lss.expit(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(lss.logit(lss.expit(x)), x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lss.betaln(2.0, 3.0), math.log(1 / 12), rtol=1e-15)


def test_edge_values_follow_jax():
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(lss.gammaln(np.array([0.0, -1.0, -2.0, inf, -inf])),
                                  [inf, inf, inf, inf, inf])
    assert np.isnan(lss.gammaln(nan))
    np.testing.assert_array_equal(lss.digamma(np.array([0.0, -1.0, -3.0, -inf, nan])),
                                  [nan] * 5)
    assert lss.digamma(inf) == inf
    np.testing.assert_array_equal(lss.erfinv(np.array([-1.0, 1.0, 0.0])), [-inf, inf, 0.0])
    assert np.isnan(lss.erfinv(1.5)) and np.isnan(lss.ndtri(-0.1))
    np.testing.assert_array_equal(lss.ndtri(np.array([0.0, 1.0])), [-inf, inf])
    np.testing.assert_array_equal(lss.erf(np.array([-inf, inf])), [-1.0, 1.0])
    assert lss.log_ndtr(-inf) == -inf and lss.log_ndtr(inf) == 0
    assert np.isfinite(lss.log_ndtr(-1e5)) and lss.ndtr(-37.0) > 0


def test_dtypes_and_promotion():
    with lepton.enable_x64(False):
        for f in (lss.erf, lss.erfc, lss.erfinv, lss.gammaln, lss.digamma, lss.ndtr,
                  lss.ndtri, lss.log_ndtr, lss.expit, lss.logit):
            assert f(lnp.ones(3, lnp.float32) * 0.5).dtype == lnp.float32, f
            assert f(np.array([0, 1], np.int32)).dtype == lnp.float32, f
        assert lss.gammaln(3).dtype == lnp.float32
    assert lss.gammaln(np.arange(1, 4)).dtype == lnp.float64
    np.testing.assert_allclose(lss.gammaln(lnp.asarray([4.0], lnp.float32)), [math.log(6)],
                               rtol=1e-6)


def test_polygamma_order_must_be_static_int():
    with pytest.raises(TypeError, match="order n"):
        lss.polygamma(np.array([1, 2]), 1.0)
    with pytest.raises(TypeError, match="order n"):
        lax.polygamma(-1, lnp.asarray(1.0))
    assert float(lss.polygamma(0, 1.0)) == pytest.approx(-EULER)


def test_lax_exports():
    x = lnp.asarray([0.3, 1.7])
    for name in ("erf", "erfc", "erf_inv", "lgamma", "digamma"):
        assert callable(getattr(lax, name))
    np.testing.assert_allclose(lax.lgamma(x), lss.gammaln(x))
    np.testing.assert_allclose(lax.erf_inv(lax.erf(x / 2)), x / 2, rtol=1e-14)


# ----------------------------------------------------------------------------- derivatives
def test_closed_form_derivatives():
    x = np.linspace(-2, 2, 9)
    g = lepton.vmap(lepton.grad(lss.erf))(x)
    np.testing.assert_allclose(g, 2 / math.sqrt(math.pi) * np.exp(-x * x), rtol=1e-15)
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lss.erfc))(x), -g, rtol=1e-15)
    y = np.linspace(-0.9, 0.9, 7)
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lss.erfinv))(y),
                               math.sqrt(math.pi) / 2 * np.exp(np.asarray(lss.erfinv(y)) ** 2))
    p = np.array([1e-300, 1e-10, 0.3, 0.999])
    z = np.asarray(lss.ndtri(p))
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lss.ndtri))(p),
                               math.sqrt(2 * math.pi) * np.exp(z * z / 2), rtol=1e-13)
    a = np.array([0.3, 1.0, 4.5, -2.5])
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lss.gammaln))(a), lss.digamma(a))
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lss.digamma))(a), lss.polygamma(1, a))
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lepton.grad(lss.digamma)))(a),
                               lss.polygamma(2, a))


@pytest.mark.parametrize("f,x", [
    (lss.erf, [0.3, -1.2]), (lss.erfc, [0.3, 2.0]), (lss.erfinv, [0.2, -0.7]),
    (lss.gammaln, [0.4, 3.5, -1.5]), (lss.digamma, [0.4, 3.5, -1.5]),
    (lambda x: lss.polygamma(1, x), [0.7, 2.5]), (lss.ndtr, [-3.0, 0.5]),
    (lss.log_ndtr, [-25.0, -3.0, 0.5, 4.0]), (lss.ndtri, [0.1, 0.4, 0.9]),
    (lss.logit, [0.2, 0.7]), (lss.expit, [-3.0, 2.0]),
    (lambda x: lss.xlogy(x, x + 2), [0.5, 1.5]), (lambda x: lss.xlog1py(x, x), [0.5, 1.5]),
    (lambda x: lss.betaln(x, x * 2), [0.5, 1.5]),
])
def test_numeric_gradients(f, x):
    test_util.check_grads(f, (np.array(x),), order=2, modes=("fwd", "rev"))


def test_xlogy_at_zero_follows_jax():
    assert float(lss.xlogy(0.0, 0.0)) == 0.0 and float(lss.xlog1py(0.0, -1.0)) == 0.0
    assert float(lss.xlogy(0, 5)) == 0.0
    gx, gy = lepton.grad(lss.xlogy, (0, 1))(0.0, 0.0)
    assert gx == -np.inf and np.isnan(gy)  # JAX: dx log(y) + dy x / y
    gx, gy = lepton.grad(lss.xlogy, (0, 1))(0.0, 2.0)
    assert float(gx) == pytest.approx(math.log(2)) and float(gy) == 0.0
    gx, gy = lepton.grad(lss.xlog1py, (0, 1))(2.0, 1.0)
    assert float(gx) == pytest.approx(math.log(2)) and float(gy) == pytest.approx(1.0)
    out = lepton.jit(lepton.vmap(lss.xlogy))(np.array([0.0, 2.0]), np.array([0.0, 3.0]))
    np.testing.assert_allclose(out, [0.0, 2 * math.log(3)])


# ----------------------------------------------------------------------------- logsumexp
def _np_logsumexp(a, axis=None, b=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    s = np.sum((1 if b is None else b) * np.exp(a - m), axis=axis, keepdims=True)
    out = np.log(np.abs(s)) + m
    return (out if keepdims else np.squeeze(out, axis=axis)), np.sign(
        s if keepdims else np.squeeze(s, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_matches_numpy(axis, keepdims):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 3, 4)) * 300  # exp overflows without the shift
    b = rng.normal(size=(2, 3, 4))
    want, _ = _np_logsumexp(a, axis, keepdims=keepdims)
    np.testing.assert_allclose(lss.logsumexp(a, axis=axis, keepdims=keepdims), want, rtol=1e-13)
    want, sign = _np_logsumexp(a, axis, b, keepdims)
    out, s = lss.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    np.testing.assert_allclose(out, want, rtol=1e-13)
    np.testing.assert_array_equal(s, sign)


def test_logsumexp_edges():
    assert lss.logsumexp(np.full(3, -np.inf)) == -np.inf
    assert lss.logsumexp(np.zeros((0,))) == -np.inf
    assert lss.logsumexp(np.array([np.inf, 1.0])) == np.inf
    assert np.isnan(lss.logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -2.0])))
    where = np.array([True, False, True])
    np.testing.assert_allclose(lss.logsumexp(np.array([1.0, 50.0, 2.0]), where=where),
                               np.logaddexp(1.0, 2.0))
    g = lepton.grad(lss.logsumexp)(np.array([-np.inf, 0.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])
    a = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_allclose(lepton.jit(lambda x: lss.logsumexp(x, axis=1))(a),
                               np.log(np.exp(a).sum(1)), rtol=1e-14)
    test_util.check_grads(lambda x, w: lss.logsumexp(x, b=w, axis=0), (a, a + 3.0), order=2,
                          modes=("fwd", "rev"))


# ----------------------------------------------------------------------------- stats
def test_norm_against_closed_forms():
    x = np.linspace(-4, 4, 9)
    loc, scale = np.array([[0.5], [-1.0]]), 2.0
    z = (x - loc) / scale
    logpdf = -0.5 * z * z - math.log(scale * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(lst.norm.logpdf(x, loc, scale), logpdf, rtol=1e-14)
    np.testing.assert_allclose(lst.norm.pdf(x, loc, scale), np.exp(logpdf), rtol=1e-14)
    cdf = np.array([[0.5 * math.erfc(-v / math.sqrt(2)) for v in row] for row in z])
    np.testing.assert_allclose(lst.norm.cdf(x, loc, scale), cdf, rtol=1e-14)
    np.testing.assert_allclose(lst.norm.logcdf(x, loc, scale), np.log(cdf), rtol=1e-14)
    np.testing.assert_allclose(lst.norm.sf(x, loc, scale), 1 - cdf, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(lst.norm.ppf(lst.norm.cdf(x, 1.0, 3.0), 1.0, 3.0), x,
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(lst.norm.isf(lst.norm.sf(x, 1.0, 3.0), 1.0, 3.0), x,
                               rtol=1e-12, atol=1e-13)
    assert float(lst.norm.logsf(40.0)) == pytest.approx(float(lss.log_ndtr(-40.0)))


def test_distributions_match_scipy():
    st = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    x = rng.normal(size=20) * 3
    xp = np.abs(x)
    xu = rng.uniform(-0.2, 1.2, 20)
    k = np.array([-1, 0, 1, 2, 5, 0.5])
    checks = [
        (lst.t.logpdf(x, 3.5, 0.3, 1.7), st.t.logpdf(x, 3.5, 0.3, 1.7)),
        (lst.t.pdf(x, 1.0), st.t.pdf(x, 1.0)),
        (lst.gamma.logpdf(x, 2.5, 0.3, 1.3), st.gamma.logpdf(x, 2.5, 0.3, 1.3)),
        (lst.gamma.pdf(xp, 0.7), st.gamma.pdf(xp, 0.7)),
        (lst.beta.logpdf(xu, 2.5, 0.5), st.beta.logpdf(xu, 2.5, 0.5)),
        (lst.beta.pdf(xu * 2, 2.0, 3.0, 0.1, 2.0), st.beta.pdf(xu * 2, 2.0, 3.0, 0.1, 2.0)),
        (lst.bernoulli.logpmf(k, 0.3), st.bernoulli.logpmf(k, 0.3)),
        (lst.bernoulli.pmf(k, 0.3, loc=1), st.bernoulli.pmf(k, 0.3, loc=1)),
        (lst.poisson.logpmf(k, 2.5), st.poisson.logpmf(k, 2.5)),
        (lst.poisson.pmf(k, 2.5, 1), st.poisson.pmf(k, 2.5, 1)),
    ]
    for got, want in checks:
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


def test_multivariate_normal():
    rng = np.random.default_rng(4)
    n = 3
    a = rng.normal(size=(2, n, n))
    cov = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    mean = rng.normal(size=(2, n))
    x = rng.normal(size=(5, 1, n))
    d = x - mean
    quad = np.einsum("...i,...i->...", d, np.linalg.solve(cov, d[..., None])[..., 0])
    want = -0.5 * quad - 0.5 * np.linalg.slogdet(cov)[1] - 0.5 * n * math.log(2 * math.pi)
    got = lst.multivariate_normal.logpdf(x, mean, cov)
    assert got.shape == (5, 2)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(lst.multivariate_normal.pdf(x[0, 0], mean[0], cov[0]),
                               np.exp(want[0, 0]), rtol=1e-13)
    np.testing.assert_allclose(lst.multivariate_normal.logpdf(0.5, 0.0, 4.0),
                               lst.norm.logpdf(0.5, 0.0, 2.0), rtol=1e-15)
    g = lepton.grad(lambda m: lst.multivariate_normal.logpdf(x[:, 0], m, cov[0]).sum())(mean[0])
    np.testing.assert_allclose(g, np.linalg.solve(cov[0], (x[:, 0] - mean[0]).sum(0)),
                               rtol=1e-12)
    f = lepton.jit(lepton.vmap(lst.multivariate_normal.logpdf, (0, None, None)))
    np.testing.assert_allclose(f(x[:, 0], mean[0], cov[0]), want[:, 0], rtol=1e-12)
    with pytest.raises(ShapeError, match=r"cov\s+must be \(\.\.\., 3, 3\)"):
        lst.multivariate_normal.logpdf(x, mean, cov[..., :2])


def test_stats_gradients_and_support():
    test_util.check_grads(lambda x, m, s: lst.norm.logcdf(x, m, s),
                          (np.array([-3.0, 1.0]), np.array(0.5), np.array(1.5)), order=2,
                          modes=("fwd", "rev"))
    test_util.check_grads(lambda x, df: lst.t.logpdf(x, df), (np.array([-3.0, 1.0]),
                                                               np.array(4.0)), order=2)
    test_util.check_grads(lambda x, a, b: lst.beta.logpdf(x, a, b),
                          (np.array([0.2, 0.7]), np.array(2.0), np.array(1.5)), order=2)
    test_util.check_grads(lambda x, a: lst.gamma.logpdf(x, a), (np.array([0.2, 3.0]),
                                                                np.array(2.0)), order=2)
    test_util.check_grads(lambda mu: lst.poisson.logpmf(np.array([0, 3]), mu), (np.array(1.5),),
                          order=2)
    assert lst.gamma.logpdf(-1.0, 2.0) == -np.inf and lst.beta.logpdf(1.5, 2.0, 2.0) == -np.inf
    assert lst.poisson.logpmf(-1, 2.0) == -np.inf and lst.bernoulli.logpmf(2, 0.5) == -np.inf
    g = lepton.grad(lambda a: lst.gamma.logpdf(-1.0, a))(2.0)
    assert g == 0.0  # out of support: no NaN leaks through the unused branch


# ----------------------------------------------------------------------------- linalg
def _spd(rng, n, batch=()):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_cholesky_solves():
    rng = np.random.default_rng(5)
    p = _spd(rng, 4, (2,))
    b = rng.normal(size=(2, 4, 3))
    u = lsl.cholesky(p)
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, p, rtol=1e-13)
    assert np.allclose(np.tril(np.asarray(u), -1), 0)
    for lower in (True, False):
        c = lsl.cho_factor(p, lower=lower)
        assert c[1] is lower
        np.testing.assert_allclose(lsl.cho_solve(c, b), np.linalg.solve(p, b), rtol=1e-12)
        np.testing.assert_allclose(lsl.cho_solve(c, b[..., 0]), np.linalg.solve(p, b)[..., 0],
                                   rtol=1e-12)
    np.testing.assert_allclose(lsl.solve(p, b, assume_a="pos"), np.linalg.solve(p, b),
                               rtol=1e-12)
    a = rng.normal(size=(4, 4)) + 4 * np.eye(4)
    np.testing.assert_allclose(lsl.solve(a, b[0, :, 0]), np.linalg.solve(a, b[0, :, 0]),
                               rtol=1e-12)
    np.testing.assert_allclose(lsl.det(a), np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(lsl.inv(a), np.linalg.inv(a), rtol=1e-12)
    test_util.check_grads(lambda q, r: lsl.cho_solve(lsl.cho_factor((q + q.T) / 2), r),
                          (p[0], b[0]), order=1, modes=("fwd", "rev"))


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
def test_solve_triangular(lower, trans):
    rng = np.random.default_rng(6)
    a = rng.normal(size=(4, 4)) + 4 * np.eye(4)
    t = np.tril(a) if lower else np.triu(a)
    op = t if trans in (0, "N") else t.T
    b = rng.normal(size=(4, 2))
    np.testing.assert_allclose(lsl.solve_triangular(a, b, trans=trans, lower=lower),
                               np.linalg.solve(op, b), rtol=1e-12)
    np.testing.assert_allclose(lsl.solve_triangular(a, b[:, 0], trans=trans, lower=lower),
                               np.linalg.solve(op, b[:, 0]), rtol=1e-12)
    unit = t - np.diag(np.diag(t)) + np.eye(4)
    np.testing.assert_allclose(lsl.solve_triangular(a, b, lower=lower, unit_diagonal=True,
                                                    trans=trans),
                               np.linalg.solve(unit if trans in (0, "N") else unit.T, b),
                               rtol=1e-12)


def test_linalg_errors():
    with pytest.raises(ShapeError, match=r"b must have 3 rows.*\(4,\)"):
        lsl.solve_triangular(np.eye(3), np.ones(4))
    with pytest.raises(ShapeError, match=r"square matrix.*\(2, 3\)"):
        lsl.expm(np.ones((2, 3)))
    with pytest.raises(ValueError, match="trans must be"):
        lsl.solve_triangular(np.eye(2), np.ones(2), trans="X")


def test_expm():
    theta = 0.7
    rot = lsl.expm(np.array([[0.0, -theta], [theta, 0.0]]))
    np.testing.assert_allclose(rot, [[math.cos(theta), -math.sin(theta)],
                                     [math.sin(theta), math.cos(theta)]], rtol=1e-15)
    d = np.array([-3.0, 0.5, 40.0])
    np.testing.assert_allclose(lsl.expm(np.diag(d)), np.diag(np.exp(d)), rtol=1e-14)
    nil = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(lsl.expm(nil), np.eye(3) + nil + nil @ nil / 2, rtol=1e-15)
    assert lsl.expm(np.zeros((0, 0))).shape == (0, 0)
    rng = np.random.default_rng(7)
    m = rng.normal(size=(3, 4, 4)) * np.array([0.05, 1.0, 25.0])[:, None, None]
    eager = lsl.expm(m)
    for got in (lepton.jit(lsl.expm)(m), lepton.vmap(lsl.expm)(m),
                lepton.jit(lsl.expm, backend="cpu")(m)):
        np.testing.assert_allclose(got, eager, rtol=1e-12)
    # expm(A) expm(-A) = I and expm(2A) = expm(A)^2
    e = np.asarray(eager)
    np.testing.assert_allclose(e[:2] @ np.asarray(lsl.expm(-m[:2])),
                               np.broadcast_to(np.eye(4), (2, 4, 4)), atol=1e-12)
    np.testing.assert_allclose(lsl.expm(2 * m[:2]), e[:2] @ e[:2], rtol=1e-11)
    test_util.check_grads(lsl.expm, (m[1] / 2,), order=2, modes=("fwd", "rev"))
    sl = pytest.importorskip("scipy.linalg")
    np.testing.assert_allclose(eager, np.stack([sl.expm(x) for x in m]), rtol=1e-12)
    e2 = rng.normal(size=(4, 4))
    g = lepton.grad(lambda x: lnp.sum(lsl.expm(x) * e2))(m[1])
    np.testing.assert_allclose(g, sl.expm_frechet(m[1].T, e2, compute_expm=False), rtol=1e-11)


def test_expm_traced_squaring_limit():
    """Under a transform at most ``max_squarings`` squarings run; beyond that NaN (as JAX)."""
    big = np.array([[0.0, 1e6], [0.0, 0.0]])  # 1-norm 1e6: 18 squarings
    assert np.isnan(np.asarray(lepton.jit(lsl.expm)(big))).all()
    np.testing.assert_allclose(lsl.expm(big), [[1.0, 1e6], [0.0, 1.0]])  # eagerly: exact
    np.testing.assert_allclose(lepton.jit(lambda a: lsl.expm(a, max_squarings=20))(big),
                               [[1.0, 1e6], [0.0, 1.0]])


# ----------------------------------------------------------------------------- cpu backend
def test_cpu_backend_fuses_libm_functions_and_hosts_the_rest():
    x = np.linspace(-4, 4, 101)
    for dt in (np.float32, np.float64):
        xv = x.astype(dt)
        f = lambda v: lss.erf(v) * 2 + lss.erfc(v) + lss.gammaln(v)  # noqa: E731
        np.testing.assert_allclose(lepton.jit(f, backend="cpu")(xv), f(xv),
                                   rtol=8 * np.finfo(dt).eps, atol=8 * np.finfo(dt).eps)
        g = lambda v: lss.digamma(v) + lss.erfinv(v / 5) + lss.polygamma(1, v)  # noqa: E731
        np.testing.assert_array_equal(lepton.jit(g, backend="cpu")(xv), g(xv))
    f = lepton.jit(lepton.grad(lambda v: lss.gammaln(v).sum()), backend="cpu")
    np.testing.assert_allclose(f(x[x > 0]), lss.digamma(x[x > 0]), rtol=1e-14)


def test_gamma_multigammaln_entr_softmax():
    x = np.array([0.5, 1.0, 4.0, -0.5, -1.5, -2.5, 170.5])
    np.testing.assert_allclose(lss.gamma(x), [math.gamma(v) for v in x], rtol=1e-13)
    assert lss.gamma(0.0) == np.inf
    a = np.array([2.0, 3.5])
    np.testing.assert_allclose(lss.multigammaln(a, 3), [
        1.5 * math.log(math.pi) + sum(math.lgamma(v - j / 2) for j in range(3)) for v in a],
        rtol=1e-14)
    np.testing.assert_allclose(lss.entr(np.array([0.0, 0.5, 2.0, -1.0])),
                               [0.0, 0.5 * math.log(2), -2 * math.log(2), -np.inf])
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -np.inf]])
    e = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(lss.softmax(z), e / e.sum(1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(lss.log_softmax(z[:1], axis=1),
                               np.log(e[:1] / e[:1].sum(1, keepdims=True)), rtol=1e-15)
    test_util.check_grads(lambda v: lss.softmax(v, axis=0), (z[0],), order=2)
    test_util.check_grads(lss.gamma, (x[:4],), order=2)
    test_util.check_grads(lambda v: lss.multigammaln(v, 2), (a,), order=2)
