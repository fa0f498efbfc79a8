"""The gamma distribution with shape ``a`` (scale form, as scipy)."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from ...primitives.special import lgamma
from ..special import xlogy
from .._util import quiet
from ._util import promote


@quiet
def logpdf(x, a, loc=0, scale=1):
    """-inf below ``loc``."""
    x, a, loc, scale = promote("gamma.logpdf", x, a, loc, scale)
    y = (x - loc) / scale
    ys = lnp.where(x < loc, 1, y)  # the unused branch stays finite (and so do its gradients)
    out = xlogy(a - 1, ys) - ys - lgamma(a) - lnp.log(scale)
    return lnp.where(x < loc, -np.inf, out)


@quiet
def pdf(x, a, loc=0, scale=1):
    return lnp.exp(logpdf(x, a, loc, scale))
