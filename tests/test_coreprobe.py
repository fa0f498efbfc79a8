"""Regressions found by running JAX programs on lepton with only the imports changed.

Each test pins lepton's own answer; where JAX is installed the same program is also run in
JAX and compared (skipped cleanly without it)."""
import functools

import numpy as np
import pytest

import lepton
import lepton.numpy as jnp
from lepton import lax
from tests.peers import jax_x64_restored  # noqa: F401  (autouse)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# --------------------------------------------------------------------- jit on methods
def _method_program(jit):
    class Scale:
        def __init__(self, k):
            self.k = k

        @functools.partial(jit, static_argnums=0)
        def apply(self, x):
            return x * self.k

    return Scale(3.0).apply(np.ones(2)), Scale(2.0).apply(np.ones(2))


def test_jit_decorated_method_binds_self():
    a, b = _method_program(lepton.jit)
    np.testing.assert_allclose(np.asarray(a), [3.0, 3.0])
    np.testing.assert_allclose(np.asarray(b), [2.0, 2.0])  # self is part of the cache key


def test_jit_method_unbound_access_is_the_jitted_function():
    class M:
        @lepton.jit
        def f(x):
            return x + 1
    assert M.__dict__["f"] is M.f
    np.testing.assert_allclose(np.asarray(M.f(np.ones(2))), [2.0, 2.0])


# --------------------------------------------------------------------- lax.sort
def test_lax_sort_single_array_returns_array():
    out = lax.sort(jnp.array([3, 1, 2]))
    assert not isinstance(out, (list, tuple))
    np.testing.assert_array_equal(np.asarray(out), [1, 2, 3])


def test_lax_sort_sequence_returns_tuple():
    k, v = lax.sort((jnp.array([3, 1, 2]), jnp.array([10.0, 20.0, 30.0])), num_keys=1)
    np.testing.assert_array_equal(np.asarray(k), [1, 2, 3])
    np.testing.assert_array_equal(np.asarray(v), [20.0, 30.0, 10.0])
    out = lax.sort([jnp.array([2.0, 1.0])])
    assert isinstance(out, tuple) and len(out) == 1


def test_lax_sort_matches_jax():
    jax = _jax()
    x = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, -2.0]])
    for dim in (0, 1, -1):
        np.testing.assert_array_equal(np.asarray(lax.sort(x, dimension=dim)),
                                      np.asarray(jax.lax.sort(x, dimension=dim)))


# --------------------------------------------------------------------- negative dynamic indices
X = np.arange(20.0).reshape(4, 5)


@pytest.mark.parametrize("starts", [(-1, 0), (-3, -2), (-7, 1), (2, -1), (-4, -5)])
def test_dynamic_slice_negative_start_counts_from_end(starts):
    n = X.shape
    wrapped = [s + d if s < 0 else s for s, d in zip(starts, n)]
    lo = [min(max(s, 0), d - k) for s, d, k in zip(wrapped, n, (2, 2))]
    want = X[lo[0]:lo[0] + 2, lo[1]:lo[1] + 2]
    np.testing.assert_array_equal(np.asarray(lax.dynamic_slice(X, starts, (2, 2))), want)
    traced = lepton.jit(lambda i, j: lax.dynamic_slice(X, (i, j), (2, 2)))(*starts)
    np.testing.assert_array_equal(np.asarray(traced), want)
    upd = np.asarray(lax.dynamic_update_slice(X, -np.ones((2, 2)), starts))
    ref = X.copy()
    ref[lo[0]:lo[0] + 2, lo[1]:lo[1] + 2] = -1
    np.testing.assert_array_equal(upd, ref)


def test_dynamic_slice_allow_negative_indices_false_clamps():
    out = lax.dynamic_slice(X, (-1, 0), (2, 5), allow_negative_indices=False)
    np.testing.assert_array_equal(np.asarray(out), X[:2])
    out = lax.dynamic_slice(X, (-1, -1), (2, 2), allow_negative_indices=(True, False))
    np.testing.assert_array_equal(np.asarray(out), X[2:, :2])


def test_dynamic_index_in_dim_negative_and_vmap_grad():
    np.testing.assert_array_equal(
        np.asarray(lax.dynamic_index_in_dim(X, -1, axis=1, keepdims=False)), X[:, -1])
    x = jnp.arange(10.0)

    def g(i):
        return lepton.grad(lambda x: jnp.sum(lax.dynamic_slice(x, (i,), (3,)) ** 2))(x)
    out = np.asarray(lepton.vmap(g)(jnp.array([0, -2, 9])))
    want = np.zeros((3, 10))
    for r, lo in enumerate((0, 7, 7)):
        want[r, lo:lo + 3] = 2 * np.arange(10.0)[lo:lo + 3]
    np.testing.assert_allclose(out, want)


def test_dynamic_slice_negative_matches_jax():
    jax = _jax()
    for starts in [(-1, 0), (-3, -2), (-7, 1)]:
        np.testing.assert_array_equal(np.asarray(lax.dynamic_slice(X, starts, (2, 3))),
                                      np.asarray(jax.lax.dynamic_slice(X, starts, (2, 3))))
        u = -np.ones((2, 2))
        np.testing.assert_array_equal(
            np.asarray(lax.dynamic_update_slice(X, u, starts)),
            np.asarray(jax.lax.dynamic_update_slice(X, u, starts)))


# --------------------------------------------------------------------- sort/argsort descending
@pytest.mark.parametrize("jit", [False, True])
def test_argsort_descending_is_stable_and_sort_descending_puts_nan_first(jit):
    a = np.array([[3.0, 1.0, 3.0, np.nan], [2.0, 2.0, 0.0, 1.0]])
    wrap = lepton.jit if jit else (lambda f: f)
    idx = wrap(lambda a: jnp.argsort(a, descending=True))(a)
    np.testing.assert_array_equal(np.asarray(idx), [[3, 0, 2, 1], [0, 1, 3, 2]])
    s = wrap(lambda a: jnp.sort(a, axis=0, descending=True))(a)
    np.testing.assert_array_equal(np.asarray(s), [[3.0, 2.0, 3.0, np.nan], [2.0, 1.0, 0.0, 1.0]])


def test_sort_descending_matches_jax():
    jax = _jax()
    a = np.array([1.0, 1.0, 2.0, -1.0, 2.0, np.nan])
    np.testing.assert_array_equal(np.asarray(jnp.argsort(a, descending=True)),
                                  np.asarray(jax.numpy.argsort(a, descending=True)))
    np.testing.assert_array_equal(np.asarray(jnp.sort(a, descending=True)),
                                  np.asarray(jax.numpy.sort(a, descending=True)))


# --------------------------------------------------------------------- reshape order='F'
@pytest.mark.parametrize("shape", [(4, -1), (24,), (2, 2, 6), (3, 8)])
def test_reshape_fortran_order_matches_numpy(shape):
    x = np.arange(24.0).reshape(2, 3, 4)
    want = np.reshape(x, shape, order="F")
    np.testing.assert_array_equal(np.asarray(jnp.reshape(x, shape, order="F")), want)
    np.testing.assert_array_equal(np.asarray(jnp.asarray(x).reshape(shape, order="F")), want)
    jitted = lepton.jit(lambda x: jnp.reshape(x, shape, order="F"))(x)
    np.testing.assert_array_equal(np.asarray(jitted), want)
    np.testing.assert_array_equal(np.asarray(jnp.ravel(x, order="F")), np.ravel(x, order="F"))


def test_reshape_fortran_order_grad():
    x = np.arange(6.0).reshape(2, 3)
    w = np.arange(6.0).reshape(3, 2)
    g = lepton.grad(lambda x: jnp.sum(jnp.reshape(x, (3, 2), order="F") * w))(x)
    np.testing.assert_array_equal(np.asarray(g), np.reshape(w, (2, 3), order="F"))


def test_reshape_unknown_order_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="order='A'"):
        jnp.reshape(np.ones(4), (2, 2), order="A")


# --------------------------------------------------------------------- .at[].mul / .apply
def test_at_mul_alias_and_apply():
    x = jnp.arange(5.0)
    np.testing.assert_array_equal(np.asarray(x.at[1:3].mul(10.0)), [0, 10, 20, 3, 4])
    np.testing.assert_allclose(np.asarray(x.at[np.array([0, 4])].apply(jnp.exp)),
                               [1.0, 1, 2, 3, np.exp(4.0)], rtol=1e-6)
    out = lepton.jit(lambda x: x.at[3:].apply(lambda v: -v))(x)
    np.testing.assert_array_equal(np.asarray(out), [0, 1, 2, -3, -4])
    g = lepton.grad(lambda x: jnp.sum(x.at[1].apply(jnp.sin)))(x)
    np.testing.assert_allclose(np.asarray(g), [1, np.cos(1.0), 1, 1, 1])


# --------------------------------------------------------------------- index dtypes in x64 mode
_INDEX_FNS = {
    "argsort": lambda a: jnp.argsort(a),
    "argmax": lambda a: jnp.argmax(a),
    "argmin_keepdims": lambda a: jnp.argmin(a, keepdims=True),
    "nonzero": lambda a: jnp.nonzero(a)[0],
    "argwhere": lambda a: jnp.argwhere(a),
    "where1": lambda a: jnp.where(a)[0],
    "unique_inverse": lambda a: jnp.unique(a, return_inverse=True)[1],
    "unique_counts_sized": lambda a: jnp.unique(a, return_counts=True, size=3)[1],
    "lexsort": lambda a: jnp.lexsort((a,)),
    "count_nonzero": lambda a: jnp.count_nonzero(a),
    "bincount": lambda a: jnp.bincount(jnp.array([1, 2])),
}


@pytest.mark.parametrize("name", sorted(_INDEX_FNS))
@pytest.mark.parametrize("x64", [False, True])
def test_index_results_use_the_default_int(name, x64):
    """As JAX: index results are int32, or int64 once x64 is enabled."""
    old = lepton.config.x64
    lepton.config.update("jax_enable_x64", x64)
    try:
        out = _INDEX_FNS[name](jnp.array([0.0, 3.0, 1.0, 2.0]))
        assert out.dtype == (np.int64 if x64 else np.int32)
        if name in ("argsort", "argmax", "nonzero"):
            jitted = lepton.jit(lambda a: _INDEX_FNS[name](a) if name != "nonzero"
                                else jnp.nonzero(a, size=2)[0])(jnp.array([0.0, 3.0, 1.0]))
            assert jitted.dtype == out.dtype
    finally:
        lepton.config.update("jax_enable_x64", old)


# --------------------------------------------------------------------- lax.reduce
def test_lax_reduce_monoids_keep_dtype():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(lax.reduce(x, 0.0, lax.add, (0,))), x.sum(0))
    np.testing.assert_array_equal(np.asarray(lax.reduce(x, -np.inf, lax.max, (0, 1))), 11.0)
    np.testing.assert_array_equal(np.asarray(lax.reduce(x, np.inf, jnp.minimum, [1])), x.min(1))
    out = lax.reduce(np.arange(5, dtype=np.int8), np.int8(0), lax.add, (0,))
    assert out.dtype == np.int8 and int(out) == 10


def test_lax_reduce_generic_computation_and_variadic():
    x = np.arange(1.0, 8.0)
    np.testing.assert_allclose(np.asarray(lax.reduce(x, 1.0, lambda a, b: a * b, (0,))),
                               np.prod(x))
    y = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(np.asarray(lax.reduce(y, 0.0, lambda a, b: a + b, (0, 2))),
                               y.sum((0, 2)))

    def argmax_c(a, b):
        (va, ia), (vb, ib) = a, b
        pick = (va > vb) | ((va == vb) & (ia < ib))
        return lax.select(pick, va, vb), lax.select(pick, ia, ib)
    v = np.array([[3.0, 9, 1], [7, 2, 8]])
    idx = np.broadcast_to(np.arange(3, dtype=np.int32), (2, 3))
    vals, arg = lax.reduce((v, idx), (-np.inf, np.int32(0)), argmax_c, (1,))
    np.testing.assert_array_equal(np.asarray(vals), [9.0, 8.0])
    np.testing.assert_array_equal(np.asarray(arg), [1, 2])
    empty = lax.reduce(np.zeros((0, 3)), 0.0, lambda a, b: a + b, (0,))
    np.testing.assert_array_equal(np.asarray(empty), np.zeros(3))


def test_lax_reduce_under_transforms():
    def f(x):
        return lax.reduce(x, 1.0, lambda a, b: a * b, (0,))
    x = np.arange(1.0, 5.0)
    np.testing.assert_allclose(np.asarray(lepton.grad(f)(x)), np.prod(x) / x)
    np.testing.assert_allclose(np.asarray(lepton.jit(f)(x)), 24.0)
    np.testing.assert_allclose(np.asarray(lepton.vmap(f)(x.reshape(2, 2))), [2.0, 12.0])


def test_lax_reduce_bad_input_errors():
    with pytest.raises(TypeError, match="same structure"):
        lax.reduce((np.ones(2), np.ones(2)), 0.0, lax.add, (0,))
    with pytest.raises(lepton.errors.ShapeError, match="one shape"):
        lax.reduce((np.ones(2), np.ones(3)), (0.0, 0.0), lambda a, b: a, (0,))


def test_lax_reduce_matches_jax():
    jax = _jax()
    x = np.arange(12.0).reshape(3, 4) - 5
    for init, comp, jcomp, dims in [(0.0, lax.add, jax.lax.add, (1,)),
                                    (-np.inf, lax.max, jax.lax.max, (0,)),
                                    (1.0, lambda a, b: a * b, lambda a, b: a * b, (0, 1))]:
        np.testing.assert_allclose(np.asarray(lax.reduce(x, init, comp, dims)),
                                   np.asarray(jax.lax.reduce(x, init, jcomp, dims)))


# --------------------------------------------------------------------- lax.conv_transpose
def _np_conv_transpose_1d(x, w, stride):
    """1-d VALID transposed conv (NHC/HIO) in scatter form: input i adds its features times
    the spatially flipped kernel at i * stride (JAX correlates with the unflipped kernel).
    JAX's output length is h * stride + max(k - stride, 0)."""
    n, h, _ = x.shape
    k, _, o = w.shape
    out = np.zeros((n, h * stride + max(k - stride, 0), o))
    for i in range(h):
        out[:, i * stride:i * stride + k, :] += np.einsum("nc,kco->nko", x[:, i, :], w[::-1])
    return out


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_conv_transpose_valid_is_the_scatter_of_the_kernel(stride):
    x = np.arange(2 * 4 * 3, dtype=np.float64).reshape(2, 4, 3) / 7
    w = np.arange(3 * 3 * 2, dtype=np.float64).reshape(3, 3, 2) / 5
    out = lax.conv_transpose(x, w, (stride,), "VALID")
    np.testing.assert_allclose(np.asarray(out), _np_conv_transpose_1d(x, w, stride), rtol=1e-12)


def test_conv_transpose_matches_jax():
    jax = _jax()
    x = np.arange(50, dtype=np.float64).reshape(1, 5, 5, 2) / 10
    w = np.arange(72, dtype=np.float64).reshape(3, 3, 2, 4) / 20
    for s in [(1, 1), (2, 2), (3, 2)]:
        for p in ["SAME", "VALID", ((1, 2), (0, 1))]:
            np.testing.assert_allclose(np.asarray(lax.conv_transpose(x, w, s, p)),
                                       np.asarray(jax.lax.conv_transpose(x, w, s, p)),
                                       rtol=1e-10)
    x2 = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)
    w2 = np.arange(24, dtype=np.float64).reshape(3, 2, 2, 2)
    kw = dict(dimension_numbers=("NCHW", "IOHW", "NCHW"), transpose_kernel=True)
    np.testing.assert_allclose(np.asarray(lax.conv_transpose(x2, w2, (2, 2), "SAME", **kw)),
                               np.asarray(jax.lax.conv_transpose(x2, w2, (2, 2), "SAME", **kw)))
    g = lepton.grad(lambda w: jnp.sum(lax.conv_transpose(np.ones((1, 3, 3, 1)), w, (2, 2),
                                                         "SAME") ** 2))(np.ones((3, 3, 1, 2)))
    jg = jax.grad(lambda w: jax.numpy.sum(jax.lax.conv_transpose(
        np.ones((1, 3, 3, 1)), w, (2, 2), "SAME") ** 2))(np.ones((3, 3, 1, 2)))
    np.testing.assert_allclose(np.asarray(g), np.asarray(jg))


# --------------------------------------------------------------------- nan order statistics
_A = np.array([[1.0, np.nan, 3, 7], [np.nan, np.nan, np.nan, np.nan], [4, 2, 9, -1]])


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_nanquantile_matches_numpy(method, axis):
    q = np.array([0.0, 0.3, 0.5, 1.0])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if axis in (1,) else \
            _no_warning():
        want = np.nanquantile(_A, q, axis=axis, method=method, keepdims=True)
    got = jnp.nanquantile(_A, q, axis=axis, method=method, keepdims=True)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_nanmedian_nanpercentile_and_edge_cases():
    with pytest.warns(RuntimeWarning):
        want = np.nanmedian(_A, axis=1)
    np.testing.assert_allclose(np.asarray(jnp.nanmedian(_A, axis=1)), want)
    np.testing.assert_allclose(np.asarray(jnp.nanmedian(_A)), np.nanmedian(_A))
    np.testing.assert_allclose(np.asarray(jnp.nanpercentile(_A[2], [10, 90])),
                               np.nanpercentile(_A[2], [10, 90]))
    m = jnp.nanmedian(np.arange(5))
    assert m.dtype.kind == "f" and float(m) == 2.0
    assert float(jnp.nanmedian(np.array(3.0))) == 3.0
    assert np.isnan(np.asarray(jnp.nanmedian(np.zeros((0, 3)), axis=0))).all()
    with pytest.raises(ValueError, match="method"):
        jnp.nanquantile(_A, 0.5, method="bogus")


def test_nanmedian_under_transforms():
    g = lepton.grad(lambda x: jnp.nanmedian(x))(np.array([1.0, np.nan, 3, 2]))
    np.testing.assert_allclose(np.asarray(g), [0, 0, 0, 1])
    np.testing.assert_allclose(np.asarray(lepton.jit(lambda x: jnp.nanquantile(x, 0.3, axis=0))(
        _A)), np.nanquantile(_A, 0.3, axis=0))
    with pytest.warns(RuntimeWarning):
        want = np.nanmedian(_A, axis=1)
    np.testing.assert_allclose(np.asarray(lepton.vmap(jnp.nanmedian)(_A)), want)


def test_nancumsum_nancumprod():
    np.testing.assert_allclose(np.asarray(jnp.nancumsum(_A, axis=1)), np.nancumsum(_A, axis=1))
    np.testing.assert_allclose(np.asarray(jnp.nancumprod(_A, axis=0)), np.nancumprod(_A, axis=0))
    np.testing.assert_allclose(np.asarray(jnp.nancumsum(_A)), np.nancumsum(_A))
    assert jnp.nancumsum(np.arange(4, dtype=np.int32)).dtype == np.int32
    g = lepton.grad(lambda x: jnp.nancumsum(x).sum())(np.array([1.0, np.nan, 2.0]))
    np.testing.assert_allclose(np.asarray(g), [3.0, 0.0, 1.0])


def test_nan_order_statistics_match_jax():
    jax = _jax()
    for m in ["linear", "lower", "higher", "midpoint", "nearest"]:
        np.testing.assert_allclose(
            np.asarray(jnp.nanquantile(_A, np.array([0.1, 0.7]), axis=1, method=m)),
            np.asarray(jax.numpy.nanquantile(_A, np.array([0.1, 0.7]), axis=1, method=m)))
    np.testing.assert_allclose(np.asarray(jnp.nanmedian(_A, axis=0)),
                               np.asarray(jax.numpy.nanmedian(_A, axis=0)))


# --------------------------------------------------------------------- custom_vjp bwd shapes
def test_custom_vjp_bwd_wrong_cotangent_shape_is_a_clear_error():
    @lepton.custom_vjp
    def f(x):
        return x * 2

    f.defvjp(lambda x: (x * 2, None), lambda r, g: (jnp.ones(2),))
    with pytest.raises(lepton.errors.ShapeError, match=r"shape \(2,\) for an input of shape "
                                                       r"\(3,\)"):
        lepton.grad(lambda x: jnp.sum(f(x)))(jnp.ones(3))
    f.defvjp(lambda x: (x * 2, None), lambda r, g: (jnp.ones(()),))
    with pytest.raises(lepton.errors.ShapeError, match="bwd returned a cotangent"):
        lepton.grad(lambda x: jnp.sum(f(x)))(jnp.ones(3))


def test_custom_vjp_bwd_right_shapes_still_work_under_vmap_and_jit():
    @lepton.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g * r[1] * 10, None))
    g = lepton.jit(lepton.vmap(lepton.grad(lambda x, y: jnp.sum(f(x, y)))))(
        jnp.ones((2, 3)), jnp.full((2, 3), 2.0))
    np.testing.assert_allclose(np.asarray(g), np.full((2, 3), 20.0))


# --------------------------------------------------------------------- vmap keyword arguments
def test_vmap_maps_keyword_arguments_over_axis_0():
    f = lepton.vmap(lambda x, scale=1.0: x * scale)
    np.testing.assert_array_equal(np.asarray(f(jnp.arange(3.0), scale=jnp.array([1.0, 2, 3]))),
                                  [0.0, 2.0, 6.0])
    g = lepton.vmap(lambda x, *, d: x + d["a"], chunk_size=2)
    out = g(jnp.zeros(3), d={"a": jnp.arange(3.0)})
    np.testing.assert_array_equal(np.asarray(out), [0.0, 1.0, 2.0])
    with pytest.raises(lepton.errors.ShapeError, match="keyword arguments over their axis 0"):
        f(jnp.arange(3.0), scale=2.0)


def test_vmap_kwargs_match_jax():
    jax = _jax()
    x, s = np.arange(6.0).reshape(2, 3), np.array([2.0, 3.0])
    want = jax.vmap(lambda x, s=1.0: x * s)(x, s=s)
    np.testing.assert_array_equal(np.asarray(lepton.vmap(lambda x, s=1.0: x * s)(x, s=s)),
                                  np.asarray(want))


# --------------------------------------------------------------------- jit(f).lower().compile()
def test_jit_lower_compile():
    f = lepton.jit(lambda x, n: x * n, static_argnums=1)
    lowered = f.lower(lepton.ShapeDtypeStruct((2,), jnp.float32), 3)
    assert "mul" in lowered.as_text()
    compiled = lowered.compile()
    np.testing.assert_array_equal(np.asarray(compiled(jnp.ones(2, jnp.float32), 3)), [3.0, 3.0])
    g = lepton.jit(lambda x: {"y": x * 2}).lower(jnp.ones(2)).compile()
    np.testing.assert_array_equal(np.asarray(g(jnp.ones(2))["y"]), [2.0, 2.0])
    assert isinstance(g.as_text(), str)


# --------------------------------------------------------------------- grad(allow_int=True)
def test_grad_allow_int_gives_float0_zeros():
    g = lepton.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(g[0]) == 3.0
    assert g[1].dtype == lepton.dtypes.float0 and g[1].shape == ()
    d = lepton.jit(lepton.grad(lambda d: jnp.sum(d["a"] * d["n"]), allow_int=True))(
        {"a": 2.0, "n": np.arange(2)})
    np.testing.assert_array_equal(np.asarray(d["a"]), 1.0)  # sum of n = 0 + 1
    assert d["n"].dtype == lepton.dtypes.float0 and d["n"].shape == (2,)
    with pytest.raises(lepton.errors.DTypeError, match="allow_int=True"):
        lepton.grad(lambda x, n: x * n, argnums=1)(2.0, 3)


# --------------------------------------------------------------------- index arithmetic, lookups
def test_unravel_and_ravel_multi_index_match_numpy():
    idx = np.array([0, 4, 7, 11])
    for got, want in zip(jnp.unravel_index(idx, (3, 4)), np.unravel_index(idx, (3, 4))):
        np.testing.assert_array_equal(np.asarray(got), want)
    jitted = lepton.jit(lambda i: jnp.unravel_index(i, (3, 4)))(idx)
    np.testing.assert_array_equal(np.asarray(jitted[1]), idx % 4)
    coords = (np.array([1, 0, 2]), np.array([2, 1, 3]))
    for order in ("C", "F"):
        np.testing.assert_array_equal(
            np.asarray(jnp.ravel_multi_index(coords, (3, 4), order=order)),
            np.ravel_multi_index(coords, (3, 4), order=order))
    bad = (np.array([3]), np.array([-1]))
    for mode in ("wrap", "clip"):
        np.testing.assert_array_equal(np.asarray(jnp.ravel_multi_index(bad, (2, 3), mode=mode)),
                                      np.ravel_multi_index(bad, (2, 3), mode=mode))
    with pytest.raises(ValueError, match="invalid entry"):
        jnp.ravel_multi_index(bad, (2, 3))


def test_ix_and_digitize_match_numpy():
    a = np.arange(12).reshape(3, 4)
    rows, cols = np.array([0, 2]), np.array([1, 3])
    np.testing.assert_array_equal(np.asarray(jnp.asarray(a)[jnp.ix_(rows, cols)]),
                                  a[np.ix_(rows, cols)])
    x = np.array([0.5, 1.0, 1.5, 3.0])
    for bins in (np.array([1.0, 2.0]), np.array([2.0, 1.0])):
        for right in (False, True):
            np.testing.assert_array_equal(np.asarray(jnp.digitize(x, bins, right=right)),
                                          np.digitize(x, bins, right=right))


def test_interp_matches_numpy_and_differentiates():
    xp, fp = np.arange(3.0), np.array([0.0, 10.0, 30.0])
    x = np.array([-1.0, 0.5, 1.5, 2.0, 5.0])
    np.testing.assert_allclose(np.asarray(jnp.interp(x, xp, fp)), np.interp(x, xp, fp))
    np.testing.assert_allclose(np.asarray(jnp.interp(x, xp, fp, left=-5, right=99)),
                               np.interp(x, xp, fp, left=-5, right=99))
    xq = np.array([-0.5, 3.5, 7.0])
    xpp, fpp = np.array([0.0, 1, 2, 3]), np.array([1.0, 2, 0, 4])
    np.testing.assert_allclose(np.asarray(jnp.interp(xq, xpp, fpp, period=4)),
                               np.interp(xq, xpp, fpp, period=4))
    g = lepton.grad(lambda x: jnp.interp(x, xp, fp))(1.5)
    assert float(g) == 20.0
    v = lepton.jit(lepton.vmap(lambda x: jnp.interp(x, xp, fp)))(np.array([0.2, 1.7]))
    np.testing.assert_allclose(np.asarray(v), np.interp([0.2, 1.7], xp, fp))
