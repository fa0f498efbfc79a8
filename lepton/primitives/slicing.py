"""Slicing primitives: static slice, pad, rev, dynamic_slice, dynamic_update_slice, bitcast.

Static slices take Python ints (start/limit/stride per axis).  Dynamic slices take
scalar integer arrays as start indices and clamp them so the window fits, as XLA
does: a start past the end slides the window back inside the operand.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval
from .base import (Zero, deflinear, deflinear_in, defnondiff, defvectorized, fail_dtype,
                   fail_shape, index_dtype, is_undefined, move_to_front, ops, provide)
from .elementwise import add, convert_element_type, lt, max as emax, min as emin, select, sub
from .indexing import gather, scatter
from .structural import broadcast_in_dim, full, iota, moveaxis, scalar, zeros


def check_scalar_indices(name, indices, *avals):
    for i in indices:
        if i.shape != () or i.dtype.kind not in "iu":
            fail_shape(name, "start indices must be scalar integer arrays", *avals, *indices)


# ----------------------------------------------------------------------------- slice
slice_p = Primitive("slice")


def _slice_impl(x, *, start_indices, limit_indices, strides):
    return x[tuple(builtins.slice(s, l, st)
                   for s, l, st in zip(start_indices, limit_indices, strides))]


def _slice_rule(a, *, start_indices, limit_indices, strides):
    if not len(start_indices) == len(limit_indices) == len(strides) == a.ndim:
        fail_shape("slice", f"start_indices {start_indices}, limit_indices {limit_indices} and "
                   f"strides {strides} need one entry per axis", a)
    shape = []
    for s, l, st, n in zip(start_indices, limit_indices, strides, a.shape):
        if not (0 <= s <= l <= n) or st < 1:
            fail_shape("slice", f"invalid slice start={start_indices} limit={limit_indices} "
                       f"strides={strides}", a,
                       fix="Need 0 <= start <= limit <= size and stride >= 1 on every axis.")
        shape.append(-(-(l - s) // st))
    return ShapedArray(shape, a.dtype, a.weak_type)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    if type(ct) is Zero:
        return [None]
    cfg = []
    for s, st, n, m in zip(start_indices, strides, x.aval.shape, ct.aval.shape):
        end = s + (m - 1) * st + 1 if m else s  # one past the last element read
        cfg.append((s, n - end, st - 1 if m else 0))
    return [pad(ct, 0, cfg)]


def _slice_batch(axis_size, vals, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = vals, dims
    ins = lambda t, v: t[:d] + (v,) + t[d:]  # noqa: E731
    return slice_p.bind(x, start_indices=ins(start_indices, 0),
                        limit_indices=ins(limit_indices, axis_size),
                        strides=ins(strides, 1)), d


slice_p.impl = _slice_impl
slice_p.abstract_eval = _slice_rule
slice_p.batch = _slice_batch
deflinear(slice_p, _slice_transpose)


def slice(x, start_indices, limit_indices, strides=None):
    nd = len(start_indices)
    strides = (1,) * nd if strides is None else tuple(int(s) for s in strides)
    start, limit = tuple(int(s) for s in start_indices), tuple(int(s) for s in limit_indices)
    if start == (0,) * nd and limit == get_aval(x).shape and strides == (1,) * nd:
        return x
    return slice_p.bind(x, start_indices=start, limit_indices=limit, strides=strides)


def slice_in_dim(x, start, limit, stride=1, axis=0):
    shape = get_aval(x).shape
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, limit, stride
    return slice(x, starts, limits, strides)


provide(slice_in_dim=slice_in_dim)


# ----------------------------------------------------------------------------- pad
pad_p = Primitive("pad")


def _pad_impl(x, padval, *, padding_config):
    # Pad with the non-negative parts, then crop where lo/hi are negative.
    grown = [builtins.max(lo, 0) + builtins.max(hi, 0) + n + builtins.max(n - 1, 0) * it
             for n, (lo, hi, it) in zip(x.shape, padding_config)]
    out = np.full(grown, padval, dtype=x.dtype)
    out[tuple(np.s_[builtins.max(lo, 0):builtins.max(lo, 0) + (n - 1) * (it + 1) + 1:it + 1]
              if n else np.s_[0:0]
              for n, (lo, hi, it) in zip(x.shape, padding_config))] = x
    return out[tuple(np.s_[-builtins.min(lo, 0):g + builtins.min(hi, 0)]
                     for (lo, hi, _), g in zip(padding_config, grown))]


def _pad_rule(a, padval, *, padding_config):
    if padval.shape != ():
        fail_shape("pad", "the padding value must be a scalar", a, padval)
    if padval.dtype != a.dtype:
        fail_dtype("pad", "the padding value must have the operand's dtype", a, padval)
    if len(padding_config) != a.ndim:
        fail_shape("pad", f"padding_config {padding_config} needs one (lo, hi, interior) per "
                   "axis", a)
    shape = []
    for n, (lo, hi, it) in zip(a.shape, padding_config):
        if it < 0:
            fail_shape("pad", f"interior padding must be non-negative, got {padding_config}", a)
        m = lo + hi + n + builtins.max(n - 1, 0) * it
        if m < 0:
            fail_shape("pad", f"padding {padding_config} crops more than the padded size", a)
        shape.append(m)
    return ShapedArray(shape, a.dtype, a.weak_type)


def _pad_transpose(ct, x, padval, *, padding_config):
    if type(ct) is Zero:
        return [None, None]
    # Undo lo/hi (negated padding restores cropped parts as zeros), then skip interior.
    t = pad(ct, 0, [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    t = slice(t, [0] * t.aval.ndim, t.aval.shape, [it + 1 for _, _, it in padding_config])
    ct_pad = None
    if is_undefined(padval):
        everything = tuple(range(ct.aval.ndim))
        ct_pad = sub(ops.reduce_sum(ct, everything), ops.reduce_sum(t, everything))
    return [t if is_undefined(x) else None, ct_pad]


def _pad_batch(axis_size, vals, dims, *, padding_config):
    (x, pv), (dx, dp) = vals, dims
    if dp is None:
        cfg = padding_config[:dx] + ((0, 0, 0),) + padding_config[dx:]
        return pad_p.bind(x, pv, padding_config=cfg), dx
    # A batched padding value: pad with zeros, then select each batch's value where padded.
    x = move_to_front(x, dx, axis_size)
    cfg = ((0, 0, 0),) + padding_config
    inside = pad(full(x.aval.shape, True, dtypes.bool_), False, cfg)
    padded = pad(x, 0, cfg)
    return select(inside, padded, broadcast_in_dim(pv, padded.aval.shape, (0,))), 0


pad_p.impl = _pad_impl
pad_p.abstract_eval = _pad_rule
pad_p.batch = _pad_batch
deflinear(pad_p, _pad_transpose)


def pad(x, padding_value, padding_config):
    """Pad ``x`` by (lo, hi, interior) per axis; negative lo/hi crop."""
    if not hasattr(padding_value, "aval"):
        padding_value = full((), padding_value, get_aval(x).dtype)
    cfg = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
    return pad_p.bind(x, padding_value, padding_config=cfg)


# ----------------------------------------------------------------------------- rev
rev_p = Primitive("rev")


def _rev_rule(a, *, dimensions):
    if len(set(dimensions)) != len(dimensions) or any(not 0 <= d < a.ndim for d in dimensions):
        fail_shape("rev", f"dimensions {dimensions} must be distinct axes in range({a.ndim})", a)
    return a


def _rev_batch(axis_size, vals, dims, *, dimensions):
    (x,), (d,) = vals, dims
    return rev(x, tuple(a + (a >= d) for a in dimensions)), d


rev_p.impl = lambda x, *, dimensions: np.flip(x, dimensions)
rev_p.abstract_eval = _rev_rule
rev_p.batch = _rev_batch
deflinear(rev_p, lambda ct, x, *, dimensions: [
    None if type(ct) is Zero else rev(ct, dimensions)])


def rev(x, dimensions):
    """Reverse the order of elements along ``dimensions``."""
    dimensions = tuple(int(d) for d in dimensions)
    return rev_p.bind(x, dimensions=dimensions) if dimensions else x


# ----------------------------------------------------------------------------- dynamic_slice
dynamic_slice_p = Primitive("dynamic_slice")


def _clamped_starts(shape, starts, sizes):
    return [builtins.min(builtins.max(int(s), 0), n - k) for s, n, k in zip(starts, shape, sizes)]


def _dynamic_slice_impl(x, *starts, slice_sizes):
    lo = _clamped_starts(x.shape, starts, slice_sizes)
    return x[tuple(builtins.slice(s, s + k) for s, k in zip(lo, slice_sizes))]


def _dynamic_slice_rule(a, *starts, slice_sizes):
    if len(starts) != a.ndim or len(slice_sizes) != a.ndim:
        fail_shape("dynamic_slice", f"needs one start index and one slice size per axis, got "
                   f"{len(starts)} start indices and slice_sizes={slice_sizes}", a)
    check_scalar_indices("dynamic_slice", starts, a)
    if any(not 0 <= k <= n for k, n in zip(slice_sizes, a.shape)):
        fail_shape("dynamic_slice", f"slice_sizes {slice_sizes} must lie in [0, size] on every "
                   "axis", a)
    return ShapedArray(slice_sizes, a.dtype, a.weak_type)


def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    if type(ct) is Zero:
        return [None] * (1 + len(starts))
    return [dynamic_update_slice(zeros(x.aval), ct, starts, allow_negative_indices=False)] \
        + [None] * len(starts)


def _window_indices(axis_size, starts, start_dims, shape, sizes):
    """Index arrays of shape (batch,) + sizes addressing each batch's clamped window."""
    grid = (axis_size,) + tuple(sizes)
    dt = index_dtype([get_aval(s) for s in starts])
    out = [iota(dt, grid, 0)]
    for i, (s, d, n, k) in enumerate(zip(starts, start_dims, shape, sizes)):
        s = move_to_front(convert_element_type(s, dt), d, axis_size)
        s = emin(emax(s, full((axis_size,), 0, dt)), full((axis_size,), n - k, dt))
        out.append(add(broadcast_in_dim(s, grid, (0,)), iota(dt, grid, i + 1)))
    return out


def _dynamic_slice_batch(axis_size, vals, dims, *, slice_sizes):
    x, starts = vals[0], vals[1:]
    if all(d is None for d in dims[1:]):
        d = dims[0]
        starts = list(starts)
        starts.insert(d, scalar(0, get_aval(starts[0]).dtype if starts else dtypes.int32))
        sizes = slice_sizes[:d] + (axis_size,) + slice_sizes[d:]
        return dynamic_slice_p.bind(x, *starts, slice_sizes=sizes), d
    shape = get_aval(x).shape
    if dims[0] is not None:
        shape = shape[:dims[0]] + shape[dims[0] + 1:]
    idx = _window_indices(axis_size, starts, dims[1:], shape, slice_sizes)
    if dims[0] is None:  # shared operand: no index for a batch axis
        return gather(x, idx[1:], tuple(range(len(shape))), mode="clip"), 0
    x = moveaxis(x, dims[0], 0)
    return gather(x, idx, tuple(range(len(shape) + 1)), mode="clip"), 0


dynamic_slice_p.impl = _dynamic_slice_impl
dynamic_slice_p.abstract_eval = _dynamic_slice_rule
dynamic_slice_p.batch = _dynamic_slice_batch
deflinear_in(dynamic_slice_p, 1, _dynamic_slice_transpose)


def _start_indices(name, x, start_indices, allow_negative_indices):
    """Scalar index arrays; as JAX, a negative start counts from the end of its axis
    (``allow_negative_indices``, one bool or one per axis) before the window is clamped."""
    shape = get_aval(x).shape
    starts = list(start_indices)
    if len(starts) != len(shape):
        fail_shape(name, f"needs one start index per axis, got {len(starts)}", get_aval(x))
    allow = allow_negative_indices
    allow = [bool(allow)] * len(starts) if isinstance(allow, (bool, int)) else list(allow)
    out = []
    for i, n, neg in zip(starts, shape, allow):
        if not hasattr(i, "aval"):
            i = int(i)
            out.append(scalar(i + n if neg and i < 0 else i, dtypes.int32))
        elif neg and get_aval(i).dtype.kind == "i" and get_aval(i).shape == ():
            zero = scalar(0, get_aval(i).dtype)
            out.append(select(lt(i, zero), add(i, scalar(n, get_aval(i).dtype)), i))
        else:
            out.append(i)
    return out


def dynamic_slice(x, start_indices, slice_sizes, *, allow_negative_indices=True):
    """The window of ``slice_sizes`` at ``start_indices`` (scalars; clamped to fit)."""
    starts = _start_indices("dynamic_slice", x, start_indices, allow_negative_indices)
    return dynamic_slice_p.bind(x, *starts, slice_sizes=tuple(int(k) for k in slice_sizes))


# ----------------------------------------------------------------------------- dynamic_update_slice
dynamic_update_slice_p = Primitive("dynamic_update_slice")


def _dus_impl(x, update, *starts):
    lo = _clamped_starts(x.shape, starts, update.shape)
    out = x.copy()
    out[tuple(builtins.slice(s, s + k) for s, k in zip(lo, update.shape))] = update
    return out


def _dus_rule(a, u, *starts):
    if u.dtype != a.dtype:
        fail_dtype("dynamic_update_slice", "update must have the operand's dtype", a, u)
    if u.ndim != a.ndim or len(starts) != a.ndim or any(k > n for k, n in zip(u.shape, a.shape)):
        fail_shape("dynamic_update_slice", "needs an update of the operand's rank, no larger on "
                   "any axis, and one start index per axis", a, u, *starts)
    check_scalar_indices("dynamic_update_slice", starts, a, u)
    return a


def _dus_transpose(ct, x, update, *starts):
    none = [None] * len(starts)
    if type(ct) is Zero:
        return [None, None] + none
    ct_x = dynamic_update_slice(ct, zeros(update.aval.update(dtype=ct.aval.dtype)), starts,
                                allow_negative_indices=False) if is_undefined(x) else None
    ct_u = dynamic_slice(ct, starts, update.aval.shape, allow_negative_indices=False) \
        if is_undefined(update) else None
    return [ct_x, ct_u] + none


def _dus_batch(axis_size, vals, dims):
    x, u, starts = move_to_front(vals[0], dims[0], axis_size), vals[1], vals[2:]
    if all(d is None for d in dims[2:]):
        u = move_to_front(u, dims[1], axis_size)
        zero = scalar(0, get_aval(starts[0]).dtype if starts else dtypes.int32)
        return dynamic_update_slice_p.bind(x, u, zero, *starts), 0
    u_shape = get_aval(u).shape[:dims[1]] + get_aval(u).shape[dims[1] + 1:] \
        if dims[1] is not None else get_aval(u).shape
    u = move_to_front(u, dims[1], axis_size)
    idx = _window_indices(axis_size, starts, dims[2:], x.aval.shape[1:], u_shape)
    return scatter(x, u, idx, tuple(range(x.aval.ndim)), mode="clip"), 0


dynamic_update_slice_p.impl = _dus_impl
dynamic_update_slice_p.abstract_eval = _dus_rule
dynamic_update_slice_p.batch = _dus_batch
deflinear_in(dynamic_update_slice_p, 2, _dus_transpose)


def dynamic_update_slice(x, update, start_indices, *, allow_negative_indices=True):
    """``x`` with ``update`` written at ``start_indices`` (scalars; clamped to fit)."""
    starts = _start_indices("dynamic_update_slice", x, start_indices, allow_negative_indices)
    return dynamic_update_slice_p.bind(x, update, *starts)


# ----------------------------------------------------------------------------- bitcast
bitcast_convert_type_p = Primitive("bitcast_convert_type")


def _bitcast_rule(a, *, new_dtype):
    if new_dtype.itemsize != a.dtype.itemsize or dtypes.bool_ in (a.dtype, new_dtype):
        fail_dtype("bitcast_convert_type", f"cannot reinterpret {a.dtype} as {new_dtype}", a,
                   fix="Both dtypes must be non-boolean with the same itemsize.")
    return ShapedArray(a.shape, new_dtype, False)


bitcast_convert_type_p.impl = lambda x, *, new_dtype: x.view(new_dtype)
bitcast_convert_type_p.abstract_eval = _bitcast_rule
defvectorized(bitcast_convert_type_p)
defnondiff(bitcast_convert_type_p)


def bitcast_convert_type(x, new_dtype):
    """Reinterpret the bits of each element as ``new_dtype`` (same itemsize)."""
    return bitcast_convert_type_p.bind(x, new_dtype=dtypes.canonicalize(new_dtype))

