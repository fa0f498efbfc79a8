"""x[idx], x.at[idx], take & co and the gather/scatter primitives: NumPy agreement on many
index expressions (eager, staged, traced indices), gradients, vmap, and error messages."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.errors import ConcretizationError, DTypeError, MutationError, ShapeError
from lepton.primitives import indexing as ix
from lepton.primitives import slicing as sl

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5, 6))
I2 = np.array([[0, -1], [2, 1]])

INDEX_EXPRS = [
    0, -1, (1, 2), (-1, -2, -3), slice(None), slice(1, 3), slice(None, None, -1),
    slice(-2, None, -2), slice(5, -10, -1), slice(10, 20), (slice(None), 2), (Ellipsis, 1),
    (None, 1), (1, None, slice(None, None, 2)), (Ellipsis, None), (None, Ellipsis, None),
    (), Ellipsis, [0, 2, 2], [[0, 1], [3, 3]], [], np.array([-1, 0]), (I2, 0), (0, I2),
    (I2, I2), (I2, slice(1, 3), 0), (0, slice(None), I2), (slice(None), I2, I2),
    (I2, Ellipsis, [0, 1]), (I2, None, [0, 1]), ([1], slice(None), [2]), (Ellipsis, [1, 2]),
    (slice(None), [[0], [3]], [1, 2]), (1, [0, 4], slice(None, None, -1)),
    X[:, 0, 0] > 0, X[..., 0] > 0, X > 0.5, (slice(None), X[0, :, 0] > 0),
    (X[:, 0, 0] > 0, slice(None), [1]), True, False, (0, True), (Ellipsis, False, 1),
    (np.int64(2), np.int32(-1)), lnp.asarray(3), (lnp.asarray([0, 1]), 1),
    (slice(lnp.asarray(1), None),),
]


def _ids(exprs):
    return [str(i)[:40] for i in range(len(exprs))]


@pytest.mark.parametrize("idx", INDEX_EXPRS, ids=_ids(INDEX_EXPRS))
def test_getitem_matches_numpy(idx):
    np_idx = tuple(np.asarray(i) if isinstance(i, lnp.ndarray) else i
                   for i in (idx if isinstance(idx, tuple) else (idx,)))
    np_idx = np_idx if isinstance(idx, tuple) else np_idx[0]
    want = X[np_idx]
    x = lnp.asarray(X)
    np.testing.assert_array_equal(x[idx], want)  # eager (NumPy's own indexing)
    staged = lepton.make_jaxpr(lambda x: x[idx])(x)  # primitives: slice/rev/gather
    assert staged.out_avals[0].shape == want.shape
    np.testing.assert_array_equal(staged(x)[0], want)
    np.testing.assert_array_equal(x.at[idx].get(mode="clip"), want)


@pytest.mark.parametrize("idx", INDEX_EXPRS, ids=_ids(INDEX_EXPRS))
def test_at_updates_match_numpy(idx):
    np_idx = tuple(np.asarray(i) if isinstance(i, lnp.ndarray) else i
                   for i in (idx if isinstance(idx, tuple) else (idx,)))
    np_idx = np_idx if isinstance(idx, tuple) else np_idx[0]
    v = RNG.uniform(0.5, 2, X[np_idx].shape)
    for method, update in [("set", None), ("add", np.add), ("multiply", np.multiply),
                           ("min", np.minimum), ("max", np.maximum),
                           ("subtract", np.subtract), ("divide", np.divide)]:
        want = X.copy()
        if update is None:
            want[np_idx] = v
        else:
            update.at(want, np_idx, v)

        def f(x, v):
            return getattr(x.at[idx], method)(v)

        np.testing.assert_allclose(f(lnp.asarray(X), v), want, err_msg=method)
        staged = lepton.make_jaxpr(f)(lnp.asarray(X), lnp.asarray(v))
        np.testing.assert_allclose(staged(lnp.asarray(X), lnp.asarray(v))[0], want,
                                   err_msg=f"{method} (staged)")


@pytest.mark.parametrize("template", [("A",), ("A", "A"), (slice(None), "A"),
                                      ("A", slice(1, 3), "A"), (Ellipsis, "A"),
                                      (0, slice(None, None, -1), "A"), ("A", None, "A")])
def test_traced_index_arrays(template):
    def fill(arrays):
        it = iter(arrays)
        return tuple(next(it) if t == "A" else t for t in template)

    arrays = [I2, np.array([1, -2])[:, None]][:template.count("A")]
    want = X[fill(arrays)]
    got = lepton.make_jaxpr(lambda x, *a: x[fill(a)])(lnp.asarray(X), *arrays)
    np.testing.assert_array_equal(got(lnp.asarray(X), *map(lnp.asarray, arrays))[0], want)
    # vmap over the index arrays is a loop over their values
    batched = [np.stack([a, a[::-1]]) for a in arrays]
    test_util.check_batching(lambda x, *a: lnp.asarray(x)[fill(a)], [X] + batched,
                             (None,) + (0,) * len(arrays))


def test_static_indexing_lowers_to_slices_and_advanced_to_gather():
    def prims(f):
        return {e.prim.name for e in lepton.make_jaxpr(f)(lnp.asarray(X)).jaxpr.eqns}

    assert prims(lambda x: x[1, ::-2, None, 2:]) <= {"slice", "rev", "reshape"}
    assert "gather" in prims(lambda x: x[[0, 1], 2])


def test_repeated_indices_set_keeps_last_and_add_accumulates():
    x = lnp.zeros(4)
    i = np.array([1, 3, 1, 1])
    v = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(x.at[i].set(v), [0, 4, 0, 2])
    np.testing.assert_array_equal(x.at[i].add(v), [0, 8, 0, 2])
    np.testing.assert_array_equal(lnp.ones(4).at[i].multiply(v), [1, 12, 1, 2])
    # traced: the scatter primitive itself keeps the last write
    set_ = lepton.make_jaxpr(lambda x, i, v: x.at[i].set(v))(x, i, v)
    np.testing.assert_array_equal(set_(x, lnp.asarray(i), lnp.asarray(v))[0], [0, 4, 0, 2])
    # and the gradient flows to the kept update only
    g = lepton.grad(lambda v: lnp.sum(x.at[i].set(v) * lnp.arange(4.0)))(v)
    np.testing.assert_array_equal(g, [0, 3, 0, 1])  # v[1] lands at 3, v[3] at 1


def test_at_get_modes_and_traced_out_of_bounds():
    x = lnp.arange(5.0)
    i = np.array([-7, -1, 4, 5, 9])
    np.testing.assert_array_equal(x.at[i].get(mode="fill", fill_value=-1), [-1, 4, 4, -1, -1])
    np.testing.assert_array_equal(x.at[i].get(mode="clip"), [0, 4, 4, 4, 4])
    assert np.isnan(np.asarray(x.at[7].get(mode="fill")))
    # traced indices cannot be checked: reads clamp, updates drop out-of-bounds entries
    read = lepton.make_jaxpr(lambda x, i: x[i])(x, i)
    np.testing.assert_array_equal(read(x, lnp.asarray(i))[0], [0, 4, 4, 4, 4])
    write = lepton.make_jaxpr(lambda x, i: x.at[i].set(10.0))(x, i)
    np.testing.assert_array_equal(write(x, lnp.asarray(i))[0], [0, 1, 2, 3, 10])
    np.testing.assert_array_equal(x.at[np.array([1, 9])].add(1.0, mode="drop"), [0, 2, 2, 3, 4])
    np.testing.assert_array_equal(x.at[9].set(7.0, mode="clip"), [0, 1, 2, 3, 7])


def test_at_power_and_dtypes():
    x = lnp.asarray(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.at[1:].power(2.0), [1, 4, 9])
    xi = lnp.arange(4)
    out = xi.at[1].set(2.7)
    assert out.dtype == np.int32 and out.tolist() == [0, 2, 2, 3]
    assert xi.at[::2].add(1).tolist() == [1, 1, 3, 3]
    with pytest.raises(DTypeError, match="floating-point"):
        xi.at[0].divide(2)


# ----------------------------------------------------------------------------- gradients
def _take_rows(x):
    return lnp.take(x, np.array([[2, 0], [2, -1]]), axis=1)


GRAD_FUNS = {
    "getitem_basic": lambda x: x[1:, ::-2, None, 3],
    "getitem_advanced": lambda x: x[I2, :, [0, 5]],
    "getitem_mask": lambda x: x[X > 0],
    "at_set": lambda x: x.at[I2, 1].set(x[I2, 2] ** 2),
    "at_add_repeated": lambda x: x.at[[0, 0, 3], 1:3].add(x[1, 1:3] * 3),
    "at_multiply_repeated": lambda x: x.at[[0, 0, 3]].multiply(x[1:4] + 2),
    "at_min": lambda x: x.at[:, [1, 1]].min(x[:, 2:4] - 0.1),
    "at_max": lambda x: x.at[2].max(x[1] * 0.5),
    "take": _take_rows,
    "take_along_axis": lambda x: lnp.take_along_axis(x, np.argsort(X, axis=2), axis=2),
    "diagonal": lambda x: lnp.diagonal(x, 1, 2, 0),
    "gather_fill": lambda x: ix.gather(x, [lnp.asarray(I2) * 2], (1,), "fill", 0.0),
    "scatter_mul_zero_updates": lambda x: ix.scatter_mul(  # repeated index, one zero update
        x, lnp.moveaxis(x[:, :3], 1, 0).at[1, 0].set(0.0), [lnp.asarray([1, 1, 1])], (1,)),
    "dynamic_slice": lambda x: sl.dynamic_slice(x, [1, -3, 4], (2, 3, 4)),
    "dynamic_update_slice": lambda x: sl.dynamic_update_slice(x, x[:2, :2, :2] ** 2, [3, 1, 0]),
}


@pytest.mark.parametrize("name", list(GRAD_FUNS))
def test_grads_second_order(name):
    test_util.check_grads(lambda x: GRAD_FUNS[name](lnp.asarray(x)), (X,), order=2, atol=1e-5,
                          rtol=1e-5)


def test_scatter_grads_with_traced_indices():
    i = lnp.asarray(np.array([[1, 1], [0, 3]]))
    u = RNG.standard_normal((2, 2, 6))
    for prim in (ix.scatter, ix.scatter_add, ix.scatter_mul, ix.scatter_min, ix.scatter_max):
        for mode in ("clip", "drop"):
            test_util.check_grads(lambda x, u: prim(x, u, [i, i + 1], (0, 1), mode),
                                  (X, u), order=2, atol=1e-5, rtol=1e-5)


def test_scatter_mul_hessian_and_min_max_ties():
    x = lnp.asarray(np.array([2.0, 3.0]))
    i = [lnp.asarray(np.array([0, 0, 0]))]
    u = np.array([1.5, -2.0, 5.0])  # three updates to one location: out[0] = 2 * u0 * u1 * u2
    hess = lepton.hessian(lambda u: ix.scatter_mul(x, u, i, (0,))[0])(u)
    np.testing.assert_allclose(hess, 2 * np.array([[0, 5, -2], [5, 0, 1.5], [-2, 1.5, 0]]))
    # a tie between the operand and an update shares the tangent equally
    g = lepton.grad(lambda x, v: x.at[1].max(v)[1], argnums=(0, 1))(x, 3.0)
    assert [float(t[1]) if t.ndim else float(t) for t in g] == [0.5, 0.5]


# ----------------------------------------------------------------------------- vmap
def test_vmap_getitem_take_and_dynamic_slice():
    xs = RNG.standard_normal((3, 4, 5))
    i = np.array([[0, 3], [1, 1], [3, 0]])
    s = np.array([0, 2, 9])
    test_util.check_batching(lambda x: lnp.asarray(x)[1:, ::-1], [xs], 0)
    test_util.check_batching(lambda x, i: lnp.asarray(x)[i, 2], [xs, i], (0, 0))
    test_util.check_batching(lambda x, i: lnp.asarray(x)[:, i], [xs[0], i], (None, 0))
    test_util.check_batching(lambda x, i: lnp.take(x, i, axis=1), [xs, i], (0, 0))
    test_util.check_batching(lambda x, s: sl.dynamic_slice(x, [s, 1], (2, 3)), [xs, s], (0, 0))
    test_util.check_batching(lambda x, s: sl.dynamic_slice(x, [s, 1], (2, 3)), [xs[0], s],
                             (None, 0))
    test_util.check_batching(lambda x, v, i: lnp.asarray(x).at[i].add(v),
                             [xs, RNG.standard_normal((3, 2, 5)), i], (0, 0, 0))


# ----------------------------------------------------------------------------- nonzero & co
def test_nonzero_sizes_and_fill():
    m = np.array([[0, 3, 0], [1, 0, 2]])
    for got, want in zip(lnp.nonzero(m), np.nonzero(m)):
        np.testing.assert_array_equal(got, want)
    rows, cols = lnp.nonzero(m, size=5, fill_value=(-1, -2))
    assert rows.tolist() == [0, 1, 1, -1, -1] and cols.tolist() == [1, 0, 2, -2, -2]
    traced = lepton.make_jaxpr(lambda m: lnp.nonzero(m, size=2))(m)
    assert [v.tolist() for v in traced(lnp.asarray(m))] == [[0, 1], [1, 0]]
    assert lnp.where(m > 0, size=4)[1].tolist() == [1, 0, 2, 0]
    assert lnp.argwhere(np.float32(2)).shape == (1, 0)
    assert lnp.argwhere(np.float32(0)).shape == (0, 0)
    test_util.check_batching(lambda m: lnp.flatnonzero(m, size=3), [np.stack([m, m[::-1]])], 0)


def test_searchsorted_nan_ties_and_sorter():
    a = np.array([1.0, 2.0, 2.0, 3.0, np.nan])
    v = np.array([[-np.inf, 2.0], [np.nan, 3.5]])
    for side in ("left", "right"):
        np.testing.assert_array_equal(lnp.searchsorted(a, v, side), np.searchsorted(a, v, side))
    perm = np.array([3, 0, 4, 2, 1])
    shuffled = a[np.argsort(perm)]
    np.testing.assert_array_equal(lnp.searchsorted(shuffled, v, sorter=np.argsort(shuffled)),
                                  np.searchsorted(a, v))
    assert lnp.searchsorted(np.zeros(0), 1.0).tolist() == 0


def test_diag_tril_triu():
    v = np.array([1.0, 2.0, 3.0])
    for k in (-4, -1, 0, 2):
        np.testing.assert_array_equal(lnp.diag(v, k), np.diag(v, k))
        np.testing.assert_array_equal(lnp.diag(X[0], k), np.diag(X[0], k))
        np.testing.assert_array_equal(lnp.tril(X, k), np.tril(X, k))
        np.testing.assert_array_equal(lnp.triu(v, k), np.triu(v, k))
    np.testing.assert_array_equal(lnp.indices((2, 3)), np.indices((2, 3)))


# ----------------------------------------------------------------------------- errors
def test_index_errors():
    x = lnp.asarray(X)
    with pytest.raises(IndexError, match="out of bounds"):
        x[4]
    with pytest.raises(IndexError, match="out of bounds"):
        x[:, [0, 5]]
    np.testing.assert_array_equal(x.at[0, -6].set(1.0), X)  # updates drop them, as JAX
    with pytest.raises(IndexError, match="out of bounds"):
        lnp.take(x, [0, 120])
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        lepton.make_jaxpr(lambda x: x[..., 0, ...])(x)
    with pytest.raises(IndexError, match="valid indices"):
        lepton.make_jaxpr(lambda x: x[1.5])(x)
    with pytest.raises(IndexError, match="shape mismatch"):
        lepton.make_jaxpr(lambda x: x[[0, 1], [0, 1, 2]])(x)
    with pytest.raises(IndexError, match="boolean index"):
        lepton.make_jaxpr(lambda x: x[np.ones(3, bool)])(x)
    with pytest.raises(MutationError, match=r"\.at\[idx\]\.set"):
        x[0] = 1.0


def test_traced_value_errors_explain_the_fix():
    x = lnp.asarray(X)
    with pytest.raises(ConcretizationError, match="lnp.where"):
        lepton.make_jaxpr(lambda x: x[x > 0])(x)
    with pytest.raises(ConcretizationError, match="size="):
        lepton.make_jaxpr(lambda x: lnp.nonzero(x))(x)
    with pytest.raises(ConcretizationError, match="dynamic_slice"):
        lepton.make_jaxpr(lambda i: x[i:i + 2])(lnp.asarray(1))
    with pytest.raises(ValueError, match="0-d"):
        lnp.nonzero(1.0)


def test_primitive_shape_rule_errors():
    x, i = lnp.asarray(X), lnp.asarray(I2)
    with pytest.raises(ShapeError, match="share one shape"):
        ix.gather(x, [i, i[0]], (0, 1))
    with pytest.raises(DTypeError, match="integer dtype"):
        ix.gather(x, [lnp.asarray(I2 * 1.0)], (0,))
    with pytest.raises(ShapeError, match="distinct axes"):
        ix.gather(x, [i, i], (1, 1))
    with pytest.raises(ShapeError, match=r"updates must have shape \(2, 2, 6\)"):
        ix.scatter_add(x, lnp.zeros((2, 6), "float64"), [i, i], (0, 1))
    with pytest.raises(DTypeError, match="operand's dtype"):
        ix.scatter(x, lnp.zeros((2, 2, 6), "float32"), [i, i], (0, 1))
    with pytest.raises(ValueError, match="mode"):
        ix.gather(x, [i], (0,), mode="drop")
    with pytest.raises(ShapeError, match="slice_sizes"):
        sl.dynamic_slice(x, [0, 0, 0], (5, 1, 1))
    with pytest.raises(ShapeError, match="scalar integer"):
        sl.dynamic_slice(x, [i, 0, 0], (1, 1, 1))


def test_eager_at_update_with_values_of_the_wrong_shape_names_both_shapes():
    """NumPy's "could not broadcast input array" becomes a ShapeError naming the method,
    the index as written, both shapes and the fix."""
    import lepton.numpy as lnp
    from lepton.errors import ShapeError
    with pytest.raises(ShapeError, match=r"\.at\[1:3\]\.set: values of shape \(3,\) do not "
                                         r"broadcast to shape \(2,\).*give values of shape"):
        lnp.zeros(5).at[1:3].set(lnp.ones(3))
    with pytest.raises(ShapeError, match=r"\.at\[::2, \.\.\.\]\.add: .*\(3, 3\).*\(2, 3\)"):
        lnp.zeros((4, 3)).at[::2, ...].add(lnp.ones((3, 3)))
    assert lnp.zeros(5).at[1:3].set(lnp.ones(2)).tolist() == [0, 1, 1, 0, 0]  # still fine


# ----------------------------------------------------------------------------- updates out of bounds
_OOB_UPDATES = [
    (lambda x: x.at[7].set(1.0), [0, 1, 2, 3, 4]),
    (lambda x: x.at[-7].set(1.0), [0, 1, 2, 3, 4]),
    (lambda x: x.at[-1].set(9.0), [0, 1, 2, 3, 9]),
    (lambda x: x.at[np.array([1, 9, -1, -6])].add(1.0), [0, 2, 2, 3, 5]),
    (lambda x: x.at[np.array([1, 1, 9])].add(1.0), [0, 3, 2, 3, 4]),
    (lambda x: x.at[np.array([1, 9])].set(np.array([5.0, 6.0])), [0, 5, 2, 3, 4]),
    (lambda x: x.at[7].apply(lambda v: v + 1), [0, 1, 2, 3, 4]),
    (lambda x: x.at[7].multiply(3.0), [0, 1, 2, 3, 4]),
    (lambda x: x.at[7].divide(3.0), [0, 1, 2, 3, 4]),
    (lambda x: x.at[np.array([0, 5])].min(-1.0), [-1, 1, 2, 3, 4]),
]


@pytest.mark.parametrize("k", range(len(_OOB_UPDATES)))
@pytest.mark.parametrize("how", ["eager", "jit"])
def test_updates_drop_out_of_bounds_indices_as_jax(k, how):
    """``.at`` updates at concrete out-of-range indices are dropped (as JAX, eagerly and
    under jit alike; NumPy would raise): JAX code marks unused slots that way."""
    f, want = _OOB_UPDATES[k]
    x = lnp.arange(5.0)
    got = f(x) if how == "eager" else lepton.jit(f)(x)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want, np.float32))


def test_out_of_bounds_updates_in_2d_grad_and_vmap():
    z = lnp.zeros((3, 4))
    np.testing.assert_array_equal(z.at[1, 9].set(1.0), np.zeros((3, 4)))
    want = np.zeros((3, 4))
    want[0, 1] = 1
    np.testing.assert_array_equal(z.at[np.array([0, 3]), 1].add(1.0), want)
    g = lepton.grad(lambda x: x.at[np.array([1, 9])].add(x[0] * 2).sum())(lnp.arange(5.0))
    np.testing.assert_array_equal(g, [3, 1, 1, 1, 1])  # only the in-bounds update counts
    v = lepton.vmap(lambda r: r.at[np.array([0, 7])].add(1.0))(lnp.zeros((2, 3)))
    np.testing.assert_array_equal(v, [[1, 0, 0], [1, 0, 0]])
    with pytest.raises(ShapeError, match=r"values of shape \(3,\) do not broadcast to "
                                         r"shape \(2,\)"):
        lnp.arange(5.0).at[np.array([1, 9])].set(np.ones(3))


@pytest.mark.parametrize("k", range(len(_OOB_UPDATES)))
def test_out_of_bounds_updates_match_jax(k):
    jnp = pytest.importorskip("jax.numpy")
    f, _ = _OOB_UPDATES[k]
    np.testing.assert_array_equal(np.asarray(f(lnp.arange(5.0))),
                                  np.asarray(f(jnp.arange(5.0))))
