"""The gamma distribution with shape ``a`` (scale form, as scipy)."""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from ...primitives.special import lgamma
from ..special import gammainc, gammaincc, xlogy
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


def _std(name, x, a, loc, scale):
    """Promoted arguments, the standardised point (clipped at 0 below ``loc``)."""
    x, a, loc, scale = promote(name, x, a, loc, scale)
    return lnp.maximum((x - loc) / scale, 0), a


@quiet
def cdf(x, a, loc=0, scale=1):
    """P(a, (x - loc) / scale), the regularized lower incomplete gamma function; 0 below
    ``loc``.  Differentiable in x, loc, scale and a (once in a, as JAX)."""
    y, a = _std("gamma.cdf", x, a, loc, scale)
    return gammainc(a, y)


@quiet
def sf(x, a, loc=0, scale=1):
    """1 - cdf, as Q(a, y) (accurate in the upper tail); 1 below ``loc``."""
    y, a = _std("gamma.sf", x, a, loc, scale)
    return gammaincc(a, y)


@quiet
def logcdf(x, a, loc=0, scale=1):
    return lnp.log(cdf(x, a, loc, scale))


@quiet
def logsf(x, a, loc=0, scale=1):
    return lnp.log(sf(x, a, loc, scale))
