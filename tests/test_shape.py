"""Shape manipulation, joining and the slicing primitives: edge cases, gradients of the less
obvious ones (pad modes, traced roll/repeat, cropping pads), vmap, and error messages."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.errors import ConcretizationError, DTypeError, ShapeError
from lepton.primitives import slicing as sl

RNG = np.random.default_rng(1)
X = RNG.standard_normal((3, 4, 5))


def _lax_pad_reference(x, v, cfg):
    """Interior padding by strided assignment, then lo/hi by np.pad or cropping."""
    for ax, (lo, hi, it) in enumerate(cfg):
        n = x.shape[ax]
        grown = np.full(x.shape[:ax] + (n + max(n - 1, 0) * it,) + x.shape[ax + 1:], v)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(None, None, it + 1)
        grown[tuple(idx)] = x
        width = [(0, 0)] * x.ndim
        width[ax] = (max(lo, 0), max(hi, 0))
        grown = np.pad(grown, width, constant_values=v)
        idx[ax] = slice(max(-lo, 0), grown.shape[ax] - max(-hi, 0))
        x = grown[tuple(idx)]
    return x


@pytest.mark.parametrize("cfg", [((1, 2, 0), (0, 0, 1), (-1, 3, 2)),
                                 ((-3, -1, 1), (2, -4, 0), (0, -5, 0)),
                                 ((0, 0, 0), (-4, 1, 3), (6, -2, 0))])
def test_lax_pad_crops_and_interior(cfg):
    want = _lax_pad_reference(X, 9.0, cfg)
    np.testing.assert_array_equal(sl.pad(lnp.asarray(X), 9.0, cfg), want)
    test_util.check_grads(lambda x, v: sl.pad(lnp.asarray(x), lnp.asarray(v), cfg),
                          (X, np.array(9.0)), order=2)


def test_pad_modes_match_numpy_for_wide_pads():
    x = X[0, :3]
    for mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
        np.testing.assert_array_equal(lnp.pad(x, ((7, 8), (0, 11)), mode),
                                      np.pad(x, ((7, 8), (0, 11)), mode), err_msg=mode)
    np.testing.assert_array_equal(lnp.pad(x, 2, constant_values=((1, 2), (3, 4))),
                                  np.pad(x, 2, constant_values=((1, 2), (3, 4))))
    np.testing.assert_array_equal(lnp.pad(x[:1], 3, "reflect"), np.pad(x[:1], 3, "reflect"))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_pad_grads(mode):
    test_util.check_grads(lambda x: lnp.pad(x, ((2, 5), (1, 0), (0, 3)), mode), (X,), order=2)


def test_traced_shift_roll_and_repeats():
    shifts = np.array([0, 1, -7, 12])
    test_util.check_batching(lambda s: lnp.roll(X, s, 2), [shifts], 0)
    test_util.check_grads(lambda x: lnp.roll(x, lnp.asarray(-3), 1), (X,), order=2)
    reps = np.array([[1, 0, 3, 2], [2, 2, 0, 1]])
    got = lepton.vmap(lambda r: lnp.repeat(X[0], r, axis=0, total_repeat_length=6))(reps)
    np.testing.assert_array_equal(got[0], np.repeat(X[0], reps[0], axis=0))
    np.testing.assert_array_equal(got[1], np.concatenate([np.repeat(X[0], reps[1], axis=0),
                                                          X[0, -1:]]))
    test_util.check_grads(lambda x: lnp.repeat(x, lnp.asarray([2, 0, 1]), axis=0,
                                               total_repeat_length=4), (X,), order=2)


def test_joining_and_splitting_grads():
    def f(x):
        a, b, c = lnp.array_split(x, 3, axis=2)
        return lnp.concatenate([lnp.tile(c, (1, 2, 2)), lnp.stack([a, a[..., :2]], -1)[..., 0]],
                               axis=1)

    test_util.check_grads(f, (X,), order=2)
    test_util.check_grads(lambda x: lnp.hstack([x, lnp.flip(x, (0, 2))]), (X,), order=2)


def test_zero_size_and_scalars():
    e = np.zeros((0, 3))
    assert [p.shape for p in lnp.split(e, 3, axis=1)] == [(0, 1)] * 3
    assert lnp.tile(e, (2, 0)).shape == (0, 0)
    assert lnp.pad(e, 1).shape == (2, 5)
    assert lnp.repeat(e, 2, axis=0).shape == (0, 3)
    assert lnp.atleast_3d(5.0).shape == (1, 1, 1)
    assert lnp.flip(lnp.asarray(2.0)).shape == ()
    assert lnp.roll(e, 5, axis=0).shape == (0, 3)
    assert lnp.squeeze(np.ones((1, 1))).shape == ()
    assert lnp.concatenate([e, np.ones((2, 3))]).shape == (2, 3)


def test_dtypes_and_weak_types_survive():
    x = lnp.arange(6, dtype="int16").reshape(2, 3)
    assert lnp.pad(x, 1, constant_values=7).dtype == np.int16
    assert lnp.concatenate([x, x]).dtype == np.int16
    assert lnp.stack([x, lnp.ones((2, 3))]).dtype == np.float32
    assert lnp.concatenate([x, np.ones((1, 3))]).dtype == np.float64
    assert lnp.bitcast(np.float32(-0.0), np.int32).tolist() == -2**31


def test_vmap_of_slicing_primitives():
    xs = RNG.standard_normal((3, 4, 5))
    starts = np.array([-1, 2, 9])
    u = RNG.standard_normal((3, 2, 2))
    test_util.check_batching(lambda x, s, u: sl.dynamic_update_slice(x, u, [s, s]),
                             [xs, starts, u], (0, 0, 0))
    test_util.check_batching(lambda x, u: sl.dynamic_update_slice(x, u, [1, 3]),
                             [xs[0], u], (None, 0))
    test_util.check_batching(lambda x, v: sl.pad(x, v, [(1, -1, 1), (0, 2, 0)]),
                             [xs, np.array([1.0, 2.0, 3.0])], (0, 0))
    test_util.check_batching(lambda x: lnp.rot90(x, 1, (0, 1)), [xs], 2)


def test_shape_errors():
    x = lnp.asarray(X)
    with pytest.raises(ValueError, match=r"cannot reshape array of size 60 into shape \(7, -1\)"):
        x.reshape(7, -1)
    with pytest.raises(ShapeError, match="same number of elements"):
        x.reshape(3, 3)
    with pytest.raises(ShapeError, match="out of bounds"):
        lnp.transpose(x, (0, 1, 3))
    with pytest.raises(ValueError, match="permutation"):
        lnp.transpose(x, (0, 1, 1))
    with pytest.raises(ShapeError, match="out of bounds"):
        lnp.moveaxis(x, 3, 0)
    with pytest.raises(ValueError, match="repeated axis"):
        lnp.expand_dims(x, (0, -5))
    with pytest.raises(ValueError, match="size 4"):
        lnp.squeeze(x, 1)
    with pytest.raises(ShapeError, match="every axis except 0"):
        lnp.concatenate([x, x[:, :2]])
    with pytest.raises(ValueError, match="zero-dimensional"):
        lnp.concatenate([1.0, 2.0])
    with pytest.raises(ValueError, match="same shape"):
        lnp.stack([x, x[:1]])
    with pytest.raises(ValueError, match="array_split"):
        lnp.split(x, 3, axis=1)
    with pytest.raises(ValueError, match="negative"):
        lnp.repeat(x, -1)
    with pytest.raises(ConcretizationError, match="total_repeat_length"):
        lepton.make_jaxpr(lambda r: lnp.repeat(x, r, axis=0))(np.array([1, 2, 3]))
    with pytest.raises(ConcretizationError, match="static"):
        lepton.make_jaxpr(lambda k: lnp.split(x, k))(np.array(3))
    with pytest.raises(ValueError, match="mode 'medium'"):
        lnp.pad(x, 1, "medium")
    with pytest.raises(ValueError, match="non-negative"):
        lnp.pad(x, -1)
    with pytest.raises(ValueError, match="empty axis"):
        lnp.pad(np.zeros((0, 2)), 1, "wrap")
    with pytest.raises(ValueError, match="different"):
        lnp.rot90(x, axes=(1, -2))
    with pytest.raises(ValueError, match="2-d"):
        lnp.fliplr(x[0, 0])
    with pytest.raises(DTypeError, match="same itemsize"):
        lnp.bitcast(x, np.int32)


def test_slicing_primitive_errors():
    x = lnp.asarray(X)
    with pytest.raises(ShapeError, match="invalid slice"):
        sl.slice(x, (0, 0, 0), (4, 4, 5))
    with pytest.raises(ShapeError, match="one entry per axis"):
        sl.slice(x, (0,), (1,))
    with pytest.raises(ShapeError, match="crops more than"):
        sl.pad(x, 0.0, [(0, 0, 0), (-3, -3, 0), (0, 0, 0)])
    with pytest.raises(ShapeError, match="interior"):
        sl.pad(x, 0.0, [(0, 0, -1)] * 3)
    with pytest.raises(DTypeError, match="padding value"):
        sl.pad(x, lnp.asarray(np.float32(0)), [(0, 0, 0)] * 3)
    with pytest.raises(ShapeError, match="distinct axes"):
        sl.rev(x, (0, 0))
    with pytest.raises(ShapeError, match="no larger"):
        sl.dynamic_update_slice(x, lnp.zeros((4, 1, 1), "float64"), [0, 0, 0])
