"""``lepton.scipy.linalg`` (as ``jax.scipy.linalg``): Cholesky solves, triangular solves,
the matrix exponential, and scipy-style aliases of ``lepton.numpy.linalg``.

All functions take stacks of matrices (leading batch axes) and differentiate; the
``overwrite_*``/``check_finite`` arguments are accepted and ignored (arrays are
immutable; a failed factorisation gives NaN, as in JAX).
"""
from __future__ import annotations

import math

import numpy as np

from .. import numpy as lnp
from ..core import Tracer
from ..errors import ShapeError
from ..numpy import asarray
from ..numpy.util import promote_args_inexact
from ..transforms.custom import stop_gradient
from ._util import common_inexact, quiet
from ..primitives.linalg import cholesky as _lower_cholesky
from ..primitives.linalg import triangular_solve

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "expm", "inv", "solve",
           "solve_triangular"]


def _square(name, a):
    (a,) = promote_args_inexact(name, asarray(a))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"lepton.scipy.linalg.{name}: expected a square matrix (or a stack of "
                         f"them, shape (..., n, n)), got shape {a.shape}")
    return a


def _herm(x):
    x = lnp.swapaxes(x, -1, -2)
    return lnp.conj(x) if (x.dtype.kind == "c") else x


@quiet
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a Hermitian positive-definite ``a``: upper (``U^H U = a``)
    by default, as scipy; lower with ``lower=True``.  As scipy and JAX, only the named
    triangle of ``a`` is read (no symmetrization, unlike ``lepton.numpy.linalg.cholesky``);
    the derivative is JAX's (the whole tangent enters ``L^-1 dA L^-H``)."""
    del overwrite_a, check_finite
    a = _square("cholesky", a)
    c = _lower_cholesky(a if lower else _herm(a))
    return c if lower else _herm(c)


@quiet
def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``(c, lower)`` for ``cho_solve``.  Unlike scipy, the other triangle of ``c`` is zero
    (as in JAX), not left-over entries of ``a``."""
    return cholesky(a, lower=lower), lower


def _rhs(name, a, b):
    """(a, b as (..., n, k) with a's batch, whether b was a vector)."""
    b = asarray(b)
    dt = common_inexact(a, b)
    a, b = a.astype(dt), b.astype(dt)
    n = a.shape[-1]
    vector = b.ndim == a.ndim - 1 or b.ndim == 1
    if vector:
        b = b[..., None]
    if b.ndim < 2 or b.shape[-2] != n:
        raise ShapeError(f"lepton.scipy.linalg.{name}: b must have {n} rows (shape (..., {n}) "
                         f"or (..., {n}, k)) to match a of shape {a.shape}; got b of shape "
                         f"{tuple(b.shape) if not vector else tuple(b.shape[:-1])}")
    batch = lnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = lnp.broadcast_to(a, batch + a.shape[-2:])
    b = lnp.broadcast_to(b, batch + b.shape[-2:])
    return a, b, vector


@quiet
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     debug=None, check_finite=True):
    """Solve ``op(a) x = b`` for triangular ``a``; ``trans`` is 0/'N' (a), 1/'T' (a^T) or
    2/'C' (a^H).  ``b`` is (..., n) or (..., n, k); only ``a``'s ``lower``/upper
    triangle is read."""
    del overwrite_b, debug, check_finite
    modes = {0: (False, False), "N": (False, False), 1: (True, False), "T": (True, False),
             2: (True, True), "C": (True, True)}
    if trans not in modes:
        raise ValueError(f"lepton.scipy.linalg.solve_triangular: trans must be 0, 1, 2, 'N', "
                         f"'T' or 'C', got {trans!r}")
    transpose, conjugate = modes[trans]
    a = _square("solve_triangular", a)
    a, b, vector = _rhs("solve_triangular", a, b)
    x = triangular_solve(a, b, left_side=True, lower=lower, transpose_a=transpose,
                         conjugate_a=conjugate and (a.dtype.kind == "c"),
                         unit_diagonal=unit_diagonal)
    return x[..., 0] if vector else x


@quiet
def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` given ``cho_factor(a)``."""
    del overwrite_b, check_finite
    c, lower = c_and_lower
    c = _square("cho_solve", c)
    c, b, vector = _rhs("cho_solve", c, b)
    conj = (c.dtype.kind == "c")
    if lower:  # L L^H x = b
        y = triangular_solve(c, b, left_side=True, lower=True)
        x = triangular_solve(c, y, left_side=True, lower=True, transpose_a=True, conjugate_a=conj)
    else:  # U^H U x = b
        y = triangular_solve(c, b, left_side=True, lower=False, transpose_a=True,
                             conjugate_a=conj)
        x = triangular_solve(c, y, left_side=True, lower=False)
    return x[..., 0] if vector else x


@quiet
def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a="gen"):
    """Solve ``a x = b``.  ``assume_a='pos'`` (or 'her'/'sym' positive definite) uses a
    Cholesky factorisation reading the ``lower``/upper triangle; anything else LU."""
    del overwrite_a, overwrite_b, check_finite
    if assume_a not in ("gen", "general", "sym", "symmetric", "her", "hermitian", "pos",
                        "positive definite", "diagonal", "tridiagonal", "banded",
                        "upper triangular", "lower triangular"):
        raise ValueError(f"lepton.scipy.linalg.solve: unknown assume_a={assume_a!r}")
    a = _square("solve", a)
    if assume_a in ("pos", "positive definite"):
        full = a if lower else _herm(a)
        return cho_solve((_lower_cholesky(full), True), b)
    if assume_a in ("upper triangular", "lower triangular"):
        return solve_triangular(a, b, lower=assume_a.startswith("lower"))
    a, b2, vector = _rhs("solve", a, b)
    x = lnp.linalg.solve(a, b2)
    return x[..., 0] if vector else x


@quiet
def det(a, overwrite_a=False, check_finite=True):
    """The determinant (``lepton.numpy.linalg.det``)."""
    return lnp.linalg.det(_square("det", a))


@quiet
def inv(a, overwrite_a=False, check_finite=True):
    """The inverse (``lepton.numpy.linalg.inv``)."""
    return lnp.linalg.inv(_square("inv", a))


# ----------------------------------------------------------------------------- expm
_PADE_M = 13
#: Higham (2005): the largest 1-norm for which the [13/13] Pade approximant of exp is
#: accurate to double precision.
_THETA_13 = 5.371920351148152


def _pade_coefficients(m):
    """b_k = (2m - k)! m! / ((2m)! k! (m - k)!), k = 0..m, of the [m/m] Pade approximant."""
    f = math.factorial
    return [f(2 * m - k) * f(m) / (f(2 * m) * f(k) * f(m - k)) for k in range(m + 1)]


_B = _pade_coefficients(_PADE_M)


def _pade13(a):
    """(P, Q) of the [13/13] approximant, with Q(a) = P(-a), in 6 matrix products."""
    eye = lnp.broadcast_to(lnp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (_B[13] * a6 + _B[11] * a4 + _B[9] * a2)
             + _B[7] * a6 + _B[5] * a4 + _B[3] * a2 + _B[1] * eye)
    v = (a6 @ (_B[12] * a6 + _B[10] * a4 + _B[8] * a2)
         + _B[6] * a6 + _B[4] * a4 + _B[2] * a2 + _B[0] * eye)
    return v + u, v - u


@quiet
def expm(A, *, upper_triangular=False, max_squarings=16):
    """The matrix exponential by scaling and squaring with the [13/13] Pade approximant
    (Higham 2005), in lepton ops (so it differentiates, batches and compiles).

    ``A`` is scaled by 2**-s, s = ceil(log2(|A|_1 / theta_13)), per matrix.  Eagerly s is
    unbounded; under a transform the squaring loop runs ``max_squarings`` times (as JAX)
    and a matrix needing more gives NaN.  ``upper_triangular`` is accepted (a hint)."""
    del upper_triangular
    a = _square("expm", A)
    if a.shape[-1] == 0:
        return a
    norm = lnp.max(lnp.sum(lnp.abs(a), axis=-2), axis=-1)
    ratio = lnp.where(norm > 0, norm / _THETA_13, 1.0)
    s = lnp.maximum(lnp.ceil(lnp.log2(ratio)), 0)
    s = lnp.where(lnp.isfinite(s), s, 0)
    traced = isinstance(s, Tracer)
    if traced:
        steps = int(max_squarings)
    else:
        steps = int(np.max(np.asarray(s), initial=0))
    s = stop_gradient(s)  # the squaring count is piecewise constant
    scale = lnp.exp2(-s)[..., None, None].astype(a.dtype)
    p, q = _pade13(a * scale)
    r = lnp.linalg.solve(q, p)
    for i in range(steps):
        more = (i < s)[..., None, None]
        rr = lnp.where(more, r, 0)  # finished matrices are not squared (no overflow)
        r = lnp.where(more, rr @ rr, r)
    if traced:
        r = lnp.where((s > steps)[..., None, None], np.nan, r)
    return r

