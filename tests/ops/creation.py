"""Op rows: array creation (shapes, dtypes, ranges drawn by hypothesis)."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import ALL, FLOATS, NUMERIC, Op, array, shape, side

_CREATE_DTYPES = ("float32", "float64", "int32", "bool")


def _shape_gen(draw, dtype, for_grad):
    return (), {"shape": shape(draw), "dtype": dtype}


def _like_gen(draw, dtype, for_grad):
    return (array(draw, shape(draw), dtype, for_grad=for_grad),), {}


def _full_gen(draw, dtype, for_grad):
    v = draw(st.sampled_from([0, 1, -2, 3]))
    return (), {"shape": shape(draw), "fill_value": v, "dtype": dtype}


def _full_like_gen(draw, dtype, for_grad):
    return (array(draw, shape(draw), dtype, for_grad=for_grad),), \
        {"fill_value": draw(st.sampled_from([0, 1, 7]))}


def _arange_gen(draw, dtype, for_grad):
    start = draw(st.integers(-5, 5))
    stop = draw(st.integers(-5, 10))
    step = draw(st.sampled_from([1, 2, 3, -1, -2]))
    if dtype.startswith("float"):
        return (), {"start": start / 2, "stop": stop / 2, "step": step / 2, "dtype": dtype}
    return (), {"start": start, "stop": stop, "step": step, "dtype": dtype}


def _linspace_gen(draw, dtype, for_grad):
    return (), {"start": draw(st.integers(-3, 3)) * 0.5, "stop": draw(st.integers(-3, 5)),
                "num": side(draw, 0, 7), "endpoint": draw(st.booleans()), "dtype": dtype}


def _eye_gen(draw, dtype, for_grad):
    n = draw(st.integers(0, 5))
    return (), {"N": n, "M": draw(st.sampled_from([None, 0, 2, 4])),
                "k": draw(st.integers(-3, 3)), "dtype": dtype}


def _meshgrid_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 3))
    xs = tuple(array(draw, (draw(st.integers(0, 3)),), dtype, for_grad=for_grad, salt=i)
               for i in range(n))
    return xs, {"indexing": draw(st.sampled_from(["xy", "ij"])),
                "sparse": draw(st.booleans())}


def _array_gen(draw, dtype, for_grad):
    return (array(draw, shape(draw), dtype, for_grad=for_grad),), {}


OPS = [
    Op("zeros", lnp.zeros, np.zeros, _shape_gen, dtypes=_CREATE_DTYPES, grad=False, vmap=False),
    Op("ones", lnp.ones, np.ones, _shape_gen, dtypes=_CREATE_DTYPES, grad=False, vmap=False),
    Op("full", lnp.full, np.full, _full_gen, dtypes=_CREATE_DTYPES, grad=False, vmap=False),
    Op("zeros_like", lnp.zeros_like, np.zeros_like, _like_gen, dtypes=ALL, nondiff=True),
    Op("ones_like", lnp.ones_like, np.ones_like, _like_gen, dtypes=ALL, nondiff=True),
    Op("full_like", lnp.full_like, np.full_like, _full_like_gen, dtypes=ALL, nondiff=True),
    Op("arange", lnp.arange, np.arange, _arange_gen, dtypes=("int32", "float32", "float64"),
       grad=False, vmap=False, scalable=False),
    Op("linspace", lnp.linspace, np.linspace, _linspace_gen, dtypes=FLOATS, grad=False,
       vmap=False, rtol={"float32": 1e-6}, atol={"float32": 1e-6}),
    Op("eye", lnp.eye, np.eye, _eye_gen, dtypes=_CREATE_DTYPES, grad=False, vmap=False,
       scalable=False),  # n x n
    Op("meshgrid", lnp.meshgrid, np.meshgrid, _meshgrid_gen, dtypes=NUMERIC, scalable=False),
    Op("array", lnp.array, np.array, _array_gen, dtypes=ALL),
    Op("asarray", lnp.asarray, np.asarray, _array_gen, dtypes=ALL),
    Op("copy", lnp.copy, np.copy, _array_gen, dtypes=ALL),
]
