"""Student's t distribution with ``df`` degrees of freedom."""
from __future__ import annotations

import math

from ... import numpy as lnp
from ...primitives.special import lgamma
from .._util import quiet
from ._util import promote


@quiet
def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote("t.logpdf", x, df, loc, scale)
    z = (x - loc) / scale
    half = 0.5 * (df + 1)
    norm = lgamma(half) - lgamma(0.5 * df) - 0.5 * lnp.log(df * math.pi) - lnp.log(scale)
    return norm - half * lnp.log1p(z * z / df)


@quiet
def pdf(x, df, loc=0, scale=1):
    return lnp.exp(logpdf(x, df, loc, scale))
