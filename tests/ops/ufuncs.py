"""Op rows: elementwise arithmetic, math, rounding, predicates, complex, comparison and logic."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import ALL, FLOATS, NUMERIC, Op, array, binary, bshape, shape, unary

_BOOL = lambda d: np.dtype(bool)  # noqa: E731

OPS = [
    # arithmetic
    binary("add", lnp.add, np.add, dtypes=ALL),
    binary("subtract", lnp.subtract, np.subtract, dtypes=NUMERIC),
    binary("multiply", lnp.multiply, np.multiply, dtypes=ALL),
    binary("divide", lnp.divide, np.divide, kind2="nonzero", dtypes=NUMERIC),
    binary("floor_divide", lnp.floor_divide, np.floor_divide, kind="nonzero", kind2="nonzero",
           dtypes=NUMERIC, nondiff=True),
    binary("mod", lnp.mod, np.mod, kind="nonzero", kind2="nonzero", dtypes=NUMERIC),
    binary("power", lnp.power, np.power, kind="positive", kind2="real", dtypes=FLOATS),
    binary("maximum", lnp.maximum, np.maximum, dtypes=NUMERIC),
    binary("minimum", lnp.minimum, np.minimum, dtypes=NUMERIC),
    unary("negative", lnp.negative, np.negative, dtypes=NUMERIC),
    unary("abs", lnp.abs, np.abs, kind="nonzero", dtypes=NUMERIC),
    unary("sign", lnp.sign, np.sign, dtypes=NUMERIC, nondiff=True),
    unary("reciprocal", lnp.reciprocal, np.reciprocal, kind="nonzero"),
    # exp / log / trig
    unary("exp", lnp.exp, np.exp),
    unary("expm1", lnp.expm1, np.expm1),
    unary("log", lnp.log, np.log, kind="positive"),
    unary("log2", lnp.log2, np.log2, kind="positive"),
    unary("log10", lnp.log10, np.log10, kind="positive"),
    unary("log1p", lnp.log1p, np.log1p, kind="positive"),
    binary("logaddexp", lnp.logaddexp, np.logaddexp),
    unary("sqrt", lnp.sqrt, np.sqrt, kind="positive"),
    unary("square", lnp.square, np.square, dtypes=NUMERIC),
    unary("sin", lnp.sin, np.sin),
    unary("cos", lnp.cos, np.cos),
    unary("tan", lnp.tan, np.tan, kind="unit"),
    unary("arcsin", lnp.arcsin, np.arcsin, kind="unit"),
    unary("arccos", lnp.arccos, np.arccos, kind="unit"),
    unary("arctan", lnp.arctan, np.arctan),
    binary("arctan2", lnp.arctan2, np.arctan2, kind="nonzero"),
    unary("sinh", lnp.sinh, np.sinh),
    unary("cosh", lnp.cosh, np.cosh),
    unary("tanh", lnp.tanh, np.tanh),
    # rounding and predicates
    unary("floor", lnp.floor, np.floor, nondiff=True, dtypes=NUMERIC),
    unary("ceil", lnp.ceil, np.ceil, nondiff=True, dtypes=NUMERIC),
    unary("round", lnp.round, np.round, nondiff=True, dtypes=NUMERIC),
    unary("trunc", lnp.trunc, np.trunc, nondiff=True, dtypes=NUMERIC),
    unary("nan_to_num", lnp.nan_to_num, np.nan_to_num),
    unary("isnan", lnp.isnan, np.isnan, nondiff=True, dtypes=NUMERIC),
    unary("isinf", lnp.isinf, np.isinf, nondiff=True, dtypes=NUMERIC),
    unary("isfinite", lnp.isfinite, np.isfinite, nondiff=True, dtypes=NUMERIC),
    # complex
    unary("real", lnp.real, np.real, dtypes=("complex64", "float32", "float64")),
    unary("imag", lnp.imag, np.imag, dtypes=("complex64", "float32", "float64")),
    unary("conj", lnp.conj, np.conj, dtypes=("complex64", "float32", "float64")),
    unary("angle", lnp.angle, np.angle, kind="nonzero", dtypes=("complex64", "float32", "float64")),
    # comparison and logic
    binary("equal", lnp.equal, np.equal, dtypes=ALL, nondiff=True),
    binary("not_equal", lnp.not_equal, np.not_equal, dtypes=ALL, nondiff=True),
    binary("less", lnp.less, np.less, dtypes=NUMERIC, nondiff=True),
    binary("less_equal", lnp.less_equal, np.less_equal, dtypes=NUMERIC, nondiff=True),
    binary("greater", lnp.greater, np.greater, dtypes=NUMERIC, nondiff=True),
    binary("greater_equal", lnp.greater_equal, np.greater_equal, dtypes=NUMERIC, nondiff=True),
    binary("logical_and", lnp.logical_and, np.logical_and, dtypes=ALL, nondiff=True),
    binary("logical_or", lnp.logical_or, np.logical_or, dtypes=ALL, nondiff=True),
    unary("logical_not", lnp.logical_not, np.logical_not, dtypes=ALL, nondiff=True),
    binary("logical_xor", lnp.logical_xor, np.logical_xor, dtypes=ALL, nondiff=True),
    binary("isclose", lnp.isclose, np.isclose, dtypes=FLOATS, nondiff=True),
]


def _where_gen(draw, dtype, for_grad):
    s = shape(draw)
    return (array(draw, bshape(draw, s), "bool"), array(draw, s, dtype, for_grad=for_grad),
            array(draw, bshape(draw, s), dtype, for_grad=for_grad)), {}


def _clip_gen(draw, dtype, for_grad):
    s = shape(draw)
    x = array(draw, s, dtype, for_grad=for_grad)
    lo = draw(st.sampled_from([-1, -2]))
    return (x,), {"a_min": lo, "a_max": draw(st.sampled_from([None, 1, 2]))}


def _allclose_gen(draw, dtype, for_grad):
    s = shape(draw)
    x = array(draw, s, dtype)
    with np.errstate(invalid="ignore"):  # inf + -inf edges
        y = x + (array(draw, s, dtype) * 1e-9 if draw(st.booleans()) else 0.5)
    return (x, y.astype(dtype)), {}


OPS += [
    Op("where", lnp.where, np.where, _where_gen, dtypes=NUMERIC, diff_args=(1, 2)),
    Op("clip", lnp.clip, lambda x, a_min, a_max: np.clip(x, a_min, a_max), _clip_gen,
       dtypes=NUMERIC),
    Op("allclose", lnp.allclose, np.allclose, _allclose_gen, nondiff=True,
       out_dtype=_BOOL) if hasattr(lnp, "allclose") else None,
    Op("array_equal", lambda a, b: lnp.array_equal(a, b), np.array_equal, _allclose_gen,
       nondiff=True, out_dtype=_BOOL) if hasattr(lnp, "array_equal") else None,
]
OPS = [op for op in OPS if op is not None]
