"""Sorting and sets: the multi-operand sort primitive (order, stability, NaNs, linearity in
carried operands, batching) and sort/argsort/lexsort/partition/unique/isin/bincount."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.errors import ConcretizationError, ShapeError
from lepton.primitives import sorting


def arr(x, dtype=None):
    return lnp.asarray(np.asarray(x, dtype))


# ----------------------------------------------------------------------------- the primitive
def test_sort_orders_nans_last_and_is_stable():
    x = np.array([3.0, np.nan, -np.inf, 1.0, np.nan, -0.0, 0.0, 1.0, np.inf])
    np.testing.assert_array_equal(lnp.sort(arr(x)), np.sort(x))
    np.testing.assert_array_equal(lnp.argsort(arr(x)), np.argsort(x, kind="stable"))
    ties = np.array([2, 1, 2, 1, 0, 2], np.int32)
    np.testing.assert_array_equal(lnp.argsort(arr(ties)), [4, 1, 3, 0, 2, 5])
    b = np.array([True, False, True, False])
    np.testing.assert_array_equal(lnp.argsort(arr(b)), np.argsort(b, kind="stable"))


def test_multi_operand_sort_is_lexicographic_and_carries():
    rng = np.random.default_rng(0)
    k1 = rng.integers(0, 3, (4, 7)).astype(np.float32)
    k2 = rng.integers(0, 3, (4, 7)).astype(np.int32)
    carried = rng.normal(size=(4, 7))
    out = sorting.sort([arr(k1), arr(k2), arr(carried)], dimension=1, num_keys=2)
    perm = np.lexsort((k2, k1), axis=1)
    for got, want in zip(out, (k1, k2, carried)):
        np.testing.assert_array_equal(got, np.take_along_axis(want, perm, 1))
    one_key = sorting.sort([arr(k1), arr(carried)], dimension=0)
    perm0 = np.argsort(k1, axis=0, kind="stable")
    np.testing.assert_array_equal(one_key[1], np.take_along_axis(carried, perm0, 0))


def test_sort_is_linear_in_carried_operands():
    """Reverse mode through a carried operand uses the transpose rule (the inverse
    permutation): check the adjoint identity <u, S t> == <S^T u, t>."""
    rng = np.random.default_rng(1)
    keys = arr(rng.integers(0, 4, (3, 6)).astype(np.float64))
    t, u = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    out, pullback = lepton.vjp(lambda c: sorting.sort([keys, c], 1)[1], arr(t))
    (back,) = pullback(arr(u))
    np.testing.assert_allclose(np.sum(u * np.asarray(out)), np.sum(np.asarray(back) * t))


def test_sort_gradients():
    x = np.array([[0.3, -1.2, 2.5, 0.1], [1.0, 0.2, -0.4, 2.2], [0.9, 1.7, -2.1, 0.5]])
    for axis in (0, 1, None):
        test_util.check_grads(lambda v: lnp.sort(v, axis) ** 2 * 1.5, [x], order=2)
    keys = arr(np.array([[2.0, 1.0, 2.0, 0.0]]))
    test_util.check_grads(lambda k, c: sorting.sort([k, c], 1, num_keys=1)[0] *
                          sorting.sort([k, c], 1, num_keys=1)[1],
                          [np.asarray(keys) + 0.25 * np.arange(4.0), np.ones((1, 4)) * 0.5],
                          order=2)
    g = lepton.grad(lambda v: lnp.sum(lnp.sort(v) * lnp.arange(4.0, dtype=lnp.float64)))(
        arr([3.0, 1.0, 2.0, 0.0]))
    np.testing.assert_allclose(g, [3, 1, 2, 0])


@pytest.mark.parametrize("in_axis", [0, 1, 2])
def test_sort_vmap_in_every_position(in_axis):
    x = np.moveaxis(np.random.default_rng(2).normal(size=(3, 4, 5)).round(1), 0, in_axis)
    for axis in (0, -1):
        test_util.check_batching(lambda v: lnp.sort(v, axis), [x], (in_axis,))
        test_util.check_batching(lambda v: lnp.argsort(v, axis), [x], (in_axis,))
    keys = arr(np.random.default_rng(3).integers(0, 3, (4, 5)).astype(np.float64))
    test_util.check_batching(lambda c: sorting.sort([keys, c], 1)[1], [x], (in_axis,))


def test_argsort_and_sort_axes():
    x = np.random.default_rng(4).normal(size=(2, 3, 4))
    for axis in (None, 0, 1, -1):
        np.testing.assert_array_equal(lnp.sort(arr(x), axis), np.sort(x, axis))
        np.testing.assert_array_equal(lnp.argsort(arr(x), axis), np.argsort(x, axis))
    assert lnp.argsort(arr(x)).dtype == np.int32
    np.testing.assert_array_equal(lnp.sort(arr(5.0), axis=None), [5.0])
    with pytest.raises(ShapeError, match="dimension 0"):
        lnp.sort(arr(5.0))
    with pytest.raises(ValueError, match="out of bounds"):
        lnp.argsort(arr(x), axis=3)
    with pytest.raises(NotImplementedError, match="order"):
        lnp.sort(arr(x), order="f")


def test_lexsort_and_partition():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 3, (3, 10))
    np.testing.assert_array_equal(lnp.lexsort(arr(keys)), np.lexsort(keys))
    np.testing.assert_array_equal(lnp.lexsort([arr(k) for k in keys]), np.lexsort(keys))
    x = rng.normal(size=(4, 9))
    for kth in (0, 4, -1):
        p = np.asarray(lnp.partition(arr(x), kth, axis=1))
        k = kth % 9
        pivot = p[:, k:k + 1]
        assert np.all(p[:, :k] <= pivot) and np.all(p[:, k + 1:] >= pivot)
        np.testing.assert_array_equal(np.sort(p, 1), np.sort(x, 1))
        idx = np.asarray(lnp.argpartition(arr(x), kth, axis=1))
        np.testing.assert_array_equal(np.take_along_axis(x, idx, 1), p)
    with pytest.raises(ValueError, match="out of bounds"):
        lnp.partition(arr(x), 9, axis=1)


# ----------------------------------------------------------------------------- unique
@pytest.mark.parametrize("x", [np.array([3, 1, 1, 2, 3, 3]), np.array([True, True]),
                               np.array([[2.0, np.nan], [np.nan, 2.0]]),
                               np.zeros((0,), np.float32)])
def test_unique_eager_matches_numpy(x):
    for flags in ((False, False, False), (True, True, True), (False, True, False)):
        got = lnp.unique(arr(x), *flags)
        want = np.unique(x, *flags)
        got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        assert got[0].dtype == lnp.asarray(x).dtype
        assert all(g.dtype == np.int32 for g in got[1:])
    np.testing.assert_array_equal(lnp.unique(arr([[1, 2], [1, 2], [0, 1]]), axis=0),
                                  [[0, 1], [1, 2]])


def test_unique_under_tracing_needs_size():
    f = lambda v: lnp.unique(v)  # noqa: E731
    with pytest.raises(ConcretizationError, match="size="):
        lepton.make_jaxpr(f)(arr([1, 2]))
    with pytest.raises(ConcretizationError, match="size="):
        lepton.vmap(f)(arr([[1, 2]]))


def test_unique_sized_traced_and_batched():
    x = np.array([4, 1, 4, 0, 1, 4, 7], np.int32)

    def f(v):
        return lnp.unique(v, return_index=True, return_inverse=True, return_counts=True,
                          size=6, fill_value=-1)

    vals, idx, inv, counts = lepton.make_jaxpr(f)(arr(x))(arr(x))
    np.testing.assert_array_equal(vals, [0, 1, 4, 7, -1, -1])
    np.testing.assert_array_equal(idx, [3, 1, 0, 6, 0, 0])
    np.testing.assert_array_equal(counts, [1, 2, 3, 1, 0, 0])
    np.testing.assert_array_equal(np.asarray(vals)[np.asarray(inv)], x)
    truncated = lnp.unique(arr(x), size=2)
    np.testing.assert_array_equal(truncated, [0, 1])
    default_fill = lnp.unique(arr(x), size=5)
    np.testing.assert_array_equal(default_fill, [0, 1, 4, 7, 0])
    batch = np.array([[3, 3, 1], [2, 2, 2]], np.int32)
    got = lepton.vmap(lambda v: lnp.unique(v, size=3, fill_value=9))(arr(batch))
    np.testing.assert_array_equal(got, [[1, 3, 9], [2, 9, 9]])
    nan = np.array([np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(lnp.unique(arr(nan), size=3, fill_value=0.0), [1, np.nan, 0])
    np.testing.assert_array_equal(lnp.unique(arr(nan), size=3, equal_nan=False),
                                  [1, np.nan, np.nan])
    with pytest.raises(NotImplementedError, match="axis"):
        lnp.unique(arr(batch), axis=0, size=2)


# ----------------------------------------------------------------------------- isin/bincount
def test_isin():
    e = np.array([[1, 5], [3, 0]])
    t = np.array([[0, 1], [7, 7]])
    np.testing.assert_array_equal(lnp.isin(arr(e), arr(t)), np.isin(e, t))
    np.testing.assert_array_equal(lnp.isin(arr(e), arr(t), invert=True), np.isin(e, t,
                                                                                 invert=True))
    np.testing.assert_array_equal(lnp.isin(arr(e), arr(np.zeros(0, int))), np.zeros((2, 2), bool))
    nan = np.array([np.nan, 1.0])
    np.testing.assert_array_equal(lnp.isin(arr(nan), arr(nan)), np.isin(nan, nan))


def test_bincount():
    x = np.array([0, 3, 3, 1, 5], np.int32)
    w = np.array([0.5, 1.0, 2.0, -1.0, 3.0])
    np.testing.assert_array_equal(lnp.bincount(arr(x)), np.bincount(x))
    np.testing.assert_array_equal(lnp.bincount(arr(x), minlength=9), np.bincount(x, minlength=9))
    np.testing.assert_allclose(lnp.bincount(arr(x), arr(w)), np.bincount(x, w))
    assert lnp.bincount(arr(x)).dtype == np.int32
    assert lnp.bincount(arr(x), arr(w.astype(np.float32))).dtype == np.float32
    assert lnp.bincount(arr(x), arr(np.ones(5, np.int32))).dtype == np.float32
    (traced,) = lepton.make_jaxpr(lambda v: lnp.bincount(v, length=4))(arr(x))(arr(x))
    np.testing.assert_array_equal(traced, [1, 1, 0, 2])  # 5 is out of range: dropped
    g = lepton.grad(lambda ww: lnp.sum(lnp.bincount(arr(x), ww) ** 2))(arr(w))
    np.testing.assert_allclose(g, 2 * np.bincount(x, w)[x])
    test_util.check_grads(lambda ww: lnp.bincount(arr(x), ww, length=6), [w], order=2)
    with pytest.raises(ConcretizationError, match="length="):
        lepton.make_jaxpr(lnp.bincount)(arr(x))
    with pytest.raises(ValueError, match="negative"):
        lnp.bincount(arr([1, -1]))
    with pytest.raises(TypeError, match="integers"):
        lnp.bincount(arr([1.0]))
    with pytest.raises(ValueError, match="1-dimensional"):
        lnp.bincount(arr([[1]]))
