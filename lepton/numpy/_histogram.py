"""histogram and histogram_bin_edges, as JAX: fixed-shape (the bin count is static), so they
trace, batch and differentiate (linear in ``weights``; piecewise constant in ``a``)."""
from __future__ import annotations

import operator

import numpy as np

from ..core import Tracer
from ..errors import ConcretizationError
from ..primitives.indexing import scatter_add
from ..primitives.structural import full
from ._creation import linspace
from ._indexing import searchsorted
from ._reductions import max as _max, min as _min, sum as _sum
from ._shape import ravel
from ._ufuncs import where
from .util import asarray, inexact_dtype, promote_args_inexact, to_dtype

__all__ = ["histogram", "histogram_bin_edges"]


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """Edges of ``bins`` equal bins over ``range`` (default: ``[a.min(), a.max()]``, widened
    by 0.5 each side when empty; [0, 1] for an empty ``a``, as NumPy), or ``bins`` itself
    when it is a 1-d array of edges; in ``a``'s inexact dtype.  ``weights`` is unused (as
    JAX: string bin rules are not supported)."""
    del weights
    if isinstance(bins, str):
        raise NotImplementedError("histogram_bin_edges: string values for bins (NumPy's "
                                  "'auto', 'fd', ...) are not implemented; pass a bin count "
                                  "or an array of edges")
    arr = asarray(a)
    dt, weak = inexact_dtype(arr.dtype)
    if np.ndim(bins) == 1:
        return to_dtype(asarray(bins), dt)
    if isinstance(bins, Tracer):
        raise ConcretizationError("histogram_bin_edges: the bin count sets the output shape, "
                                  "so it must be static (a Python int), not a traced value")
    try:
        nbins = operator.index(bins)
    except TypeError:
        raise TypeError(f"histogram_bin_edges: bins must be an int or a 1-d array of edges, "
                        f"got {bins!r}") from None
    if nbins < 1:
        raise ValueError(f"histogram_bin_edges: bins must be positive, got {nbins}")
    if range is None:
        if arr.size == 0:  # as NumPy (JAX raises): the unit interval
            lo, hi = 0, 1
        else:
            lo, hi = _min(arr), _max(arr)
    else:
        if np.shape(range) != (2,) and not (isinstance(range, (tuple, list))
                                             and len(range) == 2):
            raise ValueError(f"histogram_bin_edges: range must be None or a pair "
                             f"(min, max), got {range!r}")
        lo, hi = range
    lo, hi = to_dtype(asarray(lo), dt), to_dtype(asarray(hi), dt)
    empty = hi - lo == 0
    lo, hi = where(empty, lo - 0.5, lo), where(empty, hi + 0.5, hi)
    return linspace(lo, hi, nbins + 1, dtype=dt)


def histogram(a, bins=10, range=None, weights=None, density=None):
    """``(counts, bin_edges)`` of the values of ``a`` (any shape, flattened), as JAX.

    Deviation from NumPy (as JAX): the counts are floating point (``a``'s inexact dtype, or
    the promoted dtype of ``a`` and ``weights``), not int64.  A value on the last edge falls in
    the last bin; values outside the edges and NaNs are not counted."""
    if weights is None:
        a, = promote_args_inexact("histogram", a)
        w = full(a.shape, 1, a.dtype)
    else:
        if np.shape(a) != np.shape(weights):
            raise ValueError(f"histogram: weights (shape {np.shape(weights)}) must have the "
                             f"same shape as a (shape {np.shape(a)})")
        a, w = promote_args_inexact("histogram", a, weights)
    edges = histogram_bin_edges(a, bins, range)
    a, w = ravel(a), ravel(w)
    n = edges.shape[0]
    idx = searchsorted(edges, a, side="right")
    idx = where(a == edges[-1], n - 1, idx)
    counts = scatter_add(full((n,), 0, w.dtype), w, [idx], (0,), mode="drop")[1:]
    if density:
        widths = edges[1:] - edges[:-1]
        counts = counts / widths / _sum(counts)
    return counts, edges
