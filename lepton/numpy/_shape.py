"""Shape manipulation and joining: reshape, transpose, stack, concatenate, split, pad, ..."""
from __future__ import annotations

import operator

from ..primitives import structural as st
from ._util import asarray, normalize_axis


def reshape(a, newshape=None, order="C", *, shape=None):
    """Reshape (``-1`` infers one size); only C order, as JAX."""
    newshape = shape if newshape is None else newshape
    if order != "C":
        raise NotImplementedError("reshape: only order='C' is supported")
    a = asarray(a)
    if isinstance(newshape, int) or not hasattr(newshape, "__len__"):
        newshape = (newshape,)
    newshape = [operator.index(s) for s in newshape]
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
    return st.transpose(a, axes)


def moveaxis(a, source, destination):
    a = asarray(a)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    src = [normalize_axis(s, a.ndim, "source") for s in src]
    dst = [normalize_axis(d, a.ndim, "destination") for d in dst]
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
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return st.expand_dims(a, axes)


def stack(arrays, axis=0):
    from ._util import promote_args
    arrays = promote_args("stack", *arrays) if len(arrays) > 1 else [asarray(arrays[0])]
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def concatenate(arrays, axis=0, dtype=None):
    from ._util import to_dtype
    if not len(arrays):
        raise ValueError("need at least one array to concatenate")
    arrays = [asarray(a) for a in arrays]
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    for a in arrays:
        if a.ndim == 0:
            raise ValueError("zero-dimensional arrays cannot be concatenated; use lnp.stack")
    # promote dtypes without broadcasting shapes
    if len(arrays) > 1:
        from .. import dtypes
        dt, weak = dtypes.promote(*((a.aval.dtype, a.aval.weak_type) for a in arrays))
        arrays = [to_dtype(a, dt, weak) for a in arrays]
    if dtype is not None:
        arrays = [to_dtype(a, dtype) for a in arrays]
    axis = normalize_axis(axis, arrays[0].ndim)
    return st.concatenate(arrays, axis)
