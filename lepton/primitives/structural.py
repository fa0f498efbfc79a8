"""Structural primitives: broadcast_in_dim, reshape, transpose, iota (and their helpers).

These move data without arithmetic.  In eager mode they return NumPy views where
NumPy can (broadcasting is free); backends lower them to index arithmetic.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..core import Array, Primitive, ShapedArray, get_aval
from .base import (Zero, deflinear, defnondiff, fail_dtype, fail_shape, move_to_front,
                   normalize_axis, ops, provide)

# ----------------------------------------------------------------------------- broadcast_in_dim
broadcast_in_dim_p = Primitive("broadcast_in_dim")


def _bid_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    return np.broadcast_to(x.reshape(expanded), shape)


def _bid_rule(a, *, shape, broadcast_dimensions):
    bd = broadcast_dimensions
    if len(bd) != a.ndim:
        fail_shape("broadcast_in_dim", f"broadcast_dimensions {bd} must name one output "
                   f"axis per operand axis", a)
    if any(not 0 <= d < len(shape) for d in bd) or list(bd) != sorted(set(bd)):
        fail_shape("broadcast_in_dim", f"broadcast_dimensions {bd} must be strictly increasing "
                   f"axes of the output shape {shape}", a)
    for src, dst in enumerate(bd):
        if a.shape[src] not in (1, shape[dst]):
            fail_shape("broadcast_in_dim", f"operand axis {src} of size {a.shape[src]} cannot "
                       f"broadcast to size {shape[dst]} of output shape {shape}", a)
    if any(s < 0 for s in shape):
        fail_shape("broadcast_in_dim", f"negative size in shape {shape}", a)
    return ShapedArray(shape, a.dtype, a.weak_type)


def _bid_transpose(ct, x, *, shape, broadcast_dimensions):
    if type(ct) is Zero:
        return [None]
    in_shape = x.aval.shape
    bd = broadcast_dimensions
    sum_axes = tuple(i for i in range(len(shape)) if i not in bd)
    expanded = tuple(dst for src, dst in enumerate(bd) if in_shape[src] == 1 and shape[dst] != 1)
    out = ct  # a broadcast's transpose is a sum (reductions: above this family)
    if expanded:
        out = ops.reduce_sum(out, expanded, keepdims=True)
    if sum_axes:
        out = ops.reduce_sum(out, sum_axes)
    return [reshape(out, in_shape)]


def _bid_batch(axis_size, vals, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    return broadcast_in_dim(x, (axis_size,) + tuple(shape),
                            (0,) + tuple(b + 1 for b in broadcast_dimensions)), 0


broadcast_in_dim_p.impl = _bid_impl
broadcast_in_dim_p.abstract_eval = _bid_rule
broadcast_in_dim_p.batch = _bid_batch
deflinear(broadcast_in_dim_p, _bid_transpose)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    shape, bd = tuple(int(s) for s in shape), tuple(int(b) for b in broadcast_dimensions)
    if get_aval(x).shape == shape and bd == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=bd)


# ----------------------------------------------------------------------------- reshape
reshape_p = Primitive("reshape")


def _reshape_rule(a, *, new_sizes):
    if any(s < 0 for s in new_sizes) or math.prod(new_sizes) != a.size:
        fail_shape("reshape", f"cannot reshape {a.size} elements into shape {new_sizes}", a,
                   fix="The new shape must have the same number of elements.")
    return ShapedArray(new_sizes, a.dtype, a.weak_type)


def _reshape_batch(axis_size, vals, dims, *, new_sizes):
    (x,), (d,) = vals, dims
    return reshape(moveaxis(x, d, 0), (axis_size,) + tuple(new_sizes)), 0


reshape_p.impl = lambda x, *, new_sizes: x.reshape(new_sizes)
reshape_p.abstract_eval = _reshape_rule
reshape_p.batch = _reshape_batch
deflinear(reshape_p, lambda ct, x, *, new_sizes: [
    None if type(ct) is Zero else reshape(ct, x.aval.shape)])


def reshape(x, new_sizes):
    new_sizes = tuple(int(s) for s in new_sizes)
    if get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


def expand_dims(x, axes):
    shape = list(get_aval(x).shape)
    nd = len(shape) + len(axes)
    for a in sorted(normalize_axis(a, nd, "expand_dims") for a in axes):
        shape.insert(a, 1)
    return reshape(x, shape)


def squeeze(x, axes):
    shape = get_aval(x).shape
    axes = {normalize_axis(a, len(shape), "squeeze") for a in axes}
    for a in axes:
        if shape[a] != 1:
            fail_shape("squeeze", f"cannot squeeze axis {a} of size {shape[a]}", get_aval(x))
    return reshape(x, [s for i, s in enumerate(shape) if i not in axes])


# ----------------------------------------------------------------------------- transpose
transpose_p = Primitive("transpose")


def _transpose_rule(a, *, permutation):
    if sorted(permutation) != list(range(a.ndim)):
        fail_shape("transpose", f"permutation {permutation} is not a permutation of "
                   f"range({a.ndim})", a)
    return ShapedArray(tuple(a.shape[p] for p in permutation), a.dtype, a.weak_type)


def _transpose_batch(axis_size, vals, dims, *, permutation):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    return transpose(x, (0,) + tuple(p + 1 for p in permutation)), 0


transpose_p.impl = lambda x, *, permutation: np.transpose(x, permutation)
transpose_p.abstract_eval = _transpose_rule
transpose_p.batch = _transpose_batch
deflinear(transpose_p, lambda ct, x, *, permutation: [
    None if type(ct) is Zero else transpose(ct, tuple(np.argsort(permutation)))])


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


def moveaxis(x, src: int, dst: int):
    nd = get_aval(x).ndim
    src, dst = normalize_axis(src, nd, "moveaxis"), normalize_axis(dst, nd, "moveaxis")
    if src == dst:
        return x
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return transpose(x, perm)


# ----------------------------------------------------------------------------- iota / constants
iota_p = Primitive("iota")


def _iota_impl(*, dtype, shape, dimension):
    idx = np.arange(shape[dimension], dtype=dtype)
    expanded = [1] * len(shape)
    expanded[dimension] = shape[dimension]
    return np.broadcast_to(idx.reshape(expanded), shape)


def _iota_rule(*, dtype, shape, dimension):
    if not 0 <= dimension < len(shape):
        raise ValueError(f"iota: dimension {dimension} out of range for shape {shape}")
    if dtype.kind not in "iuf":
        fail_dtype("iota", f"dtype must be numeric, got {dtype}")
    return ShapedArray(shape, dtype, False)


iota_p.impl = _iota_impl
iota_p.abstract_eval = _iota_rule
iota_p.batch = lambda axis_size, vals, dims, **params: (iota_p.bind(**params), None)  # nullary
defnondiff(iota_p)


def iota(dtype, shape, dimension=0):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=tuple(int(s) for s in shape),
                       dimension=int(dimension))


def scalar(value, dtype, weak_type=False) -> Array:
    """A 0-d constant array."""
    return Array(np.array(value, dtype=dtype), ShapedArray((), dtype, weak_type))


def full(shape, value, dtype, weak_type=False):
    """A constant of ``shape`` (a broadcast 0-d value: free in eager mode, folded under jit)."""
    dtype = dtypes.canonicalize(dtype)
    with np.errstate(all="ignore"):
        v = scalar(value, dtype, weak_type)
    return broadcast_in_dim(v, tuple(shape), ())


def zeros(aval: ShapedArray):
    if aval.dtype == dtypes.float0:
        return Array(np.zeros(aval.shape, dtypes.float0), aval)
    return full(aval.shape, 0, aval.dtype, aval.weak_type)


provide(zeros=zeros, broadcast_in_dim=broadcast_in_dim, moveaxis=moveaxis)


# ----------------------------------------------------------------------------- concatenate
concatenate_p = Primitive("concatenate")


def _concat_rule(*avals, dimension):
    if not avals:
        raise ValueError("concatenate needs at least one operand")
    a0 = avals[0]
    if not 0 <= dimension < max(a0.ndim, 1) or a0.ndim == 0:
        fail_shape("concatenate", f"dimension {dimension} is out of range (operands must have "
                   "rank >= 1)", *avals)
    for a in avals:
        if a.dtype != a0.dtype:
            fail_dtype("concatenate", "operands must have equal dtypes", *avals)
        if a.ndim != a0.ndim or any(s != t for i, (s, t) in enumerate(zip(a.shape, a0.shape))
                                    if i != dimension):
            fail_shape("concatenate", f"operands must match in every axis except {dimension}",
                       *avals)
    shape = list(a0.shape)
    shape[dimension] = sum(a.shape[dimension] for a in avals)
    return ShapedArray(shape, a0.dtype, all(a.weak_type for a in avals))


def _concat_transpose(ct, *args, dimension):
    if type(ct) is Zero:
        return [None] * len(args)
    out, start = [], 0
    for a in args:
        n = a.aval.shape[dimension]
        out.append(ops.slice_in_dim(ct, start, start + n, axis=dimension) if type(a).__name__ ==
                   "UndefinedPrimal" else None)
        start += n
    return out


def _concat_batch(axis_size, vals, dims, *, dimension):
    vals = [move_to_front(v, d, axis_size) for v, d in zip(vals, dims)]
    return concatenate(vals, dimension + 1), 0


concatenate_p.impl = lambda *xs, dimension: np.concatenate(xs, axis=dimension)
concatenate_p.abstract_eval = _concat_rule
concatenate_p.batch = _concat_batch
deflinear(concatenate_p, _concat_transpose)


def concatenate(operands, dimension):
    if len(operands) == 1:
        return operands[0]
    return concatenate_p.bind(*operands, dimension=int(dimension))
