"""The logistic distribution with location ``loc`` and scale ``scale``."""
from __future__ import annotations

from ... import numpy as lnp
from ...primitives.elementwise import logistic as _expit
from .._util import quiet
from ._util import promote


def _y(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


@quiet
def logpdf(x, loc=0, scale=1):
    """-y - 2 log1p(e^-y) - log(scale), written symmetric in y so no side overflows."""
    y, scale = _y("logistic.logpdf", x, loc, scale)
    a = lnp.abs(y)
    return -a - 2 * lnp.log1p(lnp.exp(-a)) - lnp.log(scale)


@quiet
def pdf(x, loc=0, scale=1):
    return lnp.exp(logpdf(x, loc, scale))


@quiet
def cdf(x, loc=0, scale=1):
    return _expit(_y("logistic.cdf", x, loc, scale)[0])


@quiet
def sf(x, loc=0, scale=1):
    return _expit(-_y("logistic.sf", x, loc, scale)[0])


@quiet
def ppf(q, loc=0, scale=1):
    """loc + scale * log(q / (1 - q))."""
    q, loc, scale = promote("logistic.ppf", q, loc, scale)
    return loc + scale * (lnp.log(q) - lnp.log1p(-q))


@quiet
def isf(q, loc=0, scale=1):
    q, loc, scale = promote("logistic.isf", q, loc, scale)
    return loc - scale * (lnp.log(q) - lnp.log1p(-q))
