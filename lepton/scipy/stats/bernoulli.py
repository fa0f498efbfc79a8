"""The Bernoulli distribution: 1 with probability ``p``."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from ..special import xlog1py, xlogy
from .._util import quiet
from ._util import promote


@quiet
def logpmf(k, p, loc=0):
    """-inf unless k - loc is 0 or 1."""
    k, p, loc = promote("bernoulli.logpmf", k, p, loc)
    x = k - loc
    out = xlogy(x, p) + xlog1py(1 - x, -p)
    return lnp.where((x == 0) | (x == 1), out, -np.inf)


@quiet
def pmf(k, p, loc=0):
    return lnp.exp(logpmf(k, p, loc))
