"""The Laplace distribution exp(-|x - loc| / scale) / (2 scale)."""
from __future__ import annotations

import math

from ... import numpy as lnp
from .._util import quiet
from ._util import promote


@quiet
def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote("laplace.logpdf", x, loc, scale)
    return -lnp.abs(x - loc) / scale - lnp.log(scale) - math.log(2)


@quiet
def pdf(x, loc=0, scale=1):
    return lnp.exp(logpdf(x, loc, scale))


@quiet
def cdf(x, loc=0, scale=1):
    """1/2 e^y below loc, 1 - 1/2 e^-y above (y = (x - loc) / scale)."""
    x, loc, scale = promote("laplace.cdf", x, loc, scale)
    y = (x - loc) / scale
    half = 0.5 * lnp.exp(-lnp.abs(y))
    return lnp.where(y < 0, half, 1 - half)
