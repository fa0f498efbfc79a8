"""The multivariate normal distribution N(mean, cov), through a Cholesky factor."""
from __future__ import annotations

import math

from ... import numpy as lnp
from ...errors import ShapeError
from ...numpy import asarray
from .._util import common_inexact, quiet
from ...primitives.linalg import cholesky, triangular_solve

_LOG_2PI = math.log(2 * math.pi)


@quiet
def logpdf(x, mean, cov, allow_singular=None):
    """Log density of ``x`` (shape (..., n)); ``mean`` (..., n) and ``cov`` (..., n, n)
    broadcast against it.  A scalar ``mean`` with a scalar ``cov`` is the 1-d normal.
    ``allow_singular`` is accepted and ignored, as in JAX (a singular cov gives NaN)."""
    del allow_singular
    x, mean, cov = (asarray(v) for v in (x, mean, cov))
    dt = common_inexact(x, mean, cov)
    x, mean, cov = (v.astype(dt) for v in (x, mean, cov))
    if mean.ndim == 0:
        if cov.ndim != 0:
            raise ShapeError("multivariate_normal.logpdf: a scalar mean needs a scalar cov, "
                             f"got cov of shape {cov.shape}")
        d = x - mean
        return -0.5 * d * d / cov - 0.5 * (_LOG_2PI + lnp.log(cov))
    n = mean.shape[-1]
    if cov.ndim < 2 or cov.shape[-2:] != (n, n) or (x.ndim and x.shape[-1] != n):
        raise ShapeError(f"multivariate_normal.logpdf: mean has shape {mean.shape}, so cov "
                         f"must be (..., {n}, {n}) and x (..., {n}); got cov {cov.shape} and "
                         f"x {x.shape}")
    d = x - mean
    batch = lnp.broadcast_shapes(d.shape[:-1], cov.shape[:-2])
    d = lnp.broadcast_to(d, batch + (n,))
    chol = lnp.broadcast_to(cholesky(cov), batch + (n, n))
    y = triangular_solve(chol, d[..., None], left_side=True, lower=True)[..., 0]
    logdet = lnp.sum(lnp.log(lnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * lnp.sum(y * y, axis=-1) - logdet - 0.5 * n * _LOG_2PI


@quiet
def pdf(x, mean, cov):
    return lnp.exp(logpdf(x, mean, cov))
