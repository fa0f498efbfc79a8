"""Shape manipulation and joining: reshape, transpose, stack, concatenate, split, tile, ...

Everything here lowers to structural primitives (reshape, transpose, broadcast_in_dim,
concatenate), static slices and ``rev``; only array-valued repeats read through ``gather``.
``pad`` lives in ``_pad.py``.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ..errors import ConcretizationError
from ..primitives import slicing as sl
from ..primitives import structural as st
from ..primitives.indexing import gather, scatter_add
from ..primitives.reductions import cumsum
from .util import (asarray, aval_of, normalize_axes, normalize_axis,
                    to_dtype)

__all__ = ["reshape", "ravel", "transpose", "moveaxis", "swapaxes", "expand_dims", "squeeze",
           "stack", "concatenate", "hstack", "vstack", "dstack", "column_stack", "split",
           "array_split", "tile", "repeat", "flip", "fliplr", "flipud", "roll", "rot90",
           "atleast_1d", "atleast_2d", "atleast_3d", "bitcast"]


def reshape(a, newshape=None, order="C", *, shape=None):
    """Reshape (``-1`` infers one size); C or Fortran (``order='F'``) order, as JAX."""
    newshape = shape if newshape is None else newshape
    if order not in ("C", "F"):
        raise NotImplementedError(f"reshape: order={order!r} is not supported; use 'C' or 'F'")
    a = asarray(a)
    if isinstance(newshape, int) or not hasattr(newshape, "__len__"):
        newshape = (newshape,)
    newshape = [operator.index(s) for s in newshape]
    if order == "F":  # Fortran order is C order on the axis-reversed views
        rev = tuple(range(a.ndim))[::-1]
        out = reshape(st.transpose(a, rev), newshape[::-1])
        return st.transpose(out, tuple(range(out.ndim))[::-1])
    if newshape.count(-1) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension, got {tuple(newshape)}")
    if -1 in newshape:
        known = 1
        for s in newshape:
            if s != -1:
                known *= s
        if known == 0 or a.size % known:
            raise ValueError(f"cannot reshape array of size {a.size} into shape {tuple(newshape)}")
        newshape[newshape.index(-1)] = a.size // known
    return st.reshape(a, tuple(newshape))


def ravel(a, order="C"):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    a = asarray(a)
    if axes is None:
        axes = tuple(range(a.ndim))[::-1]
    axes = tuple(normalize_axis(ax, a.ndim, "transpose axes") for ax in axes)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"transpose: axes {axes} must be a permutation of range({a.ndim})")
    return st.transpose(a, axes)


def _axis_list(axis):
    return [axis] if not isinstance(axis, (tuple, list)) else list(axis)


def moveaxis(a, source, destination):
    a = asarray(a)
    src, dst = _axis_list(source), _axis_list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    src = [normalize_axis(s, a.ndim, "source") for s in src]
    dst = [normalize_axis(d, a.ndim, "destination") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: repeated axis in source or destination")
    order = [n for n in range(a.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return st.transpose(a, tuple(order))


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    perm = list(range(a.ndim))
    i, j = normalize_axis(axis1, a.ndim), normalize_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return st.transpose(a, tuple(perm))


def expand_dims(a, axis):
    a = asarray(a)
    axes = _axis_list(axis)
    axes = normalize_axes(axes, a.ndim + len(axes), "expand_dims axis")
    shape = list(a.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return st.reshape(a, shape)


def squeeze(a, axis=None):
    """Drop axes of size one (all of them, or those in ``axis``)."""
    a = asarray(a)
    if axis is None:
        return st.reshape(a, [s for s in a.shape if s != 1])
    axes = normalize_axes(axis, a.ndim, "squeeze axis")
    for ax in axes:
        if a.shape[ax] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {ax} of size {a.shape[ax]} (shape "
                             f"{a.shape}); only axes of size 1 can be removed")
    return st.reshape(a, [s for i, s in enumerate(a.shape) if i not in axes])


# ----------------------------------------------------------------------------- joining
def _promoted(arrays, dtype, name):
    if not len(arrays):
        raise ValueError(f"{name}: need at least one array")
    arrays = list(arrays)
    if dtype is not None:
        dt, weak = dtypes.canonicalize(dtype), False
    else:
        avals = [aval_of(a) for a in arrays]
        dt, weak = dtypes.promote(*((a.dtype, a.weak_type) for a in avals))
    return [to_dtype(a, dt, weak) for a in arrays]  # Python data converts exactly


def concatenate(arrays, axis=0, dtype=None):
    arrays = _promoted(arrays, dtype, "concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    for a in arrays:
        if a.ndim == 0:
            raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated; "
                             "use lnp.stack")
    axis = normalize_axis(axis, arrays[0].ndim)
    return st.concatenate(arrays, axis)


def stack(arrays, axis=0, dtype=None):
    arrays = _promoted(arrays, dtype, "stack")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got "
                         f"{sorted(shapes)}")
    axis = normalize_axis(axis, arrays[0].ndim + 1)
    return st.concatenate([expand_dims(a, axis) for a in arrays], axis)


def hstack(tup, dtype=None):
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, 0 if arrays and arrays[0].ndim == 1 else 1, dtype)


def vstack(tup, dtype=None):
    return concatenate([atleast_2d(a) for a in tup], 0, dtype)


def dstack(tup, dtype=None):
    return concatenate([atleast_3d(a) for a in tup], 2, dtype)


def column_stack(tup):
    arrays = [asarray(a) for a in tup]
    return concatenate([reshape(a, (-1, 1)) if a.ndim < 2 else a for a in arrays], 1)


def _static_ints(x, name):
    if isinstance(x, Tracer):
        raise ConcretizationError(f"{name} must be static (Python ints), got a traced "
                                  f"{x.aval.str_short()} value")
    return np.asarray(x)


def array_split(ary, indices_or_sections, axis=0):
    """Split into pieces; an int gives that many nearly equal pieces (the first ones larger)."""
    a = asarray(ary)
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    ios = _static_ints(indices_or_sections, "split indices_or_sections")
    if ios.ndim == 0:
        k = operator.index(ios.item())
        if k <= 0:
            raise ValueError("split: number of sections must be larger than 0")
        each, extra = divmod(n, k)
        bounds = np.cumsum([0] + [each + 1] * extra + [each] * (k - extra)).tolist()
    else:
        bounds = [0] + [operator.index(i) for i in ios.tolist()] + [n]
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo, hi, _ = builtins.slice(lo, hi).indices(n)
        pieces.append(sl.slice_in_dim(a, lo, builtins.max(lo, hi), axis=axis))
    return pieces


def split(ary, indices_or_sections, axis=0):
    a = asarray(ary)
    ios = _static_ints(indices_or_sections, "split indices_or_sections")
    if ios.ndim == 0 and ios.item() > 0 and a.shape[normalize_axis(axis, a.ndim)] % ios.item():
        raise ValueError(f"split: an axis of size {a.shape[axis]} does not divide into "
                         f"{ios.item()} equal sections; use lnp.array_split")
    return array_split(a, indices_or_sections, axis)


# ----------------------------------------------------------------------------- tiling
def tile(A, reps):
    a = asarray(A)
    reps = (reps,) if not isinstance(reps, (tuple, list)) else tuple(reps)
    reps = tuple(operator.index(r) for r in reps)
    nd = builtins.max(a.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - a.ndim) + a.shape
    a = st.reshape(a, shape)
    grown = [d for r, s in zip(reps, shape) for d in (r, s)]
    b = st.broadcast_in_dim(a, grown, tuple(range(1, 2 * nd, 2)))
    return st.reshape(b, [r * s for r, s in zip(reps, shape)])


def gather_axis(a, idx, axis, mode="clip", fill_value=None):
    """``a`` read at integer array ``idx`` along ``axis`` (idx's axes replace ``axis``)."""
    out = gather(a, [idx], (axis,), mode, fill_value)
    nb = idx.aval.ndim
    perm = list(range(nb, nb + axis)) + list(range(nb)) + list(range(nb + axis, out.aval.ndim))
    return st.transpose(out, perm)


def _static_index(values):
    values = np.asarray(values)
    return asarray(values.astype(dtypes.int64 if values.size and values.max() >= 2**31
                                 else dtypes.int32))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat elements; traced array ``repeats`` need a static ``total_repeat_length``.

    With ``total_repeat_length``, the result is cut to that length, or padded with the
    last element (as JAX).
    """
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if not isinstance(repeats, Tracer):
        r = np.asarray(repeats)
        if r.dtype.kind not in "iub":
            raise TypeError(f"repeat: repeats must be integers, got {r.dtype}")
        if (r < 0).any():
            raise ValueError("repeat: repeats may not be negative")
        if r.ndim == 0 and (total_repeat_length is None or total_repeat_length == n * r):
            k = int(r)
            shape = a.shape[:axis + 1] + (k,) + a.shape[axis + 1:]
            dims = tuple(i for i in range(a.ndim + 1) if i != axis + 1)
            out_shape = a.shape[:axis] + (n * k,) + a.shape[axis + 1:]
            return st.reshape(st.broadcast_in_dim(a, shape, dims), out_shape)
        if r.ndim > 1 or r.size not in (1, n):
            raise ValueError(f"repeat: repeats of shape {r.shape} do not fit an axis of size {n}")
        idx = np.repeat(np.arange(n), np.broadcast_to(r, (n,)))
        if total_repeat_length is not None:
            total = operator.index(total_repeat_length)
            idx = np.concatenate([idx, np.full(builtins.max(total - idx.size, 0), n - 1)])[:total]
        return gather_axis(a, _static_index(idx), axis)
    if total_repeat_length is None:
        raise ConcretizationError(
            "repeat: traced `repeats` give a data-dependent output size; pass "
            "total_repeat_length= (a static int) to fix the length of the result")
    total = operator.index(total_repeat_length)
    r = st.broadcast_in_dim(asarray(repeats), (n,), ()) if repeats.ndim == 0 else repeats
    r = to_dtype(r, dtypes.int32)
    # segment starts (exclusive prefix sums) mark where the source index increments
    starts = sl.pad(cumsum(r, 0), 0, [(1, -1, 0)])
    marks = scatter_add(st.full((total,), 0, dtypes.int32), st.full((n,), 1, dtypes.int32),
                        [starts], (0,), mode="drop")
    idx = cumsum(marks, 0) - 1
    return gather_axis(a, idx, axis)


# ----------------------------------------------------------------------------- flips and rolls
def flip(m, axis=None):
    a = asarray(m)
    return sl.rev(a, normalize_axes(axis, a.ndim, "flip axis"))


def fliplr(m):
    a = asarray(m)
    if a.ndim < 2:
        raise ValueError(f"fliplr: input must be at least 2-d, got shape {a.shape}")
    return sl.rev(a, (1,))


def flipud(m):
    a = asarray(m)
    if a.ndim < 1:
        raise ValueError("flipud: input must be at least 1-d")
    return sl.rev(a, (0,))


def _roll_axis(a, shift, axis):
    n = a.shape[axis]
    if n == 0:
        return a
    if not isinstance(shift, Tracer):
        s = operator.index(shift) % n
        if s == 0:
            return a
        return st.concatenate([sl.slice_in_dim(a, n - s, n, axis=axis),
                               sl.slice_in_dim(a, 0, n - s, axis=axis)], axis)
    # traced shift: a window of the doubled array starting at (-shift) mod n
    from ._ufuncs import remainder
    start = remainder(-shift, n)
    starts = [0] * a.ndim
    starts[axis] = start
    return sl.dynamic_slice(st.concatenate([a, a], axis), starts, a.shape)


def roll(a, shift, axis=None):
    """Roll elements along ``axis`` (the flattened array if None); shift may be traced."""
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts = list(shift) if isinstance(shift, (tuple, list)) else None
    axes = _axis_list(axis)
    if shifts is None:
        shifts = [shift] * len(axes)
    elif len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift} and axis {axis} must have the same length")
    for s, ax in zip(shifts, axes):
        a = _roll_axis(a, s, normalize_axis(ax, a.ndim))
    return a


def rot90(m, k=1, axes=(0, 1)):
    a = asarray(m)
    if len(axes) != 2:
        raise ValueError("rot90: axes must name exactly two axes")
    a0, a1 = (normalize_axis(ax, a.ndim) for ax in axes)
    if a0 == a1:
        raise ValueError("rot90: the two axes must be different")
    k = operator.index(k) % 4
    if k == 0:
        return a
    if k == 2:
        return sl.rev(a, (a0, a1))
    perm = list(range(a.ndim))
    perm[a0], perm[a1] = a1, a0
    if k == 1:
        return st.transpose(sl.rev(a, (a1,)), perm)
    return sl.rev(st.transpose(a, perm), (a1,))


# ----------------------------------------------------------------------------- atleast_nd
def _atleast(arys, nd, place):
    out = []
    for x in arys:
        x = asarray(x)
        out.append(st.reshape(x, place(x.shape)) if x.ndim < nd else x)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    return _atleast(arys, 1, lambda s: (1,) * (1 - len(s)) + s)


def atleast_2d(*arys):
    return _atleast(arys, 2, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    return _atleast(arys, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def bitcast(x, dtype):
    """Reinterpret the bits of ``x`` as ``dtype`` (same itemsize), like ``ndarray.view``."""
    return sl.bitcast_convert_type(asarray(x), dtype)

