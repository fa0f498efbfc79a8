"""Activation functions and friends, as ``jax.nn``.

Each one is written in lepton.numpy / lax ops, so grad, vmap and jit apply and a chain of
them fuses into one kernel under jit.  Where a naive formula overflows (softplus,
log_sigmoid, softmax, logsumexp) the stable form is used, so values and gradients stay
finite for huge inputs.  Derivatives at kinks follow JAX: relu'(0) = 0, relu6'(0) =
relu6'(6) = 0.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from .. import numpy as lnp
from ..core import Tracer
from ..errors import DTypeError, ShapeError
from ..numpy import asarray
from ..numpy.util import promote_args_inexact
from ..primitives import elementwise as ew
from ..random import erf
from ..transforms.custom import custom_jvp, stop_gradient

__all__ = ["relu", "relu6", "gelu", "elu", "celu", "selu", "leaky_relu", "softplus",
           "sigmoid", "log_sigmoid", "silu", "swish", "tanh", "hard_tanh", "hard_sigmoid",
           "hard_silu", "hard_swish", "soft_sign", "glu", "identity", "mish", "squareplus",
           "sparse_plus", "sparse_sigmoid", "softmax", "log_softmax",
           "logsumexp", "one_hot", "standardize", "log1mexp", "logmeanexp"]


def _float(name, x):
    """``x`` as an array of its inexact dtype (ints and bools compute in float32)."""
    return promote_args_inexact(name, x)[0]


def relu(x):
    """max(x, 0); the derivative at 0 is 0 (as JAX)."""
    x = asarray(x)
    return lnp.where(x > 0, x, lnp.zeros((), x.dtype))


def relu6(x):
    """min(max(x, 0), 6); derivative 0 at both kinks."""
    x = asarray(x)
    zero = lnp.zeros((), x.dtype)
    return lnp.where(x > 0, lnp.where(x < 6, x, lnp.full((), 6, x.dtype)), zero)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow (``lax.logistic``)."""
    return ew.logistic(_float("sigmoid", x))


def softplus(x):
    """log(1 + exp(x)), stable for large |x|."""
    x = _float("softplus", x)
    return lnp.logaddexp(x, lnp.zeros((), x.dtype))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), finite for large negative x."""
    return -softplus(-_float("log_sigmoid", x))


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    x = _float("silu", x)
    return x * sigmoid(x)


swish = silu


def tanh(x):
    return lnp.tanh(x)


def hard_tanh(x):
    """-1 below -1, 1 above 1, x between."""
    return lnp.clip(_float("hard_tanh", x), -1, 1)


def hard_sigmoid(x):
    """relu6(x + 3) / 6."""
    return relu6(_float("hard_sigmoid", x) + 3.) / 6.


def hard_silu(x):
    """x * hard_sigmoid(x)."""
    x = _float("hard_silu", x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def soft_sign(x):
    """x / (|x| + 1)."""
    x = _float("soft_sign", x)
    return x / (lnp.abs(x) + 1)


def identity(x):
    """x unchanged (as an array)."""
    return asarray(x)


def mish(x):
    """x * tanh(softplus(x))."""
    x = _float("mish", x)
    return x * lnp.tanh(softplus(x))


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2: a smooth relu with algebraic tails."""
    x = _float("squareplus", x)
    return (x + lnp.sqrt(x * x + b)) / 2


def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""
    x = _float("sparse_plus", x)
    return lnp.where(x <= -1, 0., lnp.where(x >= 1, x, (x + 1) ** 2 / 4))


def sparse_sigmoid(x):
    """The derivative of sparse_plus: 0, (x + 1) / 2, 1 on the three pieces."""
    x = _float("sparse_sigmoid", x)
    return 0.5 * lnp.clip(x + 1.0, 0.0, 2.0)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (the exp sees only the negative side)."""
    x = _float("elu", x)
    safe = lnp.where(x > 0, lnp.zeros((), x.dtype), x)
    return lnp.where(x > 0, x, alpha * lnp.expm1(safe))


def celu(x, alpha=1.0):
    """max(x, 0) + alpha * min(exp(x / alpha) - 1, 0)."""
    x = _float("celu", x)
    return lnp.maximum(x, 0.) + alpha * lnp.expm1(lnp.minimum(x, 0.) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def leaky_relu(x, negative_slope=0.01):
    """x for x >= 0, negative_slope * x otherwise."""
    x = _float("leaky_relu", x)
    return lnp.where(x >= 0, x, negative_slope * x)


def _normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, exactly 0 / 1 in the far tails (float32 erf
    saturates at +-(1 - 6e-8), which would leave x * Phi(x) = -6e-4 at x = -1e4)."""
    cut = -5.5 if x.dtype in (dtypes.float32, dtypes.float16) else -38.
    cdf = (1 + erf(x * (1 / math.sqrt(2)))) * 0.5
    cdf = lnp.where(x > -cut, lnp.ones((), x.dtype), cdf)
    return lnp.where(x < cut, lnp.zeros((), x.dtype), cdf)


@custom_jvp
def _gelu_exact(x):
    return x * _normal_cdf(x)


@_gelu_exact.defjvp
def _gelu_exact_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    cdf = _normal_cdf(x)
    xc = lnp.clip(x, -40., 40.)  # the density is 0 beyond; keeps x * x finite
    pdf = lnp.exp(-0.5 * xc * xc) * (1 / math.sqrt(2 * math.pi))
    return x * cdf, t * (cdf + x * pdf)


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit.  ``approximate=True`` (JAX's default) is the tanh form
    ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; ``False`` is ``x Phi(x)`` with the
    exact normal CDF (erf)."""
    x = _float("gelu", x)
    if approximate:
        c = math.sqrt(2 / math.pi)
        # tanh saturates to +-1 beyond |x| = 10; clipping keeps x**3 from overflowing.
        u = lnp.clip(x, -10., 10.)
        return 0.5 * x * (1 + lnp.tanh(c * (u + 0.044715 * (u * u * u))))
    return _gelu_exact(x)


def glu(x, axis=-1):
    """Gated linear unit: split ``x`` in two halves along ``axis``, return a * sigmoid(b)."""
    x = _float("glu", x)
    n = x.shape[axis]
    if n % 2:
        raise ShapeError(f"glu: axis {axis} of shape {x.shape} has odd size {n}; it must "
                         "split into two equal halves")
    a, b = lnp.split(x, 2, axis=axis)
    return a * sigmoid(b)


def _max_shift(x, axis):
    """A stop-gradient shift that makes exp(x - shift) <= 1 (0 where the max is +-inf)."""
    m = lnp.max(x, axis=axis, keepdims=True)
    m = lnp.where(lnp.isfinite(m), m, lnp.zeros((), m.dtype))
    return stop_gradient(m)


def log_softmax(x, axis=-1, where=None, initial=None):
    """x - logsumexp(x, axis): finite for huge logits, in value and gradient."""
    del initial  # accepted for JAX compatibility
    x = _float("log_softmax", x)
    if where is not None:
        x = lnp.where(where, x, -np.inf)
    shifted = x - _max_shift(x, axis)
    out = shifted - lnp.log(lnp.sum(lnp.exp(shifted), axis=axis, keepdims=True))
    return out if where is None else lnp.where(where, out, -np.inf)


def softmax(x, axis=-1, where=None, initial=None):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""
    del initial
    x = _float("softmax", x)
    if where is not None:
        x = lnp.where(where, x, -np.inf)
    e = lnp.exp(x - _max_shift(x, axis))
    out = e / lnp.sum(e, axis=axis, keepdims=True)
    return out if where is None else lnp.where(where, out, 0.)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along ``axis`` (as ``jax.nn.logsumexp``), without overflow.

    With ``return_sign=True`` returns ``(log|s|, sign(s))`` so that a negative weighted
    sum is representable."""
    a = _float("logsumexp", a)
    if axis is not None and not isinstance(axis, (tuple, list)):
        axis = (axis,)
    axis = None if axis is None else tuple(int(d) for d in axis)
    shift = _max_shift(a, axis)
    e = lnp.exp(a - shift)
    if b is not None:
        e = e * b
    s = lnp.sum(e, axis=axis, keepdims=True)
    if return_sign:
        sign = lnp.sign(s)
        out = lnp.log(lnp.abs(s)) + shift
    else:
        out = lnp.log(s) + shift
    if not keepdims:
        squeeze_axes = tuple(range(a.ndim)) if axis is None else axis
        out = lnp.squeeze(out, axis=squeeze_axes)
        if return_sign:
            sign = lnp.squeeze(sign, axis=squeeze_axes)
    return (out, sign) if return_sign else out


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    """``x[..., None] == arange(num_classes)`` as ``dtype`` (the default float: float32,
    float64 in 64-bit mode, as JAX), with the new axis at ``axis``.  Out-of-range indices give all-zero rows (as JAX)."""
    x = asarray(x)
    if not dtypes.is_integer(x.dtype) and x.dtype != dtypes.bool_:
        if dtypes.is_inexact(x.dtype) and not isinstance(x, Tracer) \
                and not np.all(np.mod(np.asarray(x), 1) == 0):
            raise DTypeError(f"one_hot: indices must be integers, got {x.dtype} values "
                             "with a fractional part")
    try:
        num_classes = int(num_classes)
    except TypeError:
        raise TypeError("one_hot: num_classes must be a static Python int (not a traced "
                        "value); mark it static under jit") from None
    dtype = dtypes.default_float() if dtype is None else np.dtype(dtype)
    out_ndim = x.ndim + 1
    ax = axis + out_ndim if axis < 0 else axis
    if not 0 <= ax < out_ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for a {out_ndim}-d result")
    classes = lnp.arange(num_classes, dtype=x.dtype).reshape(
        (1,) * ax + (num_classes,) + (1,) * (out_ndim - ax - 1))
    return (lnp.expand_dims(x, ax) == classes).astype(dtype)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None):
    """(x - mean) / sqrt(variance + epsilon), statistics over ``axis`` unless given."""
    x = _float("standardize", x)
    if mean is None:
        mean = lnp.mean(x, axis=axis, keepdims=True, where=where)
    if variance is None:
        # E[x^2] - E[x]^2 (as JAX): one fused pass over x.
        variance = lnp.maximum(
            lnp.mean(x * x, axis=axis, keepdims=True, where=where) - mean * mean, 0.)
    return (x - mean) * lnp.reciprocal(lnp.sqrt(variance + epsilon))


def log1mexp(x):
    """log(1 - exp(-x)) for x >= 0, accurate near 0 and for large x (log1p(-exp(-x))
    above log 2, log(-expm1(-x)) below: Maechler's switch)."""
    x = _float("log1mexp", x)
    return lnp.where(x > math.log(2), lnp.log1p(-lnp.exp(-x)), lnp.log(-lnp.expm1(-x)))


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """log(mean(exp(x))) over ``axis`` without overflow (logsumexp minus log count)."""
    x = _float("logmeanexp", x)
    if where is None:
        axes = range(x.ndim) if axis is None else (
            (axis,) if isinstance(axis, int) else tuple(axis))
        n = 1
        for a in axes:
            n *= x.shape[a]
        count = lnp.asarray(float(n), x.dtype)
    else:
        count = lnp.sum(lnp.broadcast_to(where, x.shape), axis=axis, keepdims=keepdims,
                        dtype=x.dtype)
        x = lnp.where(where, x, -np.inf)
    return logsumexp(x, axis=axis, keepdims=keepdims) - lnp.log(count)


# ----------------------------------------------------------------------------- no warnings
def _quiet(fn):
    """``fn`` without NumPy floating-point warnings: eagerly its ops run as NumPy ufuncs,
    and intermediate -inf * 0 (silu(-inf)) or overflow (squareplus(1e30)) give the
    documented inf/nan results silently, as in JAX (there is no NumPy call whose warning
    the user would expect)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper


for _name in __all__:
    if type(globals()[_name]).__name__ == "function":
        globals()[_name] = _quiet(globals()[_name])
del _name
