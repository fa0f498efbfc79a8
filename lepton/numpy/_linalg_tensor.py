"""tensorsolve and tensorinv (as numpy.linalg and JAX): reshape the tensor problem into a
square matrix one and use linalg.solve / linalg.inv, so they trace, batch and differentiate."""
from __future__ import annotations

import math
import operator

from ..errors import ShapeError
from . import linalg as _la  # this module is imported at the end of linalg.py
from ._creation import asarray
from ._shape import ravel, reshape, transpose

__all__ = ["tensorsolve", "tensorinv"]


def tensorsolve(a, b, axes=None):
    """``x`` with ``tensordot(a, x, x.ndim) == b``; ``x.shape == a.shape[b.ndim:]``.
    ``axes`` names axes of ``a`` to move to the end first (in that order), as NumPy."""
    a, b = asarray(a), asarray(b)
    if axes is not None:
        order = list(range(a.ndim))
        for k in axes:
            k = operator.index(k) % max(a.ndim, 1)
            order.remove(k)
            order.append(k)
        a = transpose(a, order)
    out_shape = a.shape[b.ndim:]
    if a.shape[:b.ndim] != b.shape:
        raise ShapeError(f"tensorsolve: after moving axes to the end, the leading shape of a "
                         f"must equal b's shape; got a.shape={a.shape}, b.shape={b.shape}")
    n = math.prod(out_shape)
    if b.size != n:
        raise ShapeError(f"tensorsolve: needs prod(a.shape[:b.ndim]) == prod(a.shape[b.ndim:])"
                         f" (a square problem); got a.shape={a.shape}, b.ndim={b.ndim}")
    return reshape(_la.solve(reshape(a, (b.size, n)), ravel(b)), out_shape)


def tensorinv(a, ind=2):
    """Inverse of ``a`` for ``tensordot(.., .., ind)``: shape ``a.shape[ind:] +
    a.shape[:ind]``."""
    a = asarray(a)
    ind = operator.index(ind)
    if ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind}")
    head, tail = a.shape[:ind], a.shape[ind:]
    rows, cols = math.prod(head), math.prod(tail)
    if rows != cols:
        raise ShapeError(f"tensorinv: needs the product of the first ind={ind} dimensions to "
                         f"equal that of the rest; got a.shape={a.shape}")
    return reshape(_la.inv(reshape(a, (rows, cols))), tail + head)
