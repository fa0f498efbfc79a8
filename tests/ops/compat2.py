"""Op rows for the compatibility additions of issue 14 (branch compat2): the regularized
incomplete gamma functions and the gamma / chi2 CDFs built on them.

The reference is scipy (with JAX's NaN at a = inf, where scipy gives 0 or 1); without scipy
the rows are left out and tests/test_igamma.py still checks closed forms (integer and half
integer a).  Gradient draws keep a and x in [0.5, 3]: dP/da is checked once (JAX has no
second derivative in a), dP/dx twice.
"""
import numpy as np
from hypothesis import strategies as st

import lepton.scipy.special as lss
import lepton.scipy.stats as lst
from tests.ops import Op, array, bshape, shape

try:
    import scipy.special as _ss
except ImportError:  # scipy is optional
    _ss = None


def _ab_gen(draw, dtype, for_grad):
    s = shape(draw, max_dims=2)
    s2 = bshape(draw, s)
    a = array(draw, s, dtype, "positive", for_grad, low=0.5 if for_grad else 0.1, high=3)
    x = array(draw, s2, dtype, "positive", for_grad, low=0.5 if for_grad else 0.1, high=3,
              salt=1)
    if not for_grad and x.size and draw(st.booleans()):
        x = np.where(np.arange(x.size).reshape(x.shape) % 3 == 0, 0, x).astype(dtype)
    return (a, x), {}


def _ref(fn):
    def ref(a, x):
        a64, x64 = np.asarray(a, np.float64), np.asarray(x, np.float64)
        out = np.where(a64 == np.inf, np.nan, fn(a64, x64))
        return out.astype(np.result_type(a.dtype, x.dtype))
    return ref


def _dist_gen(draw, dtype, for_grad):
    """(x, a, loc, scale): x may fall below loc without ``for_grad``."""
    s = shape(draw, max_dims=2)
    lo = 1.0 if for_grad else -1.0
    x = array(draw, s, dtype, "positive", True, low=lo, high=4)
    a = array(draw, bshape(draw, s), dtype, "positive", True, low=0.5, high=3, salt=1)
    loc = array(draw, (), dtype, "positive", True, low=0.0, high=0.5, salt=2)
    scale = array(draw, (), dtype, "positive", True, low=0.5, high=2, salt=3)
    return (x, a, loc, scale), {}


def _gamma_cdf(x, a, loc, scale):
    y = np.maximum((x.astype("f8") - loc) / scale, 0)
    return _ss.gammainc(a.astype("f8"), y).astype(x.dtype)


def _chi2_sf(x, df, loc, scale):
    y = np.maximum((x.astype("f8") - loc) / scale, 0)
    return _ss.gammaincc(df.astype("f8") / 2, y / 2).astype(x.dtype)


OPS = []
if _ss is not None:
    OPS += [
        Op("scipy.special.gammainc", lss.gammainc, _ref(_ss.gammainc), _ab_gen,
           diff_args=(1,), rtol={"float32": 2e-5}),
        Op("scipy.special.gammainc", lss.gammainc, _ref(_ss.gammainc), _ab_gen,
           diff_args=(0,), grad_order=1, id="scipy.special.gammainc_da", vmap=False,
           jit=False, rtol={"float32": 2e-5}),
        Op("scipy.special.gammaincc", lss.gammaincc, _ref(_ss.gammaincc), _ab_gen,
           diff_args=(1,), rtol={"float32": 2e-5}),
        Op("scipy.special.gammaincc", lss.gammaincc, _ref(_ss.gammaincc), _ab_gen,
           diff_args=(0,), grad_order=1, id="scipy.special.gammaincc_da", vmap=False,
           jit=False, rtol={"float32": 2e-5}),
        Op("scipy.stats.gamma.cdf", lst.gamma.cdf, _gamma_cdf, _dist_gen, grad_order=1,
           rtol={"float32": 2e-5}),
        Op("scipy.stats.chi2.sf", lst.chi2.sf, _chi2_sf, _dist_gen, grad_order=1,
           rtol={"float32": 2e-5}),
    ]
