"""The beta distribution on [loc, loc + scale]."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from ..special import betaln, xlog1py, xlogy
from .._util import quiet
from ._util import promote


@quiet
def logpdf(x, a, b, loc=0, scale=1):
    """-inf outside [loc, loc + scale]."""
    x, a, b, loc, scale = promote("beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    outside = (y < 0) | (y > 1)
    ys = lnp.where(outside, 0.5, y)
    out = xlogy(a - 1, ys) + xlog1py(b - 1, -ys) - betaln(a, b) - lnp.log(scale)
    return lnp.where(outside, -np.inf, out)


@quiet
def pdf(x, a, b, loc=0, scale=1):
    return lnp.exp(logpdf(x, a, b, loc, scale))
