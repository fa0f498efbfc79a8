"""Reductions, cumulative ops, statistics, diff/convolve/vectorize: edge cases the op table
does not reach (dtype rules, NaN and empty inputs, exact subgradients, error paths, batching
in every position)."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.errors import DTypeError, ShapeError
from lepton.primitives import reductions as red
from lepton.primitives import sorting


def f64(x):
    return np.asarray(x, np.float64)


def grad_np(f, x):
    return np.asarray(lepton.grad(f)(lnp.asarray(f64(x))))


# ----------------------------------------------------------------------------- dtype rules
@pytest.mark.parametrize("dt,want", [
    ("bool", "int32"), ("int8", "int32"), ("int16", "int32"), ("int32", "int32"),
    ("int64", "int64"), ("uint8", "uint32"), ("uint16", "uint32"), ("uint64", "uint64"),
    ("float16", "float16"), ("float32", "float32"), ("float64", "float64"),
    ("complex64", "complex64")])
def test_sum_prod_cumsum_accumulate_dtypes(dt, want):
    x = lnp.asarray(np.ones((2, 3), dt))
    for f in (lnp.sum, lnp.prod, lnp.cumsum, lnp.cumprod):
        assert f(x).dtype == np.dtype(want), f
    assert lnp.sum(x, dtype=lnp.float64).dtype == np.float64


@pytest.mark.parametrize("dt,want", [("bool", "float32"), ("int8", "float32"),
                                     ("int32", "float32"), ("int64", "float64"),
                                     ("float16", "float16"), ("float64", "float64"),
                                     ("complex64", "complex64")])
def test_mean_dtypes(dt, want):
    x = lnp.asarray(np.ones((2, 3), dt))
    assert lnp.mean(x).dtype == np.dtype(want)
    assert lnp.var(x).dtype == np.dtype(want).type(0).real.dtype


def test_index_and_count_dtypes():
    x = lnp.asarray(np.arange(6.0).reshape(2, 3))
    assert lnp.argmax(x).dtype == lnp.argmin(x, 1).dtype == np.int32
    assert lnp.count_nonzero(x, axis=0).dtype == np.int32
    assert lnp.all(x).dtype == lnp.any(x, 0).dtype == np.bool_
    assert lnp.max(lnp.asarray(np.ones(3, np.int8))).dtype == np.int8


def test_var_of_complex_is_real():
    z = np.array([1 + 2j, 3 - 1j, -2j], np.complex64)
    out = lnp.var(lnp.asarray(z))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.var(z), rtol=1e-6)


# ----------------------------------------------------------------------------- NaN, empty, axes
def test_nan_behaviour_matches_numpy():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 0.0, -1.0]])
    lx = lnp.asarray(x)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = {"nanmax": np.nanmax(x, 1), "nanmin": np.nanmin(x, 1),
                "nanmean": np.nanmean(x, 1), "nanvar": np.nanvar(x, 1),
                "nanstd": np.nanstd(x, 1)}
    for name, w in want.items():
        np.testing.assert_allclose(getattr(lnp, name)(lx, 1), w, equal_nan=True, err_msg=name)
    np.testing.assert_allclose(lnp.nansum(lx, 1), np.nansum(x, 1))
    np.testing.assert_allclose(lnp.nanprod(lx, 1), np.nanprod(x, 1))
    np.testing.assert_allclose(lnp.max(lx, 1), np.max(x, 1), equal_nan=True)
    np.testing.assert_array_equal(lnp.argmax(lx, 1), np.argmax(x, 1))  # first NaN wins
    np.testing.assert_array_equal(lnp.argmin(lx, 1), np.argmin(x, 1))
    np.testing.assert_allclose(lnp.median(lx, 1), np.median(x, 1), equal_nan=True)
    # all-NaN rows: -1 instead of NumPy's ValueError (documented deviation)
    np.testing.assert_array_equal(lnp.nanargmax(lx, 1), [2, -1, 0])
    np.testing.assert_array_equal(lnp.nanargmin(lx, 1), [0, -1, 2])


def test_nanvar_with_too_few_values_is_nan_but_var_is_inf():
    x = lnp.asarray(np.array([1.0, np.nan, 2.0]))
    assert np.isnan(lnp.nanvar(x, ddof=2))
    assert np.isinf(lnp.var(lnp.asarray([1.0, 2.0]), ddof=2))


def test_empty_inputs():
    e = lnp.asarray(np.zeros((0, 3), np.float32))
    assert lnp.sum(e) == 0 and lnp.sum(e).dtype == np.float32
    assert lnp.prod(e) == 1
    np.testing.assert_array_equal(lnp.sum(e, axis=0), np.zeros(3))
    with np.errstate(all="ignore"):
        assert np.isnan(lnp.mean(e))
        assert np.isnan(lnp.median(e))
    assert lnp.max(e, axis=1).shape == (0,)  # no empty slice is reduced
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        lnp.max(e)
    with pytest.raises(ValueError, match="minimum"):
        lnp.min(e, axis=0)
    np.testing.assert_array_equal(lnp.max(e, axis=0, initial=-2.0), np.full(3, -2.0))
    with pytest.raises(ValueError, match="empty sequence"):
        lnp.argmax(e)
    assert not lnp.any(e) and lnp.all(e)
    np.testing.assert_array_equal(lnp.cumsum(e, 0), np.zeros((0, 3)))


def test_scalars_and_axis_forms():
    s = lnp.asarray(np.float32(2.5))
    assert lnp.sum(s, axis=0) == 2.5 and lnp.sum(s, axis=-1).shape == ()
    assert lnp.cumsum(s).shape == (1,) and lnp.argmax(s) == 0
    x = np.arange(24.0).reshape(2, 3, 4)
    for axis in [None, 0, -1, (0, 2), (-1, -3), (2, 0, 1)]:
        for keepdims in (False, True):
            np.testing.assert_allclose(lnp.sum(lnp.asarray(x), axis, keepdims=keepdims),
                                       np.sum(x, axis, keepdims=keepdims))
            np.testing.assert_allclose(lnp.std(lnp.asarray(x), axis, ddof=1, keepdims=keepdims),
                                       np.std(x, axis, ddof=1, keepdims=keepdims))
    np.testing.assert_array_equal(lnp.argmax(lnp.asarray(x), axis=1, keepdims=True),
                                  np.argmax(x, axis=1, keepdims=True))


def test_methods_installed_on_arrays():
    x = lnp.asarray(np.array([[3.0, 1.0], [2.0, 5.0]]))
    assert float(x.sum()) == 11.0 and float(x.mean(axis=0)[1]) == 3.0
    np.testing.assert_array_equal(x.argmax(axis=1), [0, 1])
    np.testing.assert_array_equal(x.cumsum(), np.cumsum(np.asarray(x)))
    np.testing.assert_array_equal(x.sort(axis=0), np.sort(np.asarray(x), axis=0))


def test_initial_and_where():
    x = np.array([[1, 5, 2], [7, 0, 3]], np.int32)
    m = np.array([True, False, True])
    np.testing.assert_array_equal(lnp.sum(lnp.asarray(x), 1, initial=10), np.sum(x, 1, initial=10))
    np.testing.assert_array_equal(lnp.max(lnp.asarray(x), 1, initial=4), np.max(x, 1, initial=4))
    np.testing.assert_array_equal(lnp.max(lnp.asarray(x), 1, where=m, initial=-1),
                                  np.max(x, 1, where=m, initial=-1))
    np.testing.assert_allclose(lnp.mean(lnp.asarray(x), 0, where=x > 1),
                               np.mean(x, 0, where=x > 1))
    np.testing.assert_array_equal(lnp.all(lnp.asarray(x), 1, where=m), np.all(x, 1, where=m))
    with pytest.raises(ValueError, match="specify 'initial'"):
        lnp.max(lnp.asarray(x), where=m)


def test_quantile_methods_and_shapes():
    x = np.array([[4.0, 1.0, 3.0, 2.0, 8.0], [0.0, -1.0, 5.0, 5.0, 2.0]])
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0])
    for method in ("linear", "lower", "higher", "nearest", "midpoint"):
        for axis in (None, 0, 1, (0, 1)):
            got = lnp.quantile(lnp.asarray(x), q, axis=axis, method=method, keepdims=True)
            np.testing.assert_allclose(got, np.quantile(x, q, axis=axis, method=method,
                                                        keepdims=True), err_msg=method)
    np.testing.assert_allclose(lnp.percentile(lnp.asarray(x), 30), np.percentile(x, 30))
    xi = np.array([5, 1, 4, 2], np.int32)
    assert lnp.quantile(lnp.asarray(xi), 0.5, method="lower").dtype == np.int32
    assert lnp.quantile(lnp.asarray(xi), 0.5).dtype == np.float32
    # NumPy's median averages the middle pair; interpolation would give nan here
    assert float(lnp.median(lnp.asarray([-np.inf, 0.0, np.inf]))) == 0.0
    with pytest.raises(ValueError, match=r"range \[0, 1\]"):
        lnp.quantile(lnp.asarray(x), 1.5)
    with pytest.raises(ValueError, match=r"range \[0, 100\]"):
        lnp.percentile(lnp.asarray(x), -1)
    with pytest.raises(ValueError, match="method"):
        lnp.quantile(lnp.asarray(x), 0.5, method="inverted_cdf")


def test_quantile_with_traced_q():
    x = lnp.asarray(np.array([3.0, 1.0, 4.0, 1.0, 5.0]))
    qs = lnp.asarray(np.array([0.1, 0.5, 0.8]))
    got = lepton.vmap(lambda q: lnp.quantile(x, q))(qs)
    np.testing.assert_allclose(got, np.quantile(np.asarray(x), np.asarray(qs)))


def test_average_and_cov():
    x = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])
    w = np.array([1.0, 2.0, 0.5])
    avg, scl = lnp.average(lnp.asarray(x), axis=1, weights=lnp.asarray(w), returned=True)
    want_avg, want_scl = np.average(x, axis=1, weights=w, returned=True)
    np.testing.assert_allclose(avg, want_avg)
    np.testing.assert_allclose(scl, want_scl)
    with pytest.raises(TypeError, match="axis must be specified"):
        lnp.average(lnp.asarray(x), weights=lnp.asarray(w))
    with pytest.raises(ValueError, match="length of weights"):
        lnp.average(lnp.asarray(x), axis=0, weights=lnp.asarray(w))
    np.testing.assert_allclose(lnp.cov(lnp.asarray(x)), np.cov(x))
    np.testing.assert_allclose(lnp.cov(lnp.asarray(x), rowvar=False, bias=True),
                               np.cov(x, rowvar=False, bias=True))
    np.testing.assert_allclose(lnp.cov(lnp.asarray(x[0]), lnp.asarray(x[1])), np.cov(x[0], x[1]))
    fw, aw = np.array([1, 2, 1]), np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(lnp.cov(lnp.asarray(x), fweights=fw, aweights=aw),
                               np.cov(x, fweights=fw, aweights=aw))
    with pytest.raises(ValueError, match="more than 2"):
        lnp.cov(lnp.zeros((2, 2, 2)))


# ----------------------------------------------------------------------------- errors
def test_bad_axes_raise():
    x = lnp.asarray(np.ones((2, 3)))
    for f in (lnp.sum, lnp.max, lnp.mean, lnp.argmax, lnp.cumsum, lnp.median, lnp.all):
        with pytest.raises(ValueError, match="out of bounds"):
            f(x, axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        lnp.sum(x, axis=(0, -2))
    with pytest.raises(NotImplementedError, match="out="):
        lnp.sum(x, out=x)


def test_primitive_shape_rules_name_the_problem():
    x = lnp.asarray(np.ones((2, 3), np.float32))
    with pytest.raises(ShapeError, match=r"reduce_sum: axes \(0, 0\)"):
        red.reduce_sum_p.bind(x, axes=(0, 0))
    with pytest.raises(ShapeError, match="cumsum: axis 2"):
        red.cumsum(x, 2)
    with pytest.raises(DTypeError, match="reduce_and: requires boolean"):
        red.reduce_and(x, (0,))
    with pytest.raises(ShapeError, match="argmax of an empty"):
        red.argmax(lnp.zeros((0, 2)), 0)
    with pytest.raises(DTypeError, match="index_dtype"):
        red.argmax(x, 0, index_dtype=np.float32)
    with pytest.raises(ShapeError, match="equal shapes"):
        sorting.sort([x, lnp.zeros((3, 2))], 0)
    with pytest.raises(ShapeError, match="num_keys=3"):
        sorting.sort([x, x], 0, num_keys=3)
    with pytest.raises(ShapeError, match="cannot reduce a zero-size axis"):
        red.reduce_max(lnp.zeros((0,)), (0,))


# ----------------------------------------------------------------------------- gradients
def test_prod_gradient_with_zeros_is_exact():
    x = np.array([0.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(grad_np(lambda v: lnp.prod(v), x), [30.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(grad_np(lambda v: lnp.prod(v), [0.0, 2.0, 0.0]), [0, 0, 0])
    h = lepton.hessian(lambda v: lnp.prod(v))(lnp.asarray(f64([0.0, 0.0, 3.0])))
    np.testing.assert_allclose(h, [[0, 3, 0], [3, 0, 0], [0, 0, 0]])
    for x in (np.array([[0.0, 1.5], [2.0, -1.0], [0.5, 0.0]]), np.array([[0.0, 0.0, 1.2]])):
        for axis in (None, 0, 1):
            test_util.check_grads(lambda v: lnp.prod(v, axis=axis), [x], order=3)


def test_cumprod_gradient_with_zeros():
    x = np.array([1.5, 0.0, 2.0, -1.0, 0.0])
    # d/dx_j sum_i prod_{k<=i} x_k, computed by hand
    want = [sum(np.prod(np.delete(x[:i + 1], j)) for i in range(j, 5)) for j in range(5)]
    np.testing.assert_allclose(grad_np(lambda v: lnp.sum(lnp.cumprod(v)), x), want)
    for reverse in (False, True):
        test_util.check_grads(lambda v: red.cumprod(v, 0, reverse=reverse), [x], order=2)
        test_util.check_grads(lambda v: red.cumprod(v, 1, reverse=reverse),
                              [np.array([[0.0, 2.0, 1.1], [0.7, -1.2, 3.0]])], order=2)


@pytest.mark.parametrize("fn", [red.cummax, red.cummin, red.cumsum])
def test_cumulative_extrema_gradients(fn):
    x = np.array([[0.3, -1.2, 2.5, 0.1, 3.3], [1.0, 0.2, -0.4, 2.0, -3.0]])
    for axis in (0, 1):
        for reverse in (False, True):
            test_util.check_grads(lambda v: fn(v, axis, reverse=reverse), [x], order=2)
            np.testing.assert_allclose(
                fn(lnp.asarray(x), axis, reverse=reverse),
                _np_cumulative(fn, x, axis, reverse))


def _np_cumulative(fn, x, axis, reverse):
    ufunc = {red.cummax: np.maximum, red.cummin: np.minimum, red.cumsum: np.add}[fn]
    xs = np.flip(x, axis) if reverse else x
    out = ufunc.accumulate(xs, axis=axis)
    return np.flip(out, axis) if reverse else out


def test_cummax_gradient_goes_to_the_latest_maximum():
    g = grad_np(lambda v: lnp.sum(red.cummax(v, 0)), [1.0, 3.0, 3.0, 2.0])
    np.testing.assert_allclose(g, [1.0, 1.0, 2.0, 0.0])


def test_max_min_split_ties_equally():
    x = [1.0, 3.0, 3.0, -2.0]
    np.testing.assert_allclose(grad_np(lnp.max, x), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(grad_np(lnp.min, [2.0, 2.0, 2.0]), [1 / 3] * 3)
    g = lepton.grad(lambda v: lnp.sum(lnp.max(v, axis=0)))(lnp.asarray(f64([[1, 4], [1, 2]])))
    np.testing.assert_allclose(g, [[0.5, 1], [0.5, 0]])
    test_util.check_grads(lambda v: lnp.max(v, axis=1), [np.array([[0.1, 0.7], [2.0, -1.0]])],
                          order=2)


@pytest.mark.parametrize("fn", [
    lambda v: lnp.std(v, axis=0, ddof=1), lambda v: lnp.var(v, axis=(0, 1)),
    lambda v: lnp.median(v, axis=1), lambda v: lnp.median(v),
    lambda v: lnp.quantile(v, np.array([0.2, 0.65]), axis=0),
    lambda v: lnp.mean(v, axis=-1, keepdims=True), lambda v: lnp.cumsum(v, axis=0),
    lambda v: lnp.ptp(v, axis=1), lambda v: lnp.nanmean(v), lambda v: lnp.cov(v)])
def test_statistics_gradients(fn):
    x = np.array([[0.3, -1.2, 2.5, 0.1], [1.0, 0.2, -0.4, 2.2], [0.9, 1.7, -2.1, 0.5]])
    test_util.check_grads(fn, [x], order=2)


def test_median_gradient_splits_between_middle_values():
    np.testing.assert_allclose(grad_np(lnp.median, [4.0, 1.0, 3.0, 2.0]), [0, 0, 0.5, 0.5])
    np.testing.assert_allclose(grad_np(lnp.median, [4.0, 1.0, 3.0]), [0, 0, 1])


# ----------------------------------------------------------------------------- batching
_BATCHED = {
    "sum": lambda v: lnp.sum(v, axis=1), "prod": lambda v: lnp.prod(v, axis=(0, 1)),
    "max": lambda v: lnp.max(v, axis=0), "min_keep": lambda v: lnp.min(v, 1, keepdims=True),
    "argmax": lambda v: lnp.argmax(v, axis=1), "argmin": lambda v: lnp.argmin(v),
    "all": lambda v: lnp.all(v > 0, axis=0), "any": lambda v: lnp.any(v > 1, axis=1),
    "cumsum": lambda v: lnp.cumsum(v, axis=1), "cumprod": lambda v: lnp.cumprod(v, axis=0),
    "cummax": lambda v: red.cummax(v, 1, reverse=True), "cummin": lambda v: red.cummin(v, 0),
    "median": lambda v: lnp.median(v, axis=0), "var": lambda v: lnp.var(v, axis=1, ddof=1),
    "quantile": lambda v: lnp.quantile(v, 0.3, axis=1, method="nearest"),
}


@pytest.mark.parametrize("name", sorted(_BATCHED))
@pytest.mark.parametrize("in_axis", [0, 1, 2])
def test_vmap_in_every_position(name, in_axis):
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    test_util.check_batching(_BATCHED[name], [x], (in_axis,), atol=1e-12, rtol=1e-12)


def test_grad_of_vmap_and_vmap_of_grad_agree():
    x = np.random.default_rng(1).normal(size=(4, 3))
    f = lambda v: lnp.prod(v) + lnp.max(v) * lnp.median(v)  # noqa: E731
    per_row = lepton.vmap(lepton.grad(f))(lnp.asarray(x))
    summed = lepton.grad(lambda m: lnp.sum(lepton.vmap(f)(m)))(lnp.asarray(x))
    np.testing.assert_allclose(per_row, summed, rtol=1e-12)


def test_staged_reductions_use_the_primitives():
    text = str(lepton.make_jaxpr(lambda v: (lnp.prod(v, 0), lnp.argmax(v), lnp.cumsum(v, 1),
                                            lnp.all(v > 0)))(lnp.ones((2, 3))))
    for prim in ("reduce_prod", "argmax", "cumsum", "reduce_and"):
        assert prim in text


# ----------------------------------------------------------------------------- diff/convolve
def test_diff():
    x = np.array([[1.0, 4.0, 9.0, 16.0], [2.0, 3.0, 5.0, 7.0]])
    for n in range(5):
        np.testing.assert_allclose(lnp.diff(lnp.asarray(x), n), np.diff(x, n))
    np.testing.assert_allclose(lnp.diff(lnp.asarray(x), axis=0, prepend=0.0, append=x[:1]),
                               np.diff(x, axis=0, prepend=0.0, append=x[:1]))
    b = np.array([True, True, False])
    np.testing.assert_array_equal(lnp.diff(lnp.asarray(b)), np.diff(b))
    with pytest.raises(ValueError, match="at least one dimensional"):
        lnp.diff(lnp.asarray(3.0))
    with pytest.raises(ValueError, match="non-negative"):
        lnp.diff(lnp.asarray(x), -1)


def test_convolve():
    a, v = np.array([1.0, 2.0, -1.0, 0.5, 3.0]), np.array([0.5, -1.0, 2.0])
    for mode in ("full", "same", "valid"):
        for p, q in ((a, v), (v, a), (a[:3], v)):
            np.testing.assert_allclose(lnp.convolve(lnp.asarray(p), lnp.asarray(q), mode),
                                       np.convolve(p, q, mode), err_msg=mode)
    test_util.check_grads(lambda p, q: lnp.convolve(p, q, "same"), [a, v], order=2)
    batch = np.random.default_rng(2).normal(size=(4, 5))
    test_util.check_batching(lambda p: lnp.convolve(p, lnp.asarray(v)), [batch], (0,))
    test_util.check_batching(lambda p: lnp.convolve(p, lnp.asarray(v)), [batch.T], (1,))
    with pytest.raises(ValueError, match="cannot be empty"):
        lnp.convolve(lnp.zeros((0,)), lnp.asarray(v))
    with pytest.raises(ValueError, match="1-D"):
        lnp.convolve(lnp.zeros((2, 2)), lnp.asarray(v))
    with pytest.raises(ValueError, match="mode"):
        lnp.convolve(lnp.asarray(a), lnp.asarray(v), "circular")


# ----------------------------------------------------------------------------- vectorize
def test_vectorize_broadcasts_and_loops():
    calls = []

    def f(a, b):
        calls.append(a.shape)
        return a * 2 + b

    vf = lnp.vectorize(f)
    out = vf(lnp.asarray(np.arange(3.0)), lnp.asarray(np.ones((2, 1))))
    np.testing.assert_allclose(out, np.arange(3.0) * 2 + np.ones((2, 1)))
    assert calls == [()]  # traced once, on scalars


def test_vectorize_signature_excluded_and_kwargs():
    def weighted_dot(a, b, scale, power=1):
        return lnp.sum(a * b) * scale ** power

    vf = lnp.vectorize(weighted_dot, excluded={2, "power"}, signature="(n),(n)->()")
    a = np.random.default_rng(3).normal(size=(2, 3, 4))
    b = np.random.default_rng(4).normal(size=(4,))
    got = vf(lnp.asarray(a), lnp.asarray(b), 2.0, power=2)
    np.testing.assert_allclose(got, np.einsum("ijk,k->ij", a, b) * 4)
    pair = lnp.vectorize(lambda x: (lnp.sum(x), lnp.max(x)), signature="(n)->(),()")
    s, m = pair(lnp.asarray(a))
    np.testing.assert_allclose(s, a.sum(-1))
    np.testing.assert_allclose(m, a.max(-1))
    scaled = lnp.vectorize(lambda x, k: x * k)
    np.testing.assert_allclose(scaled(lnp.asarray(a[0]), k=lnp.asarray(b)), a[0] * b)
    g = lepton.grad(lambda v: lnp.sum(vf(v, lnp.asarray(b), 3.0)))(lnp.asarray(a))
    np.testing.assert_allclose(g, np.broadcast_to(b * 3, a.shape))


def test_vectorize_errors():
    with pytest.raises(ValueError, match="signature"):
        lnp.vectorize(lambda a: a, signature="(n->()")
    dot = lnp.vectorize(lambda a, b: lnp.sum(a * b), signature="(n),(n)->()")
    with pytest.raises(ValueError, match="inconsistent"):
        dot(lnp.ones((3,)), lnp.ones((4,)))
    with pytest.raises(ValueError, match="fewer dimensions"):
        dot(lnp.ones(()), lnp.ones((4,)))
    with pytest.raises(TypeError, match="2 inputs"):
        dot(lnp.ones((3,)))
    bad = lnp.vectorize(lambda a: a, signature="(n)->()")
    with pytest.raises(ValueError, match="core shape"):
        bad(lnp.ones((2, 3)))


@pytest.mark.parametrize("case", ["rows", "with_y", "columns", "one", "constant", "complex",
                                  "float32", "ints"])
def test_corrcoef_matches_numpy(case):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 7))
    args, kw = {"rows": ((x,), {}), "with_y": ((x, x[1] ** 2), {}),
                "columns": ((x.T,), {"rowvar": False}), "one": ((x[0],), {}),
                "constant": ((np.ones(5),), {}),
                "complex": ((x + 1j * rng.standard_normal((3, 7)),), {}),
                "float32": ((x.astype(np.float32),), {}),
                "ints": ((np.arange(12).reshape(3, 4) ** 2,), {})}[case]
    with np.errstate(all="ignore"):
        want = np.corrcoef(*args, **kw)
    got = lnp.corrcoef(*args, **kw)
    assert got.shape == want.shape
    tol = 1e-5 if case == "float32" else 1e-12
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol)
    if case == "float32":
        assert got.dtype == np.float32  # as JAX (NumPy computes in float64)
    np.testing.assert_allclose(np.asarray(lepton.jit(lambda *a: lnp.corrcoef(*a, **kw))(*args)),
                               want, rtol=tol, atol=tol)


def test_corrcoef_gradient_and_vmap():
    x = np.random.default_rng(5).standard_normal((3, 6))
    test_util.check_grads(lambda x: lnp.corrcoef(x)[0, 1], (x,), order=2)
    batch = np.stack([x, x[::-1] * 2])
    np.testing.assert_allclose(np.asarray(lepton.vmap(lnp.corrcoef)(batch)),
                               np.stack([np.corrcoef(b) for b in batch]), rtol=1e-12)


# ----------------------------------------------------------------------------- compiled max/min
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("size", [7, 1 << 20])  # serial, and the chunked parallel kernel
def test_compiled_max_min_are_ieee_maximum_and_minimum(dt, size):
    """Float max/min reductions run as ``llvm.maximum``/``minimum`` (they vectorise): NaN
    anywhere wins, and a tie of -0.0 and +0.0 gives +0.0 for max and -0.0 for min in
    either order, as JAX's do (NumPy's answer depends on the order)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(size).astype(dt)
    jmax, jmin = lepton.jit(lnp.max, backend="cpu"), lepton.jit(lnp.min, backend="cpu")
    assert jmax(x) == x.max() and jmin(x) == x.min()
    for where in (0, size // 2, size - 1):
        y = x.copy()
        y[where] = np.nan
        assert np.isnan(jmax(y)) and np.isnan(jmin(y))
    for first, second in ((-0.0, 0.0), (0.0, -0.0)):
        z = np.full(size, -1.0, dt)
        z[0], z[-1] = first, second
        assert jmax(z) == 0 and not np.signbit(jmax(z))
        z = -z
        z[0], z[-1] = first, second
        assert jmin(z) == 0 and np.signbit(jmin(z))
    rows = x[: size - size % 7].reshape(-1, 7)
    np.testing.assert_array_equal(lepton.jit(lambda r: lnp.max(r, axis=1))(rows), rows.max(1))
    np.testing.assert_array_equal(lepton.jit(lambda r: lnp.min(r, axis=0))(rows), rows.min(0))
