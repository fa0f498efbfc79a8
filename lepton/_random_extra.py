"""More ``jax.random`` samplers, each a transformation of lepton.random's uniform, normal,
exponential and gamma draws (the same formulas JAX uses, so distributions match; the
bits differ from JAX's).  Installed into ``lepton.random`` at the end of that module."""
from __future__ import annotations

from . import dtypes
from . import numpy as lnp
from .random import (_dtype_arg, _exponential, _gamma, _normal, _param, _sample_shape,
                     _shape_arg, _split_list, _take_key, _uniform)

__all__ = ["chisquare", "double_sided_maxwell", "f", "geometric", "lognormal", "maxwell",
           "pareto", "rayleigh", "triangular", "wald", "weibull_min"]


def _setup(name, key, params, shape, dtype):
    """(key, params broadcast to the sample shape, shape, dtype)."""
    key = _take_key(name, key)
    dtype = _dtype_arg(name, dtype, "f")
    ps = [_param(p, dtype) for p in params]
    shape = _sample_shape(name, shape, *(p.shape for p in ps))
    return key, [lnp.broadcast_to(p, shape) for p in ps], shape, dtype


def lognormal(key, sigma=1.0, shape=None, dtype=None):
    """exp(sigma * N(0, 1)) samples."""
    key, (sigma,), shape, dtype = _setup("lognormal", key, [sigma], shape, dtype)
    return lnp.exp(sigma * _normal(key, shape, dtype))


def chisquare(key, df, shape=None, dtype=None):
    """Chi-squared(df) samples: 2 * Gamma(df / 2)."""
    key, (df,), shape, dtype = _setup("chisquare", key, [df], shape, dtype)
    return 2 * _gamma(key, df / 2, shape, dtype)


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F(dfnum, dfden) samples: (X / dfnum) / (Y / dfden) for chi-squared X, Y."""
    key, (dfnum, dfden), shape, dtype = _setup("f", key, [dfnum, dfden], shape, dtype)
    k1, k2 = _split_list(key, 2)
    x = 2 * _gamma(k1, dfnum / 2, shape, dtype)
    y = 2 * _gamma(k2, dfden / 2, shape, dtype)
    return (x / dfnum) / (y / dfden)


def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh(scale) samples: scale * sqrt(2 E) for E ~ Exponential(1)."""
    key, (scale,), shape, dtype = _setup("rayleigh", key, [scale], shape, dtype)
    return scale * lnp.sqrt(2 * _exponential(key, shape, dtype))


def pareto(key, b, shape=None, dtype=None):
    """Pareto(b) samples on [1, inf): exp(E / b)."""
    key, (b,), shape, dtype = _setup("pareto", key, [b], shape, dtype)
    return lnp.exp(_exponential(key, shape, dtype) / b)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull samples: scale * E^(1 / concentration)."""
    key, (scale, c), shape, dtype = _setup("weibull_min", key, [scale, concentration],
                                           shape, dtype)
    return scale * _exponential(key, shape, dtype) ** (1 / c)


def maxwell(key, shape=(), dtype=None):
    """Maxwell samples: the norm of a standard normal 3-vector."""
    key = _take_key("maxwell", key)
    dtype = _dtype_arg("maxwell", dtype, "f")
    shape = _shape_arg("maxwell", shape)
    return lnp.linalg.norm(_normal(key, shape + (3,), dtype), axis=-1)


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """loc + scale * (a Maxwell sample with a random sign)."""
    key, (loc, scale), shape, dtype = _setup("double_sided_maxwell", key, [loc, scale],
                                             shape, dtype)
    k1, k2 = _split_list(key, 2)
    m = lnp.linalg.norm(_normal(k1, shape + (3,), dtype), axis=-1)
    sign = lnp.where(_uniform(k2, shape, dtype) < 0.5, -1, 1).astype(dtype)
    return loc + scale * sign * m


def geometric(key, p, shape=None, dtype=None):
    """The number of Bernoulli(p) trials up to the first success (>= 1); integer dtype."""
    key = _take_key("geometric", key)
    dtype = _dtype_arg("geometric", dtype, "iu", default=dtypes.default_int())
    fdt = dtypes.default_float()
    p = _param(p, fdt)
    shape = _sample_shape("geometric", shape, p.shape)
    p = lnp.broadcast_to(p, shape)
    u = _uniform(key, shape, fdt)
    return (lnp.floor(lnp.log1p(-u) / lnp.log1p(-p)) + 1).astype(dtype)


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular(left, mode, right) samples by the inverse CDF."""
    key, (a, c, b), shape, dtype = _setup("triangular", key, [left, mode, right], shape,
                                          dtype)
    u = _uniform(key, shape, dtype)
    cut = (c - a) / (b - a)
    lo = a + lnp.sqrt(u * (b - a) * (c - a))
    hi = b - lnp.sqrt((1 - u) * (b - a) * (b - c))
    return lnp.where(u < cut, lo, hi)


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian with shape 1) samples, by Michael, Schucany and Haas."""
    key, (mu,), shape, dtype = _setup("wald", key, [mean], shape, dtype)
    k1, k2 = _split_list(key, 2)
    v = _normal(k1, shape, dtype)
    y = v * v
    x = mu + mu * mu * y / 2 - mu / 2 * lnp.sqrt(4 * mu * y + mu * mu * y * y)
    u = _uniform(k2, shape, dtype)
    return lnp.where(u <= mu / (mu + x), x, mu * mu / x)
