"""histogram, histogram_bin_edges, histogram2d and histogramdd, as JAX: fixed-shape (the bin count is static), so they
trace, batch and differentiate (linear in ``weights``; piecewise constant in ``a``)."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ..errors import ConcretizationError
from ..primitives.indexing import scatter_add
from ..primitives.structural import full
from ._creation import linspace
from ._indexing import searchsorted, take
from ._lookup import ix_, ravel_multi_index
from ._reductions import max as _max, min as _min, sum as _sum
from ._shape import ravel, reshape, stack
from ._ufuncs import clip, where
from .util import asarray, inexact_dtype, promote_args_inexact, result_type_of, to_dtype

import builtins
import math

__all__ = ["histogram", "histogram_bin_edges", "histogram2d", "histogramdd"]


def _is_pair(r):
    """Whether ``r`` is a (min, max) pair (a sequence or a shape-(2,) array, maybe traced)."""
    return len(r) == 2 if isinstance(r, (tuple, list)) else np.shape(asarray(r)) == (2,)


def _pair(r):
    if not _is_pair(r):
        raise ValueError(f"histogram_bin_edges: range must be None or a pair (min, max), "
                         f"got {r!r}")
    return (r[0], r[1]) if isinstance(r, (tuple, list)) else (asarray(r)[0], asarray(r)[1])


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
        lo, hi = _pair(range)
    lo, hi = to_dtype(asarray(lo), dt), to_dtype(asarray(hi), dt)
    empty = hi - lo == 0
    lo, hi = where(empty, lo - 0.5, lo), where(empty, hi + 0.5, hi)
    return linspace(lo, hi, nbins + 1, dtype=dt)


def _equal_bin_index(a, edges, nbins):
    """The bin of each ``a`` among ``nbins`` equal bins (last one closed; ``nbins`` for
    values outside the edges and NaN): NumPy's guess ``(a - lo) * nbins / (hi - lo)``,
    corrected by one against the edges themselves, so the answer is the one a search of
    ``edges`` gives, in two reads instead of log2(nbins) rounds."""
    lo, hi = edges[0], edges[-1]
    inside = (a >= lo) & (a <= hi)
    guess = where(inside, (a - lo) * (nbins / (hi - lo)), 0)
    i = clip(guess, 0, nbins - 1).astype(dtypes.int32)
    i = where(a < take(edges, i), i - 1, i)
    i = where((a >= take(edges, i + 1)) & (i != nbins - 1), i + 1, i)
    return where(inside, clip(i, 0, nbins - 1), nbins)


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
    if np.ndim(bins) == 0 and n > 1:  # equal bins: index by arithmetic, as NumPy
        idx = _equal_bin_index(a, edges, n - 1) + 1
    else:
        idx = searchsorted(edges, a, side="right")
        idx = where(a == edges[-1], n - 1, idx)
    counts = scatter_add(full((n,), 0, w.dtype), w, [idx], (0,), mode="drop")[1:]
    if density:
        widths = edges[1:] - edges[:-1]
        counts = counts / widths / _sum(counts)
    return counts, edges


def histogramdd(sample, bins=10, range=None, weights=None, density=None):
    """``(hist, [edges per dimension])`` of the ``(N, D)`` points ``sample``, as JAX:
    ``bins`` is one count or edges array for all dimensions or a sequence of D of them;
    ``range`` a sequence of D pairs or Nones.  As JAX (unlike NumPy's float64), the counts
    are int32 without ``weights`` (weighted or ``density``: the inexact dtype)."""
    sample = asarray(sample)
    if weights is None:
        sample, = promote_args_inexact("histogramdd", sample)
    else:
        weights = asarray(weights)
        dt, weak = inexact_dtype(*result_type_of(sample, weights))
        sample, weights = to_dtype(sample, dt, weak), to_dtype(weights, dt, weak)
    if sample.ndim != 2:
        raise ValueError(f"histogramdd: sample must be an (N, D) array of N points, got shape "
                         f"{sample.shape}")
    n, d = sample.shape
    if weights is not None and weights.shape != (n,):
        raise ValueError(f"histogramdd: weights (shape {weights.shape}) must hold one value per "
                         f"point, shape ({n},)")
    if range is not None and (len(range) != d or builtins.any(
            r is not None and not _is_pair(r) for r in range)):
        raise ValueError(f"histogramdd: for sample.shape={(n, d)}, range must be a sequence of "
                         f"{d} pairs or Nones; got {range!r}")
    if isinstance(bins, (list, tuple)) or np.ndim(bins) >= 1:  # one entry per dimension
        if len(bins) != d:
            raise ValueError(f"histogramdd: bins must be one number or a sequence of {d} (one "
                             f"per dimension), got {len(bins)}")
    else:
        bins = d * [bins]
    idx, edges = [], []
    for i in builtins.range(d):
        col = sample[:, i]
        e = histogram_bin_edges(col, bins[i], None if range is None else range[i])
        if np.ndim(bins[i]) == 0 and e.shape[0] > 1:  # equal bins (outside: overflow bin)
            idx.append(_equal_bin_index(col, e, e.shape[0] - 1) + 1)
        else:
            k = searchsorted(e, col, side="right")
            idx.append(where(col == e[-1], k - 1, k))
        edges.append(e)
    nbins = tuple(e.shape[0] + 1 for e in edges)  # with an under- and an overflow bin each
    flat = ravel_multi_index(tuple(idx), nbins, mode="clip") if d else None
    out_dt = dtypes.default_int() if weights is None else weights.dtype
    w = full((n,), 1, out_dt) if weights is None else weights
    size = math.prod(nbins)
    hist = full((size,), 0, out_dt)
    if d:
        hist = scatter_add(hist, w, [flat], (0,), mode="drop")
    hist = reshape(hist, nbins)[(slice(1, -1),) * d]
    if density:
        hist = to_dtype(hist, sample.dtype)  # counts: density in the sample's dtype
        hist = hist / _sum(hist)
        for width in ix_(*[e[1:] - e[:-1] for e in edges]):
            hist = hist / width
    return hist, edges


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):
    """``(hist, xedges, yedges)`` of the points ``(x[i], y[i])``, as JAX (int32 counts
    without ``weights``); see ``histogramdd``."""
    x, y = asarray(x), asarray(y)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"histogram2d: x and y must be 1-d of one length, got shapes "
                         f"{x.shape} and {y.shape}")
    if not isinstance(bins, (list, tuple)) and np.ndim(bins) == 1:
        # as NumPy: two numbers are the two axes' bins; any other array, both axes' edges
        bins = list(bins) if np.shape(bins)[0] == 2 else [bins, bins]
    sample = stack([x, y]).T
    hist, edges = histogramdd(sample, bins, range, weights, density)
    return hist, edges[0], edges[1]
