"""More shape functions: append, rollaxis, vsplit/hsplit/dsplit and row_stack."""
from __future__ import annotations

import operator

from ._shape import concatenate, moveaxis, ravel, split, vstack
from .util import asarray, normalize_axis

__all__ = ["append", "rollaxis", "vsplit", "hsplit", "dsplit", "row_stack"]


def append(arr, values, axis=None):
    """``arr`` followed by ``values`` along ``axis`` (both flattened when ``axis`` is None)."""
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


def rollaxis(a, axis, start=0):
    """Move ``axis`` to sit before position ``start`` (NumPy's older ``moveaxis``)."""
    a = asarray(a)
    n = a.ndim
    axis = normalize_axis(axis, n)
    start = operator.index(start)
    if not -n <= start <= n:
        raise ValueError(f"rollaxis: start {start} must be in [{-n}, {n}] for an array of "
                         f"dimension {n}")
    if start < 0:
        start += n
    if axis < start:
        start -= 1
    return a if axis == start else moveaxis(a, axis, start)


def _split_along(name, ary, indices_or_sections, min_ndim, axis):
    a = asarray(ary)
    if a.ndim < min_ndim:
        raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions, got "
                         f"{a.aval.str_short()}")
    return split(a, indices_or_sections, axis)


def vsplit(ary, indices_or_sections):
    """``split`` along axis 0 (arrays of at least 2 dimensions)."""
    return _split_along("vsplit", ary, indices_or_sections, 2, 0)


def hsplit(ary, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D arrays)."""
    a = asarray(ary)
    return _split_along("hsplit", a, indices_or_sections, 1, 1 if a.ndim > 1 else 0)


def dsplit(ary, indices_or_sections):
    """``split`` along axis 2 (arrays of at least 3 dimensions)."""
    return _split_along("dsplit", ary, indices_or_sections, 3, 2)


row_stack = vstack
