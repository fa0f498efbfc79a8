"""The samplers of lepton/_random_extra.py: Kolmogorov-Smirnov distance of 20000 draws
(fixed keys: deterministic) to closed-form CDFs, dtypes, shapes, jit and vmap."""
import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import random
from lepton.scipy.special import gammainc

N = 20000
KS_LIMIT = 1.63 / math.sqrt(N)  # the 1% critical value


@pytest.fixture(autouse=True)
def _x64():
    with lepton.enable_x64():
        yield


def _phi(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _ks(samples, cdf):
    x = np.sort(np.asarray(samples, np.float64).ravel())
    f = cdf(x)
    n = x.size
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


CASES = {
    "lognormal": (lambda k: random.lognormal(k, 0.7, (N,)),
                  lambda x: _phi(np.log(x) / 0.7)),
    "chisquare": (lambda k: random.chisquare(k, 3.0, (N,)),
                  lambda x: np.asarray(gammainc(1.5, x / 2))),
    "f": (lambda k: random.f(k, 4.0, 6.0, (N,)), None),
    "rayleigh": (lambda k: random.rayleigh(k, 2.0, (N,)),
                 lambda x: 1 - np.exp(-x ** 2 / 8)),
    "pareto": (lambda k: random.pareto(k, 3.0, (N,)), lambda x: 1 - x ** -3.0),
    "weibull_min": (lambda k: random.weibull_min(k, 2.0, 1.5, (N,)),
                    lambda x: 1 - np.exp(-(x / 2.0) ** 1.5)),
    "maxwell": (lambda k: random.maxwell(k, (N,)),
                lambda x: 2 * _phi(x) - 1 - np.sqrt(2 / np.pi) * x * np.exp(-x ** 2 / 2)),
    "double_sided_maxwell": (
        lambda k: random.double_sided_maxwell(k, 1.0, 2.0, (N,)),
        lambda x: 0.5 + 0.5 * np.sign(x - 1) * (
            2 * _phi(np.abs(x - 1) / 2) - 1
            - np.sqrt(2 / np.pi) * np.abs(x - 1) / 2 * np.exp(-((x - 1) / 2) ** 2 / 2))),
    "triangular": (lambda k: random.triangular(k, -1.0, 0.5, 2.0, (N,)),
                   lambda x: np.where(x < 0.5, (x + 1) ** 2 / (3 * 1.5),
                                      1 - (2 - x) ** 2 / (3 * 1.5))),
    "wald": (lambda k: random.wald(k, 1.5, (N,)),
             lambda x: _phi(np.sqrt(1 / x) * (x / 1.5 - 1))
             + np.exp(2 / 1.5) * _phi(-np.sqrt(1 / x) * (x / 1.5 + 1))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_distribution_matches_its_cdf(name):
    draw, cdf = CASES[name]
    s = draw(random.PRNGKey(7))
    assert s.shape == (N,) and s.dtype == np.float64
    assert np.all(np.isfinite(np.asarray(s)))
    if cdf is None:  # F(4, 6): mean dfden / (dfden - 2) = 1.5, through the chi-squares
        x = np.asarray(s)
        assert abs(x.mean() - 1.5) < 0.06, x.mean()
        assert abs(np.median(x) - 0.9030) < 0.03  # the F(4, 6) median
        return
    assert _ks(s, cdf) < KS_LIMIT, f"{name}: KS distance {_ks(s, cdf):.4f}"


def test_geometric_pmf_and_integer_dtype():
    s = np.asarray(random.geometric(random.PRNGKey(3), 0.3, (N,)))
    assert s.dtype == np.int64 and s.min() >= 1
    for k in (1, 2, 3, 6):
        assert abs(np.mean(s == k) - 0.7 ** (k - 1) * 0.3) < 0.01
    assert random.geometric(random.PRNGKey(0), 0.5, (3,), dtype=lnp.int32).dtype == np.int32


def test_parameters_broadcast_jit_vmap_and_float32():
    key = random.PRNGKey(1)
    s = random.chisquare(key, lnp.array([1.0, 5.0, 30.0]), (4000, 3))
    np.testing.assert_allclose(np.asarray(s).mean(0), [1, 5, 30], rtol=0.06)
    assert random.rayleigh(key, lnp.ones((2, 1)), (2, 3)).shape == (2, 3)
    with pytest.raises(Exception, match="broadcast"):
        random.rayleigh(key, lnp.ones(4), (3,))
    a = random.lognormal(key, 0.5, (5,))
    np.testing.assert_array_equal(np.asarray(lepton.jit(
        lambda k: random.lognormal(k, 0.5, (5,)))(key)), np.asarray(a))
    ks = random.split(key, 3)
    v = lepton.vmap(lambda k: random.pareto(k, 2.0, (4,)))(ks)
    assert v.shape == (3, 4) and np.all(np.asarray(v) >= 1)
    with lepton.enable_x64(False):
        assert random.weibull_min(key, 1.0, 2.0, (3,)).dtype == np.float32
        assert random.maxwell(key, (2,), dtype=lnp.float32).dtype == np.float32
    g = lepton.grad(lambda s: lnp.sum(random.rayleigh(key, s, (10,))))(2.0)
    np.testing.assert_allclose(float(g), float(lnp.sum(random.rayleigh(key, 1.0, (10,)))),
                               rtol=1e-12)  # reparameterised in the scale
