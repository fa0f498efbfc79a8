"""The array-API functions of ``jax.numpy.linalg`` that are short compositions of
lepton.numpy: they act on the last axes (stacks of vectors / matrices broadcast), as
``numpy.linalg``'s array-API names do."""
from __future__ import annotations

import functools

from ..errors import ShapeError
from . import linalg as _la  # this module is imported at the end of linalg.py
from ._compat import matrix_transpose, vecdot  # noqa: F401
from ._creation import asarray
from ._indexing import diagonal as _diagonal
from ._numeric_extra import cross as _cross
from ._products import matmul, outer as _outer, tensordot as _tensordot, trace as _trace
from ._shape import moveaxis

__all__ = ["cond", "cross", "diagonal", "matrix_norm", "matrix_transpose", "multi_dot",
           "outer", "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-vectors along ``axis`` (the array-API form: both arguments
    must have size 3 there)."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim == 0 or x2.ndim == 0 or x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ShapeError(f"linalg.cross: both arguments need size 3 along axis {axis}, got "
                         f"shapes {x1.shape} and {x2.shape}")
    return _cross(x1, x2, axis=axis)


def diagonal(x, /, *, offset=0):
    """The diagonal of the last two axes."""
    return _diagonal(_matrix("diagonal", x), offset=offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    """The trace of the last two axes."""
    return _trace(_matrix("trace", x), offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def outer(x1, x2, /):
    """The outer product of two 1-d arrays."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ShapeError(f"linalg.outer: needs two 1-d arrays, got shapes {x1.shape} and "
                         f"{x2.shape}")
    return _outer(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    return _tensordot(x1, x2, axes=axes)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The ``ord``-norm of the vectors along ``axis`` (None: all of x, flattened)."""
    x = asarray(x)
    if axis is None:
        out = _la.norm(x.reshape(-1), ord=ord, axis=0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    if isinstance(axis, tuple) and len(axis) != 1:
        axes = tuple(a % x.ndim for a in axis)
        moved = moveaxis(x, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[:-len(axes)] + (-1,))
        out = _la.norm(flat, ord=ord, axis=-1)
        if keepdims:
            shape = [1 if i in axes else s for i, s in enumerate(x.shape)]
            out = out.reshape(tuple(shape))
        return out
    if isinstance(axis, tuple):
        axis = axis[0]
    return _la.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """The ``ord`` matrix norm of the last two axes."""
    return _la.norm(_matrix("matrix_norm", x), ord=ord, axis=(-2, -1),
                          keepdims=keepdims)


def svdvals(x, /):
    """The singular values of the last two axes, in descending order."""
    return _la.svd(_matrix("svdvals", x), compute_uv=False)


def multi_dot(arrays, *, precision=None):
    """``a @ b @ c ...``; the first and last arrays may be 1-d (row / column vectors).
    Multiplies left to right (NumPy picks the cheapest order; the result agrees up to
    rounding)."""
    arrays = [asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError(f"multi_dot: needs at least two arrays, got {len(arrays)}")
    bad = [a.shape for a in arrays[1:-1] if a.ndim != 2]
    if bad or arrays[0].ndim not in (1, 2) or arrays[-1].ndim not in (1, 2):
        raise ShapeError(f"multi_dot: inner arrays must be 2-d and the outer ones 1-d or 2-d, "
                         f"got shapes {[a.shape for a in arrays]}")
    return functools.reduce(matmul, arrays)


def cond(x, p=None):
    """The condition number ||x|| ||x^-1|| in norm ``p`` (None or 2: the ratio of the
    largest to the smallest singular value; -2: its inverse)."""
    x = _matrix("cond", x)
    if p is None or p in (2, -2):
        s = svdvals(x)
        r = s[..., 0] / s[..., -1]
        return 1 / r if p == -2 else r
    return _la.norm(x, ord=p, axis=(-2, -1)) * _la.norm(_la.inv(x), ord=p, axis=(-2, -1))


def _matrix(name, x):
    x = asarray(x)
    if x.ndim < 2:
        raise ShapeError(f"linalg.{name}: needs an array of at least 2 dimensions, got shape "
                         f"{x.shape}")
    return x
