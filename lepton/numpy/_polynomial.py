"""NumPy's classic polynomial functions (highest power first), as jax.numpy.

polyval, polyadd, polysub, polymul, polyder, polyint, polyfit, poly, roots, trim_zeros.
Compositions of lepton.numpy functions, so they jit, vmap and differentiate.  Shapes
that depend on values (trim_zeros, roots with strip_zeros=True) need concrete inputs.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import numpy as lnp   # the package: its names are looked up at call time
from ..core import Tracer

__all__ = ["polyval", "polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint",
           "polyfit", "poly", "roots", "trim_zeros"]


def _static_int(v, what):
    if isinstance(v, Tracer):
        raise TypeError(f"{what} must be a static Python int, not a traced value; "
                        "pass it as a static argument of jit")
    return operator.index(v)


def _promote(*xs, inexact=False):
    """Arrays at their common dtype (floats when ``inexact``), as jnp.promote_dtypes."""
    xs = [lnp.asarray(x) for x in xs]
    dt = lnp.result_type(*xs)
    if inexact and not lnp.issubdtype(dt, np.inexact):
        dt = lnp.asarray(1.0).dtype       # ints -> the default float (float32, or x64's)
    return [x.astype(dt) for x in xs]


def polyval(p, x, *, unroll=16):
    """``p[0]*x**(M-1) + ... + p[M-1]`` by Horner's rule; p may be 2-D (one polynomial per
    trailing index, broadcast against x).  ``unroll`` is accepted for JAX compatibility."""
    p, x = _promote(p, x)
    if p.ndim == 0:
        raise ValueError(f"polyval: p must be at least 1-d, got shape {p.shape}")
    shape = lnp.broadcast_shapes(p.shape[1:], x.shape)
    y = lnp.zeros(shape, x.dtype)
    for k in range(p.shape[0]):
        y = y * x + p[k]
    return y


def polyadd(a1, a2):
    """Sum of two polynomials, aligned at the constant term (the longer one's length)."""
    a1, a2 = _promote(a1, a2)
    if a1.ndim == 0 or a2.ndim == 0:
        raise ValueError(f"polyadd: inputs must be at least 1-d, got {a1.shape} and {a2.shape}")
    if a2.shape[0] <= a1.shape[0]:
        return a1.at[a1.shape[0] - a2.shape[0]:].add(a2)
    return a2.at[a2.shape[0] - a1.shape[0]:].add(a1)


def polysub(a1, a2):
    """Difference of two polynomials, aligned at the constant term."""
    a1, a2 = _promote(a1, a2)
    return polyadd(a1, -a2)


def polymul(a1, a2, *, trim_leading_zeros=False):
    """Product of two 1-d polynomials (full convolution; floats, as JAX).

    Leading zeros are kept unless ``trim_leading_zeros`` (needs concrete inputs)."""
    a1, a2 = _promote(a1, a2, inexact=True)
    a1, a2 = lnp.atleast_1d(a1), lnp.atleast_1d(a2)
    if trim_leading_zeros and (a1.shape[0] > 1 or a2.shape[0] > 1):
        a1, a2 = trim_zeros(a1, trim="f"), trim_zeros(a2, trim="f")
    if a1.shape[0] == 0:
        a1 = lnp.zeros((1,), a2.dtype)
    if a2.shape[0] == 0:
        a2 = lnp.zeros((1,), a1.dtype)
    return lnp.convolve(a1, a2, mode="full")


def polydiv(u, v, *, trim_leading_zeros=False):
    """Quotient and remainder of u / v by long division (floats), as JAX.

    The remainder keeps u's length (leading zeros included, a fixed shape for jit) unless
    ``trim_leading_zeros``, which drops leading entries below sqrt(eps) as NumPy does
    (needs concrete inputs)."""
    u, v = _promote(u, v, inexact=True)
    if u.ndim != 1 or v.ndim != 1 or v.shape[0] == 0:
        raise ValueError(f"polydiv: u and v must be 1-d (v non-empty), got shapes {u.shape} "
                         f"and {v.shape}")
    m, n = u.shape[0] - 1, v.shape[0] - 1
    scale = 1.0 / v[0]
    q = lnp.zeros((max(m - n + 1, 1),), u.dtype)
    for k in range(0, m - n + 1):
        d = scale * u[k]
        q = q.at[k].set(d)
        u = u.at[k:k + n + 1].add(-d * v)
    if trim_leading_zeros:
        if isinstance(u, Tracer):
            raise TypeError("polydiv: trim_leading_zeros=True needs concrete inputs (the "
                            "remainder's length depends on its values)")
        tol = float(np.sqrt(np.finfo(u.dtype).eps))
        small = np.abs(np.asarray(u)) < tol
        u = u[int(small.argmin()):] if not small.all() else u[:0]
    return q, u


def polyder(p, m=1):
    """The m-th derivative's coefficients (floats; ``m`` static)."""
    m = _static_int(m, "polyder: m")
    (p,) = _promote(p, inexact=True)
    if m < 0:
        raise ValueError("Order of derivative must be positive")
    if m == 0:
        return p
    n = p.shape[0]
    coeff = np.prod(np.arange(m, n, dtype=np.float64)[None] - np.arange(m)[:, None], axis=0)
    return p[:max(n - m, 0)] * lnp.asarray(coeff[::-1].astype(p.dtype))


def polyint(p, m=1, k=None):
    """The m-th antiderivative; ``k`` the integration constants (scalar or length m)."""
    m = _static_int(m, "polyint: m")
    p, k = _promote(p, 0 if k is None else k, inexact=True)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = lnp.atleast_1d(k)
    if k.shape[0] == 1:
        k = lnp.full((m,), k[0], k.dtype) if m else k[:0]
    if k.shape != (m,):
        raise ValueError(f"k must be a scalar or a rank-1 array of length 1 or m={m}, "
                         f"got shape {k.shape}")
    if m == 0:
        return p
    n = p.shape[0]
    grid = np.arange(n + m, dtype=np.float64)[None] - np.arange(m)[:, None]
    coeff = np.maximum(1, grid).prod(0)[::-1]
    return lnp.concatenate([p, k]) / lnp.asarray(coeff.astype(p.dtype))


def _vander(x, order):
    """Columns x**(order-1), ..., x, 1 by repeated products (exact for small ints)."""
    cols = [lnp.ones_like(x)]
    for _ in range(order - 1):
        cols.append(cols[-1] * x)
    return lnp.stack(cols[::-1], axis=1)


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial fit of degree ``deg`` (highest power first), as JAX.

    ``y`` may be 2-d (one fit per column).  ``full=True`` returns
    ``(p, residuals, rank, s, rcond)`` with JAX's always-present residuals; ``cov=True``
    (or ``"unscaled"``) returns ``(p, C)``.  ``w`` weights the unsquared residuals.
    """
    deg = _static_int(deg, "polyfit: deg")
    if w is None:
        x, y = _promote(x, y, inexact=True)
    else:
        x, y, w = _promote(x, y, w, inexact=True)
    order = deg + 1
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError(f"expected 1D vector for x, got shape {x.shape}")
    if x.shape[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError(f"expected 1D or 2D array for y, got shape {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise TypeError(f"expected x and y to have same length, got {x.shape} and {y.shape}")
    if rcond is None:
        rcond = x.shape[0] * float(np.finfo(x.dtype).eps)
    if isinstance(rcond, Tracer):
        raise TypeError("polyfit: rcond must be a static float")
    rcond = float(rcond)
    lhs, rhs = _vander(x, order), y
    if w is not None:
        if w.ndim != 1:
            raise TypeError(f"expected a 1-d array for weights, got shape {w.shape}")
        if w.shape[0] != y.shape[0]:
            raise TypeError(f"expected w and y to have the same length, got {w.shape} "
                            f"and {y.shape}")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if rhs.ndim == 2 else w)
    # Scale the columns to improve the conditioning, then solve.
    scale = lnp.sqrt((lhs * lhs).sum(axis=0))
    lhs = lhs / scale[None, :]
    c, resids, rank, s = lnp.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T if c.ndim > 1 else c / scale
    if full:
        return c, resids, rank, s, lnp.asarray(rcond, x.dtype)
    if cov:
        vbase = lnp.linalg.inv(lhs.T @ lhs) / lnp.outer(scale, scale)
        if cov == "unscaled":
            fac = lnp.asarray(1.0, x.dtype)
        else:
            if x.shape[0] <= order:
                raise ValueError("the number of data points must exceed order"
                                 " to scale the covariance matrix")
            fac = resids / (x.shape[0] - order)
        if y.ndim == 1:
            return c, vbase * lnp.atleast_1d(fac)[0]
        return c, vbase[:, :, None] * lnp.atleast_1d(fac)[None, None, :]
    return c


def poly(seq_of_zeros):
    """Monic polynomial with the given roots (or a square matrix's eigenvalues)."""
    (z,) = _promote(seq_of_zeros, inexact=True)
    z = lnp.atleast_1d(z)
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] != 0:
        z = lnp.linalg.eigvals(z)
    if z.ndim != 1:
        raise ValueError(f"input must be 1d or non-empty square 2d array, got shape {z.shape}")
    if z.shape[0] == 0:
        return lnp.ones((), z.dtype)
    a = lnp.ones((1,), z.dtype)
    for k in range(z.shape[0]):
        a = lnp.convolve(a, lnp.stack([lnp.ones((), z.dtype), -z[k]]), mode="full")
    return a


def _complex_dtype(dt):
    return np.result_type(dt, np.complex64)


def _roots_no_zeros(p):
    n = p.shape[0]
    if n < 2:
        return lnp.zeros((0,), _complex_dtype(p.dtype))
    a = lnp.diag(lnp.ones((n - 2,), p.dtype), -1)
    a = a.at[0, :].set(-p[1:] / p[0])
    return lnp.linalg.eigvals(a).astype(_complex_dtype(p.dtype))


def roots(p, *, strip_zeros=True):
    """Roots of a 1-d polynomial: the companion matrix's eigenvalues (complex, unordered).

    ``strip_zeros=True`` drops leading zeros (needs concrete p); ``False`` keeps the shape
    fixed (for jit) and sets the roots that leading zeros would remove to nan.
    """
    (p,) = _promote(p, inexact=True)
    p = lnp.atleast_1d(p)
    if p.ndim != 1:
        raise ValueError(f"Input must be a rank-1 array, got shape {p.shape}")
    if p.shape[0] < 2:
        return lnp.zeros((0,), _complex_dtype(p.dtype))
    lead = lnp.where(lnp.all(p == 0), p.shape[0], lnp.argmin(p == 0))
    if strip_zeros:
        if isinstance(lead, Tracer):
            raise TypeError("roots: strip_zeros=True needs a concrete p (the output length "
                            "depends on its leading zeros); under jit pass strip_zeros=False, "
                            "which sets the roots of leading zeros to nan")
        return _roots_no_zeros(p[int(lead):])
    p = lnp.where(p.shape[0] == lead, lnp.ones_like(p), p)
    r = _roots_no_zeros(lnp.roll(p, -lead))
    # Zero roots (from the rolled-in zeros) go last, then become nan.
    order = lnp.argsort(r == 0, stable=True)
    r = r[order]
    nan = lnp.asarray(complex(np.nan, np.nan), r.dtype)
    return lnp.where(lnp.arange(r.shape[0]) < r.shape[0] - lead, r, nan)


def trim_zeros(filt, trim="fb", axis=None):
    """Strip leading ('f') and/or trailing ('b') all-zero slices along ``axis`` (all axes by
    default).  The output shape depends on the values, so ``filt`` must be concrete."""
    if isinstance(filt, Tracer):
        raise TypeError("trim_zeros: the output shape depends on filt's values, so it must "
                        "be concrete (not traced under jit/vmap/grad)")
    filt = lnp.asarray(filt)
    axes = range(filt.ndim) if axis is None else (
        [axis] if isinstance(axis, int) else list(axis))
    axes = {a % filt.ndim for a in axes} if filt.ndim else set()
    trim = trim.lower()
    if not axes or ("f" not in trim and "b" not in trim):
        return filt
    nz = np.asarray(filt) != 0
    index = []
    for ax in range(filt.ndim):
        if ax not in axes:
            index.append(slice(None))
            continue
        mask = nz.any(axis=tuple(i for i in range(filt.ndim) if i != ax))
        if not mask.any():
            index.append(slice(0, 0))
            continue
        start = int(mask.argmax()) if "f" in trim else None
        stop = filt.shape[ax] - int(mask[::-1].argmax()) if "b" in trim else None
        index.append(slice(start, stop))
    return filt[tuple(index)]
