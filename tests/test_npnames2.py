"""jnp names set 2: grids, unique_*/set ops, selection helpers (vs NumPy and JAX)."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.errors import ConcretizationError


def _jnp():
    return pytest.importorskip("jax.numpy")


def _same(got, want, dtype=True):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if dtype:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


# ----------------------------------------------------------------------------- grids
GRID_KEYS = [np.s_[0:3, 0:2], np.s_[0:1:5j, 0:2], np.s_[0:3], np.s_[-1:4:2, 1:2, 0:3],
             np.s_[0.5:2], np.s_[0:1:3j], np.s_[5:0:-2, 0:2]]


@pytest.mark.parametrize("key", GRID_KEYS)
def test_mgrid_ogrid_numpy(key):
    _same(lnp.mgrid[key], np.mgrid[key], dtype=False)
    got, want = lnp.ogrid[key], np.ogrid[key]
    if isinstance(want, (list, tuple)):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w, dtype=False)
    else:
        _same(got, want, dtype=False)


@pytest.mark.parametrize("key", GRID_KEYS)
def test_mgrid_ogrid_jax(key):
    jnp = _jnp()
    _same(lnp.mgrid[key], jnp.mgrid[key])
    got, want = lnp.ogrid[key], jnp.ogrid[key]
    if isinstance(want, list):
        for g, w in zip(got, want):
            _same(g, w)
    else:
        _same(got, want)


def test_mgrid_under_jit_and_errors():
    f = lepton.jit(lambda x: x * lnp.mgrid[0:3, 0:2].sum(0))
    _same(f(2.0), 2.0 * np.mgrid[0:3, 0:2].sum(0).astype(np.float32))
    with pytest.raises(TypeError, match="slices"):
        lnp.mgrid[0:3, 1]
    with pytest.raises(ConcretizationError):
        lnp.mgrid[0:lnp.asarray(3)]


def test_fromfunction():
    f = lambda i, j: i * 10 + j  # noqa: E731
    _same(lnp.fromfunction(f, (2, 3)), np.fromfunction(f, (2, 3)).astype(np.float32))
    _same(lnp.fromfunction(f, (2, 3), dtype=int), np.fromfunction(f, (2, 3), dtype=np.int32))
    _same(lnp.fromfunction(lambda i: i, (0,)), np.zeros(0, np.float32))
    _same(lnp.fromfunction(lambda i, j, k: i + j + k, (1, 2, 3), dtype=lnp.float64),
          np.fromfunction(lambda i, j, k: i + j + k, (1, 2, 3)).astype(lnp.zeros(0, lnp.float64).dtype))
    g = lnp.fromfunction(lambda i, j, c: c * (i - j), (3, 3), c=2.0)
    _same(g, 2.0 * np.subtract.outer(np.arange(3), np.arange(3)).astype(np.float32))
    jnp = _jnp()
    _same(lnp.fromfunction(f, (4, 2)), jnp.fromfunction(f, (4, 2)))
