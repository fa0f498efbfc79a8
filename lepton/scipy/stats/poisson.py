"""The Poisson distribution with mean ``mu``."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from ...primitives.special import lgamma
from ..special import gammaincc, xlogy
from .._util import quiet
from ._util import promote


@quiet
def logpmf(k, mu, loc=0):
    """-inf unless k - loc is a non-negative integer."""
    k, mu, loc = promote("poisson.logpmf", k, mu, loc)
    x = k - loc
    ok = (x >= 0) & (x == lnp.floor(x))
    xs = lnp.where(ok, x, 0)
    out = xlogy(xs, mu) - lgamma(xs + 1) - mu
    return lnp.where(ok, out, -np.inf)


@quiet
def pmf(k, mu, loc=0):
    return lnp.exp(logpmf(k, mu, loc))


@quiet
def cdf(k, mu, loc=0):
    """P(K <= k) = Q(floor(k - loc) + 1, mu), the regularized upper incomplete gamma
    function; 0 below loc."""
    k, mu, loc = promote("poisson.cdf", k, mu, loc)
    x = lnp.floor(k - loc)
    return lnp.where(x < 0, 0, gammaincc(lnp.maximum(x, 0) + 1, mu))
