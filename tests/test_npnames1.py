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
