"""Op rows for the compatibility additions of issue 14 (branch compat2): the regularized
incomplete gamma functions and the gamma / chi2 CDFs built on them, and the array-API
aliases and compositions of lepton/numpy/_compat.py (acos, pow, vecdot, cumulative_sum...).

The reference is scipy (with JAX's NaN at a = inf, where scipy gives 0 or 1); without scipy
the rows are left out and tests/test_igamma.py still checks closed forms (integer and half
integer a).  Gradient draws keep a and x in [0.5, 3]: dP/da is checked once (JAX has no
second derivative in a), dP/dx twice.
"""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
import lepton.scipy.special as lss
import lepton.scipy.stats as lst
from tests.ops import ALL, FLOATS, Op, array, binary, bshape, shape, side, unary

try:
    import scipy.special as _ss
except ImportError:  # scipy is optional
    _ss = None


def _ab_gen(draw, dtype, for_grad):
    s = shape(draw, max_dims=2)
    s2 = bshape(draw, s)
    a = array(draw, s, dtype, "positive", for_grad, low=0.5 if for_grad else 0.1, high=3)
    x = array(draw, s2, dtype, "positive", for_grad, low=0.5 if for_grad else 0.1, high=3,
              salt=1)
    if not for_grad and x.size and draw(st.booleans()):
        x = np.where(np.arange(x.size).reshape(x.shape) % 3 == 0, 0, x).astype(dtype)
    return (a, x), {}


def _ref(fn):
    def ref(a, x):
        a64, x64 = np.asarray(a, np.float64), np.asarray(x, np.float64)
        out = np.where(a64 == np.inf, np.nan, fn(a64, x64))
        return out.astype(np.result_type(a.dtype, x.dtype))
    return ref


def _dist_gen(draw, dtype, for_grad):
    """(x, a, loc, scale): x may fall below loc without ``for_grad``."""
    s = shape(draw, max_dims=2)
    lo = 1.0 if for_grad else -1.0
    x = array(draw, s, dtype, "positive", True, low=lo, high=4)
    a = array(draw, bshape(draw, s), dtype, "positive", True, low=0.5, high=3, salt=1)
    loc = array(draw, (), dtype, "positive", True, low=0.0, high=0.5, salt=2)
    scale = array(draw, (), dtype, "positive", True, low=0.5, high=2, salt=3)
    return (x, a, loc, scale), {}


def _gamma_cdf(x, a, loc, scale):
    y = np.maximum((x.astype("f8") - loc) / scale, 0)
    return _ss.gammainc(a.astype("f8"), y).astype(x.dtype)


def _chi2_sf(x, df, loc, scale):
    y = np.maximum((x.astype("f8") - loc) / scale, 0)
    return _ss.gammaincc(df.astype("f8") / 2, y / 2).astype(x.dtype)


OPS = []
if _ss is not None:
    OPS += [
        Op("scipy.special.gammainc", lss.gammainc, _ref(_ss.gammainc), _ab_gen,
           diff_args=(1,), rtol={"float32": 2e-5}),
        Op("scipy.special.gammainc", lss.gammainc, _ref(_ss.gammainc), _ab_gen,
           diff_args=(0,), grad_order=1, id="scipy.special.gammainc_da", vmap=False,
           jit=False, rtol={"float32": 2e-5}),
        Op("scipy.special.gammaincc", lss.gammaincc, _ref(_ss.gammaincc), _ab_gen,
           diff_args=(1,), rtol={"float32": 2e-5}),
        Op("scipy.special.gammaincc", lss.gammaincc, _ref(_ss.gammaincc), _ab_gen,
           diff_args=(0,), grad_order=1, id="scipy.special.gammaincc_da", vmap=False,
           jit=False, rtol={"float32": 2e-5}),
        Op("scipy.stats.gamma.cdf", lst.gamma.cdf, _gamma_cdf, _dist_gen, grad_order=1,
           rtol={"float32": 2e-5}),
        Op("scipy.stats.chi2.sf", lst.chi2.sf, _chi2_sf, _dist_gen, grad_order=1,
           rtol={"float32": 2e-5}),
    ]


# ----------------------------------------------------------------------------- numpy aliases
def _stack_gen(min_dims):
    def gen(draw, dtype, for_grad):
        return (array(draw, shape(draw, min_dims=min_dims, max_dims=4), dtype, "real",
                      for_grad),), {}
    return gen


def _permute_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, max_dims=4), dtype, "real", for_grad)
    return (x,), {"axes": tuple(int(i) for i in draw(st.permutations(range(x.ndim))))}


def _vecdot_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, min_side=1)
    axis = draw(st.integers(-len(s), len(s) - 1))
    return (array(draw, s, dtype, "real", for_grad),
            array(draw, bshape_keep(draw, s, axis), dtype, "real", for_grad, salt=1)), \
        {"axis": axis}


def bshape_keep(draw, s, axis):
    """A shape broadcasting against ``s`` that keeps ``axis`` (with all of s's axes)."""
    out = list(s)
    for i in range(len(out)):
        if i != axis % len(s) and draw(st.booleans()):
            out[i] = 1
    return tuple(out)


def _matvec_gen(draw, dtype, for_grad):
    n, m = side(draw, 1, 4), draw(st.integers(1, 4))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return (array(draw, batch + (m, n), dtype, "real", for_grad),
            array(draw, (n,), dtype, "real", for_grad, salt=1)), {}


def _vecmat_gen(draw, dtype, for_grad):
    n, m = side(draw, 1, 4), draw(st.integers(1, 4))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return (array(draw, (m,), dtype, "real", for_grad),
            array(draw, batch + (m, n), dtype, "real", for_grad, salt=1)), {}


def _cumulative_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, min_dims=1, max_dims=3), dtype, "real", for_grad)
    axis = draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim > 1 else \
        draw(st.sampled_from([None, 0, -1]))
    return (x,), {"axis": axis, "include_initial": draw(st.booleans())}


def _np_cumulative(fn, initial):
    def ref(x, axis, include_initial):
        ax = 0 if axis is None else axis
        out = fn(x, axis=ax)
        if np.dtype(x.dtype).kind in "biu" and fn is np.cumsum:
            out = out.astype(lnp.cumsum(x[:0] if x.ndim == 1 else x, axis=ax).dtype)
        if include_initial:
            s = list(out.shape)
            s[ax] = 1
            out = np.concatenate([np.full(s, initial, out.dtype), out], axis=ax)
        return out
    return ref


OPS += [  # NumPy >= 2.2 has vecdot, matvec and vecmat: the references are NumPy's own
    unary("acos", lnp.acos, np.arccos, kind="unit"),
    unary("asin", lnp.asin, np.arcsin, kind="unit"),
    unary("atan", lnp.atan, np.arctan),
    unary("atanh", lnp.atanh, np.arctanh, kind="unit"),
    unary("asinh", lnp.asinh, np.arcsinh),
    Op("acosh", lnp.acosh, np.arccosh, lambda draw, dtype, fg: (
        (array(draw, shape(draw), dtype, "positive", fg, low=1.1, high=4),), {})),
    binary("atan2", lnp.atan2, np.arctan2, kind="nonzero"),
    binary("pow", lnp.pow, np.power, kind="positive", kind2="real"),
    unary("bitwise_invert", lnp.bitwise_invert, np.invert, dtypes=("int32", "bool")),
    Op("concat", lambda a, b, axis: lnp.concat([a, b], axis=axis),
       lambda a, b, axis: np.concatenate([a, b], axis=axis),
       lambda draw, dtype, fg: (lambda s: (
           (array(draw, s, dtype, "real", fg), array(draw, s, dtype, "real", fg, salt=1)),
           {"axis": draw(st.integers(-len(s), len(s) - 1))}))(
           shape(draw, min_dims=1)), dtypes=ALL),
    Op("permute_dims", lnp.permute_dims, np.transpose, _permute_gen, dtypes=ALL),
    Op("matrix_transpose", lnp.matrix_transpose, lambda x: np.swapaxes(x, -1, -2),
       _stack_gen(2), dtypes=ALL),
    Op("vecdot", lnp.vecdot, lambda a, b, axis: np.vecdot(a, b, axis=axis), _vecdot_gen,
       rtol={"float32": 1e-5}),
    Op("matvec", lnp.matvec, np.matvec, _matvec_gen,
       rtol={"float32": 1e-5}),
    Op("vecmat", lnp.vecmat, np.vecmat, _vecmat_gen,
       rtol={"float32": 1e-5}),
    Op("cumulative_sum", lnp.cumulative_sum, _np_cumulative(np.cumsum, 0), _cumulative_gen,
       rtol={"float32": 1e-5}),
    Op("cumulative_prod", lnp.cumulative_prod, _np_cumulative(np.cumprod, 1),
       _cumulative_gen, rtol={"float32": 1e-5}),
]


# ----------------------------------------------------------------------------- numpy.linalg
def _mats(draw, dtype, for_grad, n=None, square=True):
    n = n or draw(st.integers(1, 3))
    m = n if square else draw(st.integers(1, 3))
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    return array(draw, batch + (n, m), dtype, "real", for_grad)


def _cross_gen(draw, dtype, for_grad):
    s = list(shape(draw, min_dims=1, max_dims=2, min_side=1))
    axis = draw(st.integers(-len(s), len(s) - 1))
    s[axis] = 3
    return (array(draw, tuple(s), dtype, "real", for_grad),
            array(draw, tuple(s), dtype, "real", for_grad, salt=1)), {"axis": axis}


def _mat_offset_gen(draw, dtype, for_grad):
    return (_mats(draw, dtype, for_grad, square=False),), {"offset": draw(st.integers(-1, 1))}


def _outer_gen(draw, dtype, for_grad):
    return (array(draw, (side(draw, 1, 4),), dtype, "real", for_grad),
            array(draw, (draw(st.integers(1, 4)),), dtype, "real", for_grad, salt=1)), {}


def _vnorm_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, min_dims=1, max_dims=3, min_side=1), dtype, "nonzero"
              if for_grad else "real", for_grad)
    axis = draw(st.sampled_from([None, -1, 0] + ([(0, -1)] if x.ndim > 1 else [])))
    return (x,), {"axis": axis, "keepdims": draw(st.booleans()),
                  "ord": draw(st.sampled_from([2, 1, np.inf]))}


def _mnorm_gen(draw, dtype, for_grad):
    return (_mats(draw, dtype, for_grad, square=False),), {
        "keepdims": draw(st.booleans()), "ord": draw(st.sampled_from(["fro", 1, np.inf]))}


def _svdvals_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 3))
    # distinct, well-separated singular values (the SVD's derivative needs them)
    u = np.linalg.qr(array(draw, (n, n), "float64", "real", True))[0]
    v = np.linalg.qr(array(draw, (n, n), "float64", "real", True, salt=1))[0]
    return ((u @ np.diag(np.arange(n, 0, -1) + 0.5) @ v).astype(dtype),), {}


def _multi_dot_gen(draw, dtype, for_grad):
    """Finite values only: NumPy multiplies in its cheapest order, lepton left to right, so
    inf * 0 may land in different places (nan vs inf)."""
    dims = [draw(st.integers(1, 3)) for _ in range(4)]
    first = array(draw, (dims[0],) if draw(st.booleans()) else (2, dims[0]), dtype, "real",
                  True)
    mids = (array(draw, (dims[0], dims[1]), dtype, "real", True, salt=1),
            array(draw, (dims[1], dims[2]), dtype, "real", True, salt=2))
    last = array(draw, (dims[2],) if draw(st.booleans()) else (dims[2], 2), dtype, "real",
                 True, salt=3)
    return (first, *mids, last), {}


def _cond_gen(draw, dtype, for_grad):
    (a,), _ = _svdvals_gen(draw, dtype, for_grad)
    return (a,), {"p": draw(st.sampled_from([None, 2, -2, "fro", 1]))}


OPS += [
    Op("linalg.cross", lnp.linalg.cross, np.linalg.cross, _cross_gen, scalable=False),
    Op("linalg.diagonal", lnp.linalg.diagonal, np.linalg.diagonal, _mat_offset_gen,
       dtypes=ALL, scalable=False),
    Op("linalg.trace", lnp.linalg.trace, np.linalg.trace, _mat_offset_gen, scalable=False,
       rtol={"float32": 1e-5}),
    Op("linalg.outer", lnp.linalg.outer, np.linalg.outer, _outer_gen),
    Op("linalg.vector_norm", lnp.linalg.vector_norm, np.linalg.vector_norm, _vnorm_gen,
       rtol={"float32": 1e-5}),
    Op("linalg.matrix_norm", lnp.linalg.matrix_norm, np.linalg.matrix_norm, _mnorm_gen,
       rtol={"float32": 1e-5}, scalable=False),
    Op("linalg.svdvals", lnp.linalg.svdvals, np.linalg.svdvals, _svdvals_gen,
       rtol={"float32": 1e-4, "float64": 1e-9}, atol=1e-5, scalable=False),
    Op("linalg.multi_dot", lambda *a: lnp.linalg.multi_dot(a),
       lambda *a: np.linalg.multi_dot(a), _multi_dot_gen, rtol={"float32": 1e-4}, atol=1e-5,
       scalable=False),
    Op("linalg.cond", lambda a, p: lnp.linalg.cond(a, p), lambda a, p: np.linalg.cond(a, p),
       _cond_gen, rtol={"float32": 1e-4, "float64": 1e-9}, scalable=False),
    Op("linalg.vecdot", lambda a, b, axis: lnp.linalg.vecdot(a, b, axis=axis),
       lambda a, b, axis: np.linalg.vecdot(a, b, axis=axis), _vecdot_gen,
       rtol={"float32": 1e-5}),
]


# ----------------------------------------------------------------------------- more numpy
def _trapezoid_gen(draw, dtype, for_grad):
    y = array(draw, shape(draw, min_dims=1, max_dims=3), dtype, "real", for_grad)
    axis = draw(st.integers(-y.ndim, y.ndim - 1))
    kind = draw(st.sampled_from(["dx", "x"]))
    if kind == "x":
        x = np.sort(array(draw, (y.shape[axis],), dtype, "real", True, salt=1))
        return (y, x), {"axis": axis}
    return (y,), {"axis": axis, "dx": draw(st.sampled_from([1.0, 0.5]))}


def _ediff1d_gen(draw, dtype, for_grad):
    a = array(draw, shape(draw, max_dims=2), dtype, "real", for_grad)
    kw = {}
    if draw(st.booleans()):
        kw["to_begin"] = 0.5
    if draw(st.booleans()):
        kw["to_end"] = (1.0, -2.0)
    return (a,), kw


def _unstack_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, min_dims=1, min_side=1), dtype, "real", for_grad)
    return (x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


def _diagflat_gen(draw, dtype, for_grad):
    return (array(draw, shape(draw, max_dims=2, max_side=3), dtype, "real", for_grad),), \
        {"k": draw(st.integers(-2, 2))}


def _bcast_gen(draw, dtype, for_grad):
    s = shape(draw)
    return (array(draw, s, dtype, "real", for_grad),
            array(draw, bshape(draw, s), dtype, "real", for_grad, salt=1)), {}


OPS += [
    binary("copysign", lnp.copysign, np.copysign, diff_args=(0,)),
    binary("heaviside", lnp.heaviside, np.heaviside, grad=False),
    Op("trapezoid", lambda y, x=None, **k: lnp.trapezoid(y, x, **k),
       lambda y, x=None, **k: np.trapezoid(y, x, **k), _trapezoid_gen,
       diff_args=(0,), rtol={"float32": 1e-5}),
    Op("ediff1d", lnp.ediff1d, np.ediff1d, _ediff1d_gen),
    Op("unstack", lnp.unstack, np.unstack, _unstack_gen, dtypes=ALL,
       scalable=False),  # one output per index of the axis: no 1M-output case
    Op("diagflat", lnp.diagflat, np.diagflat, _diagflat_gen, dtypes=ALL,
       scalable=False),  # its output is quadratic in its input: no 1M-element case
    Op("broadcast_arrays", lnp.broadcast_arrays, np.broadcast_arrays, _bcast_gen, dtypes=ALL),
]


# ----------------------------------------------------------------------------- lax
from lepton import lax  # noqa: E402


def _clamp_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw), dtype, "real", for_grad)
    if draw(st.booleans()):
        lo, hi = np.asarray(-1, dtype), np.asarray(1.5, dtype)
    else:
        lo = array(draw, x.shape, dtype, "real", True, low=-3, high=-0.5, salt=1)
        hi = array(draw, x.shape, dtype, "real", True, low=0.5, high=3, salt=2)
    return (lo, x, hi), {}


def _collapse_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, min_dims=1, max_dims=4), dtype, "real", for_grad)
    start = draw(st.integers(0, x.ndim - 1))
    return (x,), {"start_dimension": start,
                  "stop_dimension": draw(st.sampled_from([None, x.ndim, start + 1]))}


def _collapse_ref(x, start_dimension, stop_dimension):
    stop = x.ndim if stop_dimension is None else stop_dimension
    return x.reshape(x.shape[:start_dimension] + (-1,) + x.shape[stop:]) if x.size else \
        x.reshape(x.shape[:start_dimension] + (int(np.prod(x.shape[start_dimension:stop])),)
                  + x.shape[stop:])


def _split_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, min_dims=1), dtype, "real", for_grad)
    axis = draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    cut = draw(st.integers(0, n))
    return (x,), {"sizes": (cut, n - cut), "axis": axis}


def _sort_kv_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1)
    keys = np.asarray(np.random.default_rng(draw(st.integers(0, 2**31))).permutation(
        int(np.prod(s))).reshape(s), np.int32)
    return (keys, array(draw, s, dtype, "real", for_grad)), {
        "dimension": draw(st.integers(-len(s), len(s) - 1))}


def _sort_kv_ref(keys, values, dimension):
    idx = np.argsort(keys, axis=dimension, kind="stable")
    return (np.take_along_axis(keys, idx, dimension), np.take_along_axis(values, idx, dimension))


OPS += [
    Op("lax.clamp", lax.clamp, lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi), _clamp_gen,
       diff_args=(1,)),
    Op("lax.collapse", lax.collapse, _collapse_ref, _collapse_gen, dtypes=ALL),
    Op("lax.broadcast", lambda x, sizes: lax.broadcast(x, sizes),
       lambda x, sizes: np.broadcast_to(x, sizes + x.shape),
       lambda draw, dtype, fg: ((array(draw, shape(draw, max_dims=2), dtype, "real", fg),),
                                {"sizes": (draw(st.integers(0, 3)),)}), dtypes=ALL),
    Op("lax.split", lambda x, sizes, axis: lax.split(x, sizes, axis),
       lambda x, sizes, axis: np.split(x, [sizes[0]], axis=axis), _split_gen, dtypes=ALL),
    Op("lax.sort_key_val", lax.sort_key_val, _sort_kv_ref, _sort_kv_gen, diff_args=(1,),
       vmap_args=(0, 1)),
]


# ----------------------------------------------------------------------------- nn / special
import lepton.nn as lnn  # noqa: E402


def _log1mexp_ref(x):
    x64 = x.astype("f8")
    with np.errstate(all="ignore"):
        return np.where(x64 > np.log(2), np.log1p(-np.exp(-x64)),
                        np.log(-np.expm1(-x64))).astype(x.dtype)


def _lme_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, min_dims=1, min_side=1), dtype, "real", for_grad)
    axis = draw(st.sampled_from([None] + list(range(-x.ndim, x.ndim))))
    return (x,), {"axis": axis, "keepdims": draw(st.booleans())}


def _lme_ref(x, axis, keepdims):
    x64 = x.astype("f8")
    m = np.max(x64, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(all="ignore"):
        out = np.log(np.mean(np.exp(x64 - m), axis=axis, keepdims=True)) + m
    return (out if keepdims else np.squeeze(out, axis=axis)).astype(x.dtype)


def _entr_ref(fn):
    def ref(p, q):
        p64, q64 = p.astype("f8"), q.astype("f8")
        with np.errstate(all="ignore"):
            out = fn(p64, q64)
        return out.astype(np.result_type(p.dtype, q.dtype))
    return ref


def _rel_entr(p, q):
    both = (p > 0) & (q > 0)
    return np.where(both, p * np.log(np.where(both, p / q, 1)),
                    np.where((p == 0) & (q >= 0), 0.0, np.inf))


def _kl_div(p, q):
    both = (p > 0) & (q > 0)
    return np.where(both, p * np.log(np.where(both, p / q, 1)) - p + q,
                    np.where((p == 0) & (q >= 0), q, np.inf))


def _factorial_ref(n):
    import math as _m
    f = np.frompyfunc(lambda v: 0.0 if v < 0 else (_m.exp(_m.lgamma(v + 1)) if np.isfinite(v)
                                                    else v), 1, 1)
    with np.errstate(all="ignore"):
        return np.asarray(f(n.astype("f8")), np.float64).astype(n.dtype)


OPS += [
    unary("nn.log1mexp", lnn.log1mexp, _log1mexp_ref, kind="positive",
          rtol={"float32": 1e-5}),
    Op("nn.logmeanexp", lnn.logmeanexp, _lme_ref, _lme_gen, rtol={"float32": 1e-5}),
    binary("scipy.special.rel_entr", lss.rel_entr, _entr_ref(_rel_entr), kind="positive"),
    binary("scipy.special.kl_div", lss.kl_div, _entr_ref(_kl_div), kind="positive"),
    unary("scipy.special.factorial", lss.factorial, _factorial_ref, kind="positive",
          rtol={"float32": 1e-5}),
]


# ----------------------------------------------------------------------------- scipy.stats
try:
    import scipy.stats as _sst
except ImportError:  # scipy is optional
    _sst = None


def _dist_row(dist, fn, kind="real"):
    """lepton.scipy.stats.<dist>.<fn>(x, loc, scale) against scipy's, in float64."""
    def gen(draw, dtype, for_grad):
        s = shape(draw, max_dims=2)
        if kind == "prob":
            x = array(draw, s, dtype, "positive", for_grad, low=0.05, high=0.95)
        else:
            x = array(draw, s, dtype, "real", for_grad)
        return (x, array(draw, bshape(draw, s), dtype, "real", True, salt=1),
                array(draw, (), dtype, "positive", True, low=0.5, high=2, salt=2)), {}

    def ref(x, loc, scale):
        with np.errstate(all="ignore"):
            out = getattr(getattr(_sst, dist), fn)(x.astype("f8"), loc.astype("f8"),
                                                   scale.astype("f8"))
        return np.asarray(out).astype(np.result_type(x.dtype, loc.dtype))
    lfn = getattr(getattr(lst, dist), fn)
    # kinks of the support / |x - loc| (expon, uniform, laplace) are where the gradient
    # checks step across; those rows check values, vmap and jit only
    smooth = dist in ("logistic", "cauchy") or fn in ("ppf", "isf")
    return Op(f"scipy.stats.{dist}.{fn}", lfn, ref, gen, grad=smooth,
              rtol={"float32": 1e-4, "float64": 1e-9}, atol=1e-6)


if _sst is not None:
    OPS += [_dist_row(d, f) for d, fs in [
        ("expon", ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        ("uniform", ("logpdf", "pdf", "cdf")), ("laplace", ("logpdf", "pdf", "cdf")),
        ("logistic", ("logpdf", "pdf", "cdf", "sf")),
        ("cauchy", ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"))] for f in fs]
    OPS += [_dist_row(d, f, kind="prob") for d, f in [
        ("expon", "ppf"), ("uniform", "ppf"), ("logistic", "ppf"), ("logistic", "isf"),
        ("cauchy", "ppf"), ("cauchy", "isf")]]
