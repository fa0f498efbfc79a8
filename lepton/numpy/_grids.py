"""Grids as ``jax.numpy``: ``mgrid``, ``ogrid`` (index expressions with int, float or
complex steps) and ``fromfunction``, built from existing lepton.numpy functions."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import ArrayBase, Tracer
from ..errors import ConcretizationError
from .. import numpy as _lnp  # this package; attributes are read at call time

__all__ = ["mgrid", "ogrid", "fromfunction"]


def _grid_1d(s):
    """One slice as a 1-D array: a complex step ``nj`` means ``n`` points with the stop
    included (``linspace``); a real step means ``arange``."""
    if not isinstance(s, slice):
        raise TypeError(f"mgrid/ogrid take slices such as 0:5 or 0:1:5j, got {s!r}")
    start = 0 if s.start is None else s.start
    step = 1 if s.step is None else s.step
    for v in (start, s.stop, step):
        if isinstance(v, (ArrayBase, Tracer)):
            raise ConcretizationError("mgrid/ogrid: slice bounds set the output shape and "
                                      "must be Python numbers, not arrays")
    if isinstance(step, complex):
        return _lnp.linspace(start, s.stop, int(abs(step)), endpoint=True)
    return _lnp.arange(start, s.stop, step)


class _Grid:
    def __init__(self, sparse, name):
        self.sparse, self.name = sparse, name

    def __getitem__(self, key):
        if isinstance(key, slice):
            return _grid_1d(key)
        parts = [_grid_1d(k) for k in key]
        if not parts:
            return [] if self.sparse else _lnp.zeros((0,), dtypes.default_int())
        dt = _lnp.result_type(*(p.dtype for p in parts))
        parts = [p.astype(dt) for p in parts]
        grids = _lnp.meshgrid(*parts, indexing="ij", sparse=self.sparse)
        return list(grids) if self.sparse else _lnp.stack(grids, 0)

    def __repr__(self):
        return f"lepton.numpy.{self.name}"


mgrid = _Grid(False, "mgrid")
mgrid.__doc__ = """``mgrid[0:3, 0:2]``: dense index grids stacked on a new leading axis (int
steps as ``arange``, complex steps ``nj`` as ``linspace`` with ``n`` points)."""
ogrid = _Grid(True, "ogrid")
ogrid.__doc__ = """``ogrid[0:3, 0:2]``: the open (broadcastable) grids of ``mgrid`` as a list."""


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """``function(i0, i1, ...)`` called once on the index grids of ``shape`` (as ``dtype``).

    Deviation from JAX: JAX vmaps ``function`` over scalar indices; lepton (as NumPy)
    calls it once on the full grids, which gives the same result for the elementwise
    functions this is meant for, and is the only option in this layer.
    """
    shape = tuple(operator.index(s) for s in shape)
    dt = dtypes.canonicalize(dtype)
    grids = _lnp.indices(shape, dtype=dt)
    return function(*(grids[i] for i in range(len(shape))), **kwargs)
