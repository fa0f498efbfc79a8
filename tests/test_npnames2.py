"""jnp names set 2: grids, unique_*/set ops, selection helpers (vs NumPy and JAX)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

import lepton
import lepton.nn as lnn
import lepton.numpy as lnp
from lepton.errors import ConcretizationError
from lepton.test_util import check_grads


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
          np.fromfunction(lambda i, j, k: i + j + k, (1, 2, 3)).astype(
              lnp.zeros(0, lnp.float64).dtype))
    g = lnp.fromfunction(lambda i, j, c: c * (i - j), (3, 3), c=2.0)
    _same(g, 2.0 * np.subtract.outer(np.arange(3), np.arange(3)).astype(np.float32))
    jnp = _jnp()
    _same(lnp.fromfunction(f, (4, 2)), jnp.fromfunction(f, (4, 2)))


# ----------------------------------------------------------------------------- unique_*, sets
def test_unique_array_api_functions():
    x = np.array([[3.0, 1.0, np.nan], [1.0, np.nan, 3.0]], np.float32)
    v, i, inv, c = lnp.unique_all(x)
    want = np.unique_all(x)
    for g, w in zip((v, i, inv, c), want):
        _same(g, w, dtype=False)
    assert lnp.unique_all(x).counts is not None and lnp.unique_counts(x).counts.shape == (4,)
    _same(lnp.unique_counts(x).values, np.unique_counts(x).values)
    _same(lnp.unique_inverse(x).inverse_indices, np.unique_inverse(x).inverse_indices,
          dtype=False)
    _same(lnp.unique_values(x), np.unique_values(x))
    jnp = _jnp()
    for name in ("unique_all", "unique_counts", "unique_inverse"):
        got, want = getattr(lnp, name)(x, size=5, fill_value=-1.0), getattr(jnp, name)(
            x, size=5, fill_value=-1.0)
        assert got._fields == want._fields
        for field, g, w in zip(got._fields, got, want):
            if field == "indices":  # padded first-index slots differ (lepton's unique: 0)
                g, w = g[:4], w[:4]
            _same(g, w)
    _same(lnp.unique_values(x, size=2), jnp.unique_values(x, size=2))


def test_unique_counts_jit_vmap_and_error():
    x = np.array([[2, 2, 1, 0], [5, 4, 4, 4]], np.int32)
    f = lambda r: tuple(lnp.unique_counts(r, size=3))  # noqa: E731
    vals, counts = lepton.vmap(f)(x)
    _same(vals, np.array([[0, 1, 2], [4, 5, 4]], np.int32))
    _same(counts, [[1, 1, 2], [3, 1, 0]], dtype=False)
    jv, jc = lepton.jit(f)(x[1])
    _same(jv, np.array([4, 5, 4], np.int32))
    with pytest.raises(ConcretizationError, match="size="):
        lepton.jit(lnp.unique_all)(x)


SET_CASES = [([3, 1, 2, 3, 5, 1], [2, 3, 7, 7]), ([1.5, -2.0, 1.5], [[1.5, 4.0], [0.0, -2.0]]),
             ([], [1, 2]), ([1, 2], []), ([4, 4], [4]), ([1, 2, 3], [4, 5])]
SET_OPS = ("intersect1d", "union1d", "setdiff1d", "setxor1d")


@pytest.mark.parametrize("name", SET_OPS)
@pytest.mark.parametrize("case", range(len(SET_CASES)))
def test_set_ops_numpy(name, case):
    a, b = (np.asarray(v, np.float32 if case == 1 else np.int32) for v in SET_CASES[case])
    _same(getattr(lnp, name)(a, b), getattr(np, name)(a, b))
    if name != "union1d" and case in (0, 5):  # assume_unique on unique inputs
        a2, b2 = np.unique(a), np.unique(b)
        _same(getattr(lnp, name)(a2, b2, assume_unique=True),
              getattr(np, name)(a2, b2, assume_unique=True))


@pytest.mark.parametrize("name", SET_OPS)
@pytest.mark.parametrize("case", range(len(SET_CASES)))
@pytest.mark.parametrize("size,fill", [(1, None), (7, None), (7, -9)])
def test_set_ops_size_vs_jax(name, case, size, fill):
    jnp = _jnp()
    a, b = (np.asarray(v, np.float32 if case == 1 else np.int32) for v in SET_CASES[case])
    want = getattr(jnp, name)(a, b, size=size, fill_value=fill)
    got = getattr(lnp, name)(a, b, size=size, fill_value=fill)
    _same(got, want)
    jitted = lepton.jit(lambda x, y: getattr(lnp, name)(x, y, size=size, fill_value=fill))
    _same(jitted(a, b), want)


def test_intersect1d_return_indices():
    a, b = np.array([5, 1, 3, 3, 9], np.int32), np.array([3, 9, 9, 0, 5], np.int32)
    for g, w in zip(lnp.intersect1d(a, b, return_indices=True),
                    np.intersect1d(a, b, return_indices=True)):
        _same(g, w, dtype=False)
    jnp = _jnp()
    want = jnp.intersect1d(a, b, return_indices=True, size=5)
    got = lepton.jit(lambda x, y: lnp.intersect1d(x, y, return_indices=True, size=5))(a, b)
    for g, w in zip(got, want):
        _same(g, w)


def test_set_ops_vmap_and_errors():
    jax = pytest.importorskip("jax")
    A = np.array([[3, 1, 2, 3], [5, 5, 1, 0]], np.int32)
    B = np.array([[2, 3, 7, 7], [0, 0, 1, 9]], np.int32)
    for name in SET_OPS:
        got = lepton.vmap(lambda x, y: getattr(lnp, name)(x, y, size=3))(A, B)
        want = jax.vmap(lambda x, y: getattr(jax.numpy, name)(x, y, size=3))(A, B)
        _same(got, want)
        with pytest.raises(ConcretizationError, match="size="):
            lepton.jit(getattr(lnp, name))(A[0], B[0])
    with pytest.raises(ValueError, match="fill_value"):
        lnp.union1d(np.zeros(0), np.zeros(0), size=2)
    _same(lnp.union1d(np.zeros(0, np.int32), np.zeros(0, np.int32), size=2, fill_value=3),
          np.array([3, 3], np.int32))


# ----------------------------------------------------------------------------- selection
def test_choose_modes():
    a = np.array([[0, 2], [1, 3]], np.int32)
    ch = [np.arange(2, dtype=np.float32), np.full((2, 2), 10.0, np.float32),
          np.float32(7.0), -np.ones((2, 1), np.float32)]
    _same(lnp.choose(a, ch), np.choose(a, ch))
    big = a + 3
    for mode in ("wrap", "clip"):
        _same(lnp.choose(big, ch, mode=mode), np.choose(big, ch, mode=mode))
        _same(lepton.jit(lambda i, *c: lnp.choose(i, c, mode=mode))(big, *ch),
              np.choose(big, ch, mode=mode))
    with pytest.raises(ValueError, match="invalid entry"):
        lnp.choose(big, ch)
    with pytest.raises(ConcretizationError, match="wrap"):
        lepton.jit(lambda i: lnp.choose(i, ch))(a)
    with pytest.raises(TypeError, match="integer"):
        lnp.choose(a.astype(np.float32), ch)
    # differentiable in the choices
    g = lepton.grad(lambda x: lnp.choose(np.array([1, 0, 1]), [x, 2 * x], mode="clip").sum())(
        np.array([1.0, 2.0, 3.0]))
    _same(g, np.array([2.0, 1.0, 2.0]))


def test_compress_extract():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    for cond, axis in [([1, 0, 1], 0), ([0, 1, 1, 0], 1), ([1, 0, 1, 1, 0, 1], None),
                       ([True, False], 0), ([0, 0, 0, 0], -1), ([1, 0, 1, 0, 0, 0], 1)]:
        _same(lnp.compress(cond, a, axis=axis), np.compress(cond, a, axis=axis))
    with pytest.raises(ValueError, match="beyond"):
        lnp.compress([1, 0, 0, 1], a, axis=0)
    jnp = _jnp()
    c = np.array([1, 0, 1, 1], bool)
    for size in (0, 2, 4):
        want = jnp.compress(c, a, axis=1, size=size, fill_value=-1)
        _same(lnp.compress(c, a, axis=1, size=size, fill_value=-1), want)
        _same(lepton.jit(lambda cc, x: lnp.compress(cc, x, axis=1, size=size,
                                                    fill_value=-1))(c, a), want)
    with pytest.raises(ConcretizationError, match="size="):
        lepton.jit(lambda cc: lnp.compress(cc, a, axis=1))(c)
    cond2 = a % 3 == 0
    _same(lnp.extract(cond2, a), np.extract(cond2, a))
    _same(lnp.extract(cond2, a, size=6, fill_value=9), jnp.extract(cond2, a, size=6,
                                                                     fill_value=9))
    g = lepton.grad(lambda x: (lnp.compress(c, x, axis=1) ** 2).sum())(a.astype(np.float64))
    _same(g, np.where(c, 2 * a, 0.0).astype(np.float64))


@pytest.mark.parametrize("n,m", [(5, 3), (3, 5), (1, 4), (4, 4), (2, 1)])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate(n, m, mode):
    rng = np.random.default_rng(n * 10 + m)
    a, v = rng.normal(size=n), rng.normal(size=m)
    _same(lnp.correlate(a, v, mode), np.correlate(a, v, mode))
    ac, vc = a + 1j * rng.normal(size=n), v - 2j * rng.normal(size=m)
    _same(lnp.correlate(ac, vc, mode), np.correlate(ac, vc, mode))
    ai, vi = np.arange(n, dtype=np.int32), np.arange(m, dtype=np.int32) - 1
    _same(lnp.correlate(ai, vi, mode), np.correlate(ai, vi, mode), dtype=False)
    check_grads(lambda x, y: lnp.correlate(x, y, mode), (a, v), order=1)


def test_correlate_default_mode_and_jit_vs_jax():
    jnp = _jnp()
    a, v = np.arange(6, dtype=np.float32), np.array([1.0, -2.0, 0.5], np.float32)
    _same(lnp.correlate(a, v), jnp.correlate(a, v))
    _same(lepton.jit(lambda x, y: lnp.correlate(x, y, "same"))(a, v),
          jnp.correlate(a, v, "same"))
    with pytest.raises(ValueError, match="mode"):
        lnp.correlate(a, v, "bogus")
    with pytest.raises(ValueError, match="1-D"):
        lnp.correlate(a.reshape(2, 3), v)


def test_resize():
    a = np.arange(5, dtype=np.float32)
    for shape in [(2, 4), 7, (3,), (0, 2), (2, 2, 2), ()]:
        _same(lnp.resize(a, shape), np.resize(a, shape))
    _same(lnp.resize(np.zeros((0,), np.int32), (2, 3)), np.zeros((2, 3), np.int32))
    with pytest.raises(ValueError, match="non-negative"):
        lnp.resize(a, (-1, 2))
    g = lepton.grad(lambda x: (lnp.resize(x, (3, 4)) * np.arange(12.0).reshape(3, 4)).sum())(
        np.ones(5))
    _same(g, np.bincount(np.arange(12) % 5, weights=np.arange(12.0)))


def test_apply_along_axis():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    cases = [(lambda r: r.sum(), lambda r: r.sum()), (lambda r: r[::-1] * 2, None),
             (lambda r: lnp.outer(r, r), lambda r: np.outer(r, r)),
             (lambda r: lnp.stack([r.min(), r.max()]), lambda r: np.stack([r.min(), r.max()]))]
    for f, nf in cases:
        for axis in (0, 1, -1):
            _same(lnp.apply_along_axis(f, axis, a), np.apply_along_axis(nf or f, axis, a))
    _same(lnp.apply_along_axis(lambda r, c: r * c, 1, a, 3.0), a * 3.0)
    jf = lepton.jit(lambda x: lnp.apply_along_axis(lambda r: (r ** 2).sum(), 0, x))
    _same(jf(a), (a ** 2).sum(0))
    g = lepton.grad(lambda x: lnp.apply_along_axis(lambda r: lnp.sin(r).sum(), 2, x).sum())(a)
    _same(g, np.cos(a))
    with pytest.raises(ValueError, match="out of bounds"):
        lnp.apply_along_axis(lambda r: r, 3, a)


def test_apply_over_axes():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for axes in ([0, 2], [1], 2, []):
        _same(lnp.apply_over_axes(lnp.sum, a, axes), np.apply_over_axes(np.sum, a, axes))
    _same(lnp.apply_over_axes(lambda x, ax: lnp.cumsum(x, ax), a, [0, 1]),
          np.cumsum(np.cumsum(a, 0), 1))
    with pytest.raises(ValueError, match="rank"):
        lnp.apply_over_axes(lambda x, ax: x.sum(), a, [0])


def test_fill_diagonal():
    for shape, val in [((3, 3), 5.0), ((3, 5), [1.0, 2.0]), ((5, 2), [1.0, 2.0, 3.0]),
                       ((3, 3, 3), 4.0), ((4, 4), np.arange(6.0).reshape(2, 3))]:
        want = np.zeros(shape, np.float32)
        np.fill_diagonal(want, val)
        _same(lnp.fill_diagonal(np.zeros(shape, np.float32), val, inplace=False), want)
    with pytest.raises(NotImplementedError, match="inplace=False"):
        lnp.fill_diagonal(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="equal length"):
        lnp.fill_diagonal(np.zeros((2, 2, 3)), 1.0, inplace=False)
    jnp = _jnp()
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    want = jnp.fill_diagonal(x, np.array([9.0, 8.0]), inplace=False)
    _same(lepton.jit(lambda y, v: lnp.fill_diagonal(y, v, inplace=False))(
        x, np.array([9.0, 8.0], np.float32)), want)
    g = lepton.grad(lambda y: (lnp.fill_diagonal(y, 0.0, inplace=False) * 2).sum())(
        np.ones((3, 3)))
    _same(g, 2 * (1 - np.eye(3)))


def test_block():
    A, B = np.eye(2, dtype=np.float32), np.zeros((2, 1), np.float32)
    C, D = np.ones((1, 2), np.float32), np.float32(5.0)
    for arrays in ([[A, B], [C, D]], [1, 2, 3], [A, A], [[A], [C]], A, [[[A]]],
                   [[np.ones((2, 2, 2)), np.zeros((2, 2, 1))]]):
        _same(lnp.block(arrays), np.block(arrays), dtype=False)
    with pytest.raises(ValueError, match="depths"):
        lnp.block([[A], C])
    with pytest.raises(ValueError, match="tuples"):
        lnp.block((A, B))
    with pytest.raises(ValueError, match="empty"):
        lnp.block([])
    jnp = _jnp()
    _same(lnp.block([[A, B], [C, D]]), jnp.block([[A, B], [C, D]]))
    g = lepton.grad(lambda x: (lnp.block([[x, x], [x, 2 * x]]) ** 2).sum())(np.ones((2, 2)))
    _same(g, 14 * np.ones((2, 2)))


# ----------------------------------------------------------------------------- attention

def _attn_ref(q, k, v, bias=None, mask=None, scale=None, is_causal=False):
    """Plain NumPy attention, float64, one head group at a time."""
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    G = N // K
    scale = 1 / np.sqrt(H) if scale is None else scale
    kk, vv = np.repeat(k, G, axis=2), np.repeat(v, G, axis=2)  # head n uses kv head n // G
    logits = np.einsum("btnh,bsnh->bnts", q, kk) * scale
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if is_causal:
        keep &= np.tril(np.ones((T, S), bool))
    logits = np.where(keep, logits, -0.7 * np.finfo(np.float32).max)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", p, vv)


def _qkv(rng, B=2, T=3, N=4, K=2, S=5, H=3, dtype=np.float64):
    return (rng.normal(size=(B, T, N, H)).astype(dtype),
            rng.normal(size=(B, S, K, H)).astype(dtype),
            rng.normal(size=(B, S, K, H)).astype(dtype))


@pytest.mark.parametrize("K", [1, 2, 4])
@pytest.mark.parametrize("is_causal", [False, True])
def test_attention_matches_reference(K, is_causal):
    rng = np.random.default_rng(K)
    q, k, v = _qkv(rng, K=K)
    bias = rng.normal(size=(2, 1, 3, 5))
    mask = rng.random((1, 4, 3, 5)) > 0.3
    got = lnn.dot_product_attention(q, k, v, bias, mask, is_causal=is_causal, scale=0.7)
    assert got.dtype == np.float64 and got.shape == q.shape
    np.testing.assert_allclose(got, _attn_ref(q, k, v, bias, mask, 0.7, is_causal), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(lnn.dot_product_attention(q[0], k[0], v[0]),
                               _attn_ref(q[:1], k[:1], v[:1])[0], rtol=1e-12, atol=1e-12)


def test_attention_grads_jit_vmap():
    rng = np.random.default_rng(7)
    q, k, v = _qkv(rng, B=1, T=2, N=2, K=1, S=3, H=2)
    bias = rng.normal(size=(1, 2, 2, 3))
    f = lambda q, k, v, b: lnn.dot_product_attention(q, k, v, b, is_causal=True)  # noqa: E731
    check_grads(f, (q, k, v, bias), order=1, modes=("rev",))
    want = _attn_ref(q, k, v, bias, is_causal=True)
    np.testing.assert_allclose(lepton.jit(f)(q, k, v, bias), want, rtol=1e-12, atol=1e-12)
    qs, ks, vs = (np.stack([x, 2 * x]) for x in (q, k, v))
    got = lepton.vmap(lambda a, b, c: lnn.dot_product_attention(a, b, c))(qs, ks, vs)
    for i in range(2):
        np.testing.assert_allclose(got[i], _attn_ref(qs[i], ks[i], vs[i]), rtol=1e-12, atol=1e-12)


def test_attention_errors():
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng, N=3, K=2)
    with pytest.raises(ValueError, match="multiple"):
        lnn.dot_product_attention(q, k, v)
    q, k, v = _qkv(rng)
    with pytest.raises(ValueError, match="value dtype"):
        lnn.dot_product_attention(q, k, v.astype(np.float32))
    with pytest.raises(ValueError, match="mask dtype"):
        lnn.dot_product_attention(q, k, v, mask=np.ones((1, 1, 3, 5)))
    with pytest.raises(NotImplementedError, match="cudnn"):
        lnn.dot_product_attention(q, k, v, implementation="cudnn")


def test_attention_matches_jax_all_options():
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, B=2, T=5, N=4, K=2, S=6, H=8, dtype=np.float32)
    bias = rng.normal(size=(2, 1, 5, 6)).astype(np.float32)
    mask = rng.random((1, 4, 5, 6)) > 0.3
    kw = dict(is_causal=True, local_window_size=(2, 1),
              query_seq_lengths=np.array([3, 5], np.int32),
              key_value_seq_lengths=np.array([6, 4], np.int32))
    np.testing.assert_allclose(lnn.dot_product_attention(q, k, v, bias, mask, **kw),
                               jax.nn.dot_product_attention(q, k, v, bias, mask, **kw),
                               rtol=1e-5, atol=1e-6)
    got, res = lnn.dot_product_attention(q, k, v, local_window_size=1, return_residual=True)
    want, wres = jax.nn.dot_product_attention(q, k, v, local_window_size=1,
                                              return_residual=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res, wres, rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32 and res.shape == (2, 5, 4)
    fully = np.zeros((1, 1, 5, 6), bool)  # every key masked: uniform attention, as JAX
    np.testing.assert_allclose(lnn.dot_product_attention(q, k, v, mask=fully),
                               jax.nn.dot_product_attention(q, k, v, mask=fully),
                               rtol=1e-5, atol=1e-6)


def test_set_ops_mixed_dtypes_vs_jax():
    jnp = _jnp()
    a, b = np.array([1, 2, 3], np.int32), np.array([2.5, 3.0], np.float32)
    for name in SET_OPS:
        for size in (None, 4):
            _same(getattr(lnp, name)(a, b, size=size), getattr(jnp, name)(a, b, size=size))
    x, y = np.array([True, False]), np.array([True])
    for name in SET_OPS:
        _same(getattr(lnp, name)(x, y), getattr(jnp, name)(x, y))


def test_selection_under_vmap_vs_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    A = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    C = np.arange(12).reshape(3, 4) % 3 == 0
    _same(lepton.vmap(lambda c, x: lnp.compress(c, x, size=2))(C, A),
          jax.vmap(lambda c, x: jnp.compress(c, x, size=2))(C, A))
    _same(lepton.vmap(lambda c, x: lnp.extract(c, x, size=2, fill_value=-1))(C, A),
          jax.vmap(lambda c, x: jnp.extract(c, x, size=2, fill_value=-1))(C, A))
    idx = np.array([[0, 1, 5], [1, 0, -1]], np.int32)
    ch = [np.ones(3, np.float32), 2 * np.ones(3, np.float32)]
    _same(lepton.vmap(lambda i: lnp.choose(i, ch, mode="wrap"))(idx),
          jax.vmap(lambda i: jnp.choose(i, ch, mode="wrap"))(idx))
    a = np.array([[1, 2, 3, 3], [4, 4, 1, 0]], np.int32)
    b = np.array([[3, 1, 7, 7], [0, 4, 4, 2]], np.int32)
    got = lepton.vmap(lambda x, y: lnp.intersect1d(x, y, return_indices=True, size=3))(a, b)
    want = jax.vmap(lambda x, y: jnp.intersect1d(x, y, return_indices=True, size=3))(a, b)
    for g, w in zip(got, want):
        _same(g, w)
    X = np.arange(8.0, dtype=np.float32).reshape(2, 2, 2)
    _same(lepton.vmap(lambda x: lnp.fill_diagonal(x, 0.0, inplace=False))(X),
          jax.vmap(lambda x: jnp.fill_diagonal(x, 0.0, inplace=False))(X))
    _same(lepton.vmap(lambda x: lnp.resize(x, (3,)))(X[0]),
          jax.vmap(lambda x: jnp.resize(x, (3,)))(X[0]))
    _same(lepton.vmap(lambda x: lnp.block([[x, 2 * x]]))(X),
          jax.vmap(lambda x: jnp.block([[x, 2 * x]]))(X))
    _same(lepton.vmap(lambda x, y: lnp.correlate(x, y, "same"))(A, A[:, :3]),
          jax.vmap(lambda x, y: jnp.correlate(x, y, "same"))(A, A[:, :3]))
    _same(lepton.vmap(lambda x: lnp.apply_along_axis(lambda r: r[::-1], 0, x))(X),
          X[:, ::-1, :])


def test_attention_grads_grouped_masked():
    rng = np.random.default_rng(3)
    q, k, v = _qkv(rng, B=2, T=3, N=4, K=2, S=3, H=2)
    mask = rng.random((2, 1, 3, 3)) > 0.4
    lens = np.array([2, 3], np.int32)
    f = lambda q, k, v: lnn.dot_product_attention(  # noqa: E731
        q, k, v, mask=mask, local_window_size=1, key_value_seq_lengths=lens)
    check_grads(f, (q, k, v), order=1, modes=("fwd", "rev"))
    check_grads(lepton.jit(f), (q, k, v), order=1, modes=("rev",))

_small_ints = hst.lists(hst.integers(-3, 3), max_size=6)


@settings(max_examples=40, deadline=None)
@given(_small_ints, _small_ints, hst.integers(0, 8), hst.sampled_from(SET_OPS))
def test_set_ops_size_property(a, b, size, name):
    """The sized result is NumPy's result truncated, then padded with fill_value."""
    a, b = np.asarray(a, np.int32), np.asarray(b, np.int32)
    want = getattr(np, name)(a, b)
    _same(getattr(lnp, name)(a, b), want.astype(np.int32))
    if name == "union1d" and not (a.size or b.size):
        return
    got = np.asarray(getattr(lnp, name)(a, b, size=size, fill_value=-7))
    k = min(size, want.size)
    np.testing.assert_array_equal(got[:k], want[:k])
    np.testing.assert_array_equal(got[k:], np.full(size - k, -7))
