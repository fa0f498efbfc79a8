"""The normal distribution N(loc, scale**2)."""
from __future__ import annotations

import math

from ... import numpy as lnp
from .. import special
from .._util import quiet
from ._util import promote

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _z(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


@quiet
def logpdf(x, loc=0, scale=1):
    z, scale = _z("norm.logpdf", x, loc, scale)
    return -0.5 * z * z - _LOG_SQRT_2PI - lnp.log(scale)


@quiet
def pdf(x, loc=0, scale=1):
    return lnp.exp(logpdf(x, loc, scale))


@quiet
def cdf(x, loc=0, scale=1):
    return special.ndtr(_z("norm.cdf", x, loc, scale)[0])


@quiet
def logcdf(x, loc=0, scale=1):
    return special.log_ndtr(_z("norm.logcdf", x, loc, scale)[0])


@quiet
def sf(x, loc=0, scale=1):
    """1 - cdf, accurate in the right tail."""
    return special.ndtr(-_z("norm.sf", x, loc, scale)[0])


@quiet
def logsf(x, loc=0, scale=1):
    return special.log_ndtr(-_z("norm.logsf", x, loc, scale)[0])


@quiet
def ppf(q, loc=0, scale=1):
    """The quantile function (inverse of cdf)."""
    q, loc, scale = promote("norm.ppf", q, loc, scale)
    return special.ndtri(q) * scale + loc


@quiet
def isf(q, loc=0, scale=1):
    """The inverse of sf."""
    q, loc, scale = promote("norm.isf", q, loc, scale)
    return -special.ndtri(q) * scale + loc
