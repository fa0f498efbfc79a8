"""jnp names added for JAX programs: float bits (ldexp, frexp, modf, spacing, nextafter),
polynomials and windows.  Checked against NumPy always and against JAX when installed."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.test_util import check_grads

F32_EDGES = [0.0, -0.0, 1.5, -3.0, np.inf, -np.inf, np.nan, 3e38, 6.0, 0.3, -7.25, 1.0]
SUBNORMAL = [1e-40, -1e-45]


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)
    if got.dtype.kind == "f":       # zeros' signs matter; nans' do not
        np.testing.assert_array_equal(np.signbit(got) & ~np.isnan(got),
                                      np.signbit(want) & ~np.isnan(want))


@contextlib.contextmanager
def _jax(x64):
    jax = pytest.importorskip("jax")
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", x64)
    try:
        yield jax.numpy
    finally:
        jax.config.update("jax_enable_x64", old)


def _edges(dt, subnormal=True):
    vals = F32_EDGES + (SUBNORMAL if subnormal else [])
    if dt == np.float64:
        vals = vals + [1e-310, -5e-324, 1.7e308]
    return np.array(vals, dt)


# ----------------------------------------------------------------------------- float bits
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_frexp_matches_numpy(dt):
    x = _edges(dt)
    m, e = lnp.frexp(x)
    nm, ne = np.frexp(x)
    _same(m, nm)
    _same(e, ne)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_ldexp_matches_numpy(dt):
    x = _edges(dt)
    k = np.resize(np.array([0, 1, -3, 200, -200, 5, 1, 0, 150, -1, 3, -1100, 7, 2], np.int32),
                  x.shape)
    with np.errstate(over="ignore", under="ignore"):
        want, want3 = np.ldexp(x, k), np.ldexp(x, 3)
    _same(lnp.ldexp(x, k), want)
    _same(lnp.ldexp(x, 3), want3)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_spacing_nextafter_match_numpy(dt):
    x = _edges(dt)
    x = x[~((x == 0) & np.signbit(x))]     # NumPy gives +tiny at -0; JAX (and we) -tiny
    _same(lnp.spacing(x), np.spacing(x))
    _same(lnp.nextafter(x, x[::-1]), np.nextafter(x, x[::-1]))
    _same(lnp.nextafter(x, np.float32(0)), np.nextafter(x, dt(0)))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_modf_matches_numpy_on_finite(dt):
    x = _edges(dt)
    x = x[np.isfinite(x)]
    f, w = lnp.modf(x)
    nf, nw = np.modf(x)
    np.testing.assert_array_equal(np.asarray(f), nf)
    _same(w, nw)


@pytest.mark.parametrize("x64", [False, True])
def test_float_bits_match_jax(x64):
    dt = np.float64 if x64 else np.float32
    # XLA on CPU flushes subnormals in arithmetic; we keep them (as NumPy, tested above).
    x = _edges(dt, subnormal=False)
    x = x[np.isnan(x) | (np.abs(x) >= np.finfo(dt).tiny) | (x == 0)]
    k = np.resize(np.array([0, 1, -3, 200, -200, 5, 1, 0, 150, -1, 3], np.int32), x.shape)
    with _jax(x64) as jnp:
        cases = [("frexp", (x,)), ("ldexp", (x, k)), ("modf", (x,)), ("spacing", (x,)),
                 ("nextafter", (x, x[::-1]))]
        if not x64:     # Python/int inputs default to float32 (lepton's x64 flag is its own)
            cases += [("ldexp", (3, 2)), ("frexp", (5,)), ("modf", (np.arange(-3, 4),)),
                      ("spacing", (np.int32(4),))]
        for name, args in cases:
            got, want = getattr(lnp, name)(*args), getattr(jnp, name)(*args)
            got = got if isinstance(got, tuple) else (got,)
            want = want if isinstance(want, tuple) else (want,)
            for g, w in zip(got, want):
                _same(g, np.asarray(w))


def test_float_bits_jit_vmap():
    x = np.array([[0.5, -3.0, 1e-40, np.inf], [7.0, -0.0, 2.5, 1e30]], np.float32)
    k = np.array([[1, -2, 30, 0], [-200, 4, 3, 100]], np.int32)
    for f, args in [(lnp.frexp, (x,)), (lnp.ldexp, (x, k)), (lnp.modf, (x,)),
                    (lnp.spacing, (x,)), (lnp.nextafter, (x, k.astype(np.float32)))]:
        eager = f(*args)
        jitted = lepton.jit(f)(*args)
        batched = lepton.vmap(f)(*args)
        loop = [f(*(a[i] for a in args)) for i in range(2)]
        for a, b in zip(lepton.tree_util.tree_leaves(eager), lepton.tree_util.tree_leaves(jitted)):
            _same(b, np.asarray(a))
        leaves_b = lepton.tree_util.tree_leaves(batched)
        for j, b in enumerate(leaves_b):
            want = np.stack([np.asarray(lepton.tree_util.tree_leaves(r)[j]) for r in loop])
            _same(b, want)


def test_float_bits_grads():
    x = np.array([0.3, -6.2, 1.5e-3, 17.5])   # away from powers of two (jumps)
    check_grads(lambda x: lnp.frexp(x)[0], (x,), order=1)
    check_grads(lambda x: lnp.ldexp(x, np.array([3, -2, 5, 0])), (x,), order=2)
    check_grads(lambda x: lnp.modf(x)[0] * x, (x,), order=1)
    g = lepton.grad(lambda x: lnp.frexp(x)[0])(6.0)
    assert float(g) == 0.125                      # 2**-e, JAX's rule
    assert float(lepton.grad(lambda x: lnp.frexp(x)[0])(0.0)) == 1.0


def test_float_bits_errors():
    with pytest.raises(ValueError, match="ldexp"):
        lnp.ldexp(np.float32(1.0), np.float32(2.0))
    with pytest.raises(TypeError, match="frexp"):
        lnp.frexp(np.complex64(1.0))
    with pytest.raises(ValueError, match="spacing"):
        lnp.spacing(np.complex64(1.0))
    with pytest.raises(NotImplementedError):
        lnp.modf(1.0, out=np.zeros(()))


# ----------------------------------------------------------------------------- polynomials
def _close(got, want, rtol=1e-5, atol=1e-6):
    got = np.asarray(got)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


P = np.array([1.5, -2.0, 3.0, 0.5])
Q = np.array([2.0, -1.0])


def test_polynomials_match_numpy():
    x = np.linspace(-2, 2, 7)
    _close(lnp.polyval(P, x), np.polyval(P, x))
    _close(lnp.polyval(np.arange(6.0).reshape(3, 2), x[:, None]),
           np.stack([np.polyval(c, x) for c in np.arange(6.0).reshape(3, 2).T], 1))
    assert int(lnp.polyval(np.array([1, 2, 3], np.int32), 4)) == 27
    assert lnp.polyval(np.array([1, 2, 3], np.int32), 4).dtype == np.int32
    for a, b in [(P, Q), (Q, P), (P, P)]:
        _close(lnp.polyadd(a, b), np.polyadd(a, b))
        _close(lnp.polysub(a, b), np.polysub(a, b))
        _close(lnp.polymul(a, b), np.polymul(a, b))
    for m in range(0, 6):
        _close(lnp.polyder(P, m), np.polyder(P, m) if m < 4 else np.zeros(0))
    _close(lnp.polyint(P), np.polyint(P))
    _close(lnp.polyint(P, 2, k=[4.0, 5.0]), np.polyint(P, 2, k=[4.0, 5.0]))
    _close(lnp.polyint(P, 3, k=2.0), np.polyint(P, 3, k=2.0))
    _close(lnp.poly([1.0, 2.0, -3.0]), np.poly([1.0, 2.0, -3.0]))
    _close(lnp.poly(np.ones(0)), np.poly(np.ones(0)))
    r = np.asarray(lnp.roots(np.array([0.0, 0.0, 1.0, -6.0, 11.0, -6.0])))
    assert r.dtype == np.complex128
    _close(np.sort_complex(r), np.sort_complex(np.roots([1.0, -6.0, 11.0, -6.0])))
    _close(np.sort_complex(np.asarray(lnp.roots(np.array([1.0, 0.0, 1.0])))), [-1j, 1j])
    assert lnp.roots(np.array([3.0])).shape == (0,)


def test_polyfit_matches_numpy():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 20)
    y = np.sin(3 * x) + 0.01 * rng.standard_normal(20)
    y2 = np.stack([y, 2 * y + x], 1)
    w = 1 + x
    for deg in (0, 1, 3):
        _close(lnp.polyfit(x, y, deg), np.polyfit(x, y, deg), rtol=1e-7)
    _close(lnp.polyfit(x, y2, 2), np.polyfit(x, y2, 2), rtol=1e-7)
    _close(lnp.polyfit(x, y, 2, w=w), np.polyfit(x, y, 2, w=w), rtol=1e-7)
    for c in (True, "unscaled"):
        got, want = lnp.polyfit(x, y, 2, cov=c, w=w), np.polyfit(x, y, 2, cov=c, w=w)
        for g, wv in zip(got, want):
            _close(g, wv, rtol=1e-6)
        got, want = lnp.polyfit(x, y2, 2, cov=c), np.polyfit(x, y2, 2, cov=c)
        for g, wv in zip(got, want):
            _close(g, wv, rtol=1e-6)
    p, res, rank, s, rc = lnp.polyfit(x, y, 2, full=True)
    np_p, np_res, np_rank, np_s, np_rc = np.polyfit(x, y, 2, full=True)
    _close(p, np_p, rtol=1e-7)
    _close(res, np_res, rtol=1e-6)
    assert int(rank) == np_rank and float(rc) == np_rc
    _close(s, np_s, rtol=1e-7)


def test_trim_zeros():
    a = np.array([0, 0, 1, 2, 0, 3, 0, 0])
    for trim in ("fb", "f", "b", "F"):
        _close(lnp.trim_zeros(a, trim), np.trim_zeros(a, trim))
    _close(lnp.trim_zeros(a, ""), a)        # JAX: no 'f'/'b' trims nothing (NumPy raises)
    m = np.zeros((4, 5))
    m[1:3, 2] = 1.0
    _close(lnp.trim_zeros(m), m[1:3, 2:3])
    _close(lnp.trim_zeros(m, axis=0), m[1:3])
    _close(lnp.trim_zeros(np.zeros(3)), np.zeros(0))
    with pytest.raises(TypeError, match="concrete"):
        lepton.jit(lnp.trim_zeros)(a)


def test_polynomials_match_jax():
    rng = np.random.default_rng(1)
    p = rng.standard_normal(5).astype(np.float32)
    q = rng.standard_normal(3).astype(np.float32)
    x = np.linspace(0, 1, 12).astype(np.float32)
    y = np.cos(2 * x).astype(np.float32)
    pi = np.array([0, 2, -1, 3], np.int32)
    lead0 = np.array([0.0, 0.0, 1.0, -3.0, 2.0], np.float32)
    with _jax(False) as jnp:
        cases = [("polyval", (p, x), {}), ("polyval", (pi, np.int32(3)), {}),
                 ("polyadd", (p, q), {}), ("polysub", (q, p), {}), ("polyadd", (pi, pi[:2]), {}),
                 ("polymul", (p, q), {}), ("polymul", (pi, pi), {}),
                 ("polymul", (lead0, q), {"trim_leading_zeros": True}),
                 ("polyder", (p, 2), {}), ("polyder", (pi,), {}), ("polyint", (p, 2), {}),
                 ("polyint", (pi, 1, np.float32(3)), {}), ("polyfit", (x, y, 3), {}),
                 ("polyfit", (x, y, 2), {"full": True}), ("polyfit", (x, y, 2), {"cov": True}),
                 ("poly", (q,), {}), ("poly", (np.eye(2, dtype=np.float32) * 2,), {}),
                 ("roots", (lead0,), {}), ("roots", (lead0,), {"strip_zeros": False}),
                 ("trim_zeros", (pi,), {})]
        for name, args, kw in cases:
            got, want = getattr(lnp, name)(*args, **kw), getattr(jnp, name)(*args, **kw)
            got = got if isinstance(got, tuple) else (got,)
            want = want if isinstance(want, tuple) else (want,)
            for g, w in zip(got, want):
                w = np.asarray(w)
                assert np.asarray(g).dtype == w.dtype, (name, np.asarray(g).dtype, w.dtype)
                if name == "roots":
                    g, w = np.sort_complex(np.asarray(g)), np.sort_complex(w)
                _close(g, w, rtol=2e-4, atol=1e-5)


def test_polynomials_jit_vmap_grad():
    x = np.linspace(-1, 1, 5)
    f = lambda p, x: lnp.polyval(lnp.polymul(lnp.polyder(p), lnp.polyint(p)), x)
    _close(lepton.jit(f)(P, x), f(P, x), rtol=1e-12)
    ps = np.stack([P, 2 * P, P[::-1]])
    _close(lepton.vmap(f, (0, None))(ps, x), np.stack([np.asarray(f(p, x)) for p in ps]))
    check_grads(f, (P, x), order=2)
    ys = np.stack([np.sin(x), np.cos(x)])
    fit = lambda y: lnp.polyfit(x, y, 2)
    _close(lepton.vmap(fit)(ys), np.stack([np.polyfit(x, y, 2) for y in ys]), rtol=1e-7)
    _close(lepton.jit(fit)(ys[0]), np.polyfit(x, ys[0], 2), rtol=1e-7)
    check_grads(fit, (ys[0],), order=1, modes=("rev",))
    r = lepton.jit(lambda p: lnp.roots(p, strip_zeros=False))(np.array([0.0, 1.0, -3.0, 2.0]))
    _close(np.sort_complex(np.asarray(r)[:2]), [1.0, 2.0])
    assert np.isnan(np.asarray(r)[2])
    with pytest.raises(TypeError, match="strip_zeros=False"):
        lepton.jit(lnp.roots)(np.array([0.0, 1.0, -3.0, 2.0]))
    check_grads(lambda z: lnp.poly(z), (np.array([1.0, 2.0, -0.5]),), order=2)


def test_polynomial_errors():
    with pytest.raises(ValueError, match="positive"):
        lnp.polyder(P, -1)
    with pytest.raises(ValueError, match="k must be"):
        lnp.polyint(P, 2, k=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="same length"):
        lnp.polyfit(np.arange(3.0), np.arange(4.0), 1)
    with pytest.raises(ValueError, match="deg"):
        lnp.polyfit(np.arange(3.0), np.arange(3.0), -1)
    with pytest.raises(ValueError, match="rank-1"):
        lnp.roots(np.ones((2, 2)))


# ----------------------------------------------------------------------------- windows, i0
WINDOWS = ("hamming", "hanning", "blackman", "bartlett")


def test_i0_matches_numpy():
    x = np.array([0.0, 1e-3, 1.0, -3.0, 7.99, 8.0, 8.01, 20.0, -100.0, 700.0])
    np.testing.assert_allclose(np.asarray(lnp.i0(x)), np.i0(x), rtol=1e-14)
    got = np.asarray(lnp.i0(x[:8].astype(np.float32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.i0(x[:8]), rtol=2e-6)
    assert np.asarray(lnp.i0(3)).dtype == np.float32
    h = np.array([0.0, 1.0, -3.0, 7.9, 10.0], np.float16)
    _same(lnp.i0(h), np.i0(h.astype(np.float64)).astype(np.float16))
    assert np.isnan(np.asarray(lnp.i0(np.nan)))
    assert np.isnan(np.asarray(lnp.i0(np.array(np.inf))))     # nan, as NumPy and JAX
    with pytest.raises(ValueError, match="real"):
        lnp.i0(np.complex64(1))


def test_i0_transforms():
    x = np.array([0.5, -2.0, 7.5, 9.0, 15.0])
    check_grads(lnp.i0, (x,), order=2)
    assert float(lepton.grad(lnp.i0)(0.0)) == 0.0
    assert float(lepton.grad(lnp.i0)(np.float32(0.0))) == 0.0
    np.testing.assert_allclose(np.asarray(lepton.jit(lnp.i0)(x)), np.i0(x), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(lepton.vmap(lnp.i0)(x)), np.i0(x), rtol=1e-14)


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_match_numpy(name):
    for M in (0, 1, 2, 3, 8, 51):
        got, want = np.asarray(getattr(lnp, name)(M)), getattr(np, name)(M)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(TypeError, match="static"):
        lepton.jit(getattr(lnp, name))(5)


def test_kaiser():
    for M, beta in [(0, 2.0), (1, 2.0), (2, 0.0), (5, 3.0), (16, 14.0), (9, 0.5)]:
        got = np.asarray(lnp.kaiser(M, beta))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, np.kaiser(M, beta), rtol=2e-6, atol=1e-7)
    betas = np.array([0.5, 3.0, 8.6])
    np.testing.assert_allclose(np.asarray(lepton.vmap(lambda b: lnp.kaiser(7, b))(betas)),
                               np.stack([np.kaiser(7, b) for b in betas]), rtol=2e-6)
    np.testing.assert_allclose(np.asarray(lepton.jit(lambda b: lnp.kaiser(7, b))(3.0)),
                               np.kaiser(7, 3.0), rtol=2e-6)
    check_grads(lambda b: lnp.kaiser(6, b), (np.float64(3.0),), order=2)


def test_windows_match_jax():
    with _jax(False) as jnp:
        for name in WINDOWS:
            for M in (0, 1, 2, 7):
                _close(getattr(lnp, name)(M), np.asarray(getattr(jnp, name)(M)), atol=1e-6)
        _close(lnp.kaiser(9, 4.0), np.asarray(jnp.kaiser(9, 4.0)), rtol=2e-6)
        x = np.array([0.0, 1.0, -3.0, 9.0, 30.0], np.float32)
        _close(lnp.i0(x), np.asarray(jnp.i0(x)), rtol=2e-6)
        jax = pytest.importorskip("jax")
        for v in (0.0, 2.0, -9.0):
            _close(lepton.grad(lnp.i0)(np.float32(v)), np.asarray(jax.grad(jnp.i0)(np.float32(v))),
                   rtol=2e-6)


def test_polydiv():
    u, v = np.array([3.0, 5.0, -2.0, 7.0, 1.0]), np.array([2.0, -1.0, 0.5])
    q, r = lnp.polydiv(u, v, trim_leading_zeros=True)
    nq, nr = np.polydiv(u, v)
    _close(q, nq, rtol=1e-12)
    _close(r, nr, rtol=1e-12)
    q, r = lnp.polydiv(u, v)                    # fixed length: u's, leading zeros kept
    _close(q, nq, rtol=1e-12)
    _close(r, np.concatenate([np.zeros(3), nr]), rtol=1e-12, atol=1e-12)
    _close(lnp.polydiv(v, u)[0], [0.0])
    qj, rj = lepton.jit(lnp.polydiv)(u, v)
    _close(qj, nq, rtol=1e-12)
    vs = np.stack([v, 2 * v])
    _close(lepton.vmap(lambda d: lnp.polydiv(u, d)[0])(vs), np.stack([nq, nq / 2]), rtol=1e-12)
    check_grads(lambda u, v: lnp.polydiv(u, v), (u, v), order=2)
    with _jax(False) as jnp:
        u32, v32 = u.astype(np.float32), v.astype(np.float32)
        for kw in ({}, {"trim_leading_zeros": True}):
            for g, w in zip(lnp.polydiv(u32, v32, **kw), jnp.polydiv(u32, v32, **kw)):
                assert np.asarray(g).dtype == np.asarray(w).dtype
                _close(g, np.asarray(w), rtol=1e-5, atol=1e-6)
