"""Reductions over a tuple of axes (sum, prod, max, min, and, or), argmax/argmin and the
cumulative ops (cumsum, cumprod, cummax, cummin) along one axis.

The reductions drop the reduced axes; ``keepdims`` is a reshape in the wrappers.
Nonlinear rules are written in lepton ops, so every rule differentiates again.
"""
from __future__ import annotations

import numpy as np

from .._quiet import restore, silence
from ..core import Primitive, ShapedArray, get_aval
from . import elementwise as ew
from .base import (Zero, check_dtype_kind, deflinear, defjvp, defnondiff, fail_dtype,
                   fail_shape, provide)
from .slicing import pad
from .structural import broadcast_in_dim, full, reshape, transpose

_KIND_WORDS = {"iufc": "numeric", "biufc": "any", "b": "boolean"}


def _check_axes(name, a, axes):
    if len(set(axes)) != len(axes) or any(not 0 <= ax < a.ndim for ax in axes):
        fail_shape(name, f"axes {axes} must be distinct axes in range({a.ndim})", a)


def reducer(name, ufunc, kinds="iufc", identity_required=False):
    """Define a reduction (``ufunc.reduce`` in the input dtype) with impl, shape rule, batching."""
    p = Primitive(name)

    def impl(x, *, axes):
        token = silence()  # inf - inf, overflow: nan/inf silently, as JAX
        try:
            return ufunc.reduce(x, axis=axes, dtype=x.dtype)
        finally:
            restore(token)

    def rule(a, *, axes):
        _check_axes(name, a, axes)
        check_dtype_kind(name, [a], kinds, _KIND_WORDS[kinds])
        if identity_required and any(a.shape[ax] == 0 for ax in axes):
            fail_shape(name, f"cannot reduce a zero-size axis {axes} (no identity)", a,
                       fix="Pass `initial=` or reduce a non-empty array.")
        shape = tuple(s for i, s in enumerate(a.shape) if i not in axes)
        return ShapedArray(shape, a.dtype, a.weak_type)

    def batch(axis_size, vals, dims, *, axes):
        (x,), (d,) = vals, dims
        new_axes = tuple(ax if ax < d else ax + 1 for ax in axes)
        out_d = d - sum(1 for ax in axes if ax < d)
        return p.bind(x, axes=new_axes), out_d

    p.impl, p.abstract_eval, p.batch = impl, rule, batch
    return p


reduce_sum_p = reducer("reduce_sum", np.add)
reduce_prod_p = reducer("reduce_prod", np.multiply)
reduce_max_p = reducer("reduce_max", np.maximum, kinds="biufc", identity_required=True)
reduce_min_p = reducer("reduce_min", np.minimum, kinds="biufc", identity_required=True)
reduce_and_p = reducer("reduce_and", np.logical_and, kinds="b")
reduce_or_p = reducer("reduce_or", np.logical_or, kinds="b")
defnondiff(reduce_and_p)
defnondiff(reduce_or_p)


def _sum_transpose(ct, x, *, axes):
    if type(ct) is Zero:
        return [None]
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return [broadcast_in_dim(ct, shape, kept)]


deflinear(reduce_sum_p, _sum_transpose)


def _extremum_jvp(t, x, *, ans, axes):
    # The tangent flows to every location that attains the extremum, split equally.
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    loc = ew.convert_element_type(ew.eq(x, broadcast_in_dim(ans, shape, kept)), t.aval.dtype)
    counts = reduce_sum(loc, axes)
    return ew.div(reduce_sum(ew.mul(t, loc), axes), counts)


defjvp(reduce_max_p, _extremum_jvp)
defjvp(reduce_min_p, _extremum_jvp)


def _prod_jvp(t, x, *, ans, axes):
    # d prod = sum_i t_i * prod_{j != i} x_j.  The products of the others are the exclusive
    # cumulative products from the left times those from the right: exact when x has zeros,
    # and differentiable again through cumprod's own rule.
    shape = x.aval.shape
    kept = [i for i in range(len(shape)) if i not in axes]
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    flat_shape = [shape[i] for i in kept] + [n]
    xf, tf = (reshape(transpose(v, kept + list(axes)), flat_shape) for v in (x, t))
    ax = len(kept)
    left = shift(cumprod(xf, ax), 1, 1, ax)
    right = shift(cumprod(xf, ax, reverse=True), 1, 1, ax, reverse=True)
    return reduce_sum(ew.mul(tf, ew.mul(left, right)), (ax,))


defjvp(reduce_prod_p, _prod_jvp)


def reduce(p, x, axes, keepdims=False):
    """Apply the reduction primitive ``p`` over ``axes`` (any order, negatives allowed)."""
    shape = get_aval(x).shape
    axes = tuple(sorted(int(a) % max(len(shape), 1) for a in axes))
    out = p.bind(x, axes=axes) if axes else x
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return out


def reduce_sum(x, axes, keepdims=False):
    return reduce(reduce_sum_p, x, axes, keepdims)


provide(reduce_sum=reduce_sum)


def reduce_max(x, axes, keepdims=False):
    return reduce(reduce_max_p, x, axes, keepdims)


def reduce_min(x, axes, keepdims=False):
    return reduce(reduce_min_p, x, axes, keepdims)


def reduce_prod(x, axes, keepdims=False):
    return reduce(reduce_prod_p, x, axes, keepdims)


def reduce_and(x, axes, keepdims=False):
    return reduce(reduce_and_p, x, axes, keepdims)


def reduce_or(x, axes, keepdims=False):
    return reduce(reduce_or_p, x, axes, keepdims)


# ----------------------------------------------------------------------------- argmax/argmin
def _check_axis(name, a, axis):
    if not 0 <= axis < a.ndim:
        fail_shape(name, f"axis {axis} must be in range({a.ndim}) (operand rank >= 1)", a)


def arg_reducer(name, np_fn):
    """Index of the first extremum along ``axis``; NaN counts as the extremum (as NumPy)."""
    p = Primitive(name)

    def rule(a, *, axis, index_dtype):
        _check_axis(name, a, axis)
        check_dtype_kind(name, [a], "biufc", "any")
        if a.shape[axis] == 0:
            fail_shape(name, f"attempt to get {name} of an empty sequence (axis {axis})", a)
        if index_dtype.kind not in "iu":
            fail_dtype(name, f"index_dtype must be an integer dtype, got {index_dtype}", a)
        return ShapedArray(a.shape[:axis] + a.shape[axis + 1:], index_dtype)

    def batch(axis_size, vals, dims, *, axis, index_dtype):
        (x,), (d,) = vals, dims
        new_axis = axis if axis < d else axis + 1
        return p.bind(x, axis=new_axis, index_dtype=index_dtype), d - (axis < d)

    p.impl = lambda x, *, axis, index_dtype: np_fn(x, axis=axis).astype(index_dtype)
    p.abstract_eval, p.batch = rule, batch
    defnondiff(p)
    return p


argmax_p = arg_reducer("argmax", np.argmax)
argmin_p = arg_reducer("argmin", np.argmin)


def argmax(x, axis, index_dtype=np.dtype(np.int32)):
    return argmax_p.bind(x, axis=int(axis), index_dtype=np.dtype(index_dtype))


def argmin(x, axis, index_dtype=np.dtype(np.int32)):
    return argmin_p.bind(x, axis=int(axis), index_dtype=np.dtype(index_dtype))


# ----------------------------------------------------------------------------- cumulative ops
def cumulative(name, np_fn, kinds="iufc"):
    """A scan along ``axis`` (from the end when ``reverse``), with impl, shape rule, batching."""
    p = Primitive(name)

    def impl(x, *, axis, reverse):
        with np.errstate(all="ignore"):
            if reverse:
                return np.flip(np_fn(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
            return np_fn(x, axis=axis, dtype=x.dtype)

    def rule(a, *, axis, reverse):
        _check_axis(name, a, axis)
        check_dtype_kind(name, [a], kinds, _KIND_WORDS[kinds])
        return a

    def batch(axis_size, vals, dims, *, axis, reverse):
        (x,), (d,) = vals, dims
        return p.bind(x, axis=axis + (axis >= d), reverse=reverse), d

    p.impl, p.abstract_eval, p.batch = impl, rule, batch
    return p


cumsum_p = cumulative("cumsum", np.cumsum)
cumprod_p = cumulative("cumprod", np.cumprod)
cummax_p = cumulative("cummax", np.maximum.accumulate, kinds="biufc")
cummin_p = cumulative("cummin", np.minimum.accumulate, kinds="biufc")


def shift(x, d, fill, axis, reverse=False):
    """``x`` moved ``d`` places along ``axis`` (towards the end, or the start if ``reverse``),
    the vacated places holding ``fill``: one (linear) pad with a negative crop."""
    cfg = [(0, 0, 0)] * x.aval.ndim
    cfg[axis] = (-d, d, 0) if reverse else (d, -d, 0)
    return pad(x, full((), fill, x.aval.dtype), cfg)


def _scan_jvp(p, combine, identity):
    """JVP of a cumulative op as the JVP of a Hillis-Steele prefix scan in lepton ops.

    ``combine(a, ta, b, tb) -> (c, tc)`` merges an earlier prefix ``a`` into a later one ``b``.
    log2(n) steps of shifts and combines: exact where a closed form divides (cumprod with
    zeros), and differentiable again because it is built from differentiable ops.
    """

    def jvp(primals, tangents, *, axis, reverse):
        (x,), (t,) = primals, tangents
        ans = p.bind(x, axis=axis, reverse=reverse)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        y, ty, d = x, t, 1
        while d < x.aval.shape[axis]:
            y, ty = combine(shift(y, d, identity, axis, reverse),
                            shift(ty, d, 0, axis, reverse), y, ty)
            d *= 2
        return ans, ty

    p.jvp = jvp


def _prod_combine(a, ta, b, tb):
    return ew.mul(a, b), ew.add(ew.mul(ta, b), ew.mul(a, tb))


def _extremum_combine(cmp, pick):
    # The tangent of the extremum comes from the element attaining it (the latest on ties).
    return lambda a, ta, b, tb: (pick(a, b), ew.select(cmp(a, b), ta, tb))


_scan_jvp(cumprod_p, _prod_combine, 1)
_scan_jvp(cummax_p, _extremum_combine(ew.gt, ew.max), -np.inf)
_scan_jvp(cummin_p, _extremum_combine(ew.lt, ew.min), np.inf)
deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [
    None if type(ct) is Zero else cumsum(ct, axis, reverse=not reverse)])


def cumsum(x, axis, reverse=False):
    return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))


def cumprod(x, axis, reverse=False):
    return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))


def cummax(x, axis, reverse=False):
    return cummax_p.bind(x, axis=int(axis), reverse=bool(reverse))


def cummin(x, axis, reverse=False):
    return cummin_p.bind(x, axis=int(axis), reverse=bool(reverse))
