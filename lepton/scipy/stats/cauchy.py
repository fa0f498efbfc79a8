"""The Cauchy distribution with location ``loc`` and scale ``scale``."""
from __future__ import annotations

import math

import numpy as np

from ... import numpy as lnp
from .._util import quiet
from ._util import promote


def _y(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


@quiet
def logpdf(x, loc=0, scale=1):
    y, scale = _y("cauchy.logpdf", x, loc, scale)
    return -math.log(math.pi) - lnp.log(scale) - lnp.log1p(y * y)


@quiet
def pdf(x, loc=0, scale=1):
    return lnp.exp(logpdf(x, loc, scale))


@quiet
def cdf(x, loc=0, scale=1):
    """1/2 + arctan(y) / pi."""
    return 0.5 + lnp.arctan(_y("cauchy.cdf", x, loc, scale)[0]) / math.pi


@quiet
def logcdf(x, loc=0, scale=1):
    return lnp.log(cdf(x, loc, scale))


@quiet
def sf(x, loc=0, scale=1):
    """cdf at the reflected point: accurate in the right tail."""
    return 0.5 - lnp.arctan(_y("cauchy.sf", x, loc, scale)[0]) / math.pi


@quiet
def logsf(x, loc=0, scale=1):
    return lnp.log(sf(x, loc, scale))


def _tan_quantile(q):
    """tan(pi (q - 1/2)), exactly -inf / inf at q = 0 / 1 (tan of the rounded pi/2 is
    finite) and NaN outside [0, 1]."""
    t = lnp.tan(math.pi * (q - 0.5))
    t = lnp.where(q == 0, -np.inf, lnp.where(q == 1, np.inf, t))
    return lnp.where((q < 0) | (q > 1), np.nan, t)


@quiet
def ppf(q, loc=0, scale=1):
    """loc + scale tan(pi (q - 1/2))."""
    q, loc, scale = promote("cauchy.ppf", q, loc, scale)
    return loc + scale * _tan_quantile(q)


@quiet
def isf(q, loc=0, scale=1):
    q, loc, scale = promote("cauchy.isf", q, loc, scale)
    return loc - scale * _tan_quantile(q)
