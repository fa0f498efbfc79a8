"""Slicing primitives: static slice (start/limit/stride), pad, rev, dynamic slices."""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray
from .base import Zero, deflinear, fail_shape

slice_p = Primitive("slice")


def _slice_impl(x, *, start_indices, limit_indices, strides):
    return x[tuple(slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides))]


def _slice_rule(a, *, start_indices, limit_indices, strides):
    if not len(start_indices) == len(limit_indices) == len(strides) == a.ndim:
        fail_shape("slice", "start_indices, limit_indices and strides need one entry per axis", a)
    shape = []
    for s, l, st, n in zip(start_indices, limit_indices, strides, a.shape):
        if not (0 <= s <= l <= n) or st < 1:
            fail_shape("slice", f"invalid slice start={start_indices} limit={limit_indices} "
                       f"strides={strides}", a)
        shape.append(max(0, -(-(l - s) // st)))
    return ShapedArray(shape, a.dtype, a.weak_type)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    if type(ct) is Zero:
        return [None]
    shape = x.aval.shape
    lo = start_indices
    hi = []
    interior = []
    for s, l, st, n, m in zip(start_indices, limit_indices, strides, shape, ct.aval.shape):
        real_limit = s + (m - 1) * st + 1 if m else s
        hi.append(n - real_limit)
        interior.append(st - 1)
    return [pad(ct, 0, tuple(zip(lo, hi, interior)))]


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
    return slice_p.bind(x, start_indices=tuple(int(s) for s in start_indices),
                        limit_indices=tuple(int(s) for s in limit_indices), strides=strides)


def slice_in_dim(x, start, limit, stride=1, axis=0):
    shape = x.aval.shape
    starts = [0] * len(shape)
    limits = list(shape)
    strides = [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, limit, stride
    return slice(x, starts, limits, strides)


# ----------------------------------------------------------------------------- pad
pad_p = Primitive("pad")


def _pad_impl(x, padval, *, padding_config):
    # negative lo/hi crop: build with non-negative padding, then slice
    full_cfg = [(max(lo, 0), max(hi, 0), it) for lo, hi, it in padding_config]
    big_shape = [max(lo, 0) + max(hi, 0) + n + max(n - 1, 0) * it
                 for n, (lo, hi, it) in zip(x.shape, padding_config)]
    out = np.full(big_shape, padval, dtype=x.dtype)
    idx = tuple(np.s_[lo:lo + (n - 1) * (it + 1) + 1:it + 1] if n else np.s_[lo:lo]
                for n, (lo, hi, it) in zip(x.shape, full_cfg))
    out[idx] = x
    crop = tuple(np.s_[-min(lo, 0): b - (-min(hi, 0))]
                 for (lo, hi, _), b in zip(padding_config, big_shape))
    return out[crop]


def _pad_rule(a, padval, *, padding_config):
    if padval.shape != () or padval.dtype != a.dtype:
        fail_shape("pad", "padding value must be a scalar of the operand's dtype", a, padval)
    if len(padding_config) != a.ndim:
        fail_shape("pad", f"padding_config needs one (lo, hi, interior) per axis, got "
                   f"{padding_config}", a)
    shape = []
    for n, (lo, hi, it) in zip(a.shape, padding_config):
        if it < 0:
            fail_shape("pad", "interior padding must be non-negative", a)
        m = lo + hi + n + max(n - 1, 0) * it
        if m < 0:
            fail_shape("pad", f"padding {padding_config} gives a negative size", a)
        shape.append(m)
    return ShapedArray(shape, a.dtype, a.weak_type)


def _pad_transpose(ct, x, padval, *, padding_config):
    if type(ct) is Zero:
        return [None, None]
    from .reductions import reduce_sum
    from .elementwise import sub
    # Unpad: negate the padding (crop lo/hi), then take every (interior+1)-th element.
    unpad_cfg = tuple((-lo, -hi, 0) for lo, hi, _ in padding_config)
    from .structural import full
    zero = full((), 0, ct.aval.dtype)
    t = pad(ct, zero, unpad_cfg)
    t = slice(t, [0] * t.aval.ndim, t.aval.shape, [it + 1 for _, _, it in padding_config])
    ct_x = t if type(x).__name__ == "UndefinedPrimal" else None
    ct_pad = None
    if type(padval).__name__ == "UndefinedPrimal":
        total = reduce_sum(ct, tuple(range(ct.aval.ndim)))
        ct_pad = sub(total, reduce_sum(t, tuple(range(t.aval.ndim))))
    return [ct_x, ct_pad]


def _pad_batch(axis_size, vals, dims, *, padding_config):
    (x, pv), (dx, dp) = vals, dims
    if dp is not None:
        raise NotImplementedError("pad: batching over the padding value is not supported; "
                                  "use lnp.where on a padded mask instead")
    cfg = padding_config[:dx] + ((0, 0, 0),) + padding_config[dx:]
    return pad_p.bind(x, pv, padding_config=cfg), dx


pad_p.impl = _pad_impl
pad_p.abstract_eval = _pad_rule
pad_p.batch = _pad_batch
deflinear(pad_p, _pad_transpose)


def pad(x, padding_value, padding_config):
    from .structural import full
    if not hasattr(padding_value, "aval"):
        padding_value = full((), padding_value, x.aval.dtype)
    cfg = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
    return pad_p.bind(x, padding_value, padding_config=cfg)
