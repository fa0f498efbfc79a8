"""diff, convolve and vectorize."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..primitives import reductions as red
from ..primitives.slicing import pad, slice_in_dim
from ..primitives.structural import broadcast_in_dim, full, reshape
from ._shape import concatenate
from ._ufuncs import multiply, not_equal, subtract
from .util import (asarray, broadcast_to, normalize_axis, result_type_of,
                    to_dtype)

__all__ = ["diff", "convolve"]  # vectorize: lepton.transforms.vectorize installs it


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """``n``-th discrete difference along ``axis`` (``!=`` for booleans, as NumPy)."""
    a = asarray(a)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    if n == 0:  # as NumPy: prepend/append are not applied
        return a
    axis = normalize_axis(axis, a.ndim)
    parts = [_along(v, a, axis) for v in (prepend,) if v is not None] + [a] + \
        [_along(v, a, axis) for v in (append,) if v is not None]
    a = concatenate(parts, axis) if len(parts) > 1 else a
    step = not_equal if a.dtype == dtypes.bool_ else subtract
    for _ in range(n):
        m = a.shape[axis]
        if m == 0:
            break
        a = step(slice_in_dim(a, 1, m, axis=axis), slice_in_dim(a, 0, m - 1, axis=axis))
    return a


def _along(v, a, axis):
    """``prepend``/``append`` value: scalars become one slice of ``a``'s shape along ``axis``."""
    v = asarray(v)
    if v.ndim == 0:
        shape = a.shape[:axis] + (1,) + a.shape[axis + 1:]
        return broadcast_to(v, shape)
    return v


def convolve(a, v, mode="full"):
    """Discrete linear convolution of two 1-D arrays (modes 'full', 'same', 'valid').

    Built from a broadcast product, a pad that skews row ``j`` by ``j`` places and a sum:
    linear in each input, so it differentiates and batches like any other lepton code.
    """
    dt, weak = result_type_of(a, v)
    a, v = to_dtype(asarray(a), dt, weak), to_dtype(asarray(v), dt, weak)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"convolve: both inputs must be 1-D, got shapes {a.shape}, {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"convolve: {'a' if a.shape[0] == 0 else 'v'} cannot be empty")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    # rows[j, k] = v[j] * a[k]; padding each row to n + m and reading the flat buffer with
    # row length n + m - 1 shifts row j right by j places.  NumPy's convolve does not warn
    # for inf * 0 or inf - inf, so neither do these eager steps.
    with np.errstate(all="ignore"):
        rows = multiply(broadcast_in_dim(v, (m, n), (0,)), broadcast_in_dim(a, (m, n), (1,)))
        zero = full((), False if rows.dtype == dtypes.bool_ else 0, rows.dtype)
        flat = reshape(pad(rows, zero, [(0, 0, 0), (0, m, 0)]), (m * (n + m),))
        skewed = reshape(slice_in_dim(flat, 0, m * (n + m - 1)), (m, n + m - 1))
        full_conv = _sum_rows(skewed)
    start, size = {"full": (0, n + m - 1), "same": ((m - 1) // 2, n),
                   "valid": (m - 1, n - m + 1)}[mode]
    return slice_in_dim(full_conv, start, start + size)


def _sum_rows(x):
    if x.dtype == dtypes.bool_:  # as NumPy: boolean sums are logical or
        return red.reduce_or(x, (0,))
    return red.reduce_sum(x, (0,))
