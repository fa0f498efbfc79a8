"""Op rows: jnp names added for JAX programs (task npnames1): ldexp, frexp, modf, spacing,
nextafter, polynomials (polyval, polyadd, polysub, polymul, polyder, polyint), i0, kaiser.

References are NumPy's, adjusted where JAX (and lepton) deliberately differ: modf's
fractional part is ``x - whole`` (nan at inf), spacing(-0.0) is -smallest_subnormal."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import FLOATS, Op, array, binary, shape, unary


def _np_modf(x):
    whole = np.where(x >= 0, np.floor(x), np.ceil(x))
    return x - whole, whole


def _np_spacing(x):
    tiny = np.finfo(x.dtype).smallest_subnormal
    return np.where(x == 0, np.copysign(tiny, x), np.spacing(x)).astype(x.dtype)


def _ldexp_gen(draw, dtype, for_grad):
    s = shape(draw)
    seed = draw(st.integers(0, 2**32 - 1))  # a list strategy cannot draw 1M exponents
    k = np.random.default_rng(seed).integers(-8, 9, size=s, dtype=np.int32)
    return (array(draw, s, dtype, for_grad=for_grad), k), {}


def _coeffs(draw, dtype, for_grad, salt=0, min_side=1):
    return array(draw, shape(draw, min_dims=1, max_dims=1, min_side=min_side, max_side=5),
                 dtype, for_grad=for_grad, salt=salt)


def _polyval_gen(draw, dtype, for_grad):
    return (_coeffs(draw, dtype, for_grad, min_side=0),
            array(draw, shape(draw), dtype, for_grad=for_grad, salt=1)), {}


def _pair_gen(draw, dtype, for_grad):
    return (_coeffs(draw, dtype, for_grad), _coeffs(draw, dtype, for_grad, salt=1)), {}


def _order_gen(draw, dtype, for_grad):
    return (_coeffs(draw, dtype, for_grad),), {"m": draw(st.integers(0, 3))}


def _kaiser_gen(draw, dtype, for_grad):
    beta = array(draw, (), dtype, "positive", for_grad=for_grad)
    return (beta,), {"M": draw(st.integers(0, 9))}


def _np_polyint(p, m=1):
    return np.polyint(p, m) if m else p


OPS = [
    Op("ldexp", lnp.ldexp, np.ldexp, _ldexp_gen, diff_args=(0,), vmap_args=(0, 1)),
    unary("frexp", lnp.frexp, np.frexp, grad=False),
    unary("modf", lnp.modf, _np_modf),
    unary("spacing", lnp.spacing, _np_spacing, nondiff=True),
    binary("nextafter", lnp.nextafter, np.nextafter, nondiff=True),
    unary("i0", lnp.i0, np.i0, rtol={"float32": 2e-6, "float64": 1e-13}),
    # polynomial rows: a coefficient vector of a million terms is no polynomial anyone
    # evaluates (polyval unrolls its Horner loop, polymul is a full convolution)
    Op("polyval", lnp.polyval, np.polyval, _polyval_gen, rtol={"float32": 1e-5},
       scalable=False),
    Op("polyadd", lnp.polyadd, np.polyadd, _pair_gen, scalable=False),
    Op("polysub", lnp.polysub, np.polysub, _pair_gen, scalable=False),
    Op("polymul", lnp.polymul, np.polymul, _pair_gen, rtol={"float32": 1e-5}, scalable=False),
    Op("polyder", lnp.polyder, np.polyder, _order_gen, scalable=False),
    Op("polyint", lnp.polyint, _np_polyint, _order_gen, scalable=False),
    Op("kaiser", lambda beta, M: lnp.kaiser(M, beta), lambda beta, M: np.kaiser(M, beta),
       _kaiser_gen, rtol={"float32": 2e-5}, scalable=False),
]
assert all(o.dtypes == FLOATS for o in OPS)
