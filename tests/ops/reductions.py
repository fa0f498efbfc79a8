"""Op rows: reductions, statistics, cumulative ops, nan-variants, weighted stats, diff, convolve,
vectorize.  Axes (None, int, negative, tuple), keepdims and ddof are drawn per example."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import ALL, FLOATS, NUMERIC, Op, array, shape, side

_I32 = lambda d: np.dtype(np.int32)  # noqa: E731


def _axis(draw, nd, tuples=True):
    """None, an int (maybe negative) or a tuple of distinct axes of a rank-``nd`` array."""
    choices = ["none", "int"] + (["tuple"] if tuples and nd else [])
    kind = draw(st.sampled_from(choices))
    if kind == "none" or (kind == "int" and nd == 0 and draw(st.booleans())):
        return None
    if kind == "int":
        return draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    return tuple(a - nd if draw(st.booleans()) else a for a in axes)


def _spread(draw, s):
    """Distinct values at least 0.5 apart: no kinks (ties, order changes) within finite
    difference steps, and no near-zero spreads where std's higher derivatives blow up."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = int(np.prod(s, dtype=np.int64))
    return ((rng.permutation(n) + rng.uniform(0, 0.5, n)) * 0.5 - n / 4).reshape(s)


def _reduction_gen(kind="real", max_side=4, keepdims=True, extra=None, grad_min_side=0,
                   max_dims=3, spread=False):
    """``grad_min_side`` > 0 keeps gradient examples away from empty (or, with 2, single
    element) reductions, where the function is nan, raises, or has a kink (std)."""
    def gen(draw, dtype, for_grad):
        lo = grad_min_side if for_grad else 0
        s = shape(draw, min_dims=1 if lo else 0, max_dims=max_dims, min_side=lo,
                  max_side=max_side)
        kw = {"axis": _axis(draw, len(s))}
        if keepdims:
            kw["keepdims"] = draw(st.booleans())
        if extra:
            kw.update(extra(draw, s, for_grad))
        if for_grad and spread:
            return (_spread(draw, s),), kw
        return (array(draw, s, dtype, kind, for_grad),), kw

    return gen


def _reduction(name, fn, ref, dtypes=FLOATS, **kw):
    gen_kw = {k: kw.pop(k) for k in ("kind", "max_side", "keepdims", "extra", "grad_min_side",
                                     "max_dims", "spread") if k in kw}
    return Op(name, fn, ref, _reduction_gen(**gen_kw), dtypes=dtypes, **kw)


def _ddof(draw, s, for_grad):
    return {"ddof": 0 if for_grad else draw(st.sampled_from([0, 1, 2]))}


def _initial(draw, s, for_grad):
    return {"initial": draw(st.sampled_from([None, None, -1, 2]))}


def _where_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=int(for_grad), min_side=2 if for_grad else 0)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if for_grad:  # one masked element: no slice is fully masked (a mean would be nan)
        m = np.ones(s, bool)
        m[tuple(rng.integers(0, n) for n in s)] = False
    else:
        m = rng.random(s) < 0.7
    return (array(draw, s, dtype, for_grad=for_grad), m), {"axis": _axis(draw, len(s))}


def _max_where_gen(draw, dtype, for_grad):
    (x, m), kw = _where_gen(draw, dtype, for_grad)
    return (x, m), dict(kw, initial=-5)


def _cumulative_gen(draw, dtype, for_grad, max_side=4):
    s = shape(draw, max_side=max_side)
    axis = None if not s or draw(st.booleans()) else draw(st.integers(-len(s), len(s) - 1))
    return (array(draw, s, dtype, for_grad=for_grad),), {"axis": axis}


def _quantile_gen(method_choices):
    def gen(draw, dtype, for_grad):
        s = shape(draw, min_side=1 if for_grad else 0)
        q = draw(st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0, "array"]))
        if q == "array":
            q = np.random.default_rng(draw(st.integers(0, 99))).random(
                draw(st.sampled_from([(3,), (2, 2)])))
        kw = {"axis": _axis(draw, len(s)), "keepdims": draw(st.booleans()),
              "method": draw(st.sampled_from(method_choices))}
        x = _spread(draw, s) if for_grad else array(draw, s, dtype)
        return (x, q), kw

    return gen


def _percentile_gen(draw, dtype, for_grad):
    (x, q), kw = _quantile_gen(["linear", "lower", "higher", "nearest", "midpoint"])(
        draw, dtype, for_grad)
    return (x, np.asarray(q) * 100), kw


def _average_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, min_side=1)
    x = array(draw, s, dtype, for_grad=for_grad)
    if draw(st.booleans()):
        axis = draw(st.integers(-len(s), len(s) - 1))
        w = array(draw, (s[axis],), dtype, "positive", for_grad)
    else:
        axis = _axis(draw, len(s))
        w = array(draw, s, dtype, "positive", for_grad)
    return (x, w), {"axis": axis, "returned": draw(st.booleans())}


def _cov_gen(draw, dtype, for_grad):
    s = (draw(st.integers(2 if for_grad else 1, 3)), draw(st.integers(2, 5)))  # >= 2 obs
    if draw(st.booleans()):
        s = s[1:]
    kw = {"rowvar": draw(st.booleans()), "bias": draw(st.booleans())}
    if draw(st.booleans()):
        kw["ddof"] = draw(st.integers(0, 1))
    return (array(draw, s, dtype, for_grad=for_grad),), kw


def _cov_weighted_gen(draw, dtype, for_grad):
    n = side(draw, 3, 5)
    m = array(draw, (draw(st.integers(1, 3)), n), dtype, for_grad=for_grad)
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    kw = {"fweights": rng.integers(1, 4, n), "ddof": draw(st.sampled_from([None, 0, 1]))}
    if draw(st.booleans()):
        kw["aweights"] = rng.uniform(0.5, 2, n)
    return (m,), kw


def _diff_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1)
    kw = {"n": draw(st.integers(0, 3)), "axis": draw(st.integers(-len(s), len(s) - 1))}
    if draw(st.booleans()):
        kw["prepend"] = draw(st.sampled_from([0.0, 1.0])) if dtype != "bool" else True
    if draw(st.booleans()):
        rest = list(s)
        rest[kw["axis"]] = 2
        kw["append"] = np.ones(rest, dtype)
    return (array(draw, s, dtype, for_grad=for_grad),), kw


def _convolve_gen(draw, dtype, for_grad):
    n, m = side(draw, 1, 6), draw(st.integers(1, 6))
    return (array(draw, (n,), dtype, for_grad=for_grad),
            array(draw, (m,), dtype, for_grad=for_grad)), \
        {"mode": draw(st.sampled_from(["full", "same", "valid"]))}


def _vectorize_gen(draw, dtype, for_grad):
    s = shape(draw)
    return (array(draw, s, dtype, for_grad=for_grad),
            array(draw, s[draw(st.integers(0, len(s))):], dtype, for_grad=for_grad)), {}


def _gufunc_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, max_dims=3)
    return (array(draw, s, dtype, for_grad=for_grad),
            array(draw, s[-1:], dtype, for_grad=for_grad)), {}


def _scalar_fn(a, b):
    return lnp.sin(a) * b + a


_vec = lnp.vectorize(_scalar_fn)
_vec_ref = np.vectorize(lambda a, b: np.sin(a) * b + a)
_dot = lnp.vectorize(lambda a, b: lnp.sum(a * b), signature="(n),(n)->()")
_dot_ref = np.vectorize(lambda a, b: np.sum(a * b), signature="(n),(n)->()")


OPS = [
    _reduction("sum", lnp.sum, np.sum, dtypes=ALL, extra=_initial),
    _reduction("prod", lnp.prod, np.prod, dtypes=NUMERIC, max_side=3, max_dims=2),
    _reduction("mean", lnp.mean, np.mean, dtypes=NUMERIC, grad_min_side=1),
    _reduction("var", lnp.var, np.var, dtypes=NUMERIC, extra=_ddof, grad_min_side=2),
    _reduction("std", lnp.std, np.std, dtypes=NUMERIC, extra=_ddof, grad_min_side=2, spread=True),
    _reduction("max", lnp.max, np.max, dtypes=ALL, extra=_initial, grad_min_side=1, spread=True),
    _reduction("min", lnp.min, np.min, dtypes=ALL, extra=_initial, grad_min_side=1, spread=True),
    _reduction("ptp", lnp.ptp, np.ptp, dtypes=NUMERIC, grad_min_side=1, spread=True),
    _reduction("argmax", lnp.argmax, np.argmax, dtypes=ALL, nondiff=True, out_dtype=_I32),
    _reduction("argmin", lnp.argmin, np.argmin, dtypes=ALL, nondiff=True, out_dtype=_I32),
    _reduction("all", lnp.all, np.all, dtypes=ALL, nondiff=True),
    _reduction("any", lnp.any, np.any, dtypes=ALL, nondiff=True),
    _reduction("count_nonzero", lnp.count_nonzero, np.count_nonzero, dtypes=ALL, nondiff=True,
               out_dtype=_I32),
    _reduction("median", lnp.median, np.median, dtypes=NUMERIC, grad_min_side=1, spread=True),
    _reduction("nansum", lnp.nansum, np.nansum, dtypes=NUMERIC),
    _reduction("nanprod", lnp.nanprod, np.nanprod, dtypes=FLOATS, max_side=3, max_dims=2),
    _reduction("nanmean", lnp.nanmean, np.nanmean, dtypes=FLOATS, grad_min_side=1),
    _reduction("nanvar", lnp.nanvar, np.nanvar, dtypes=FLOATS, extra=_ddof, grad_min_side=2),
    _reduction("nanstd", lnp.nanstd, np.nanstd, dtypes=FLOATS, extra=_ddof, grad_min_side=2,
               spread=True),
    _reduction("nanmax", lnp.nanmax, np.nanmax, dtypes=NUMERIC, grad_min_side=1, spread=True),
    _reduction("nanmin", lnp.nanmin, np.nanmin, dtypes=NUMERIC, grad_min_side=1, spread=True),
    _reduction("nanargmax", lnp.nanargmax, np.nanargmax, dtypes=NUMERIC, keepdims=False,
               nondiff=True, out_dtype=_I32),
    _reduction("nanargmin", lnp.nanargmin, np.nanargmin, dtypes=NUMERIC, keepdims=False,
               nondiff=True, out_dtype=_I32),
    Op("sum_where", lambda x, m, axis: lnp.sum(x, axis, where=m),
       lambda x, m, axis: np.sum(x, axis, where=m), _where_gen, dtypes=NUMERIC),
    Op("mean_where", lambda x, m, axis: lnp.mean(x, axis, where=m),
       lambda x, m, axis: np.mean(x, axis, where=m), _where_gen, dtypes=FLOATS),
    Op("var_where", lambda x, m, axis: lnp.var(x, axis, where=m),
       lambda x, m, axis: np.var(x, axis, where=m), _where_gen, dtypes=FLOATS, grad=False),
    Op("max_where", lambda x, m, axis, initial: lnp.max(x, axis, where=m, initial=initial),
       lambda x, m, axis, initial: np.max(x, axis, where=m, initial=initial), _max_where_gen,
       dtypes=NUMERIC),
    Op("cumsum", lnp.cumsum, np.cumsum, _cumulative_gen, dtypes=ALL),
    Op("cumprod", lnp.cumprod, np.cumprod,
       lambda d, dt, g: _cumulative_gen(d, dt, g, max_side=3), dtypes=NUMERIC),
    Op("quantile", lnp.quantile, np.quantile,
       _quantile_gen(["linear", "lower", "higher", "nearest", "midpoint"]), dtypes=NUMERIC,
       diff_args=(0,)),
    Op("percentile", lnp.percentile, np.percentile, _percentile_gen, dtypes=FLOATS,
       diff_args=(0,)),
    Op("average", lambda x, w, **kw: lnp.average(x, weights=w, **kw),
       lambda x, w, **kw: np.average(x, weights=w, **kw), _average_gen, dtypes=FLOATS),
    Op("cov", lnp.cov, np.cov, _cov_gen, dtypes=NUMERIC, scalable=False),  # n x n outputs
    Op("cov_weighted", lnp.cov, np.cov, _cov_weighted_gen, dtypes=FLOATS),
    Op("diff", lnp.diff, np.diff, _diff_gen, dtypes=ALL),
    Op("convolve", lnp.convolve, np.convolve, _convolve_gen, dtypes=NUMERIC),
    Op("vectorize", _vec, _vec_ref, _vectorize_gen, dtypes=FLOATS),
    Op("vectorize_signature", _dot, _dot_ref, _gufunc_gen, dtypes=FLOATS),
]
