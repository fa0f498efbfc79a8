"""``r_``, ``c_``, ``s_`` and ``index_exp``: NumPy's index-expression helpers.

``r_[...]`` concatenates slices (``1:5`` as ``arange``, ``0:1:5j`` as ``linspace``),
scalars and arrays along an axis, with NumPy's leading string directives (``'0'``,
``'1,2'``, ``'0,2,0'``...); ``c_`` is ``r_['-1,2,0', ...]``.  Slices must be concrete;
arrays may be traced (the result is an ordinary ``concatenate``).  The matrix
directives ``'r'`` and ``'c'`` build ``np.matrix`` objects in NumPy; lepton has no matrix
type, so they raise a ValueError.
"""
from __future__ import annotations

import numpy as np

from ._creation import arange, linspace
from ._shape import concatenate, swapaxes, transpose
from .util import asarray, result_type_of, to_dtype

__all__ = ["r_", "c_", "s_", "index_exp"]

s_ = np.s_
index_exp = np.index_exp


def _ndmin(x, ndmin):
    return x.reshape((1,) * (ndmin - x.ndim) + x.shape) if x.ndim < ndmin else x


class _AxisConcatenator:
    def __init__(self, axis, ndmin, trans1d, name):
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        objs, types = [], []
        for k, item in enumerate(key):
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, complex):
                    obj = linspace(start, item.stop, int(abs(step)))
                else:
                    obj = arange(start, item.stop, step)
                if ndmin > 1:
                    obj = _ndmin(obj, ndmin)
                    if trans1d != -1:
                        obj = swapaxes(obj, -1, trans1d)
                types.append(obj)
            elif isinstance(item, str):
                if k != 0:
                    raise ValueError(f"{self.name}: special directives must be the first "
                                     f"entry, got {item!r} at position {k}")
                if item in ("r", "c"):
                    raise ValueError(f"{self.name}: the matrix directives 'r' and 'c' build "
                                     "np.matrix objects, which lepton does not support")
                try:
                    parts = [int(p) for p in item.split(",")]
                except ValueError:
                    raise ValueError(f"{self.name}: unknown special directive {item!r}; "
                                     "expected 'axis', 'axis,ndmin' or "
                                     "'axis,ndmin,trans1d'") from None
                if len(parts) > 3:
                    raise ValueError(f"{self.name}: directive {item!r} has more than three "
                                     "fields")
                axis = parts[0]
                if len(parts) > 1:
                    ndmin = parts[1]
                if len(parts) > 2:
                    trans1d = parts[2]
                continue
            else:
                x = asarray(item)
                types.append(item if isinstance(item, (bool, int, float, complex)) else x)
                obj = _ndmin(x, ndmin)
                if trans1d != -1 and x.ndim < ndmin:
                    k2 = ndmin - x.ndim
                    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
                    axes = list(range(ndmin))
                    obj = transpose(obj, axes[:k1] + axes[k2:] + axes[k1:k2])
            objs.append(obj)
        if not objs:
            raise ValueError(f"{self.name}: need at least one array, slice or scalar to "
                             "concatenate")
        dt, weak = result_type_of(*types)
        return concatenate([_ndmin(to_dtype(o, dt, weak), ndmin) for o in objs], axis)

    def __len__(self):
        return 0


r_ = _AxisConcatenator(0, 1, -1, "r_")
c_ = _AxisConcatenator(-1, 2, 0, "c_")
