"""Dtype handling shared by lepton.scipy's modules."""
from __future__ import annotations

from .. import dtypes
from .._quiet import quiet  # noqa: F401  (the stats modules run their formulas quietly)
from ..numpy.util import aval_of, inexact_dtype


def common_inexact(*xs):
    """The float (or complex) dtype that ``xs`` promote to, without broadcasting them
    (matrix arguments have different shapes)."""
    avals = [aval_of(x) for x in xs]
    dt, weak = dtypes.promote(*((a.dtype, a.weak_type) for a in avals))
    return inexact_dtype(dt, weak)[0]
