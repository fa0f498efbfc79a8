"""Op rows: jnp names set 2 (correlate, resize, fill_diagonal, choose, apply_over_axes,
compress)."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import NUMERIC, Op, array, shape


def _corr_gen(draw, dtype, for_grad):
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    a = array(draw, (n,), dtype, for_grad=for_grad)
    v = array(draw, (m,), dtype, for_grad=for_grad, salt=1)
    return (a, v), {"mode": draw(st.sampled_from(["valid", "same", "full"]))}


def _resize_gen(draw, dtype, for_grad):
    a = array(draw, shape(draw, 0, 2, min_side=1), dtype, for_grad=for_grad)
    new = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=3)))
    return (a,), {"new_shape": new}


def _fill_diag_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 4))
    shp = draw(st.sampled_from([(n, n), (n, n + 1), (n + 2, n), (n, n, n)]))
    a = array(draw, shp, dtype, for_grad=for_grad)
    val = array(draw, draw(st.sampled_from([(), (1,), (2,), (n,)])), dtype, for_grad=for_grad,
                salt=1)
    return (a, val), {}


def _fill_diag_ref(a, val):
    out = a.copy()
    np.fill_diagonal(out, val)
    return out


def _choose_gen(draw, dtype, for_grad):
    shp = shape(draw, 0, 2)
    x = array(draw, shp, dtype, for_grad=for_grad)
    y = array(draw, shp, dtype, for_grad=for_grad, salt=1)
    idx = np.asarray(np.random.default_rng(draw(st.integers(0, 99))).integers(-2, 5, shp),
                     np.int32)
    return (x, y), {"idx": idx, "mode": draw(st.sampled_from(["wrap", "clip"]))}


def _over_axes_gen(draw, dtype, for_grad):
    a = array(draw, shape(draw, 1, 3), dtype, for_grad=for_grad)
    axes = draw(st.lists(st.integers(-a.ndim, a.ndim - 1), max_size=2, unique=True))
    return (a,), {"axes": [ax % a.ndim for ax in axes]}


def _compress_gen(draw, dtype, for_grad):
    a = array(draw, shape(draw, 1, 3, min_side=1), dtype, for_grad=for_grad)
    axis = draw(st.integers(0, a.ndim - 1))
    seed = draw(st.integers(0, 2**32 - 1))  # a list strategy cannot draw 1M flags
    cond = np.random.default_rng(seed).random(a.shape[axis]) < 0.5
    return (a,), {"condition": cond, "axis": axis}


OPS = [
    Op("correlate", lnp.correlate, np.correlate, _corr_gen, dtypes=NUMERIC, scalable=False),
    Op("resize", lnp.resize, np.resize, _resize_gen, dtypes=NUMERIC),
    Op("fill_diagonal", lambda a, v: lnp.fill_diagonal(a, v, inplace=False), _fill_diag_ref,
       _fill_diag_gen, dtypes=NUMERIC, scalable=False),
    Op("choose", lambda x, y, idx, mode: lnp.choose(idx, [x, y], mode=mode),
       lambda x, y, idx, mode: np.choose(idx, [x, y], mode=mode), _choose_gen,
       dtypes=NUMERIC),
    Op("apply_over_axes", lambda a, axes: lnp.apply_over_axes(lnp.sum, a, axes),
       lambda a, axes: np.apply_over_axes(np.sum, a, axes), _over_axes_gen,
       dtypes=("float32", "float64")),
    Op("compress", lambda a, condition, axis: lnp.compress(condition, a, axis=axis),
       lambda a, condition, axis: np.compress(condition, a, axis=axis), _compress_gen,
       dtypes=NUMERIC),
]
