"""lepton.scipy.special.gammainc / gammaincc, lax.igamma*, and stats.gamma / chi2 CDFs
against closed forms (no scipy needed): for integer a, Q(n, x) = e^-x sum_{k<n} x^k / k!;
for a = 1/2, P = erf(sqrt x); dP/da against the integral
dP/da = int_0^x t^(a-1) e^-t (log t - digamma(a)) dt / Gamma(a) by Gauss-Laguerre."""
import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.scipy import special as lss
from lepton.scipy import stats as lst
from lepton.test_util import check_grads


@pytest.fixture(autouse=True)
def _x64():
    with lepton.enable_x64():
        yield


def _q_int(n, x):
    return math.exp(-x) * sum(x ** k / math.factorial(k) for k in range(n))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20])
@pytest.mark.parametrize("x", [1e-3, 0.4, 1.0, 2.5, 6.0, 15.0, 40.0])
def test_integer_a_matches_poisson_sum(n, x):
    q = _q_int(n, x)
    np.testing.assert_allclose(float(lss.gammaincc(float(n), x)), q, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(float(lss.gammainc(float(n), x)), 1 - q, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("x", [1e-4, 0.3, 1.0, 1.7, 4.0, 9.0])
def test_half_a_matches_erf(x):
    np.testing.assert_allclose(float(lss.gammainc(0.5, x)), math.erf(math.sqrt(x)), rtol=1e-13)
    np.testing.assert_allclose(float(lss.gammaincc(0.5, x)), math.erfc(math.sqrt(x)),
                               rtol=1e-12)


def _dp_da_quad(a, x):
    """dP/da = x^a / Gamma(a + 1) int_0^inf e^-u e^(-x s) (log x - u / a - digamma(a)) du
    with s = e^(-u / a) (t = x s, s^a = e^-u): a smooth integrand, Gauss-Laguerre."""
    u, w = np.polynomial.laguerre.laggauss(80)
    s = np.exp(-u / a)
    f = np.exp(-x * s) * (math.log(x) - u / a - float(lss.digamma(a)))
    return x ** a / math.gamma(a + 1) * np.dot(w, f)


@pytest.mark.parametrize("a,x", [(0.7, 0.3), (2.5, 1.3), (3.0, 5.0), (1.2, 4.0)])
def test_grad_in_a_matches_quadrature(a, x):
    g = lepton.grad(lss.gammainc, argnums=0)(a, x)
    np.testing.assert_allclose(float(g), _dp_da_quad(a, x), rtol=1e-10)
    gc = lepton.grad(lss.gammaincc, argnums=0)(a, x)
    np.testing.assert_allclose(float(gc), -float(g), rtol=1e-12)


def test_grad_in_x_is_the_density():
    a, x = 2.5, 1.3
    want = x ** (a - 1) * math.exp(-x) / math.gamma(a)
    np.testing.assert_allclose(float(lepton.grad(lss.gammainc, argnums=1)(a, x)), want,
                               rtol=1e-13)
    np.testing.assert_allclose(float(lepton.grad(lss.gammaincc, argnums=1)(a, x)), -want,
                               rtol=1e-13)


def test_numeric_gradients_float64():
    a = np.array([0.6, 1.0, 2.5, 4.0])
    x = np.array([0.9, 2.0, 1.1, 6.5])
    check_grads(lambda x: lss.gammainc(a, x), (x,), order=2, atol=1e-6, rtol=1e-6)
    check_grads(lambda x: lss.gammaincc(a, x), (x,), order=2, atol=1e-6, rtol=1e-6)
    check_grads(lambda a: lss.gammainc(a, x), (a,), order=1, atol=1e-6, rtol=1e-6)
    # mixed second derivative: d/dx of dP/da
    check_grads(lambda x: lepton.grad(lambda a: lnp.sum(lss.gammainc(a, x)))(a), (x,),
                order=1, atol=1e-6, rtol=1e-6)


def test_second_derivative_in_a_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="with respect to a"):
        lepton.grad(lepton.grad(lss.gammainc))(1.5, 2.0)


def test_edges_follow_jax():
    a = lnp.array([0.0, 1.0, -1.0, 1.0, np.inf, 0.0, 2.5, np.nan, 2.0])
    x = lnp.array([1.0, 0.0, 1.0, -1.0, 1.0, 0.0, np.inf, 1.0, 0.0])
    p = np.asarray(lss.gammainc(a, x))
    np.testing.assert_array_equal(p, [1, 0, np.nan, np.nan, np.nan, np.nan, 1, np.nan, 0])
    q = np.asarray(lss.gammaincc(a, x))
    np.testing.assert_array_equal(q, [0, 1, np.nan, np.nan, np.nan, np.nan, 0, np.nan, 1])
    ga, gx = lepton.grad(lss.gammainc, argnums=(0, 1))(1.0, 0.0)
    assert float(ga) == 0.0 and float(gx) == 1.0  # 0^0 = 1 (JAX gives NaN for dP/dx)


def test_large_arguments_and_float32():
    # near the transition x ~ a the series / fraction need ~sqrt(a) terms
    q = float(lss.gammaincc(1e4, 1e4 + 100.0))
    np.testing.assert_allclose(q, 0.1586512495539239, rtol=1e-9)  # JAX's value, = scipy's
    p32 = lss.gammainc(lnp.float32(3.0), lnp.float32(2.0))
    assert p32.dtype == np.float32
    np.testing.assert_allclose(float(p32), 1 - _q_int(3, 2.0), rtol=1e-6)
    assert lss.gammainc(2, 3).dtype == lnp.asarray(1.0).dtype  # ints promote to float


def test_under_jit_vmap_and_lax_names():
    a = lnp.array([0.5, 1.0, 3.0])
    x = lnp.array([0.25, 2.0, 7.0])
    want = lss.gammainc(a, x)
    np.testing.assert_allclose(lepton.jit(lss.gammainc)(a, x), want, rtol=1e-14)
    np.testing.assert_allclose(lepton.vmap(lax.igamma)(a, x), want, rtol=1e-14)
    np.testing.assert_allclose(lax.igammac(a, x), 1 - np.asarray(want), rtol=1e-12)
    np.testing.assert_allclose(lepton.jit(lepton.grad(lambda a: lnp.sum(lss.gammainc(a, x))))(a),
                               lax.igamma_grad_a(a, x), rtol=1e-14)
    assert lss.gammainc(lnp.zeros((0, 2)), 1.0).shape == (0, 2)
    with pytest.raises(Exception, match="gammainc"):
        lss.gammainc(lnp.ones(3), lnp.ones(4))


def test_gamma_and_chi2_distributions():
    x = np.array([-0.5, 0.0, 0.5, 2.0, 5.0])
    cdf = np.asarray(lst.gamma.cdf(x, 2.0, loc=0.0, scale=1.5))
    want = np.array([0.0 if v <= 0 else 1 - _q_int(2, v / 1.5) for v in x])
    np.testing.assert_allclose(cdf, want, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(lst.gamma.sf(x, 2.0, scale=1.5), 1 - want, rtol=1e-12)
    np.testing.assert_allclose(lst.gamma.logcdf(x[2:], 2.0, scale=1.5), np.log(want[2:]),
                               rtol=1e-12)
    # chi2 with df = 4 is gamma(2, scale 2): sf = e^-x/2 (1 + x/2)
    xs = x[1:]
    np.testing.assert_allclose(lst.chi2.sf(xs, 4.0), np.exp(-xs / 2) * (1 + xs / 2), rtol=1e-12)
    np.testing.assert_allclose(lst.chi2.logsf(xs, 4.0), -xs / 2 + np.log1p(xs / 2), rtol=1e-12)
    np.testing.assert_allclose(lst.chi2.pdf(xs, 2.0), 0.5 * np.exp(-xs / 2), rtol=1e-12)
    np.testing.assert_allclose(lst.chi2.logpdf(2.0, 3.0),
                               0.5 * math.log(2.0) - 1.0 - 1.5 * math.log(2) - math.lgamma(1.5),
                               rtol=1e-12)
    np.testing.assert_allclose(lst.chi2.cdf(3.0, 2.0), 1 - math.exp(-1.5), rtol=1e-12)
    g = lepton.grad(lst.chi2.cdf)(3.0, 2.0)
    np.testing.assert_allclose(float(g), 0.5 * math.exp(-1.5), rtol=1e-12)


def test_poisson_cdf_is_the_partial_sum():
    mu = 2.3
    k = np.array([-1.0, 0.0, 1.0, 2.5, 7.0])
    want = [0.0] + [sum(math.exp(-mu) * mu ** j / math.factorial(j)
                        for j in range(int(math.floor(v)) + 1)) for v in k[1:]]
    np.testing.assert_allclose(np.asarray(lst.poisson.cdf(k, mu)), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lst.poisson.cdf(np.array([3, 4]), mu, loc=1)),
                               want[3:4] + [sum(math.exp(-mu) * mu ** j / math.factorial(j)
                                                for j in range(4))], rtol=1e-12)
    # differentiable in mu: d/dmu P(K <= 2) = -P(K = 2)
    g = lepton.grad(lambda m: lst.poisson.cdf(2.0, m))(mu)
    np.testing.assert_allclose(float(g), -math.exp(-mu) * mu ** 2 / 2, rtol=1e-10)
