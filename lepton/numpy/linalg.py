"""lepton.numpy.linalg: NumPy's linear algebra over the host decompositions.

Every function is built from the ``cholesky``, ``triangular_solve``, ``qr``, ``svd``,
``eigh`` and ``lu`` primitives plus ``dot_general``, so all of them differentiate (to any
order) and vmap.  ``cholesky`` and ``eigh`` read one triangle as NumPy/LAPACK do; their
gradients flow to that triangle.  Derivatives of ``eigh`` need distinct eigenvalues and
those of ``svd``/``pinv`` distinct non-zero singular values (the derivative is undefined
otherwise); ``qr`` derivatives need m >= n.  Singular or non-positive-definite inputs give
NaNs/infs rather than exceptions, as in JAX.
"""
from __future__ import annotations

import builtins
import operator
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..core import ArrayBase, Primitive, ShapedArray, Tracer
from ..errors import ShapeError
from ..primitives import elementwise as ew
from ..primitives import linalg as la
from ..primitives.base import Zero
from ..primitives.linalg import batch_front, nan_on_failure
from ..primitives.reductions import reduce_prod, reduce_sum
from ..primitives.structural import broadcast_in_dim, full, iota, reshape
from ._products import matmul
from ._reductions import any as _any
from ._reductions import max as _max
from ._reductions import min as _min
from ._reductions import sum as _sum
from ._shape import expand_dims, moveaxis
from ._ufuncs import (absolute, add, greater, greater_equal, less, multiply, not_equal, power,
                      remainder, sqrt, subtract, true_divide, where)
from .util import (asarray, broadcast_shapes, inexact_dtype, normalize_axis, result_type_of,
                    to_dtype)

__all__ = ["norm", "inv", "det", "slogdet", "solve", "cholesky", "qr", "svd", "eigh",
           "eigvalsh", "pinv", "matrix_rank", "matrix_power", "EighResult", "QRResult",
           "SVDResult", "SlogdetResult", "eig", "eigvals", "EigResult", "lstsq"]


class EighResult(NamedTuple):
    eigenvalues: ArrayBase
    eigenvectors: ArrayBase


class QRResult(NamedTuple):
    Q: ArrayBase
    R: ArrayBase


class SVDResult(NamedTuple):
    U: ArrayBase
    S: ArrayBase
    Vh: ArrayBase


class SlogdetResult(NamedTuple):
    sign: ArrayBase
    logabsdet: ArrayBase


def _inexact(*xs):
    """Promote to one inexact dtype (ints -> float32), without broadcasting."""
    arrs = [asarray(x) for x in xs]
    dt, weak = result_type_of(*arrs)
    dt, _ = inexact_dtype(dt, weak)
    return [to_dtype(a, dt) for a in arrs]


def _matrix(name, a, square=True):
    (a,) = _inexact(a)
    if a.ndim < 2:
        raise ShapeError(f"{name}: expects a matrix (or a stack of them), got a "
                         f"{a.ndim}-d array {a.aval.str_short()}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name}: the last two axes must be square, got "
                         f"{a.aval.str_short()}")
    return a


def _hermitian_from(a, lower):
    """The Hermitian matrix LAPACK reads from one triangle of ``a`` (diagonal: real part)."""
    off = la.tril(a, -1) if lower else la.triu(a, 1)
    diag = ew.convert_element_type(ew.real(a), a.dtype) if a.dtype.kind == "c" else a
    return ew.select(la.eye_like(a, dtypes.bool_), diag, ew.add(off, la.adjoint(off)))


# ----------------------------------------------------------------------------- decompositions
def _symmetrized(a):
    """``(a + a^H) / 2``: what JAX factors in eigh and cholesky, so that an asymmetric input
    (rounding, or a gradient step) still has a well-defined, symmetric derivative."""
    return ew.mul(ew.add(a, la.adjoint(a)), full(a.shape, 0.5, a.dtype))


def cholesky(a, *, upper=False, symmetrize_input=True):
    """Lower (or upper) Cholesky factor of ``(a + a^H) / 2``, as JAX.  With
    ``symmetrize_input=False`` it reads only the lower (upper) triangle of ``a``, as NumPy
    (and its derivative is that of the triangle read)."""
    a = _matrix("cholesky", a)
    if symmetrize_input:
        lower = la.cholesky(_symmetrized(a))
    else:
        lower = la.cholesky(_hermitian_from(a, lower=not upper))
    return la.adjoint(lower) if upper else lower


def qr(a, mode="reduced"):
    """QR factorisation; mode 'reduced', 'complete' or 'r' ('raw' is not supported)."""
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    a = _matrix("qr", a, square=False)
    q, r = la.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``(U, S, Vh)`` with ``a = U @ diag(S) @ Vh`` (``hermitian`` is accepted and ignored)."""
    a = _matrix("svd", a, square=False)
    if not compute_uv:
        return la.svd(a, full_matrices=False, compute_uv=False)[0]
    s, u, vt = la.svd(a, full_matrices=full_matrices)
    return SVDResult(u, s, vt)


def eigh(a, UPLO=None, symmetrize_input=True):
    """Ascending eigenvalues and eigenvectors of ``(a + a^H) / 2``, as JAX (so gradients are
    symmetric).  With ``symmetrize_input=False``, of the Hermitian matrix in the ``UPLO``
    triangle of ``a`` ("L", the default, or "U"), as NumPy."""
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"eigh: UPLO must be None, 'L' or 'U', got {UPLO!r}")
    a = _matrix("eigh", a)
    lower = UPLO != "U"
    h = _symmetrized(a) if symmetrize_input else _hermitian_from(a, lower)
    w, v = la.eigh(h, lower=lower)  # the same LAPACK call as NumPy
    return EighResult(w, v)


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    """Eigenvalues of ``eigh(a, UPLO, symmetrize_input)``."""
    return eigh(a, UPLO, symmetrize_input).eigenvalues


# ----------------------------------------------------------------------------- solving (via lu)
def _broadcast_batch(x, batch):
    shape = tuple(batch) + x.shape[-2:]
    return broadcast_in_dim(x, shape, tuple(range(len(shape) - x.ndim, len(shape))))


def solve(a, b):
    """``x`` with ``a @ x = b``; ``b`` is a vector only when 1-d (NumPy 2 rules)."""
    a = _matrix("solve", a)
    a, b = _inexact(a, b)
    vector = b.ndim == 1
    if vector:
        b = reshape(b, b.shape + (1,))
    n = a.shape[-1]
    if b.shape[-2] != n:
        raise ShapeError(f"solve: a is {a.aval.str_short()} but b {asarray(b).aval.str_short()}"
                         f" has {b.shape[-2]} rows; b needs {n} (its second-to-last axis, or "
                         "its only axis for a vector)")
    lu, _, perm = la.lu(a)
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2], name="solve")
    lu, p, b = (_broadcast_batch(x, batch) for x in (lu, la.permutation_matrix(perm, a.dtype),
                                                     b))
    y = la.triangular_solve(lu, la.matmul(p, b), left_side=True, lower=True,
                            unit_diagonal=True)
    x = la.triangular_solve(lu, y, left_side=True, lower=False)
    return reshape(x, x.shape[:-1]) if vector else x


def inv(a):
    """Inverse: ``solve(a, I)``."""
    a = _matrix("inv", a)
    return solve(a, la.eye_like(a))


def _lu_diag_and_sign(a):
    """The diagonal of U and the sign (+-1) of the row permutation of a's LU."""
    lu, pivots, _ = la.lu(a)
    swaps = _sum(not_equal(pivots, iota(dtypes.int32, pivots.shape, pivots.ndim - 1)), axis=-1)
    sign = subtract(1, multiply(2, remainder(swaps, 2)))
    return la.diagonal(lu), to_dtype(sign, a.dtype)


def det(a):
    """Determinant from the LU factors (differentiable through them)."""
    a = _matrix("det", a)
    d, sign = _lu_diag_and_sign(a)
    return ew.mul(sign, reduce_prod(d, (d.ndim - 1,)))


def slogdet(a):
    """``(sign, log|det|)``; a singular matrix gives (0, -inf)."""
    a = _matrix("slogdet", a)
    d, sign = _lu_diag_and_sign(a)
    mag = ew.abs(d)
    if d.dtype.kind == "c":
        zero = ew.eq(mag, full(mag.shape, 0, mag.dtype))
        safe = ew.convert_element_type(ew.select(zero, full(mag.shape, 1, mag.dtype), mag),
                                       d.dtype)
        unit = ew.select(zero, full(d.shape, 0, d.dtype), ew.div(d, safe))
    else:
        unit = ew.sign(d)
    sign = ew.mul(sign, reduce_prod(unit, (d.ndim - 1,)))
    return SlogdetResult(sign, reduce_sum(ew.log(mag), (d.ndim - 1,)))


def matrix_power(a, n):
    """``a`` multiplied by itself ``n`` times (inverse first for negative ``n``)."""
    a = asarray(a)
    n = operator.index(n)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"matrix_power: expects square matrices, got {a.aval.str_short()}")
    if n == 0:
        return la.eye_like(a)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


# ----------------------------------------------------------------------------- via svd
def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Moore-Penrose pseudo-inverse; singular values below ``rcond * max(s)`` count as zero
    (default ``max(m, n) * eps``)."""
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: rtol and rcond can't both be set")
    a = _matrix("pinv", a, square=False)
    m, n = a.shape[-2:]
    if builtins.min(m, n) == 0:
        return full(a.shape[:-2] + (n, m), 0, a.dtype)
    cut = rcond if rcond is not None else rtol
    if cut is None:
        cut = builtins.max(m, n) * float(np.finfo(a.dtype).eps)
    s, u, vt = la.svd(a, full_matrices=False)
    large = greater(s, multiply(expand_dims(asarray(cut), -1), _max(s, axis=-1, keepdims=True)))
    s_inv = where(large, true_divide(1, where(large, s, 1)), 0)
    return matmul(multiply(la.adjoint(vt), to_dtype(expand_dims(s_inv, -2), a.dtype)),
                  la.adjoint(u))


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """Number of singular values above ``tol`` (default ``max(s) * max(m, n) * eps``)."""
    if tol is not None and rtol is not None:
        raise ValueError("matrix_rank: tol and rtol can't both be set")
    (A,) = _inexact(A)
    if A.ndim < 2:
        return to_dtype(_any(not_equal(A, 0)), dtypes.int32)
    s = svd(A, compute_uv=False)
    if tol is None:
        r = builtins.max(A.shape[-2:]) * float(np.finfo(s.dtype).eps) if rtol is None \
            else rtol
        tol = multiply(_max(s, axis=-1, keepdims=True, initial=0), expand_dims(asarray(r), -1))
    else:
        tol = expand_dims(asarray(tol), -1)
    return _sum(greater(s, tol), axis=-1)


# ----------------------------------------------------------------------------- norm
def _abs2(x):
    if x.dtype.kind == "c":
        return ew.real(ew.mul(ew.conj(x), x))
    return ew.mul(x, x)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return sqrt(_sum(_abs2(x), axis=axis, keepdims=keepdims))
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    if ord == np.inf:
        return _max(absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _min(absolute(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        nz = ew.ne(x, full(x.shape, 0, x.dtype))
        return to_dtype(_sum(nz, axis=axis, keepdims=keepdims), dtypes.real_dtype(x.dtype))
    if ord == 1:
        return _sum(absolute(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    return power(_sum(power(absolute(x), p), axis=axis, keepdims=keepdims), 1.0 / p)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord is None or ord == "fro":
        return sqrt(_sum(_abs2(x), axis=axes, keepdims=keepdims))
    if ord in ("nuc", 2, -2):
        s = svd(moveaxis(x, axes, (-2, -1)), compute_uv=False)
        out = {"nuc": _sum, 2: _max, -2: _min}[ord](s, axis=-1)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (row, col) if ord in (1, -1) else (col, row)
        pick = _max if ord in (1, np.inf) else _min
        out = pick(_sum(absolute(x), axis=summed), axis=other - (other > summed))
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else s for i, s in enumerate(x.shape)))
    return out


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (axis int) and matrix norms (axis pair), as numpy.linalg.norm."""
    (x,) = _inexact(x)
    if axis is None:
        if ord is None:
            return sqrt(_sum(_abs2(x), axis=None, keepdims=keepdims))
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} needs a 1-d or 2-d input or an explicit axis, "
                             f"got {x.aval.str_short()}")
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(normalize_axis(a, x.ndim) for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must be an int or a pair of distinct ints, got {axis!r}")


# ----------------------------------------------------------------------------- lstsq
def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """Least-squares ``x`` minimising ``||b - a x||`` via the SVD: ``(x, residuals, rank, s)``.

    Singular values below ``rcond * s.max()`` (default ``eps * max(m, n)``; negative:
    machine precision) count as zero.  As JAX, ``residuals`` are always the squared
    column norms of ``b - a x`` (NumPy gives an empty array when ``rank < n`` or
    ``m <= n``); ``numpy_resid=True`` gives NumPy's empty array there (eager only).
    Differentiable in ``a`` and ``b`` (through the SVD: needs distinct singular values)."""
    a, b = _inexact(a, b)
    if a.ndim != 2:
        raise ShapeError(f"lstsq: a must be a 2-d matrix, got {a.aval.str_short()}")
    if b.ndim not in (1, 2):
        raise ShapeError(f"lstsq: b must be 1-d or 2-d, got {b.aval.str_short()}")
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"lstsq: a {a.aval.str_short()} and b {b.aval.str_short()} must have "
                         "the same number of rows (leading dimensions must match)")
    vector = b.ndim == 1
    if vector:
        b = reshape(b, b.shape + (1,))
    m, n = a.shape
    rdt = dtypes.real_dtype(a.dtype)
    if a.size == 0:
        s = full((0,), 0, rdt)
        rank = full((), 0, dtypes.default_int())
        x = full((n, b.shape[1]), 0, a.dtype)
    else:
        eps = float(np.finfo(a.dtype).eps)
        if rcond is None:
            rcond = eps * builtins.max(m, n)
        elif not isinstance(rcond, Tracer):
            rcond = eps if rcond < 0 else rcond
        else:
            rcond = where(less(rcond, 0), eps, rcond)
        s, u, vt = la.svd(a, full_matrices=False)
        keep = greater_equal(s, multiply(to_dtype(rcond, rdt), s[0]))
        rank = _sum(keep)
        s_inv = where(keep, true_divide(1, where(keep, s, 1)), 0)
        x = matmul(la.adjoint(vt), multiply(to_dtype(expand_dims(s_inv, -1), a.dtype),
                                            matmul(la.adjoint(u), b)))
    if numpy_resid and (isinstance(rank, Tracer) or int(rank) < n or m <= n):
        if isinstance(rank, Tracer):
            raise TypeError("lstsq: numpy_resid=True needs a concrete rank; it is not "
                            "available under jit or vmap (leave numpy_resid=False)")
        resid = full((0,), 0, rdt)
    else:
        r = subtract(b, matmul(a, x))
        resid = _sum(_abs2(r), axis=0)
    if vector:
        x = reshape(x, (n,))
    return x, resid, rank, s


# ----------------------------------------------------------------------------- eig (host)
class EigResult(NamedTuple):
    eigenvalues: ArrayBase
    eigenvectors: ArrayBase


eig_p = Primitive("eig", multiple_results=True)


def _complex_of(dt):
    return dtypes.complex128 if dt in (dtypes.float64, dtypes.complex128) else dtypes.complex64


def _eig_impl(a, *, vectors, free_vectors=False):
    cdt = _complex_of(a.dtype)
    if not vectors:
        return [np.asarray(nan_on_failure(np.linalg.eigvals, a)).astype(cdt)]
    w, v = nan_on_failure(np.linalg.eig, a)
    return [np.asarray(w).astype(cdt), np.asarray(v).astype(cdt)]


def _eig_rule(a, *, vectors, free_vectors=False):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"eig: expects square matrices in the last two axes, got "
                         f"{a.str_short()}")
    cdt = _complex_of(a.dtype)
    w = ShapedArray(a.shape[:-1], cdt)
    return [w, ShapedArray(a.shape, cdt)] if vectors else [w]


def _eig_jvp(primals, tangents, *, vectors, free_vectors=False):
    # dw = diag(V^-1 dA V).  Eigenvectors: dV = V (F * V^-1 dA V), F_ij = 1 / (w_j - w_i) off
    # the diagonal, is the derivative of the eigenvector choice with diag(V^-1 dV) = 0, not
    # of LAPACK's unit-norm, real-largest-component one.  So, as JAX, eig() refuses
    # eigenvector derivatives; eigvals uses them only inside its own derivative, which
    # does not depend on the eigenvectors' scaling (so eigvals differentiates to any order).
    (a,), (da,) = primals, tangents
    if type(da) is Zero:
        outs = eig_p.bind(a, vectors=vectors, free_vectors=free_vectors)
        return outs, [Zero.like(o) for o in outs]
    if vectors and not free_vectors:
        raise NotImplementedError(
            "eig: derivatives of eigenvectors are not implemented (as in JAX); differentiate "
            "lnp.linalg.eigvals(a) for eigenvalues, or use eigh for Hermitian matrices")
    w, v = eig_p.bind(a, vectors=True, free_vectors=True)
    vinv_da_v = solve(v, matmul(to_dtype(da, v.dtype), v))
    dw = la.diagonal(vinv_da_v)
    if not vectors:
        return [w], [dw]
    eye = la.eye_like(v)
    gaps = add(subtract(expand_dims(w, -2), expand_dims(w, -1)), eye)
    f = subtract(true_divide(1, gaps), eye)
    return [w, v], [dw, matmul(v, multiply(f, vinv_da_v))]


eig_p.impl = _eig_impl
eig_p.abstract_eval = _eig_rule
eig_p.jvp = _eig_jvp
batch_front(eig_p)


def eig(a):
    """Eigenvalues and right eigenvectors of general square matrices, always complex (as
    JAX; NumPy returns real arrays when every eigenvalue is real).  Computed on the host by
    LAPACK (``geev``); a matrix that fails to converge gives NaNs.  Eigenvectors have unit
    norm, as NumPy's.  Not differentiable (as JAX): use ``eigvals`` for gradients."""
    a = _matrix("eig", a)
    w, v = eig_p.bind(a, vectors=True)
    return EigResult(w, v)


def eigvals(a):
    """Complex eigenvalues of general square matrices; differentiable to any order (``dw =
    diag(V^-1 dA V)``: needs distinct eigenvalues)."""
    a = _matrix("eigvals", a)
    return eig_p.bind(a, vectors=False)[0]
from ._linalg_compat import *  # noqa: F401,F403,E402  (array-API names)
from ._linalg_tensor import *  # noqa: F401,F403,E402  (tensorsolve, tensorinv)
