"""lepton.random: poisson, t, cauchy, orthogonal, rademacher, key_data / wrap_key_data.

Always-on tests check shapes, dtypes and distributions (moments and CDF values against
closed forms); tests that need JAX compare values for the same key and are skipped
without it."""
import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
import lepton.random as lr
from lepton.errors import DTypeError, ShapeError

K0 = lr.PRNGKey(0)
K42 = lr.PRNGKey(42)
N = 20000


def _jr():
    pytest.importorskip("jax")
    from jax import random as jr
    return jr


# ----------------------------------------------------------------------------- shapes, dtypes
def test_shapes_and_dtypes():
    assert lr.poisson(K0, 3.).shape == () and lr.poisson(K0, 3.).dtype == np.int32
    assert lr.poisson(K0, np.ones((2, 3)) * 4.).shape == (2, 3)
    assert lr.poisson(K0, np.array([1., 20.]), (5, 2), np.int16).dtype == np.int16
    assert lr.poisson(K0, 2., (0, 3)).shape == (0, 3)
    assert lr.t(K0, 3.).shape == () and lr.t(K0, 3.).dtype == np.float32
    assert lr.t(K0, np.array([2., 5.]), (4, 2), np.float64).dtype == np.float64
    assert lr.cauchy(K0, (3, 4)).shape == (3, 4)
    assert lr.cauchy(K0, (), np.float64).dtype == np.float64
    r = lr.rademacher(K0, (7,))
    assert r.dtype == np.int32 and set(np.unique(r)) <= {-1, 1}
    assert lr.rademacher(K0, (3,), np.float32).dtype == np.float32
    assert lr.orthogonal(K0, 3).shape == (3, 3)
    assert lr.orthogonal(K0, 2, (4,), m=5).shape == (4, 2, 5)
    assert lr.orthogonal(K0, 3, dtype=np.complex64).dtype == np.complex64


def test_bad_arguments():
    with pytest.raises(ShapeError, match="broadcast"):
        lr.poisson(K0, np.ones(3), (2,))
    with pytest.raises(DTypeError, match="integer"):
        lr.poisson(K0, 1., dtype=np.float32)
    with pytest.raises(DTypeError, match="lam"):
        lr.poisson(K0, np.array([1 + 1j]))
    with pytest.raises(DTypeError, match="floating"):
        lr.t(K0, 2., dtype=np.int32)
    with pytest.raises(ShapeError, match="non-negative"):
        lr.orthogonal(K0, -1)
    with pytest.raises(DTypeError, match="key"):
        lr.cauchy(np.zeros(2, np.int32))


# ----------------------------------------------------------------------------- distributions
@pytest.mark.parametrize("lam", [0., 0.3, 4., 9.99, 10., 37., 1e3])
def test_poisson_moments(lam):
    x = np.asarray(lr.poisson(K42, lam, (N,))).astype(np.float64)
    assert (x >= 0).all()
    if lam == 0:
        assert (x == 0).all()
        return
    se = math.sqrt(lam / N)
    assert abs(x.mean() - lam) < 5 * se
    assert abs(x.var() / lam - 1) < 5 * math.sqrt(2 / N) + 0.01
    # P(X = 0) = exp(-lam)
    p0 = math.exp(-lam)
    assert abs((x == 0).mean() - p0) < 5 * math.sqrt(p0 * (1 - p0) / N) + 1e-4


def test_poisson_per_element_rates():
    lam = np.array([0.5, 5., 50., 500.])
    x = np.asarray(lr.poisson(K0, lam, (N // 4, 4))).astype(np.float64)
    np.testing.assert_allclose(x.mean(0), lam, rtol=0.05)


def test_cauchy_quantiles():
    x = np.asarray(lr.cauchy(K0, (N,), np.float64))
    # CDF(x) = 1/2 + atan(x)/pi: P(|X| < 1) = 1/2, P(X < 3) = 0.8976
    assert abs(np.mean(np.abs(x) < 1) - 0.5) < 0.015
    assert abs(np.mean(x < 3) - (0.5 + math.atan(3) / math.pi)) < 0.015
    assert np.isfinite(x).all()


@pytest.mark.parametrize("df", [1., 3., 30.])
def test_t_cdf(df):
    x = np.asarray(lr.t(K42, df, (N,), np.float64))
    # P(|T| < 1) = I_{df/(df+1)}(1/2, df/2) in closed form for these df:
    closed = {1.: 0.5, 3.: 2 * (math.atan(1 / math.sqrt(3)) + (1 / math.sqrt(3)) / (4 / 3))
              / math.pi, 30.: 0.674655}
    assert abs(np.mean(np.abs(x) < 1) - closed[df]) < 0.015
    assert abs(np.mean(x > 0) - 0.5) < 0.015


def test_rademacher_is_fair():
    r = np.asarray(lr.rademacher(K0, (N,)))
    assert abs(r.mean()) < 5 / math.sqrt(N)


@pytest.mark.parametrize("n,m", [(1, 1), (4, 4), (3, 5), (5, 2)])
def test_orthogonal_is_orthonormal(n, m):
    q = np.asarray(lr.orthogonal(K0, n, (3,), np.float64, m=m))
    if n <= m:
        np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(n), (3, n, n)),
                                   atol=1e-12)
    if m <= n:
        np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(m), (3, m, m)),
                                   atol=1e-12)
    u = np.asarray(lr.orthogonal(K0, 3, dtype=np.complex128))
    np.testing.assert_allclose(u @ u.conj().T, np.eye(3), atol=1e-12)


def test_orthogonal_is_haar():
    """The trace of a Haar-random O(n) matrix has mean 0 and variance 1."""
    q = np.asarray(lr.orthogonal(K42, 4, (4000,), np.float64))
    tr = np.trace(q, axis1=-2, axis2=-1)
    assert abs(tr.mean()) < 0.08 and abs(tr.var() - 1) < 0.1


# ----------------------------------------------------------------------------- transforms
_SAMPLERS = {
    "poisson": lambda k: lr.poisson(k, np.array([0., 2., 9.5, 10., 60.]), (3, 5)),
    "t": lambda k: lr.t(k, 4., (6,)),
    "cauchy": lambda k: lr.cauchy(k, (6,)),
    "rademacher": lambda k: lr.rademacher(k, (6,)),
    "orthogonal": lambda k: lr.orthogonal(k, 3, (2,)),
}


@pytest.mark.parametrize("name", sorted(_SAMPLERS))
def test_jit_and_vmap_match_eager(name):
    f = _SAMPLERS[name]
    keys = lr.split(K42, 3)
    eager = np.stack([np.asarray(f(k)) for k in keys])
    jitted = np.stack([np.asarray(lepton.jit(f)(k)) for k in keys])
    mapped = np.asarray(lepton.vmap(f)(keys))
    tol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jitted, eager, **tol)
    np.testing.assert_allclose(mapped, eager, **tol)


def test_poisson_traced_rate():
    lam = np.array([0.7, 3., 25.])
    eager = lr.poisson(K0, lam, (4, 3))
    np.testing.assert_array_equal(lepton.jit(lambda l: lr.poisson(K0, l, (4, 3)))(lam), eager)


def test_grad_through_cauchy_and_t_scale():
    g = lepton.grad(lambda s: lnp.sum(s * lr.cauchy(K0, (5,), np.float64)))(2.)
    np.testing.assert_allclose(g, np.sum(np.asarray(lr.cauchy(K0, (5,), np.float64))))


def test_key_data_round_trip():
    keys = lr.split(K0, 4)
    np.testing.assert_array_equal(lr.key_data(keys), keys)
    np.testing.assert_array_equal(lr.wrap_key_data(np.asarray(keys)), keys)
    np.testing.assert_array_equal(lr.uniform(lr.wrap_key_data(lr.key_data(K0)), (3,)),
                                  lr.uniform(K0, (3,)))
    with pytest.raises(DTypeError, match="uint32"):
        lr.wrap_key_data(np.zeros((2,), np.int32))
    with pytest.raises(DTypeError, match=r"\[\.\.\., 2\]"):
        lr.key_data(np.zeros((3,), np.uint32))


# ----------------------------------------------------------------------------- against JAX
@pytest.mark.parametrize("lam,shape", [(3., (200,)), (50., (300,)), (1e4, (50,)),
                                       ([0., 0.5, 3., 9.9, 10., 25., 100., 1e3], (64, 8))])
def test_poisson_matches_jax(lam, shape):
    jr = _jr()
    want = np.asarray(jr.poisson(jr.PRNGKey(42), np.asarray(lam, np.float32), shape))
    got = lr.poisson(K42, np.asarray(lam, np.float32), shape)
    np.testing.assert_array_equal(got, want)


def test_other_samplers_match_jax():
    jr = _jr()
    k = jr.PRNGKey(0)
    np.testing.assert_allclose(lr.cauchy(K0, (50,)), jr.cauchy(k, (50,)), rtol=2e-6)
    np.testing.assert_array_equal(lr.rademacher(K0, (50,)), jr.rademacher(k, (50,)))
    np.testing.assert_allclose(lr.orthogonal(K0, 4, (2,)), jr.orthogonal(k, 4, (2,)),
                               atol=1e-6)
    np.testing.assert_allclose(lr.orthogonal(K0, 2, m=4), jr.orthogonal(k, 2, m=4), atol=1e-6)
    np.testing.assert_array_equal(lr.key_data(K0), jr.key_data(k))
