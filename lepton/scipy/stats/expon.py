"""The exponential distribution on [loc, inf) with mean ``scale`` (scipy's form)."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from .._util import quiet
from ._util import promote


def _y(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


@quiet
def logpdf(x, loc=0, scale=1):
    """-y - log(scale) on the support, -inf below it."""
    y, scale = _y("expon.logpdf", x, loc, scale)
    return lnp.where(y < 0, -np.inf, -y - lnp.log(scale))


@quiet
def pdf(x, loc=0, scale=1):
    return lnp.exp(logpdf(x, loc, scale))


@quiet
def cdf(x, loc=0, scale=1):
    y, _ = _y("expon.cdf", x, loc, scale)
    return -lnp.expm1(-lnp.maximum(y, 0))


@quiet
def logcdf(x, loc=0, scale=1):
    y, _ = _y("expon.logcdf", x, loc, scale)
    return lnp.where(y <= 0, -np.inf, lnp.log(-lnp.expm1(-lnp.maximum(y, 0))))


@quiet
def sf(x, loc=0, scale=1):
    y, _ = _y("expon.sf", x, loc, scale)
    return lnp.exp(-lnp.maximum(y, 0))


@quiet
def logsf(x, loc=0, scale=1):
    y, _ = _y("expon.logsf", x, loc, scale)
    return -lnp.maximum(y, 0)


@quiet
def ppf(q, loc=0, scale=1):
    """-log1p(-q) * scale + loc (NaN outside [0, 1])."""
    q, loc, scale = promote("expon.ppf", q, loc, scale)
    out = -lnp.log1p(-q) * scale + loc
    return lnp.where((q < 0) | (q > 1), np.nan, out)
