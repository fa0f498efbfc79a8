"""jax.numpy names that are aliases or short compositions of lepton.numpy functions: the
array-API spellings (acos, pow, concat, permute_dims, matrix_transpose, vecdot, ...),
NumPy's type aliases and predicates, and a few index helpers (tri, tril_indices, ...).

They are defined in terms of the public functions, so grad, vmap and jit apply as to
those.  Index helpers return concrete int arrays, as NumPy's (their inputs are static).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dtypes
from ..core import ArrayBase
from ..errors import ShapeError
from ._creation import _scalar_type, asarray, linspace
from ._indexing import diag
from ._misc import diff
from ._products import einsum, matmul
from ._reductions import all as _all, cumprod, cumsum, sum as _sum
from ._shape import concatenate, moveaxis, swapaxes, transpose
from ._ufuncs import (abs as _abs, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,
                      conj, exp, imag, invert, isnan, left_shift, log, power, right_shift,
                      sign as _sign, signbit, where)
from .util import broadcast_shapes, broadcast_to

__all__ = ["acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "pow", "concat",
           "permute_dims", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift",
           "matrix_transpose", "vecdot", "matvec", "vecmat", "cumulative_sum",
           "cumulative_prod", "isscalar", "iscomplexobj", "isrealobj", "iterable",
           "double", "single", "float_", "int_", "uint", "complex_", "cdouble", "csingle",
           "bool", "tri", "tril_indices", "triu_indices", "diag_indices",
           "tril_indices_from", "triu_indices_from", "diag_indices_from",
           "broadcast_arrays", "unstack", "iscomplex", "isreal", "array_equiv", "logspace",
           "geomspace", "diagflat", "astype", "isdtype", "copysign", "heaviside",
           "trapezoid", "ediff1d", "ComplexWarning", "get_printoptions", "set_printoptions",
           "printoptions", "array_repr", "array_str"]

acos, acosh, asin, asinh = arccos, arccosh, arcsin, arcsinh
atan, atan2, atanh = arctan, arctan2, arctanh
pow = power
concat = concatenate
bitwise_invert, bitwise_left_shift, bitwise_right_shift = invert, left_shift, right_shift

# NumPy's type aliases (jnp.float_ is float64: with 64-bit mode off, arrays made with it are
# float32, as every 64-bit request is)
double = float_ = _scalar_type(_dtypes.float64)
single = _scalar_type(_dtypes.float32)
int_ = _scalar_type(_dtypes.int64)
uint = _scalar_type(_dtypes.uint64)
complex_ = cdouble = _scalar_type(_dtypes.complex128)
csingle = _scalar_type(_dtypes.complex64)
bool = _scalar_type(_dtypes.bool_)


def permute_dims(a, axes):
    """``transpose(a, axes)`` (the array-API name; ``axes`` is required)."""
    return transpose(a, axes)


def matrix_transpose(x):
    """Swap the last two axes (a stack of matrices transposed)."""
    x = asarray(x)
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose: x must have at least 2 dimensions, got shape "
                         f"{x.shape}")
    return swapaxes(x, -1, -2)


def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2) over ``axis``, broadcasting the other axes."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ShapeError(f"vecdot: both arguments need an axis to contract, got shapes "
                         f"{x1.shape} and {x2.shape}")
    if x1.shape[axis] != x2.shape[axis]:
        raise ShapeError(f"vecdot: the contracted axis {axis} has sizes {x1.shape[axis]} and "
                         f"{x2.shape[axis]} (shapes {x1.shape} and {x2.shape})")
    x1, x2 = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    return einsum("...i,...i->...", conj(x1), x2)


def matvec(x1, x2, /):
    """The matrix-vector product over the last axes: ``x1 @ x2[..., None]`` squeezed."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim < 2 or x2.ndim < 1:
        raise ShapeError(f"matvec: needs a matrix and a vector, got shapes {x1.shape} and "
                         f"{x2.shape}")
    return matmul(x1, x2[..., None])[..., 0]


def vecmat(x1, x2, /):
    """The vector-matrix product ``conj(x1) @ x2`` over the last axes."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim < 1 or x2.ndim < 2:
        raise ShapeError(f"vecmat: needs a vector and a matrix, got shapes {x1.shape} and "
                         f"{x2.shape}")
    return matmul(conj(x1)[..., None, :], x2)[..., 0, :]


def _cumulative(name, fn, x, axis, dtype, include_initial, initial):
    x = asarray(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis must be given for arrays of more than one "
                             f"dimension (got shape {x.shape})")
        axis = 0
    if x.ndim == 0:
        raise ShapeError(f"{name}: x must have at least one dimension, got a scalar")
    out = fn(x, axis=axis, dtype=dtype)
    if include_initial:
        shape = list(out.shape)
        shape[axis] = 1
        from ._creation import full
        out = concatenate([full(shape, initial, out.dtype), out], axis=axis)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """cumsum with the array-API signature (``include_initial`` prepends a 0)."""
    return _cumulative("cumulative_sum", cumsum, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """cumprod with the array-API signature (``include_initial`` prepends a 1)."""
    return _cumulative("cumulative_prod", cumprod, x, axis, dtype, include_initial, 1)


def isscalar(element):
    """True for Python and NumPy scalars and 0-d lepton arrays (as jnp.isscalar)."""
    if isinstance(element, ArrayBase):
        return element.ndim == 0
    return builtins.bool(np.isscalar(element))


def iscomplexobj(x):
    return np.dtype(asarray(x).dtype).kind == "c"


def isrealobj(x):
    return not iscomplexobj(x)


def iterable(y):
    try:
        iter(y)
    except TypeError:
        return False
    return True


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal of an N x M matrix (float32 by default)."""
    return asarray(np.tri(N, M, k, dtype=np.float64), dtype=dtype or _dtypes.default_float())


def _indices(pair):
    return tuple(asarray(i.astype(np.int64), dtype=_dtypes.default_int()) for i in pair)


def tril_indices(n, k=0, m=None):
    return _indices(np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
    return _indices(np.triu_indices(n, k, m))


def diag_indices(n, ndim=2):
    return _indices(np.diag_indices(n, ndim))


def _square_shape(name, arr):
    shape = np.shape(arr)
    if len(shape) != 2:
        raise ShapeError(f"{name}: needs a 2-d array, got shape {shape}")
    return shape


def tril_indices_from(arr, k=0):
    n, m = _square_shape("tril_indices_from", arr)
    return tril_indices(n, k, m)


def triu_indices_from(arr, k=0):
    n, m = _square_shape("triu_indices_from", arr)
    return triu_indices(n, k, m)


def diag_indices_from(arr):
    shape = np.shape(arr)
    if len(shape) < 2 or len(set(shape)) != 1:
        raise ShapeError(f"diag_indices_from: needs a square array of at least 2 dimensions, "
                         f"got shape {shape}")
    return diag_indices(shape[0], len(shape))


# ----------------------------------------------------------------------------- more names
# NumPy's own printing controls and warning class (JAX re-exports them too): lepton arrays
# print through NumPy.
get_printoptions, set_printoptions, printoptions = (np.get_printoptions, np.set_printoptions,
                                                    np.printoptions)
ComplexWarning = np.exceptions.ComplexWarning
isdtype = np.isdtype


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    return np.array_repr(np.asarray(arr), max_line_width, precision, suppress_small)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    return np.array_str(np.asarray(a), max_line_width, precision, suppress_small)


def broadcast_arrays(*args):
    """The arguments broadcast to their common shape (a list, as JAX)."""
    arrs = [asarray(a) for a in args]
    shape = broadcast_shapes(*(a.shape for a in arrs))
    return [broadcast_to(a, shape) for a in arrs]


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple."""
    x = asarray(x)
    if x.ndim == 0:
        raise ShapeError("unstack: x must have at least one dimension, got a scalar")
    x = moveaxis(x, axis, 0)
    return tuple(x[i] for i in range(x.shape[0]))


def iscomplex(x):
    """Elementwise: a nonzero imaginary part."""
    return imag(asarray(x)) != 0


def isreal(x):
    """Elementwise: a zero imaginary part (always True for real arrays)."""
    return imag(asarray(x)) == 0


def array_equiv(a1, a2):
    """Whether the arrays broadcast to one shape and are equal there (False when they do
    not broadcast)."""
    a1, a2 = asarray(a1), asarray(a2)
    try:
        broadcast_shapes(a1.shape, a2.shape)
    except (ValueError, ShapeError):
        return asarray(False)
    return _all(a1 == a2)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop)``."""
    out = power(base, linspace(start, stop, num, endpoint, dtype=None, axis=axis))
    return out if dtype is None else out.astype(dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Samples evenly spaced on a log scale from ``start`` to ``stop`` (both nonzero and of
    one sign; NaN otherwise)."""
    start, stop = asarray(start), asarray(stop)
    sgn = _sign(start)
    out = sgn * exp(linspace(log(_abs(start)), log(_abs(stop)), num, endpoint, axis=axis))
    out = where(_sign(stop) == sgn, out, np.nan)
    return out if dtype is None else out.astype(dtype)


def diagflat(v, k=0):
    """A 2-d array with the flattened ``v`` on its k-th diagonal."""
    return diag(asarray(v).reshape(-1), k)


def astype(x, dtype, /, *, copy=False, device=None):
    """``x.astype(dtype)`` (the array-API function form)."""
    return asarray(x).astype(dtype)


def copysign(x1, x2, /):
    """|x1| with the sign (bit) of x2; differentiable in x1."""
    x1, x2 = asarray(x1), asarray(x2)
    return where(signbit(x2), -_abs(x1), _abs(x1))


def heaviside(x1, x2, /):
    """0 where x1 < 0, 1 where x1 > 0, x2 where x1 == 0 (NaN where x1 is NaN)."""
    x1, x2 = asarray(x1), asarray(x2)
    zero, one = asarray(0, x1.dtype), asarray(1, x1.dtype)
    out = where(x1 < 0, zero, where(x1 > 0, one, x2))
    return where(isnan(x1), x1, out)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (samples at ``x``, or
    spaced ``dx``)."""
    y = moveaxis(asarray(y), axis, -1)
    if x is None:
        d = dx
    else:
        x = asarray(x)
        d = diff(x) if x.ndim == 1 else diff(moveaxis(x, axis, -1), axis=-1)
    return _sum(d * (y[..., 1:] + y[..., :-1]), axis=-1) * 0.5


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array, with optional values before and after."""
    d = diff(asarray(ary).reshape(-1))
    parts = [d]
    if to_begin is not None:
        parts.insert(0, asarray(to_begin, d.dtype).reshape(-1))
    if to_end is not None:
        parts.append(asarray(to_end, d.dtype).reshape(-1))
    return concatenate(parts) if len(parts) > 1 else d
