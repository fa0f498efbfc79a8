"""The uniform distribution on [loc, loc + scale]."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from .._util import quiet
from ._util import promote


@quiet
def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote("uniform.logpdf", x, loc, scale)
    inside = (x >= loc) & (x <= loc + scale)
    out = lnp.where(inside, -lnp.log(scale), -np.inf)
    return lnp.where(lnp.isnan(x), np.nan, out)


@quiet
def pdf(x, loc=0, scale=1):
    return lnp.exp(logpdf(x, loc, scale))


@quiet
def cdf(x, loc=0, scale=1):
    x, loc, scale = promote("uniform.cdf", x, loc, scale)
    return lnp.clip((x - loc) / scale, 0, 1)


@quiet
def ppf(q, loc=0, scale=1):
    """loc + q * scale (NaN outside [0, 1])."""
    q, loc, scale = promote("uniform.ppf", q, loc, scale)
    return lnp.where((q < 0) | (q > 1), np.nan, loc + q * scale)
