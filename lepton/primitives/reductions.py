"""Reduction primitives over a tuple of axes: reduce_sum, reduce_max, reduce_min, ...

The primitives drop the reduced axes; ``keepdims`` is a reshape in the wrappers.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray, get_aval
from .base import Zero, check_dtype_kind, deflinear, defjvp, fail_shape
from .structural import broadcast_in_dim, reshape


def _check_axes(name, a, axes):
    if len(set(axes)) != len(axes) or any(not 0 <= ax < a.ndim for ax in axes):
        fail_shape(name, f"axes {axes} must be distinct axes in range({a.ndim})", a)


def reducer(name, np_fn, kinds="iufc", identity_required=False):
    """Define a reduction with impl, shape rule and batching."""
    p = Primitive(name)

    def impl(x, *, axes):
        if identity_required and x.size == 0 and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{name}: zero-size reduction has no identity")
        return np.asarray(np_fn(x, axis=axes)).astype(x.dtype, copy=False)

    def rule(a, *, axes):
        _check_axes(name, a, axes)
        check_dtype_kind(name, [a], kinds, {"iufc": "numeric", "biufc": "any"}.get(kinds, kinds))
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


def _sum_impl(x, axis):
    return np.sum(x, axis=axis, dtype=x.dtype)


reduce_sum_p = reducer("reduce_sum", _sum_impl)
reduce_max_p = reducer("reduce_max", np.max, kinds="biufc", identity_required=True)
reduce_min_p = reducer("reduce_min", np.min, kinds="biufc", identity_required=True)


def _sum_transpose(ct, x, *, axes):
    if type(ct) is Zero:
        return [None]
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return [broadcast_in_dim(ct, shape, kept)]


deflinear(reduce_sum_p, _sum_transpose)


def _extremum_jvp(t, x, *, ans, axes):
    # The tangent flows to every location that attains the extremum, split equally.
    from .elementwise import convert_element_type, div, eq, mul
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    loc = convert_element_type(eq(x, broadcast_in_dim(ans, shape, kept)), t.aval.dtype)
    counts = reduce_sum(loc, axes)
    return div(reduce_sum(mul(t, loc), axes), counts)


defjvp(reduce_max_p, _extremum_jvp)
defjvp(reduce_min_p, _extremum_jvp)


def _reduce(p, x, axes, keepdims=False):
    shape = get_aval(x).shape
    axes = tuple(sorted(int(a) % max(len(shape), 1) for a in axes))
    out = p.bind(x, axes=axes) if axes else x
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return out


def reduce_sum(x, axes, keepdims=False):
    return _reduce(reduce_sum_p, x, axes, keepdims)


def reduce_max(x, axes, keepdims=False):
    return _reduce(reduce_max_p, x, axes, keepdims)


def reduce_min(x, axes, keepdims=False):
    return _reduce(reduce_min_p, x, axes, keepdims)
