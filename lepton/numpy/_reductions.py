"""Reductions and statistics: sum, prod, mean, var, std, max, min, argmax, cumsum, quantiles,
the nan-variants, cov and average.

NumPy semantics (axis None/int/tuple, negative axes, keepdims, where=, initial=, ddof)
with JAX's dtype rules: sums and products of small integers accumulate in int32 (uint32
for unsigned), means and variances of integers are float32 (float64 for 64-bit inputs),
index results are int32 (int64 in x64 mode, as JAX).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..core import Array, ArrayBase, ShapedArray, Tracer, current_trace, new_array
from ..errors import ShapeError
from ..primitives import elementwise as ew
from ..primitives import reductions as red
from ..primitives import sorting
from ..primitives.indexing import gather
from ..primitives.slicing import slice_in_dim
from ..primitives.structural import broadcast_in_dim, full, reshape, transpose
from ._indexing import diagonal
from ._shape import concatenate, moveaxis
from ._ufuncs import (add, conj, isnan, maximum, minimum, multiply, not_equal, real, sqrt,
                      subtract, true_divide, where)
from .util import asarray, broadcast_to, normalize_axes, normalize_axis, promote_args, to_dtype

__all__ = ["sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "ptp", "argmax",
           "argmin", "cumsum", "cumprod", "all", "any", "count_nonzero", "median", "quantile",
           "percentile", "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
           "nanargmax", "nanargmin", "average", "cov", "corrcoef"]


# ----------------------------------------------------------------------------- helpers
def _no_out(out, name):
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported (lepton arrays are "
                                  "immutable); use the return value")


def _accum_dtype(dt):
    """Sums and products: small integers (and bools) accumulate in int32 / uint32 (int64 /
    uint64 in x64 mode, as JAX's default integer)."""
    i, u = dtypes.default_int(), dtypes.default_uint()
    if dt == dtypes.bool_ or dt.kind == "i" and dt.itemsize < i.itemsize:
        return i
    if dt.kind == "u" and dt.itemsize < u.itemsize:
        return u
    return dt


def _float_dtype(dt):
    """Means and variances: integers become float32, 64-bit integers (and every integer
    in x64 mode) float64."""
    if dtypes.is_inexact(dt):
        return dt
    return dtypes.float64 if dt.itemsize == 8 else dtypes.default_float()


def _axes(a, axis):
    """Normalised reduction axes; a 0-d array accepts axis 0 / -1 and reduces nothing."""
    axes = normalize_axes(axis, a.ndim)
    return () if a.ndim == 0 else axes


def _reduced_shape(shape, axes, keepdims):
    return tuple(1 if i in axes else s for i, s in enumerate(shape) if keepdims or i not in axes)


def _eager_value(a):
    """The NumPy value of ``a`` if it is concrete and no transform is active, else None.

    Then the hot reductions call their primitive's NumPy impl directly: the same result
    as ``bind`` without the dispatch and shape-rule overhead (eager mode stays fast).
    """
    return a._value if type(a) is Array and current_trace().parent is None else None


def _reduce(p, a, axes, keepdims=False):
    """Reduction primitive ``p`` over ``axes`` (sorted, non-negative)."""
    v = _eager_value(a) if axes else None
    if v is not None:
        out = np.asarray(p.impl(v, axes=axes))
        if keepdims:
            out = out.reshape(_reduced_shape(a.shape, axes, True))
        return new_array(out, a._weak)
    return red.reduce(p, a, axes, keepdims)


def _sum(a, axes, keepdims=False):
    return _reduce(red.reduce_sum_p, a, axes, keepdims)


def _or(a, axes, keepdims=False):
    return _reduce(red.reduce_or_p, a, axes, keepdims)


def _as_bool(x):
    x = asarray(x)
    return x if x.dtype == dtypes.bool_ else not_equal(x, 0)


def _masked(a, where, fill):
    """``a`` with ``fill`` where the ``where`` mask is False (mask broadcast to ``a``)."""
    if where is None:
        return a
    return ew.select(broadcast_to(_as_bool(where), a.shape), a, full(a.shape, fill, a.dtype))


def _count(a, axes, where, dtype, keepdims=False):
    """Number of elements reduced over: a Python int, or an array under a ``where`` mask."""
    if where is None:
        return int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    mask = to_dtype(broadcast_to(_as_bool(where), a.shape), dtype)
    return _sum(mask, axes, keepdims)


def _with_initial(out, initial, combine):
    """Fold ``initial`` (cast to the result's dtype, as NumPy) into a reduction's result."""
    if initial is None:
        return out
    return combine(out, to_dtype(asarray(initial), out.dtype))


# ----------------------------------------------------------------------------- sum/prod/mean
def _sum_like(name, prim_reduce, identity, combine):
    def f(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _no_out(out, name)
        a = asarray(a)
        a = to_dtype(a, dtypes.canonicalize(dtype) if dtype is not None
                     else _accum_dtype(a.dtype))
        axes = _axes(a, axis)
        res = _reduce(prim_reduce, _masked(a, where, identity), axes, keepdims)
        return _with_initial(res, initial, combine)

    f.__name__ = name
    f.__doc__ = (f"``{name}`` over ``axis`` (None: all); bools and small integers accumulate "
                 "in int32 (uint32 if unsigned) unless ``dtype`` is given.")
    return f


sum = _sum_like("sum", red.reduce_sum_p, 0, add)
prod = _sum_like("prod", red.reduce_prod_p, 1, multiply)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean; integers average in float32 (float64 if 64-bit); empty gives nan."""
    _no_out(out, "mean")
    a = asarray(a)
    dt = dtypes.canonicalize(dtype) if dtype is not None else _float_dtype(a.dtype)
    a = to_dtype(a, dt)
    axes = _axes(a, axis)
    total = _sum(_masked(a, where, 0), axes, keepdims)
    return true_divide(total, _count(a, axes, where, dt, keepdims))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        correction=None):
    """Variance ``sum(|a - mean|^2) / (N - ddof)`` (``correction`` is an alias of ``ddof``)."""
    _no_out(out, "var")
    if correction is not None:
        ddof = correction
    a = asarray(a)
    dt = dtypes.canonicalize(dtype) if dtype is not None else _float_dtype(a.dtype)
    rdt = dtypes.real_dtype(dt)
    a = to_dtype(a, dt)
    axes = _axes(a, axis)
    n = _count(a, axes, where, rdt, keepdims=True)
    c = subtract(a, true_divide(_sum(_masked(a, where, 0), axes, True), n))
    sq = real(multiply(c, conj(c))) if dt.kind == "c" else multiply(c, c)
    total = _sum(_masked(sq, where, 0), axes, keepdims)
    # As NumPy: N - ddof is clipped at 0, so too few elements give inf or nan.
    if isinstance(n, int):
        return true_divide(total, builtins.max(n - ddof, 0))
    return true_divide(total, reshape(maximum(subtract(n, ddof), 0), total.shape))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        correction=None):
    """Standard deviation: the square root of ``var`` (same arguments)."""
    return sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, correction=correction))


# ----------------------------------------------------------------------------- max/min
def _extremum(name, ufunc, prim_reduce, combine):
    def f(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _no_out(out, name)
        a = asarray(a)
        axes = _axes(a, axis)
        if where is not None:
            if initial is None:
                raise ValueError(f"reduction operation '{ufunc}' does not have an identity, "
                                 "so to use a where mask one has to specify 'initial'")
            a = _masked(a, where, initial)
        if builtins.any(a.shape[i] == 0 for i in axes):
            if initial is None:
                empty = [i for i in axes if a.shape[i] == 0]
                lowest = name == "max"
                example = (("-" if lowest else "") + "lnp.inf" if a.dtype.kind in "fc" else
                           f"lnp.iinfo(x.dtype).{'min' if lowest else 'max'}"
                           if a.dtype.kind in "iu" else str(not lowest))
                raise ShapeError(
                    f"zero-size array to reduction operation {ufunc} which has no identity: "
                    f"the array {a.aval.str_short()} is empty along the reduced axis "
                    f"{empty[0] if len(empty) == 1 else tuple(empty)}. Pass initial= to give "
                    f"empty slices a value, e.g. lnp.{name}(x, axis, initial={example}).")
            return full(_reduced_shape(a.shape, axes, keepdims), initial, a.dtype)
        return _with_initial(_reduce(prim_reduce, a, axes, keepdims), initial, combine)

    f.__name__ = name
    f.__doc__ = (f"The {ufunc} over ``axis``; NaN propagates (as NumPy). Ties share the "
                 "gradient equally.")
    return f


max = amax = _extremum("max", "maximum", red.reduce_max_p, maximum)
min = amin = _extremum("min", "minimum", red.reduce_min_p, minimum)


def ptp(a, axis=None, out=None, keepdims=False):
    """Peak to peak: ``max - min`` over ``axis``."""
    _no_out(out, "ptp")
    return subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


def _arg_extremum(name, prim):
    def f(a, axis=None, out=None, *, keepdims=False):
        _no_out(out, name)
        a = asarray(a)
        flat = axis is None or a.ndim == 0
        if flat:
            if axis is not None:
                normalize_axis(axis, 0)
            ax, kept = 0, (1,) * a.ndim
        else:
            ax = normalize_axis(axis, a.ndim)
            kept = _reduced_shape(a.shape, (ax,), True)
        if (a.size if flat else a.shape[ax]) == 0:
            where = "" if flat else f" along axis {ax}"
            raise ShapeError(f"attempt to get {name} of an empty sequence: the array "
                             f"{a.aval.str_short()} is empty{where}, so there is no index "
                             f"to return. Check the size first (e.g. x.shape[axis] > 0).")
        v = _eager_value(a)
        if v is not None:
            res = np.asarray(prim.impl(v.reshape(-1) if flat else v, axis=ax,
                                       index_dtype=dtypes.default_int()))
            return Array(res.reshape(kept) if keepdims else res)
        res = prim.bind(reshape(a, (a.size,)) if flat else a, axis=ax,
                        index_dtype=dtypes.default_int())
        return reshape(res, kept) if keepdims else res

    f.__name__ = name
    f.__doc__ = (f"Index (int32; int64 in x64 mode, as JAX) of the first {name[3:]} along "
                 "``axis``; NaN counts as it.")
    return f


argmax = _arg_extremum("argmax", red.argmax_p)
argmin = _arg_extremum("argmin", red.argmin_p)


# ----------------------------------------------------------------------------- logic/counting
def _logical(name, prim_reduce, identity):
    def f(a, axis=None, out=None, keepdims=False, *, where=None):
        _no_out(out, name)
        a = _as_bool(a)
        return _reduce(prim_reduce, _masked(a, where, identity), _axes(a, axis), keepdims)

    f.__name__ = name
    f.__doc__ = f"Whether {name} elements along ``axis`` are true (nonzero)."
    return f


all = _logical("all", red.reduce_and_p, True)
any = _logical("any", red.reduce_or_p, False)


def count_nonzero(a, axis=None, *, keepdims=False):
    """Number of nonzero elements (int32; int64 in x64 mode, as JAX)."""
    a = _as_bool(a)
    return _sum(to_dtype(a, dtypes.default_int()), _axes(a, axis), keepdims)


# ----------------------------------------------------------------------------- cumulative
def _cumulative(name, prim_fn):
    def f(a, axis=None, dtype=None, out=None):
        _no_out(out, name)
        a = asarray(a)
        if axis is None or a.ndim == 0:
            if axis is not None:
                normalize_axis(axis, 0)
            a, axis = reshape(a, (a.size,)), 0
        a = to_dtype(a, dtypes.canonicalize(dtype) if dtype is not None
                     else _accum_dtype(a.dtype))
        return prim_fn(a, normalize_axis(axis, a.ndim))

    f.__name__ = name
    f.__doc__ = (f"Cumulative {name[3:]} along ``axis`` (None: of the flattened array); small "
                 "integers accumulate in int32.")
    return f


cumsum = _cumulative("cumsum", red.cumsum)
cumprod = _cumulative("cumprod", red.cumprod)


# ----------------------------------------------------------------------------- quantiles
_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _to_last_axis(a, axis):
    """Move the reduced axes to one trailing axis; also return the keepdims shape."""
    if axis is None:
        return reshape(a, (a.size,)), (1,) * a.ndim
    axes = _axes(a, axis)
    kept = [i for i in range(a.ndim) if i not in axes]
    moved = moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim))) if axes else a
    rest = [a.shape[i] for i in kept]
    n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    return reshape(moved, rest + [n]), _reduced_shape(a.shape, axes, True)


def _pick(s, idx):
    """``s[..., idx]`` for integer positions ``idx`` along the last axis, shaped
    ``idx.shape + s.shape[:-1]`` (``idx`` may be traced)."""
    return gather(s, [idx], (s.ndim - 1,))


def _lerp(lo, hi, t):
    # NumPy's formulation, exact at both ends.
    diff = ew.sub(hi, lo)
    return ew.select(ew.ge(t, full(t.shape, 0.5, t.dtype)),
                     ew.sub(hi, ew.mul(diff, ew.sub(full(t.shape, 1, t.dtype), t))),
                     ew.add(lo, ew.mul(diff, t)))


def _order_statistic(a, axis, keepdims, qshape, interpolate, select):
    """Shared frame of quantile and median: sort the reduced axes into one trailing axis,
    let ``select(sorted, n)`` read the result, make NaN slices NaN (as NumPy), keepdims."""
    a = asarray(a)
    if a.dtype.kind == "c":
        raise TypeError("quantiles are not defined for complex arrays")
    if interpolate or a.dtype == dtypes.bool_:
        a = to_dtype(a, _float_dtype(a.dtype))
    flat, kept = _to_last_axis(a, axis)
    n = flat.shape[-1]
    if n == 0:
        out = full(qshape + flat.shape[:-1], np.nan, _float_dtype(a.dtype))
    else:
        out = select(sorting.sort([flat], flat.ndim - 1)[0], n)
        if a.dtype.kind == "f":
            has_nan = _or(isnan(flat), (flat.ndim - 1,))
            out = where(has_nan, full((), np.nan, out.dtype), out)
    return reshape(out, qshape + tuple(kept)) if keepdims else out


def _quantile(a, q, axis, method, keepdims, name, scale):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {_METHODS}, got {method!r}")
    # Positions are computed in float64, as NumPy does for Python-float q: in float32,
    # q * (n - 1) can land just below an integer and pick the wrong neighbour.
    qdt = dtypes.float64
    q = to_dtype(q if isinstance(q, ArrayBase) else asarray(np.asarray(q, qdt)), qdt)
    if not isinstance(q, Tracer) and not np.all((np.asarray(q) >= 0) & (np.asarray(q) <= scale)):
        raise ValueError(f"{'Percentiles' if scale == 100 else 'Quantiles'} must be in the "
                         f"range [0, {scale}]")
    if scale != 1:
        q = ew.div(q, full(q.shape, scale, qdt))

    def select(s, n):
        pos = ew.mul(q, full(q.shape, n - 1, qdt))
        lo = ew.floor(pos)
        index = {"lower": lo, "higher": ew.ceil(pos), "nearest": ew.round(pos)}.get(method)
        if index is not None:
            return _pick(s, to_dtype(index, dtypes.int32))
        i0 = to_dtype(lo, dtypes.int32)
        i1 = ew.min(ew.add(i0, full(i0.shape, 1, i0.dtype)), full(i0.shape, n - 1, i0.dtype))
        t = ew.sub(pos, lo)
        if method == "midpoint":
            t = ew.select(ew.eq(t, full(t.shape, 0, qdt)), t, full(t.shape, 0.5, qdt))
        t = to_dtype(broadcast_in_dim(t, t.shape + s.shape[:-1], tuple(range(t.ndim))), s.dtype)
        return _lerp(_pick(s, i0), _pick(s, i1), t)

    return _order_statistic(a, axis, keepdims, q.shape, method in ("linear", "midpoint"),
                            select)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    """``q``-th quantiles (q in [0, 1], scalar or array) along ``axis``; output shape
    ``q.shape + reduced shape``.  NaNs in a slice give NaN; an empty slice gives NaN (NumPy
    raises IndexError)."""
    _no_out(out, "quantile")
    return _quantile(a, q, axis, method, keepdims, "quantile", 1)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    """``quantile`` with ``q`` in percent."""
    _no_out(out, "percentile")
    return _quantile(a, q, axis, method, keepdims, "percentile", 100)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle value, or the mean of the two middle ones for even counts (as NumPy, so
    ``median([-inf, 0, inf])`` is 0); an empty slice gives nan."""
    _no_out(out, "median")

    def select(s, n):
        mid = slice_in_dim(s, (n - 1) // 2, n // 2 + 1, axis=s.ndim - 1)
        return _sum(mid, (s.ndim - 1,)) if n % 2 else mean(mid, axis=-1)

    return _order_statistic(a, axis, keepdims, (), True, select)


# ----------------------------------------------------------------------------- nan-variants
def _not_nan(a, where):
    ok = ew.bitwise_not(isnan(a))
    return ok if where is None else ew.bitwise_and(ok, broadcast_to(_as_bool(where), a.shape))


def _nan_masked(fn):
    """The nan-variant of ``fn``: NaNs are left out through its ``where`` mask."""
    def f(a, *args, where=None, **kwargs):
        a = asarray(a)
        if a.dtype.kind not in "fc":
            return fn(a, *args, where=where, **kwargs)
        return fn(a, *args, where=_not_nan(a, where), **kwargs)

    f.__name__ = "nan" + fn.__name__
    f.__doc__ = f"``{fn.__name__}`` ignoring NaNs."
    return f


nansum = _nan_masked(sum)
nanprod = _nan_masked(prod)
nanmean = _nan_masked(mean)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           correction=None):
    """``var`` ignoring NaNs; unlike ``var``, N - ddof <= 0 gives nan (as NumPy)."""
    a = asarray(a)
    if a.dtype.kind not in "fc":
        return var(a, axis, dtype, out, ddof, keepdims, where=where, correction=correction)
    ddof = ddof if correction is None else correction
    mask = _not_nan(a, where)
    res = var(a, axis, dtype, out, ddof, keepdims, where=mask)
    n = _count(a, _axes(a, axis), mask, res.dtype, keepdims)
    return ew.select(ew.le(n, full(n.shape, ddof, n.dtype)), full(res.shape, np.nan, res.dtype),
                     res)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           correction=None):
    """``std`` ignoring NaNs: the square root of ``nanvar``."""
    return sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, correction=correction))


def _nan_extremum(fn, fill):
    def f(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        a = asarray(a)
        if a.dtype.kind != "f":
            return fn(a, axis, out, keepdims, initial, where)
        nan = isnan(a)
        res = fn(ew.select(nan, full(a.shape, fill, a.dtype), a), axis, out, keepdims, initial,
                 where)
        if initial is not None:
            return res
        return ew.select(all(nan, axis, keepdims=keepdims), full(res.shape, np.nan, a.dtype), res)

    f.__name__ = "nan" + fn.__name__
    f.__doc__ = f"``{fn.__name__}`` ignoring NaNs; an all-NaN slice gives NaN (as NumPy)."
    return f


nanmax = _nan_extremum(max, -np.inf)
nanmin = _nan_extremum(min, np.inf)


def _nan_arg_extremum(fn, fill):
    def f(a, axis=None, out=None, *, keepdims=False):
        a = asarray(a)
        if a.dtype.kind != "f":
            return fn(a, axis, out, keepdims=keepdims)
        nan = isnan(a)
        res = fn(ew.select(nan, full(a.shape, fill, a.dtype), a), axis, out, keepdims=keepdims)
        return ew.select(all(nan, axis, keepdims=keepdims), full(res.shape, -1, res.dtype), res)

    f.__name__ = "nan" + fn.__name__
    f.__doc__ = (f"``{fn.__name__}`` ignoring NaNs.  An all-NaN slice gives -1 (as JAX; NumPy "
                 "raises, which a traced value cannot).")
    return f


nanargmax = _nan_arg_extremum(argmax, -np.inf)
nanargmin = _nan_arg_extremum(argmin, np.inf)


# ----------------------------------------------------------------------------- weighted stats
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean along ``axis``; 1-D weights apply along a single ``axis``.

    Unlike NumPy, weights summing to zero give inf/nan instead of ZeroDivisionError (the
    check would need concrete values).
    """
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        scl = full(avg.shape, _count(asarray(a), _axes(asarray(a), axis), None, None), avg.dtype)
    else:
        a, w = asarray(a), asarray(weights)
        a, w = promote_args("average", a, w) if a.shape == w.shape else \
            _weights_along(a, w, axis)
        dt = _float_dtype(a.dtype)
        a, w = to_dtype(a, dt), to_dtype(w, dt)
        axes = _axes(a, axis)
        scl = _sum(w, axes, keepdims)
        avg = ew.div(_sum(ew.mul(a, w), axes, keepdims), scl)
    return (avg, broadcast_to(scl, avg.shape)) if returned else avg


def _weights_along(a, w, axis):
    """1-D weights broadcast along ``axis`` of ``a`` (both promoted), as NumPy allows."""
    if axis is None:
        raise TypeError("average: axis must be specified when shapes of a and weights differ")
    if w.ndim != 1:
        raise TypeError("average: 1D weights expected when shapes of a and weights differ")
    ax = normalize_axis(axis, a.ndim)
    if w.shape[0] != a.shape[ax]:
        raise ValueError("average: length of weights not compatible with specified axis")
    dt, weak = dtypes.promote((a.dtype, a.weak_type), (w.dtype, w.weak_type))
    return to_dtype(a, dt, weak), broadcast_in_dim(to_dtype(w, dt, weak), a.shape, (ax,))


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """Covariance matrix of the variables in the rows (``rowvar``) or columns of ``m``."""
    x = asarray(m)
    if x.ndim > 2:
        raise ValueError("cov: m has more than 2 dimensions")
    dt = dtypes.canonicalize(dtype) if dtype is not None else _float_dtype(x.dtype)

    def rows(v, transposed):  # as NumPy: at least 2-D, variables along axis 0
        v = to_dtype(asarray(v), dt)
        v = reshape(v, (1, v.size)) if v.ndim < 2 else v
        return transpose(v, (1, 0)) if transposed else v

    x = rows(x, not rowvar and x.ndim == 2)
    if y is not None:
        y = asarray(y)
        x = concatenate([x, rows(y, not rowvar and y.ndim == 2 and y.shape[0] != 1)], axis=0)
    ddof = (0 if bias else 1) if ddof is None else ddof
    k, nobs = x.shape
    w = aw = None
    if fweights is not None:
        w = to_dtype(asarray(fweights), dt)
    if aweights is not None:
        aw = to_dtype(asarray(aweights), dt)
        w = aw if w is None else ew.mul(w, aw)
    if w is None:
        avg = mean(x, axis=1, keepdims=True)
        fact = full((), builtins.max(nobs - ddof, 0), dt)
    else:  # NumPy's normalisation for frequency and reliability weights
        wb = broadcast_in_dim(w, x.shape, (1,))
        w_sum = _sum(w, (0,))
        avg = ew.div(_sum(ew.mul(x, wb), (1,), True), broadcast_in_dim(w_sum, (k, 1), ()))
        if ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = ew.sub(w_sum, full((), ddof, dt))
        else:
            fact = ew.sub(w_sum, ew.div(ew.mul(full((), ddof, dt),
                                               _sum(ew.mul(w, aw), (0,))), w_sum))
        fact = ew.max(fact, full((), 0, dt))
    xc = ew.sub(x, broadcast_to(avg, x.shape))
    xw = xc if w is None else ew.mul(xc, wb)
    # c[i, j] = sum_k xc[i, k] * conj(xw[j, k]), as a broadcast product and a sum
    outer = ew.mul(broadcast_in_dim(xc, (k, k, nobs), (0, 2)),
                   ew.conj(broadcast_in_dim(xw, (k, k, nobs), (1, 2))))
    c = _sum(outer, (2,))
    c = ew.div(c, broadcast_in_dim(to_dtype(fact, dt), c.shape, ()))
    return reshape(c, ()) if k == 1 else c


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Pearson correlation coefficients: ``cov`` over the outer product of the standard
    deviations, the real (and imaginary) parts clipped to [-1, 1], as NumPy and JAX.  One
    variable gives ``c / c`` (nan when it is constant)."""
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return ew.div(c, c)
    k = c.shape[0]
    d = real(diagonal(c))
    std = to_dtype(sqrt(d), c.dtype)
    c = ew.div(ew.div(c, broadcast_in_dim(std, (k, k), (0,))),
               broadcast_in_dim(std, (k, k), (1,)))

    def clipped(part):
        return minimum(maximum(part, -1), 1)
    if c.dtype.kind == "c":
        return ew.complex(clipped(ew.real(c)), clipped(ew.imag(c)))
    return clipped(c)
