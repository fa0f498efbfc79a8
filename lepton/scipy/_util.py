"""Dtype handling shared by lepton.scipy's modules."""
from __future__ import annotations

from .. import dtypes
from ..numpy._util import aval_of, inexact_dtype


def common_inexact(*xs):
    """The float (or complex) dtype that ``xs`` promote to, without broadcasting them
    (matrix arguments have different shapes)."""
    avals = [aval_of(x) for x in xs]
    dt, weak = dtypes.promote(*((a.dtype, a.weak_type) for a in avals))
    return inexact_dtype(dt, weak)[0]


def quiet(fn):
    """Run ``fn`` without NumPy floating-point warnings: eager lepton ops compute with NumPy,
    and intermediate inf - inf or 0 * inf (which give the documented inf/nan results, as
    in JAX and scipy) must not warn at the user's call."""
    import functools

    import numpy as np

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper
