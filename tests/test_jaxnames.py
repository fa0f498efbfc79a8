"""The JAX names JAX programs missed (histogram, insert, delete, put_along_axis, gcd, lcm, fft,
linalg.tensorsolve/tensorinv, random.binomial/multinomial, eigh's symmetrization): behaviour
the op table does not reach (errors, traced arguments, nested transforms), and comparisons
against JAX itself where it is installed."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.errors import ConcretizationError
from tests.peers import jax_x64_restored  # noqa: F401  (autouse)


def _jax():
    """JAX in its default 32-bit mode (other test files turn x64 on and may leave it on);
    ``peers.jax_x64_restored`` puts the flag back after each test."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", False)
    return jax, jax.numpy


# ----------------------------------------------------------------------------- histogram
def test_histogram_matches_jax_examples():
    _, jnp = _jax()
    a = np.array([1, 2, 3, 10, 11, 15, 19, 25], np.float32)
    for kw in [dict(bins=8), dict(range=(0, 25), bins=5), dict(bins=np.array([0, 10, 20, 30.])),
               dict(density=True), dict(weights=np.arange(8, dtype=np.float32)),
               dict(bins=3, range=(5, 5))]:
        got, want = lnp.histogram(a, **kw), jnp.histogram(a, **kw)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-6)


def test_histogram_counts_the_last_edge_and_drops_outside_and_nan():
    a = np.array([np.nan, -1.0, 0.0, 1.5, 3.0, 4.0, np.inf])
    counts, edges = lnp.histogram(a, bins=2, range=(0, 3))
    np.testing.assert_array_equal(counts, [1.0, 2.0])
    np.testing.assert_array_equal(edges, [0.0, 1.5, 3.0])
    assert counts.dtype == np.float64


def test_histogram_traced_and_batched():
    a = np.random.default_rng(0).normal(size=(3, 20))
    f = lambda x: lnp.histogram(x, 5, range=(-2, 2))[0]  # noqa: E731
    want = np.stack([np.histogram(r, 5, range=(-2, 2))[0] for r in a]).astype(float)
    np.testing.assert_array_equal(lepton.vmap(f)(a), want)
    np.testing.assert_array_equal(lepton.jit(lepton.vmap(f))(a), want)
    # traced edges and a traced range
    e = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(lepton.jit(lambda b: lnp.histogram(a[0], b)[0])(e),
                                  np.histogram(a[0], e)[0])
    np.testing.assert_array_equal(
        lepton.jit(lambda r: lnp.histogram(a[0], 3, range=(r, 1.0))[0])(-1.0),
        np.histogram(a[0], 3, range=(-1, 1.0))[0])
    np.testing.assert_array_equal(
        lepton.jit(lambda r: lnp.histogramdd(a[0][:, None], 3, range=[r])[0])(np.array([-1, 1.])),
        np.histogramdd(a[0][:, None], 3, range=[(-1, 1.0)])[0])
    # data-dependent range under jit: still a fixed shape (bins + 1 edges)
    c, e = lepton.jit(lambda x: lnp.histogram(x, 4))(a[0])
    wc, we = np.histogram(a[0], 4)
    np.testing.assert_array_equal(c, wc)
    np.testing.assert_allclose(e, we, rtol=1e-12)


def test_histogram_grad_in_weights_and_edges():
    a = np.array([0.1, 0.4, 0.45, 0.9, 1.7])
    w = np.array([1.0, 2.0, 0.5, 1.5, 3.0])
    f = lambda w: (lnp.histogram(a, 3, weights=w, density=True)[0] ** 2).sum()  # noqa: E731
    test_util.check_grads(f, (w,), order=2, modes=("fwd", "rev"))
    g = lambda x: lnp.histogram_bin_edges(x, 4).sum()  # noqa: E731
    test_util.check_grads(g, (a,), order=2, modes=("fwd", "rev"))
    # counts are piecewise constant in a: zero derivative
    np.testing.assert_array_equal(lepton.grad(lambda x: lnp.histogram(x, 3, range=(0, 2))[0]
                                              .sum())(a), np.zeros(5))


def test_histogram_errors():
    with pytest.raises(ValueError, match="same shape"):
        lnp.histogram(np.ones(3), weights=np.ones(4))
    with pytest.raises(NotImplementedError, match="string"):
        lnp.histogram(np.ones(3), bins="auto")
    with pytest.raises(ConcretizationError, match="static"):
        lepton.jit(lambda b: lnp.histogram_bin_edges(np.ones(3), b))(3)
    with pytest.raises(ValueError, match="positive"):
        lnp.histogram(np.ones(3), bins=0)


def test_histogram2d_and_dd_match_jax():
    _, jnp = _jax()
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2, 30)).astype(np.float32)
    w = rng.random(30).astype(np.float32)
    for kw in [dict(bins=3), dict(bins=[2, 4], range=[(-1, 1), None]),
               dict(bins=3, weights=w, density=True)]:
        got, want = lnp.histogram2d(x, y, **kw), jnp.histogram2d(x, y, **kw)
        for g, v in zip(got, want):
            assert g.dtype == v.dtype
            np.testing.assert_allclose(g, v, rtol=1e-5, atol=1e-6)
    s = np.stack([x, y, w], 1)
    got, want = lnp.histogramdd(s, bins=(2, 3, 2)), jnp.histogramdd(s, bins=(2, 3, 2))
    np.testing.assert_array_equal(got[0], want[0])
    assert got[0].dtype == np.int32 and len(got[1]) == 3
    f = lepton.jit(lambda s: lnp.histogramdd(s, 3)[0])
    np.testing.assert_array_equal(f(s), np.histogramdd(s, 3)[0])
    with pytest.raises(ValueError, match="one per dimension"):
        lnp.histogramdd(s, bins=[2, 3])
    with pytest.raises(ValueError, match="pairs or Nones"):
        lnp.histogramdd(s, range=[(0, 1)])


# ----------------------------------------------------------------------------- insert/delete
def test_insert_matches_jax_and_numpy():
    _, jnp = _jax()
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    cases = [(1, 99.0, None), (np.array([0, 2, 2, -1]), np.array([5.0, 6, 7, 8]), None),
             (1, np.array([7.0, 8, 9, 10]), 0), (slice(0, 3), np.array([[1.0], [2], [3]]), 1),
             (np.array([3, 0]), np.array([[1.0, 2], [3, 4], [5, 6]]), 1), (4, 1.0, 1),
             (-1, 5.0, 1), (np.array([], int), np.array([]), None)]
    for k, (obj, v, axis) in enumerate(cases):
        got = lnp.insert(a, obj, v, axis)
        np.testing.assert_array_equal(got, np.insert(a, obj, v, axis))
        if k in (1, 4):  # JAX compiles each call (seconds): two cases
            np.testing.assert_array_equal(got, jnp.insert(a, obj, v, axis))
        assert got.dtype == np.float32


def test_insert_with_traced_indices_and_values():
    a = np.arange(6.0).reshape(2, 3)
    f = lepton.jit(lambda x, i, v: lnp.insert(x, i, v, axis=1))
    i, v = np.array([0, 3]), np.array([10.0, 20.0])
    np.testing.assert_array_equal(f(a, i, v), np.insert(a, i, v, axis=1))
    batched = lepton.vmap(lambda i: lnp.insert(a, i, v, axis=1))(np.array([[0, 3], [1, 1]]))
    np.testing.assert_array_equal(batched[1], np.insert(a, [1, 1], v, axis=1))
    test_util.check_grads(lambda x, v: lnp.insert(x, i, v, axis=1), (a, v), order=2)


def test_delete_cases_and_errors():
    a = np.arange(12.0).reshape(3, 4)
    for obj, axis in [(1, None), (-1, 0), ([0, 2], 1), (slice(1, None, 2), 1),
                      (np.array([True, False, True]), 0), ([1, 1, 0], 0),
                      (np.array([], int), 1)]:
        np.testing.assert_array_equal(lnp.delete(a, obj, axis), np.delete(a, obj, axis))
    f = lepton.jit(lambda x, i: lnp.delete(x, i, 1, assume_unique_indices=True))
    np.testing.assert_array_equal(f(a, np.array([3, 0])), np.delete(a, [0, 3], 1))
    with pytest.raises(ConcretizationError, match="assume_unique_indices"):
        lepton.jit(lambda x, i: lnp.delete(x, i, 1))(a, np.array([0]))
    with pytest.raises(IndexError, match="out of bounds"):
        lnp.delete(a, 4, 1)
    with pytest.raises(ValueError, match="boolean obj"):
        lnp.delete(a, np.array([True]), 0)
    test_util.check_grads(lambda x: lnp.delete(x, [0, 2], 1), (a,), order=2)


def test_put_along_axis():
    _, jnp = _jax()
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    idx = np.array([[0, 1], [2, 3], [1, -1]])
    got = lnp.put_along_axis(a, idx, 100.0, 1, inplace=False)
    np.testing.assert_array_equal(got, jnp.put_along_axis(a, idx, 100.0, 1, inplace=False))
    with pytest.raises(ValueError, match="inplace=False"):
        lnp.put_along_axis(a, idx, 1.0, 1)
    with pytest.raises(ValueError, match="same number of dimensions"):
        lnp.put_along_axis(a, idx[0], 1.0, 1, inplace=False)
    v = np.ones((3, 2))
    test_util.check_grads(lambda x, v: lnp.put_along_axis(x, idx, v, 1, inplace=False),
                          (a.astype(float), v), order=2)
    oob = np.array([[7], [-1], [-9]])  # as JAX: dropped (NumPy raises), negatives wrap
    np.testing.assert_array_equal(lnp.put_along_axis(a, oob, -1.0, 1, inplace=False),
                                  jnp.put_along_axis(a, oob, -1.0, 1, inplace=False))
    flat = lnp.put_along_axis(a, np.array([1, -1]), np.array([5.0, 6.0]), None, inplace=False)
    assert flat.shape == (3, 4) and flat[0, 1] == 5 and flat[2, 3] == 6


# ----------------------------------------------------------------------------- gcd / lcm
@pytest.mark.parametrize("dt", ["int8", "uint8"])
def test_gcd_lcm_every_pair_of_a_byte(dt):
    x = np.arange(256).astype(dt)
    X, Y = np.meshgrid(x, x)
    for f, g in [(lnp.gcd, np.gcd), (lnp.lcm, np.lcm)]:
        got = f(X, Y)
        assert got.dtype == np.dtype(dt)
        np.testing.assert_array_equal(got, g(X, Y))
        np.testing.assert_array_equal(lepton.jit(f)(X, Y), g(X, Y))


def test_gcd_lcm_promote_and_reject_floats():
    assert lnp.gcd(np.int8(4), np.uint8(6)).dtype == np.int16
    assert int(lnp.gcd(12, 18)) == 6 and int(lnp.lcm(-4, 6)) == 12
    for f in (lnp.gcd, lnp.lcm):
        with pytest.raises(ValueError, match="integers"):
            f(1.0, 2)
        with pytest.raises(ValueError, match="integers"):
            f(np.array([True]), np.array([False]))


def test_gcd_matches_jax():
    _, jnp = _jax()
    x = np.array([0, 1, -6, 12, 35, -35, 2**31 - 1], np.int32)
    y = np.array([0, 0, 4, -18, 14, 0, 3], np.int32)
    np.testing.assert_array_equal(lnp.gcd(x, y), jnp.gcd(x, y))
    np.testing.assert_array_equal(lnp.lcm(x[:-1], y[:-1]), jnp.lcm(x[:-1], y[:-1]))


# ----------------------------------------------------------------------------- fft
def test_fft_dtypes_and_values_match_jax():
    _, jnp = _jax()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 6)).astype(np.float32)
    z = (x + 1j * rng.normal(size=x.shape)).astype(np.complex64)
    for name, arg, kw in [("fft", x, {}), ("ifft", z, {"n": 4, "norm": "ortho"}),
                          ("rfft", np.arange(6), {}), ("irfft", z, {"axis": 0}),
                          ("fftn", z, {"s": (2, 5)}), ("irfftn", z, {"norm": "forward"}),
                          ("rfft2", x, {"s": (4, 4)}), ("hfft", z, {}), ("ihfft", x, {})]:
        got, want = getattr(lnp.fft, name)(arg, **kw), getattr(jnp.fft, name)(arg, **kw)
        assert got.dtype == want.dtype, name
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=name)
    for f in ("fftfreq", "rfftfreq"):
        np.testing.assert_allclose(getattr(lnp.fft, f)(7, 0.3), getattr(jnp.fft, f)(7, 0.3),
                                   rtol=1e-6)
        assert getattr(lnp.fft, f)(7).dtype == np.float32


def test_fft_gradients_match_jax():
    jax, jnp = _jax()
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)

    def loss(np_):
        return lambda x: (np_.abs(np_.fft.rfft2(x, s=(4, 7))) ** 2).sum() + \
            np_.real(np_.fft.ifft(x * 1j, n=5)).sum() + np_.fft.irfft(x + 0j, axis=0).sum()

    np.testing.assert_allclose(lepton.grad(loss(lnp))(x), jax.grad(loss(jnp))(x),
                               rtol=1e-4, atol=1e-4)


def test_fft_under_transforms():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2, 3, 4)) + 1j * rng.normal(size=(2, 3, 4))
    f = lambda z: lnp.fft.irfftn(lnp.fft.fftn(z, axes=(0, 2)), s=(3, 5))  # noqa: E731
    np.testing.assert_allclose(lepton.jit(f)(z), f(z), rtol=1e-12)
    zz = np.stack([z, 2 * z], axis=1)
    np.testing.assert_allclose(lepton.vmap(f, in_axes=1)(zz), np.stack([f(z), f(2 * z)]),
                               rtol=1e-12)
    test_util.check_grads(f, (z,), order=2, modes=("fwd", "rev"))
    g = lambda x: lnp.fft.rfftn(x, norm="ortho")  # noqa: E731
    test_util.check_grads(g, (z.real,), order=2, modes=("fwd", "rev"))
    # the transform and its inverse
    np.testing.assert_allclose(lnp.fft.ifft2(lnp.fft.fft2(z)), z, rtol=1e-12, atol=1e-12)
    # lax.fft, as jax.lax.fft
    np.testing.assert_allclose(lepton.lax.fft(z, lepton.lax.FftType.FFT, (3, 4)),
                               np.fft.fftn(z, axes=(1, 2)), rtol=1e-12)


def test_fft_errors():
    with pytest.raises(ValueError, match="real-valued"):
        lnp.fft.rfft(np.ones(3) + 1j)
    with pytest.raises(ValueError, match="norm"):
        lnp.fft.fft(np.ones(3), norm="sideways")
    with pytest.raises(ValueError, match="repeated axes"):
        lnp.fft.fftn(np.ones((2, 2)), axes=(0, 0))
    with pytest.raises(ValueError, match="multiple axes"):
        lnp.fft.fft(np.ones((2, 2)), axis=(0, 1))
    with pytest.raises(ValueError, match="2 axes"):
        lnp.fft.fft2(np.ones((2, 2, 2)), axes=(0, 1, 2))
    with pytest.raises(ValueError, match="data points"):
        lnp.fft.fft(np.ones((2, 0)))
    with pytest.raises(ValueError, match="positive"):
        lnp.fft.fft(np.ones(3), n=0)


# ----------------------------------------------------------------------------- tensorsolve/inv
def test_tensorsolve_tensorinv_match_jax_and_errors():
    _, jnp = _jax()
    rng = np.random.default_rng(4)
    a = (rng.normal(size=(6, 6)) + 6 * np.eye(6)).astype(np.float32)
    b = rng.normal(size=(2, 3)).astype(np.float32)
    for got, want in [(lnp.linalg.tensorsolve(a.reshape(2, 3, 6), b),
                       jnp.linalg.tensorsolve(a.reshape(2, 3, 6), b)),
                      (lnp.linalg.tensorinv(a.reshape(2, 3, 3, 2), 2),
                       jnp.linalg.tensorinv(a.reshape(2, 3, 3, 2), 2))]:
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="square problem"):
        lnp.linalg.tensorsolve(np.ones((2, 3, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="leading shape"):
        lnp.linalg.tensorsolve(np.ones((2, 3, 6)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="first ind=2"):
        lnp.linalg.tensorinv(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="positive"):
        lnp.linalg.tensorinv(np.ones((2, 2)), 0)


# ----------------------------------------------------------------------------- binomial
@pytest.mark.parametrize("n,p", [(10, 0.3), (5, 0.9), (100, 0.5), (1000, 0.02), (1e6, 0.3),
                                 (30, 0.99), (40.0, 0.3), (3, 0.5)])
def test_binomial_moments(n, p):
    x = np.asarray(lepton.random.binomial(lepton.random.key(7), n, p, shape=(40000,),
                                          dtype=np.float64))
    mean, var = n * p, n * p * (1 - p)
    se = np.sqrt(var / x.size)
    assert abs(x.mean() - mean) < 6 * se + 1e-9
    assert abs(x.var() / var - 1) < 0.06
    assert x.min() >= 0 and x.max() <= n and np.all(x == np.round(x))


def test_binomial_pmf_small_n():
    from math import comb
    n, p = 6, 0.35
    x = np.asarray(lepton.random.binomial(lepton.random.key(1), n, p, shape=(60000,)))
    freq = np.bincount(x.astype(int), minlength=n + 1) / x.size
    pmf = np.array([comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)])
    np.testing.assert_allclose(freq, pmf, atol=0.006)


def test_binomial_edges_dtype_and_key():
    n = np.array([0., 5, 5, 5, 5, -1, 5, 2.5, np.nan, np.inf, np.inf])
    p = np.array([.3, 0, 1, -0.1, 1.1, .5, np.nan, .5, .5, .5, 0])
    x = np.asarray(lepton.random.binomial(lepton.random.key(0), n, p))
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x[:3], [0, 0, 5])
    assert np.isnan(x[3:7]).all() and x[7] in (0, 1, 2) and np.isnan(x[8])
    assert x[9] == np.inf and x[10] == 0
    k = lepton.random.key(3)
    a = lepton.random.binomial(k, 20., np.array([0.1, 0.5, 0.7]), shape=(4, 3))
    np.testing.assert_array_equal(a, lepton.random.binomial(k, 20., np.array([0.1, 0.5, 0.7]),
                                                            shape=(4, 3)))
    assert a.shape == (4, 3)
    with pytest.raises(TypeError, match="dtype"):
        lepton.random.binomial(k, 3., 0.5, dtype=np.int32)
    with pytest.raises(ValueError, match="broadcast"):
        lepton.random.binomial(k, np.ones(3), 0.5, shape=(2,))


def test_binomial_and_multinomial_jit_and_vmap_match_eager():
    rnd = lepton.random
    keys = rnd.split(rnd.key(42), 3)
    for f in (lambda k: rnd.binomial(k, np.array([0., 4., 15., 200.]), 0.4, (2, 4)),
              lambda k: rnd.multinomial(k, np.array([5., 50.]), np.array([0.2, 0.3, 0.5]),
                                        shape=(2, 3))):
        eager = np.stack([np.asarray(f(k)) for k in keys])
        jitted = np.stack([np.asarray(lepton.jit(f, backend="reference")(k)) for k in keys])
        np.testing.assert_array_equal(jitted, eager)
        np.testing.assert_array_equal(lepton.vmap(f)(keys), eager)


def test_multinomial_counts_and_moments():
    rnd = lepton.random
    p = np.array([0.2, 0.3, 0.5])
    x = np.asarray(rnd.multinomial(rnd.key(5), 20., p, shape=(30000, 3)))
    assert x.dtype == np.float32 and x.shape == (30000, 3)
    np.testing.assert_array_equal(x.sum(1), 20)
    np.testing.assert_allclose(x.mean(0), 20 * p, atol=0.06)
    cov = np.cov(x.T.astype(float))
    np.testing.assert_allclose(cov[0, 1], -20 * 0.2 * 0.3, atol=0.06)
    np.testing.assert_allclose(np.diag(cov), 20 * p * (1 - p), rtol=0.05)
    # unnormalised p: the last outcome takes what is left, as JAX
    y = np.asarray(rnd.multinomial(rnd.key(6), np.array([10., 20.]), np.array([1., 1., 2.]),
                                   shape=(2, 3), dtype=np.float64))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.sum(1), [10, 20])
    with pytest.raises(ValueError, match="outcome axis"):
        rnd.multinomial(rnd.key(0), 3., 0.5)


def test_binomial_distribution_agrees_with_jax():
    jax, _ = _jax()
    n, p = 25.0, 0.3
    ours = np.asarray(lepton.random.binomial(lepton.random.key(0), n, p, shape=(20000,)))
    theirs = np.asarray(jax.random.binomial(jax.random.key(0), n, p, shape=(20000,)))
    fo = np.bincount(ours.astype(int), minlength=26) / ours.size
    ft = np.bincount(theirs.astype(int), minlength=26) / theirs.size
    assert np.abs(fo - ft).max() < 0.015


# ----------------------------------------------------------------------------- eigh / cholesky
def test_eigh_and_cholesky_symmetrize_as_jax():
    jax, jnp = _jax()
    import jax.scipy.linalg as jsl
    import lepton.scipy.linalg as lsl
    rng = np.random.default_rng(0)
    b = rng.normal(size=(4, 4))
    n = (b @ b.T + 4 * np.eye(4) + 0.3 * np.triu(rng.normal(size=(4, 4)), 1))
    n = n.astype(np.float32)
    w = rng.normal(size=(4, 4)).astype(np.float32)
    pairs = [
        (lnp.linalg.cholesky, jnp.linalg.cholesky),
        (lambda a: lnp.linalg.cholesky(a, upper=True),
         lambda a: jnp.linalg.cholesky(a, upper=True)),
        (lnp.linalg.eigvalsh, jnp.linalg.eigvalsh),
        (lambda a: lnp.linalg.eigvalsh(a, "U"), lambda a: jnp.linalg.eigvalsh(a, "U")),
        (lambda a: lnp.linalg.eigh(a)[1] ** 2, lambda a: jnp.linalg.eigh(a)[1] ** 2),
        (lambda a: lsl.cholesky(a, lower=True), lambda a: jsl.cholesky(a, lower=True)),
        (lsl.cholesky, jsl.cholesky),  # upper: reads the upper triangle, as scipy
    ]
    for k, (lf, jf) in enumerate(pairs):
        np.testing.assert_allclose(lf(n), jf(n), rtol=1e-4, atol=1e-4, err_msg=str(k))
        g = lepton.grad(lambda a: (lf(a) * w).sum())(n)
        h = jax.grad(lambda a: (jf(a) * w).sum())(n)
        np.testing.assert_allclose(g, h, rtol=2e-3, atol=2e-3, err_msg=str(k))
    with pytest.raises(ValueError, match="UPLO"):
        lnp.linalg.eigh(n, "X")
