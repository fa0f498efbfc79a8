"""``lepton.scipy.stats`` (as ``jax.scipy.stats``): log densities, densities and CDFs of
common distributions, each a module of functions with scipy's ``loc``/``scale``
arguments.  Arguments broadcast and promote to float; out-of-support points give -inf
log densities (0 densities), as JAX."""
from __future__ import annotations

from . import (bernoulli, beta, cauchy, chi2, expon, gamma, laplace, logistic,  # noqa: F401
               multivariate_normal, norm, poisson, t, uniform)
