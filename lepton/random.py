"""lepton.random: JAX's splittable, counter-based PRNG (Threefry-2x32) and its distributions.

A key is a plain ``uint32[2]`` array: ``PRNGKey(seed)`` makes one, ``split`` derives new keys
and ``fold_in`` mixes data into one.  There is no hidden state: a sampler is a pure function
of its key, so the same key gives the same numbers, and keys work under every transform
(``vmap`` over a batch of split keys, ``grad`` through reparameterised samples such as
``mu + sigma * normal(key)``).  Keys, ``split``, ``fold_in``, ``bits``, ``uniform`` and
``randint`` reproduce ``jax.random`` (threefry2x32) bit for bit, in either counter layout (see
``set_threefry_partitionable``).  The other samplers use JAX's algorithms too, but go through
transcendental functions (log, log1p) that XLA rounds differently from NumPy, so they agree
with JAX to a few ulp rather than bit for bit.

Reusing a key gives identical (not independent) numbers.  ``set_debug_key_reuse(True)`` (or
the environment variable ``LEPTON_DEBUG_KEY_REUSE=1``) warns when eager code consumes a
concrete key twice; it is off, and free, by default.
"""
from __future__ import annotations

import collections
import math
import operator
import os
import sys
import warnings

import numpy as np

from . import dtypes
from . import numpy as lnp
from .core import Array, ArrayBase, Tracer
from .errors import ConcretizationError, DTypeError, ShapeError
from .numpy import asarray
from .numpy.util import broadcast_shapes, normalize_axis, to_dtype
from .primitives.special import ERF_F64, ERF_INV_F64, ERFC_F64  # Cephes / Giles tables
from .primitives import elementwise as ew
from .primitives.random_bits import threefry2x32, threefry_2x32
from .primitives.reductions import reduce_max, reduce_sum
from .primitives.slicing import slice_in_dim
from .primitives.sorting import argsort, sort
from .primitives.structural import broadcast_in_dim, concatenate, full, iota, reshape

__all__ = ["PRNGKey", "key", "key_data", "wrap_key_data", "split", "fold_in", "bits",
           "uniform", "normal", "truncated_normal", "bernoulli", "categorical", "randint",
           "choice", "permutation", "gamma", "loggamma", "beta", "dirichlet", "exponential",
           "gumbel", "laplace", "logistic", "multivariate_normal", "cauchy", "rademacher", "t",
           "orthogonal", "poisson", "set_debug_key_reuse",
           "set_threefry_partitionable"]

_U32 = dtypes.uint32

# ----------------------------------------------------------------------------- configuration
_partitionable = True  # JAX's default layout since jax 0.5.0


def set_threefry_partitionable(enabled: bool) -> bool:
    """Choose JAX's counter layout for ``split`` and ``bits``; returns the previous setting.

    ``True`` (the default) is the layout JAX uses by default since 0.5.0 (each element
    hashes its own 64-bit index).  ``False`` is the original layout,
    ``jax_threefry_partitionable=False``: one stream of counters ``0..n-1`` hashed in two
    halves.  Both are equally
    good generators; only the numbers differ.  ``PRNGKey`` and ``fold_in`` do not depend on it.
    """
    global _partitionable
    previous, _partitionable = _partitionable, bool(enabled)
    return previous


_MAX_TRACKED_KEYS = 1 << 16
_consumed: collections.OrderedDict | None = None  # key bytes -> first consumer; None = off


def set_debug_key_reuse(enabled: bool = True) -> None:
    """Warn (``UserWarning``) when a sampler, ``split`` or ``fold_in`` consumes a concrete
    key that was already consumed.  Remembers the last 65536 keys; traced keys (under
    ``vmap``/``grad``/``jit`` tracing) are not tracked.  Off by default.
    """
    global _consumed
    _consumed = collections.OrderedDict() if enabled else None


def _note_consumed(name, key: Array):
    data = key._value.tobytes()
    first = _consumed.get(data)
    if first is not None:
        warnings.warn(
            f"lepton.random.{name}: PRNG key {key._value.tolist()} was already consumed by "
            f"lepton.random.{first}; reusing a key repeats the same random numbers. Split it "
            "first: `key, subkey = lepton.random.split(key)`.", UserWarning,
            stacklevel=_user_stacklevel())
        return
    _consumed[data] = name
    if len(_consumed) > _MAX_TRACKED_KEYS:
        _consumed.popitem(last=False)


_LEPTON_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel():
    """The ``stacklevel`` that makes a warning from our caller point at the user's line."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_LEPTON_DIR):
        level, frame = level + 1, frame.f_back
    return level


# ----------------------------------------------------------------------------- argument checks
def _check_key(name, key):
    key = key if isinstance(key, ArrayBase) else asarray(key)
    aval = key.aval
    if aval.dtype != _U32:
        raise DTypeError(
            f"lepton.random.{name}: a key must be a uint32[2] array (from lepton.random.PRNGKey, "
            f"split or fold_in), got {aval.str_short()}.")
    if aval.shape != (2,):
        hint = (" This is a batch of keys: map over it with lepton.vmap, e.g. "
                f"vmap(lambda k: lepton.random.{name}(k, ...))(keys)."
                if aval.ndim > 1 and aval.shape[-1] == 2 else "")
        raise ShapeError(f"lepton.random.{name}: a key must have shape (2,), got "
                         f"{aval.str_short()}.{hint}")
    return key


def _take_key(name, key):
    """Validate a key argument and, in debug mode, record that ``name`` consumed it."""
    key = _check_key(name, key)
    if _consumed is not None and type(key) is Array:
        _note_consumed(name, key)
    return key


def _shape_arg(name, shape):
    if isinstance(shape, Tracer):
        raise ConcretizationError(f"lepton.random.{name}: shape must be static Python ints, "
                                  "got a traced value.")
    try:
        shape = (tuple(operator.index(s) for s in shape) if isinstance(shape, (tuple, list))
                 else (operator.index(shape),))
    except TypeError:
        raise TypeError(f"lepton.random.{name}: shape must be a tuple of ints, got "
                        f"{shape!r}") from None
    if any(s < 0 for s in shape):
        raise ShapeError(f"lepton.random.{name}: shape {shape} has a negative size.")
    return shape


_KIND_WORDS = {"f": "a floating-point", "fc": "a floating-point or complex",
               "iu": "an integer", "u": "an unsigned integer"}


def _dtype_arg(name, dtype, kinds, default=None):
    """The sampler's dtype: ``default`` (float32; float64 in x64 mode, as JAX) if None."""
    if dtype is None:
        dt = dtypes.default_float() if default is None else default
    else:
        dt = dtypes.canonicalize(dtype)
    if dt.kind not in kinds:
        raise DTypeError(f"lepton.random.{name}: dtype must be {_KIND_WORDS[kinds]} dtype, "
                         f"got {dt}.")
    return dt


def _sample_shape(name, shape, *param_shapes):
    """The output shape: the parameters' broadcast shape by default, else ``shape``, which
    the parameters must broadcast *to* (as in JAX)."""
    if shape is None:
        return broadcast_shapes(*param_shapes, name=name)
    shape = _shape_arg(name, shape)
    _check_shape(name, shape, *param_shapes)
    return shape


def _check_shape(name, shape, *param_shapes):
    """Parameters must broadcast *to* ``shape`` (as in JAX)."""
    try:
        fits = broadcast_shapes(shape, *param_shapes) == shape
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(f"lepton.random.{name}: parameter shapes "
                         f"{', '.join(map(str, param_shapes))} must broadcast to the requested "
                         f"shape {shape}.")


def _param(x, dtype):
    """A parameter as ``dtype``; Python numbers convert exactly (no float32 detour)."""
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        return asarray(x, dtype)
    return to_dtype(asarray(x), dtype)


def _is_const(x, value):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == value


# ----------------------------------------------------------------------------- keys
def PRNGKey(seed) -> Array:
    """A key from an integer seed, as ``jax.random.PRNGKey``: ``[hi, lo]`` 32-bit words.

    Python ints in int32 range act as int32 (``hi`` is 0, negatives wrap into ``lo``, as JAX
    without x64); larger ones, every Python int in x64 mode, and 64-bit integer arrays give
    both words of the 64-bit value.
    Traced seeds work too (e.g. ``vmap(PRNGKey)(seeds)``).
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        s = int(seed)
        if not -2**63 <= s < 2**64:
            raise OverflowError(f"lepton.random.PRNGKey: seed {s} does not fit in 64 bits.")
        if isinstance(seed, int):
            small = -2**31 <= s < 2**31 and not dtypes.x64_enabled()  # x64: int64, as JAX
            dt = np.int32 if small else np.int64 if s < 2**63 else np.uint64
            seed = dt(s)
    seed = asarray(seed)
    aval = seed.aval
    if aval.shape:
        raise ShapeError(f"lepton.random.PRNGKey: the seed must be a scalar, got "
                         f"{aval.str_short()}; map over seeds with lepton.vmap(PRNGKey).")
    if aval.dtype.kind not in "iu":
        raise DTypeError(f"lepton.random.PRNGKey: the seed must be an integer, got "
                         f"{aval.str_short()}.")
    if aval.dtype.itemsize == 8:  # the high word; unsigned division is a logical shift
        hi = seed.astype(dtypes.uint64) // np.array(2**32, dtypes.uint64)
    else:
        hi = full((), 0, _U32)
    words = [reshape(ew.convert_element_type(w, _U32), (1,)) for w in (hi, seed)]
    return concatenate(words, 0)


def key(seed) -> Array:
    """Same as ``PRNGKey``: lepton keys are raw ``uint32[2]`` arrays, not typed key arrays,
    so ``key(s)`` and ``PRNGKey(s)`` are interchangeable (and ``key_data`` is the identity)."""
    return PRNGKey(seed)


def key_data(keys):
    """The uint32 data of a key or a batch of keys (``[..., 2]``): the keys themselves."""
    return _check_key_array("key_data", keys)


def wrap_key_data(key_bits_array):
    """Keys from uint32 data of shape ``[..., 2]`` (the identity, as keys are raw data)."""
    return _check_key_array("wrap_key_data", key_bits_array)


def _check_key_array(name, keys):
    keys = keys if isinstance(keys, ArrayBase) else asarray(keys)
    if keys.aval.dtype != _U32 or keys.aval.shape[-1:] != (2,):
        raise DTypeError(f"lepton.random.{name}: expected uint32 key data of shape [..., 2], "
                         f"got {keys.aval.str_short()}.")
    return keys


def _key_words(key, shape):
    """The two key words, broadcast to ``shape``."""
    return [broadcast_in_dim(reshape(slice_in_dim(key, i, i + 1), ()), shape, ())
            for i in (0, 1)]


def _iota_2x32(shape):
    """Hi and lo words of the row-major 64-bit element index (JAX's ``iota_2x32_shape``)."""
    size = math.prod(shape)
    _check_counter_range(size)
    return full(shape, 0, _U32), reshape(iota(_U32, (size,)), shape)


def _check_counter_range(n):
    if n >= 2**32 - 1:
        raise ValueError(f"lepton.random: {n} random words at once is more than this "
                         "implementation supports (2**32 - 2); draw in chunks with split keys.")


def split(key, num=2):
    """``num`` new keys (an int or a shape tuple), stacked as ``uint32[*num, 2]``.
    Consumes ``key``: use the returned keys instead."""
    key = _take_key("split", key)
    return _split(key, _shape_arg("split", num))


def _split(key, shape):
    if _partitionable:
        y0, y1 = threefry2x32(*_key_words(key, shape), *_iota_2x32(shape))
        return concatenate([reshape(y, shape + (1,)) for y in (y0, y1)], len(shape))
    n = math.prod(shape)
    _check_counter_range(2 * n)
    return reshape(threefry_2x32(key, iota(_U32, (2 * n,))), shape + (2,))


def _split_list(key, n):
    keys = _split(key, (n,))
    return [reshape(slice_in_dim(keys, i, i + 1), (2,)) for i in range(n)]


def fold_in(key, data):
    """A new key mixing the 32-bit integer ``data`` into ``key`` (consumes ``key``)."""
    key = _take_key("fold_in", key)
    if isinstance(data, int) and not isinstance(data, bool):
        if not 0 <= data < 2**32:
            raise OverflowError(f"lepton.random.fold_in: data {data} is outside the uint32 "
                                "range [0, 2**32).")
        data = np.uint32(data)
    data = asarray(data)
    if data.aval.shape or data.aval.dtype.kind not in "iu":
        raise TypeError(f"lepton.random.fold_in: data must be an integer scalar, got "
                        f"{data.aval.str_short()}; use lepton.vmap to fold in a batch.")
    count = concatenate([full((1,), 0, _U32),
                         reshape(ew.convert_element_type(data, _U32), (1,))], 0)
    return threefry_2x32(key, count)


# ----------------------------------------------------------------------------- bits
def bits(key, shape=(), dtype=None):
    """Uniform random bits as unsigned integers (uint8/16/32/64; default uint32, uint64 in
    x64 mode as in JAX)."""
    key = _take_key("bits", key)
    dtype = _dtype_arg("bits", dtype, "u", default=dtypes.default_uint())
    return _random_bits(key, dtype.itemsize * 8, _shape_arg("bits", shape))


def _random_bits(key, width, shape):
    udt = np.dtype(f"uint{width}")
    if _partitionable:
        b0, b1 = threefry2x32(*_key_words(key, shape), *_iota_2x32(shape))
        if width == 64:
            return lnp.left_shift(b0.astype(udt), 32) | b1.astype(udt)
        return ew.convert_element_type(ew.bitwise_xor(b0, b1), udt)
    size = math.prod(shape)
    n_words = -(-width * size // 32)
    _check_counter_range(n_words)
    words = threefry_2x32(key, iota(_U32, (n_words,)))
    if width == 64:  # first half: high words, second half: low words
        hi, lo = (slice_in_dim(words, i * size, (i + 1) * size).astype(udt) for i in (0, 1))
        out = lnp.left_shift(hi, 32) | lo
    elif width == 32:
        out = words
    else:  # little-endian view of the words as uint8/uint16
        per = 32 // width
        scales = np.array([2 ** (width * j) for j in range(per)], _U32)  # (words >> shift)
        parts = broadcast_in_dim(words, (n_words, per), (0,)) // scales
        parts = lnp.bitwise_and(parts, (1 << width) - 1).astype(udt)
        out = slice_in_dim(reshape(parts, (n_words * per,)), 0, size)
    return reshape(out, shape)


# ----------------------------------------------------------------------------- uniform, normal
def uniform(key, shape=(), dtype=None, minval=0., maxval=1.):
    """Uniform floats in ``[minval, maxval)``: the top mantissa bits of ``bits``, as in JAX."""
    key = _take_key("uniform", key)
    shape = _shape_arg("uniform", shape)
    dtype = _dtype_arg("uniform", dtype, "f")
    return _uniform(key, shape, dtype, minval, maxval)


def _uniform(key, shape, dtype, minval=0., maxval=1.):
    finfo = np.finfo(dtype)
    width = finfo.bits
    udt = np.dtype(f"uint{width}")  # unsigned // 2**k is the logical shift >> k
    mantissa = _random_bits(key, width, shape) // np.array(2 ** (width - finfo.nmant), udt)
    # JAX ORs these bits into the pattern of 1.0 and subtracts 1; that float is exactly
    # mantissa * 2**-nmant, which we compute directly (no bitcast needed).
    floats = lnp.multiply(mantissa.astype(dtype), np.array(2.0 ** -finfo.nmant, dtype))
    if _is_const(minval, 0) and _is_const(maxval, 1):
        return floats
    lo, hi = _param(minval, dtype), _param(maxval, dtype)
    _check_shape("uniform", shape, lo.shape, hi.shape)
    return lnp.maximum(lo, floats * (hi - lo) + lo)


def normal(key, shape=(), dtype=None):
    """Standard normal samples: ``sqrt(2) * erfinv(u)`` for ``u`` uniform on (-1, 1), as JAX.
    Complex dtypes give ``(re + i im) / sqrt(2)`` from two split keys."""
    key = _take_key("normal", key)
    shape = _shape_arg("normal", shape)
    dtype = _dtype_arg("normal", dtype, "fc")
    return _normal(key, shape, dtype)


def _normal(key, shape, dtype):
    if dtype.kind == "c":
        real = dtypes.real_dtype(dtype)
        inv_sqrt2 = np.array(np.sqrt(0.5), real)
        re, im = (_normal(k, shape, real) * inv_sqrt2 for k in _split_list(key, 2))
        return ew.complex(re, im)
    lo = np.nextafter(np.array(-1, dtype), np.array(0, dtype))
    u = _uniform(key, shape, dtype, lo, 1.)
    return np.array(np.sqrt(2), dtype) * _erf_inv(u)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on the open interval ``(lower, upper)``
    (inverse-CDF method, as JAX; differentiable in ``lower`` and ``upper``)."""
    key = _take_key("truncated_normal", key)
    dtype = _dtype_arg("truncated_normal", dtype, "f")
    lower, upper = _param(lower, dtype), _param(upper, dtype)
    shape = _sample_shape("truncated_normal", shape, lower.shape, upper.shape)
    lower, upper = lnp.broadcast_to(lower, shape), lnp.broadcast_to(upper, shape)
    sqrt2 = np.array(np.sqrt(2), dtype)
    u = _uniform(key, shape, dtype, erf(lower / sqrt2), erf(upper / sqrt2))
    out = sqrt2 * _erf_inv(u)
    # Rounding (or u hitting the lower end) could leave the open interval: clamp into it.
    inf = full(shape, np.inf, dtype)
    return lnp.clip(out, ew.nextafter(lower, inf), ew.nextafter(upper, ew.neg(inf)))


# ----------------------------------------------------------------------------- other continuous
def exponential(key, shape=(), dtype=None):
    """Exponential(1) samples: ``-log1p(-u)``."""
    key = _take_key("exponential", key)
    return _exponential(key, _shape_arg("exponential", shape),
                        _dtype_arg("exponential", dtype, "f"))


def _exponential(key, shape, dtype):
    return -lnp.log1p(-_uniform(key, shape, dtype))


def gumbel(key, shape=(), dtype=None):
    """Standard Gumbel samples: ``-log(-log(u))``, ``u`` uniform on ``[tiny, 1)``."""
    key = _take_key("gumbel", key)
    return _gumbel(key, _shape_arg("gumbel", shape), _dtype_arg("gumbel", dtype, "f"))


def _gumbel(key, shape, dtype):
    u = _uniform(key, shape, dtype, np.finfo(dtype).tiny, 1.)
    return -lnp.log(-lnp.log(u))


def laplace(key, shape=(), dtype=None):
    """Standard Laplace samples: ``sign(u) * log1p(-|u|)``, ``u`` uniform on ``(-1, 1)``."""
    key = _take_key("laplace", key)
    shape, dtype = _shape_arg("laplace", shape), _dtype_arg("laplace", dtype, "f")
    u = _uniform(key, shape, dtype, -1. + float(np.finfo(dtype).epsneg), 1.)
    return lnp.sign(u) * lnp.log1p(-lnp.abs(u))


def logistic(key, shape=(), dtype=None):
    """Standard logistic samples: ``log(u) - log1p(-u)``, ``u`` uniform on ``[tiny, 1)``."""
    key = _take_key("logistic", key)
    shape, dtype = _shape_arg("logistic", shape), _dtype_arg("logistic", dtype, "f")
    u = _uniform(key, shape, dtype, np.finfo(dtype).tiny, 1.)
    return lnp.log(u) - lnp.log1p(-u)


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Samples of N(mean, cov): ``mean + factor @ z`` with ``factor factor^T = cov`` from a
    Cholesky ('cholesky'), SVD ('svd') or eigen ('eigh') decomposition; batch dims broadcast."""
    key = _take_key("multivariate_normal", key)
    dtype = _dtype_arg("multivariate_normal", dtype, "f")
    if method not in ("cholesky", "svd", "eigh"):
        raise ValueError(f"lepton.random.multivariate_normal: method must be 'cholesky', 'svd' "
                         f"or 'eigh', got {method!r}.")
    mean, cov = _param(mean, dtype), _param(cov, dtype)
    if mean.ndim < 1 or cov.ndim < 2 or cov.shape[-2:] != mean.shape[-1:] * 2:
        raise ShapeError(f"lepton.random.multivariate_normal: needs mean of shape (..., n) and "
                         f"cov of shape (..., n, n), got {mean.shape} and {cov.shape}.")
    batch = broadcast_shapes(mean.shape[:-1], cov.shape[:-2], name="multivariate_normal")
    shape = _sample_shape("multivariate_normal", shape, batch)
    if method == "cholesky":
        factor = lnp.linalg.cholesky(cov)
    elif method == "svd":
        u, s, _ = lnp.linalg.svd(cov)
        factor = u * lnp.expand_dims(lnp.sqrt(s), -2)
    else:
        w, v = lnp.linalg.eigh(cov)
        factor = v * lnp.expand_dims(lnp.sqrt(w), -2)
    z = _normal(key, shape + mean.shape[-1:], dtype)
    y = lnp.matmul(factor, lnp.expand_dims(z, -1))
    return mean + lnp.reshape(y, y.shape[:-1])


# ----------------------------------------------------------------------------- gamma family
# Marsaglia & Tsang (2000) accept a proposal with probability >= 0.95 for every alpha >= 1
# (the worst case is alpha = 1), so the chance that all of _GAMMA_ROUNDS independent
# proposals are rejected is below 0.05**10 ~ 1e-13.  Without a while_loop primitive we draw
# all rounds at once and keep the first accepted one (falling back to the mode-like value
# V = 1 in that 1e-13 case); the output is then a fixed-shape, traceable function of the key.
_GAMMA_ROUNDS = 10


def _marsaglia_tsang(key, a, shape, dtype):
    """(d, V, boost, boost key): a Gamma(alpha') sample is d * V, alpha' = a (+1 if a < 1)."""
    boost = a >= 1
    alpha = lnp.where(boost, a, a + 1)
    d = alpha - 1 / 3
    c = (1 / 3) / lnp.sqrt(d)
    k_x, k_u, k_boost = _split_list(key, 3)
    rounds = (_GAMMA_ROUNDS,) + shape
    x = _normal(k_x, rounds, dtype)
    u = _uniform(k_u, rounds, dtype)
    v = (1 + c * x) ** 3
    x2 = x * x
    positive = v > 0
    log_v = lnp.log(lnp.where(positive, v, 1))
    accept = positive & ((u < 1 - 0.0331 * (x2 * x2)) |
                         (lnp.log(u) < 0.5 * x2 + d * (1 - v + log_v)))
    V = lnp.ones(shape, dtype)
    for r in reversed(range(_GAMMA_ROUNDS)):
        V = lnp.where(_row(accept, r), _row(v, r), V)
    return d, V, boost, k_boost


def _row(x, r):
    return reshape(slice_in_dim(x, r, r + 1), x.shape[1:])


def _gamma_args(name, key, a, shape, dtype):
    key = _take_key(name, key)
    dtype = _dtype_arg(name, dtype, "f")
    a = _param(a, dtype)
    shape = _sample_shape(name, shape, a.shape)
    return key, lnp.broadcast_to(a, shape), shape, dtype


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a, 1) samples (Marsaglia-Tsang, boosted by ``u**(1/a)`` for ``a < 1``).

    Gradients with respect to ``a`` are not the implicit reparameterisation gradient JAX
    uses; differentiate ``scale * gamma(key, a)`` in ``scale`` only.
    """
    return _gamma(*_gamma_args("gamma", key, a, shape, dtype))


def _gamma(key, a, shape, dtype):
    d, V, boost, k_boost = _marsaglia_tsang(key, a, shape, dtype)
    u = 1 - _uniform(k_boost, shape, dtype)
    return d * V * lnp.where(boost, 1, u ** (1 / a))


def loggamma(key, a, shape=None, dtype=None):
    """log of Gamma(a, 1) samples, accurate for tiny ``a`` where ``gamma`` underflows to 0."""
    return _loggamma(*_gamma_args("loggamma", key, a, shape, dtype))


def _loggamma(key, a, shape, dtype):
    d, V, boost, k_boost = _marsaglia_tsang(key, a, shape, dtype)
    log_u = lnp.log1p(-_uniform(k_boost, shape, dtype))
    log_boost = lnp.where(boost | (log_u == 0), 0, log_u * (1 / a))
    return lnp.log(d) + lnp.log(V) + log_boost


def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) samples as ``Ga / (Ga + Gb)``, computed from log-gamma samples."""
    key = _take_key("beta", key)
    dtype = _dtype_arg("beta", dtype, "f")
    a, b = _param(a, dtype), _param(b, dtype)
    shape = _sample_shape("beta", shape, a.shape, b.shape)
    key_a, key_b = _split_list(key, 2)
    log_a = _loggamma(key_a, lnp.broadcast_to(a, shape), shape, dtype)
    log_b = _loggamma(key_b, lnp.broadcast_to(b, shape), shape, dtype)
    top = lnp.maximum(log_a, log_b)
    ga, gb = lnp.exp(log_a - top), lnp.exp(log_b - top)
    return ga / (ga + gb)


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) samples over the last axis: normalised log-gamma samples."""
    key = _take_key("dirichlet", key)
    dtype = _dtype_arg("dirichlet", dtype, "f")
    alpha = _param(alpha, dtype)
    if alpha.ndim < 1:
        raise ShapeError(f"lepton.random.dirichlet: alpha must have at least one axis, got "
                         f"{alpha.aval.str_short()}.")
    shape = _sample_shape("dirichlet", shape, alpha.shape[:-1])
    full_shape = shape + alpha.shape[-1:]
    log_g = _loggamma(key, lnp.broadcast_to(alpha, full_shape), full_shape, dtype)
    g = lnp.exp(log_g - reduce_max(log_g, (len(shape),), keepdims=True))
    return g / reduce_sum(g, (len(shape),), keepdims=True)


# ----------------------------------------------------------------------------- discrete
def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability ``p`` (``uniform < p``).  ``mode='high'``
    adds a second uniform draw to resolve probabilities below the float's resolution."""
    key = _take_key("bernoulli", key)
    if mode not in ("low", "high"):
        raise ValueError(f"lepton.random.bernoulli: mode must be 'low' or 'high', got {mode!r}.")
    p = asarray(p)
    if p.dtype.kind != "f":
        raise DTypeError(f"lepton.random.bernoulli: p must have a floating-point dtype, got "
                         f"{p.aval.str_short()}.")
    shape = _sample_shape("bernoulli", shape, p.shape)
    if mode == "low":
        return _uniform(key, shape, p.dtype) < p
    u = _uniform(key, (2,) + shape, p.dtype)
    return _row(u, 1) * 2.0 ** -np.finfo(p.dtype).nmant < p - _row(u, 0)


def categorical(key, logits, axis=-1, shape=None, replace=True):
    """Indices drawn with probabilities ``softmax(logits, axis)``, by the Gumbel-max trick
    (Gumbel top-k without replacement).  ``shape`` may add leading sample axes."""
    key = _take_key("categorical", key)
    logits = asarray(logits)
    if logits.dtype.kind != "f":
        raise DTypeError(f"lepton.random.categorical: logits must be floating point, got "
                         f"{logits.aval.str_short()}.")
    axis = normalize_axis(axis, logits.ndim)
    batch_shape = logits.shape[:axis] + logits.shape[axis + 1:]
    shape = _sample_shape("categorical", shape, batch_shape)
    prefix = shape[:len(shape) - len(batch_shape)]
    n = logits.shape[axis]
    if replace:
        sample_shape = shape[len(prefix):axis + len(prefix)] + (n,) + shape[axis + len(prefix):]
        g = _gumbel(key, prefix + sample_shape, logits.dtype)
        return lnp.argmax(g + logits, axis=len(prefix) + axis)
    k = math.prod(prefix)
    if k > n:
        raise ValueError(f"lepton.random.categorical: cannot draw {k} samples without "
                         f"replacement from {n} categories.")
    g = lnp.moveaxis(logits + _gumbel(key, logits.shape, logits.dtype), axis, -1)
    top = slice_in_dim(argsort(-g, -1), 0, k, axis=g.ndim - 1)
    return reshape(lnp.moveaxis(top, -1, 0), shape)


def randint(key, shape, minval, maxval, dtype=None):
    """Integers uniform on ``[minval, maxval)`` (JAX's algorithm: two bit draws combined
    modulo the span, so the bias is ~span**2 / 2**(2*nbits)).  ``maxval <= minval`` gives
    ``minval``; ``maxval`` beyond the dtype's range includes its maximum."""
    key = _take_key("randint", key)
    shape = _shape_arg("randint", shape)
    dtype = _dtype_arg("randint", dtype, "iu", default=dtypes.default_int())
    minval, maxval = asarray(minval), asarray(maxval)
    _check_shape("randint", shape, minval.shape, maxval.shape)
    return _randint(key, shape, minval, maxval, dtype)


def _randint(key, shape, minval, maxval, dtype):
    minval, maxval = (x if x.dtype.kind in "iu" else x.astype(dtypes.int32)
                      for x in (minval, maxval))
    info = np.iinfo(dtype)
    if info.bits < 32:  # sample 8/16-bit ints in 32 bits (less modulo bias), as JAX
        minval = lnp.clip(minval.astype(dtypes.int32), int(info.min), int(info.max))
        maxval = lnp.clip(maxval.astype(dtypes.int32), int(info.min), int(info.max) + 1)
        return _randint(key, shape, minval, maxval, dtypes.int32).astype(dtype)
    top = _convert_and_clip(asarray(np.array(np.iinfo(dtype).max, dtype)), maxval.dtype)
    maxval_out_of_range = lnp.greater(maxval, top)
    minval, maxval = (lnp.broadcast_to(_convert_and_clip(x, dtype), shape)
                      for x in (minval, maxval))
    nbits = np.iinfo(dtype).bits
    udt = np.dtype(f"uint{nbits}")
    k1, k2 = _split_list(key, 2)
    higher, lower = _random_bits(k1, nbits, shape), _random_bits(k2, nbits, shape)
    span = (maxval - minval).astype(udt)  # wraps, as intended, for spans beyond int range
    span = lnp.where(maxval <= minval, np.array(1, udt), span)
    span = lnp.where(maxval_out_of_range & (maxval > minval), span + np.array(1, udt), span)
    # A span that wrapped to 0 asks for every value: the offset is just the low bits
    # (XLA's x % 0 == x gives this in JAX).  Elsewhere combine both draws modulo span,
    # using (hi * 2**nbits + lo) % s == ((hi % s) * (2**nbits % s) + lo % s) % s.
    whole = span == 0
    s = lnp.where(whole, np.array(1, udt), span)
    multiplier = lnp.remainder(np.array(2 ** (nbits // 2), udt), s)
    multiplier = lnp.remainder(multiplier * multiplier, s)
    offset = lnp.remainder(
        lnp.remainder(higher, s) * multiplier + lnp.remainder(lower, s), s)
    offset = lnp.where(whole, lower, offset)
    return minval + offset.astype(dtype)


def _convert_and_clip(x, dtype):
    """``x`` as ``dtype``, clipped to the representable range rather than wrapped."""
    info, own = np.iinfo(dtype), np.iinfo(x.dtype)
    lo, hi = max(info.min, own.min), min(info.max, own.max)
    return lnp.clip(x, np.array(lo, x.dtype), np.array(hi, x.dtype)).astype(dtype)


def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``range(x)`` (int ``x``) or of ``x`` along ``axis``
    (each slice separately if ``independent``).  Sorts by random 32-bit keys, as JAX."""
    key = _take_key("permutation", key)
    return _permutation(key, x, axis, independent)


def _permutation(key, x, axis, independent):
    if np.ndim(x) == 0:
        return _shuffle(key, lnp.arange(_static_int("permutation", x)), 0)
    x = asarray(x)
    axis = normalize_axis(axis, x.ndim)
    if independent or x.ndim == 1:
        return _shuffle(key, x, axis)
    order = _shuffle(key, lnp.arange(x.shape[axis]), 0)
    return lnp.take(x, order, axis=axis)


def _static_int(name, x):
    if isinstance(x, Tracer):
        raise ConcretizationError(f"lepton.random.{name}: an integer range size must be "
                                  "static, got a traced value.")
    x = asarray(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"lepton.random.{name}: x must be an integer or an array with at "
                        f"least one axis, got {x.aval.str_short()}.")
    return int(x)


def _shuffle(key, x, axis):
    # Ties between 32-bit sort keys are rare; repeating with fresh keys makes the chance
    # of any tie negligible (JAX's heuristic: enough rounds that size**3 << 2**(32*rounds)).
    rounds = math.ceil(3 * math.log(max(1, x.size)) / math.log(2**32 - 1))
    for _ in range(rounds):
        key, sub = _split_list(key, 2)
        _, x = sort([_random_bits(sub, 32, x.shape), x], axis, is_stable=True, num_keys=1)
    return x


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Samples from ``a`` (an array along ``axis``, or ``range(a)`` for an int), with or
    without replacement, uniformly or with probabilities ``p``."""
    key = _take_key("choice", key)
    shape = _shape_arg("choice", shape)
    if np.ndim(a) == 0:
        arr, n = None, _static_int("choice", a)
    else:
        arr = asarray(a)
        axis = normalize_axis(axis, arr.ndim)
        n = arr.shape[axis]
    draws = math.prod(shape)
    if n <= 0 and draws:
        raise ValueError("lepton.random.choice: a must be positive (non-empty) unless no "
                         "samples are taken.")
    if not replace and draws > n:
        raise ValueError(f"lepton.random.choice: cannot take {draws} samples from {n} "
                         "without replacement.")
    if p is None:
        if replace:
            ind = _randint(key, shape, asarray(0), asarray(n), dtypes.default_int())
        else:
            ind = slice_in_dim(_shuffle(key, lnp.arange(n), 0), 0, draws)
    else:
        p = asarray(p)
        p = p if p.dtype.kind == "f" else p.astype(dtypes.default_float())
        if p.shape != (n,):
            raise ShapeError(f"lepton.random.choice: p must have shape ({n},) to match a, got "
                             f"{p.shape}.")
        if replace:
            cdf = lnp.cumsum(p)
            r = _row(cdf, n - 1) * (1 - _uniform(key, shape, p.dtype))
            ind = lnp.searchsorted(cdf, r).astype(dtypes.int32)
        else:
            g = _gumbel(key, (n,), p.dtype) + lnp.log(p)
            ind = slice_in_dim(argsort(-g, -1), 0, draws)
    ind = reshape(ind, shape)
    if arr is None:
        return ind
    return lnp.take(arr, ind, axis=axis)


# ----------------------------------------------------------------------------- erf, erf_inv
# XLA's float32/float64 approximations (which JAX uses), so that normal() and
# truncated_normal() agree with JAX.  Written in lepton ops: they trace, batch and
# differentiate like any other lepton code.
_ERF_INV_F32 = (  # Giles (2010), single precision: w < 5, then w >= 5
    (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
     -0.00125372503, -0.00417768164, 0.246640727, 1.50140941),
    (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
     -0.0076224613, 0.00943887047, 1.00167406, 2.83297682))
_ERF_F32 = (  # rational approximation on [-c, c], c = erfinv(1 - 2**-23)
    3.7439211627767994,
    (0.00022905065861350646, 0.0034082910107109506, 0.050955695062380861,
     0.18520832239976145, 1.128379143519084),
    (-1.1791602954361697e-7, 0.000023547966471313185, 0.0010179625278914885,
     0.014070470171167667, 0.11098505178285362, 0.49746925110067538, 1.0))
_MAXLOG_F64 = 7.09782712893383996843E2


def _horner(x, coeffs):
    """``coeffs[0] * x**(n-1) + ... + coeffs[-1]`` (highest power first)."""
    p = x * coeffs[0] + coeffs[1]
    for c in coeffs[2:]:
        p = p * x + c
    return p


def _with_float32(fn, x):
    """Evaluate in float32 for float16 input (as XLA does), else in x's own dtype."""
    if x.dtype == dtypes.float16:
        return fn(x.astype(dtypes.float32)).astype(dtypes.float16)
    return fn(x)


def _erf_inv(x):
    """Inverse error function of a float array on [-1, 1] (XLA's Giles polynomials)."""
    return _with_float32(_erf_inv_impl, x)


def _erf_inv_impl(x):
    w = -lnp.log1p(-x * x)
    # Each branch sees only its own range of w (so no NaN/inf leaks into gradients).
    if x.dtype == dtypes.float32:
        lt5 = w < 5
        central, tail = _ERF_INV_F32
        p = lnp.where(lt5, _horner(w - 2.5, central),
                      _horner(lnp.sqrt(lnp.where(lt5, 5., w)) - 3., tail))
    else:
        lt625, lt16 = w < 6.25, w < 16
        central, middle, tail = ERF_INV_F64  # shared with lax.erf_inv
        sqrt_w = lnp.sqrt(lnp.where(lt625, 6.25, w))
        p = lnp.where(lt625, _horner(w - 3.125, central),
                      lnp.where(lt16, _horner(sqrt_w - 3.25, middle),
                                _horner(sqrt_w - 5., tail)))
    return lnp.where(lnp.abs(x) == 1, lnp.where(x > 0, np.inf, -np.inf), p * x)


def erf(x):
    """Error function of a float array (XLA's float32 rational / float64 Cephes forms).

    Public (though not in ``__all__``) for ``lepton.nn``'s exact gelu, which must match
    the same forms; ``lepton.scipy.special.erf`` is the user-facing one."""
    return _with_float32(_erf_impl, x)


def _erf_impl(x):
    if x.dtype == dtypes.float32:
        c, alpha, beta_ = _ERF_F32
        x = lnp.clip(x, -c, c)
        x2 = x * x
        return x * _horner(x2, alpha) / _horner(x2, beta_)
    small = lnp.abs(x) < 1
    xs = lnp.clip(x, -1., 1.)
    z = xs * xs
    inner = xs * _horner(z, ERF_F64[0]) / _horner(z, ERF_F64[1])
    return lnp.where(small, inner, 1 - _erfc_tail(lnp.where(small, 1., x)))


def _erfc_tail(x):
    """erfc(x) for |x| >= 1 (float64)."""
    z = -x * x
    ax = lnp.abs(x)
    p, q, r, s = ERFC_F64
    e = lnp.exp(z)
    y = lnp.where(ax < 8, e * _horner(ax, p) / _horner(ax, q), e * _horner(ax, r) / _horner(ax, s))
    y = lnp.where(z < -_MAXLOG_F64, 0., y)
    return lnp.where(x < 0, 2 - y, y)


# ----------------------------------------------------------------------------- more samplers
def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy samples: ``tan(pi * (u - 1/2))``, ``u`` uniform on ``[eps, 1)`` (as
    JAX)."""
    key = _take_key("cauchy", key)
    shape, dtype = _shape_arg("cauchy", shape), _dtype_arg("cauchy", dtype, "f")
    u = _uniform(key, shape, dtype, float(np.finfo(dtype).eps), 1.)
    return lnp.tan(np.array(np.pi, dtype) * (u - np.array(0.5, dtype)))


def rademacher(key, shape=(), dtype=None):
    """-1 or +1 with probability 1/2 each (``2 * bernoulli(key, 0.5) - 1``, as JAX); integer
    dtype by default."""
    key = _take_key("rademacher", key)
    shape = _shape_arg("rademacher", shape)
    dtype = dtypes.default_int() if dtype is None else dtypes.canonicalize(dtype)
    b = _uniform(key, shape, dtypes.default_float()) < 0.5
    return (2 * b.astype(dtype) - 1).astype(dtype)


def t(key, df, shape=None, dtype=None):
    """Student's t samples with ``df`` degrees of freedom: ``n * sqrt((df/2) / g)`` for
    ``n`` normal and ``g`` Gamma(df/2) (JAX's construction; the gamma draws use lepton's
    sampler, so the values are not JAX's bit for bit)."""
    key = _take_key("t", key)
    dtype = _dtype_arg("t", dtype, "f")
    df = _param(df, dtype)
    shape = _sample_shape("t", shape, df.shape)
    key_n, key_g = _split_list(key, 2)
    n = _normal(key_n, shape, dtype)
    half_df = lnp.broadcast_to(df / np.array(2, dtype), shape)
    g = _gamma(key_g, half_df, shape, dtype)
    return n * lnp.sqrt(half_df / g)


def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Haar-random orthogonal (unitary for complex dtypes) ``n x m`` matrices with batch
    ``shape``: the Q of a normal matrix's QR, column signs fixed by R's diagonal (as JAX).
    For ``n != m`` the rows (``n < m``) or columns (``n > m``) are orthonormal."""
    key = _take_key("orthogonal", key)
    shape = _shape_arg("orthogonal", shape)
    dtype = _dtype_arg("orthogonal", dtype, "fc")
    n = _static_int("orthogonal", n)
    m = n if m is None else _static_int("orthogonal", m)
    if n < 0 or m < 0:
        raise ShapeError(f"lepton.random.orthogonal: n and m must be non-negative, got n={n}, "
                         f"m={m}.")
    z = _normal(key, shape + (max(n, m), min(n, m)), dtype)
    q, r = lnp.linalg.qr(z)
    d = lnp.diagonal(r, 0, -2, -1)
    x = q * lnp.expand_dims(lnp.sign(d), -2)
    if n < m:
        x = lnp.conj(lnp.swapaxes(x, -1, -2))
    return x


# Poisson (JAX's two algorithms; JAX runs each in a while_loop until every element is done).
# lepton's random layer sits below control flow, so a traced draw runs a fixed number of
# rounds instead, each with JAX's key for that round: an element's value is the same as
# JAX's unless it needs more rounds (probability < 1e-17 per element for either method);
# eager draws stop as soon as JAX's loop would.
_KNUTH_ROUNDS = 48
_PTRS_ROUNDS = 20
_LANCZOS_G = 7.
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)


def _lgamma_ge1(x):
    """log Gamma(x) for x >= 1 (Lanczos, g=7, ~1e-15 relative in float64)."""
    x = x - 1
    a = _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], 1):
        a = a + c / (x + i)
    tt = x + _LANCZOS_G + 0.5
    return 0.5 * np.log(2 * np.pi) + (x + 0.5) * lnp.log(tt) - tt + lnp.log(a)


def _concrete(*xs):
    return not any(isinstance(x, Tracer) for x in xs)


def _poisson_knuth(key, lam, shape):
    """Knuth's method (used for lam < 10): count uniforms until their product <= exp(-lam)."""
    f32 = dtypes.float32
    k = lnp.zeros(shape, dtypes.int32)
    log_prod = lnp.zeros(shape, f32)
    eager = _concrete(key, lam)
    rng = key
    for _ in range(_KNUTH_ROUNDS):
        if eager and not bool(lnp.any(log_prod > -lam)):
            break
        rng, sub = _split_list(rng, 2)
        k = lnp.where(log_prod > -lam, k + 1, k)
        log_prod = log_prod + lnp.log(_uniform(sub, shape, f32))
    return k - 1


def _poisson_rejection(key, lam, shape):
    """Hormann's transformed rejection (PTRS, used for lam >= 10).  As in JAX, a later
    round that accepts overwrites an earlier accepted value while other elements still
    run, so the rounds that run (until every element has accepted) matter."""
    f32 = dtypes.float32
    log_lam = lnp.log(lam)
    b = 0.931 + 2.53 * lnp.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)
    k_out = lnp.full(shape, -1, f32)
    accepted = lnp.zeros(shape, dtypes.bool_)
    running = None  # traced: whether JAX's loop would still run this round
    eager = _concrete(key, lam)
    for _ in range(_PTRS_ROUNDS):
        if eager and bool(lnp.all(accepted)):
            break
        key, sub0, sub1 = _split_list(key, 3)
        u = _uniform(sub0, shape, f32) - np.float32(0.5)
        v = _uniform(sub1, shape, f32)
        u_shifted = 0.5 - lnp.abs(u)
        k = lnp.floor((2 * a / u_shifted + b) * u + lam + 0.43)
        s = lnp.log(v * inv_alpha / (a / (u_shifted * u_shifted) + b))
        safe_k = lnp.where(k < 0, 0., k).astype(dtypes.float64)
        tt = (-lam + k * log_lam).astype(dtypes.float64) - _lgamma_ge1(safe_k + 1)
        accept1 = (u_shifted >= 0.07) & (v <= v_r)
        reject = (k < 0) | ((u_shifted < 0.013) & (v > u_shifted))
        accept = accept1 | (~reject & (s.astype(dtypes.float64) <= tt))
        if not eager:
            running = ~lnp.all(accepted) if running is None else running & ~lnp.all(accepted)
            accept = accept & running
        k_out = lnp.where(accept, k, k_out)
        accepted = accepted | accept
    return k_out


def poisson(key, lam, shape=None, dtype=None):
    """Poisson(lam) counts: Knuth's method for ``lam < 10``, Hormann's transformed
    rejection otherwise (JAX's algorithms, with JAX's keys, computed in float32; see the
    note above ``_KNUTH_ROUNDS`` on traced draws).  ``lam`` must be >= 0; integer dtype
    (int32 by default, int64 in x64 mode)."""
    key = _take_key("poisson", key)
    dtype = _dtype_arg("poisson", dtype, "iu", default=dtypes.default_int())
    lam = asarray(lam)
    if lam.dtype.kind not in "iuf":
        raise DTypeError(f"lepton.random.poisson: lam must be a real number or array, got "
                         f"{lam.aval.str_short()}.")
    shape = _sample_shape("poisson", shape, lam.shape)
    lam = lnp.broadcast_to(lam.astype(dtypes.float32), shape)
    use_knuth = lnp.isnan(lam) | (lam < 10)
    lam_knuth = lnp.where(use_knuth, lam, 0.)
    lam_rejection = lnp.where(use_knuth, 1e5, lam)
    result = lnp.where(use_knuth, _poisson_knuth(key, lam_knuth, shape),
                       _poisson_rejection(key, lam_rejection, shape).astype(dtypes.int32))
    return lnp.where(lam == 0, 0, result).astype(dtype)


# ----------------------------------------------------------------------------- jax.random's others
# Transformations of the uniform, normal, exponential and gamma draws above (the formulas
# JAX uses, so the distributions match; the bits differ from JAX's).
__all__ += ["chisquare", "double_sided_maxwell", "f", "geometric", "lognormal", "maxwell",
            "pareto", "rayleigh", "triangular", "wald", "weibull_min"]


def _setup(name, key, params, shape, dtype):
    """(key, params broadcast to the sample shape, shape, dtype)."""
    key = _take_key(name, key)
    dtype = _dtype_arg(name, dtype, "f")
    ps = [_param(p, dtype) for p in params]
    shape = _sample_shape(name, shape, *(p.shape for p in ps))
    return key, [lnp.broadcast_to(p, shape) for p in ps], shape, dtype


def lognormal(key, sigma=1.0, shape=None, dtype=None):
    """exp(sigma * N(0, 1)) samples."""
    key, (sigma,), shape, dtype = _setup("lognormal", key, [sigma], shape, dtype)
    return lnp.exp(sigma * _normal(key, shape, dtype))


def chisquare(key, df, shape=None, dtype=None):
    """Chi-squared(df) samples: 2 * Gamma(df / 2)."""
    key, (df,), shape, dtype = _setup("chisquare", key, [df], shape, dtype)
    return 2 * _gamma(key, df / 2, shape, dtype)


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F(dfnum, dfden) samples: (X / dfnum) / (Y / dfden) for chi-squared X, Y."""
    key, (dfnum, dfden), shape, dtype = _setup("f", key, [dfnum, dfden], shape, dtype)
    k1, k2 = _split_list(key, 2)
    x = 2 * _gamma(k1, dfnum / 2, shape, dtype)
    y = 2 * _gamma(k2, dfden / 2, shape, dtype)
    return (x / dfnum) / (y / dfden)


def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh(scale) samples: scale * sqrt(2 E) for E ~ Exponential(1)."""
    key, (scale,), shape, dtype = _setup("rayleigh", key, [scale], shape, dtype)
    return scale * lnp.sqrt(2 * _exponential(key, shape, dtype))


def pareto(key, b, shape=None, dtype=None):
    """Pareto(b) samples on [1, inf): exp(E / b)."""
    key, (b,), shape, dtype = _setup("pareto", key, [b], shape, dtype)
    return lnp.exp(_exponential(key, shape, dtype) / b)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull samples: scale * E^(1 / concentration)."""
    key, (scale, c), shape, dtype = _setup("weibull_min", key, [scale, concentration],
                                           shape, dtype)
    return scale * _exponential(key, shape, dtype) ** (1 / c)


def maxwell(key, shape=(), dtype=None):
    """Maxwell samples: the norm of a standard normal 3-vector."""
    key = _take_key("maxwell", key)
    dtype = _dtype_arg("maxwell", dtype, "f")
    shape = _shape_arg("maxwell", shape)
    return lnp.linalg.norm(_normal(key, shape + (3,), dtype), axis=-1)


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """loc + scale * (a Maxwell sample with a random sign)."""
    key, (loc, scale), shape, dtype = _setup("double_sided_maxwell", key, [loc, scale],
                                             shape, dtype)
    k1, k2 = _split_list(key, 2)
    m = lnp.linalg.norm(_normal(k1, shape + (3,), dtype), axis=-1)
    sign = lnp.where(_uniform(k2, shape, dtype) < 0.5, -1, 1).astype(dtype)
    return loc + scale * sign * m


def geometric(key, p, shape=None, dtype=None):
    """The number of Bernoulli(p) trials up to the first success (>= 1); integer dtype."""
    key = _take_key("geometric", key)
    dtype = _dtype_arg("geometric", dtype, "iu", default=dtypes.default_int())
    fdt = dtypes.default_float()
    p = _param(p, fdt)
    shape = _sample_shape("geometric", shape, p.shape)
    p = lnp.broadcast_to(p, shape)
    u = _uniform(key, shape, fdt)
    return (lnp.floor(lnp.log1p(-u) / lnp.log1p(-p)) + 1).astype(dtype)


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular(left, mode, right) samples by the inverse CDF."""
    key, (a, c, b), shape, dtype = _setup("triangular", key, [left, mode, right], shape,
                                          dtype)
    u = _uniform(key, shape, dtype)
    cut = (c - a) / (b - a)
    lo = a + lnp.sqrt(u * (b - a) * (c - a))
    hi = b - lnp.sqrt((1 - u) * (b - a) * (b - c))
    return lnp.where(u < cut, lo, hi)


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian with shape 1) samples, by Michael, Schucany and Haas."""
    key, (mu,), shape, dtype = _setup("wald", key, [mean], shape, dtype)
    k1, k2 = _split_list(key, 2)
    v = _normal(k1, shape, dtype)
    y = v * v
    x = mu + mu * mu * y / 2 - mu / 2 * lnp.sqrt(4 * mu * y + mu * mu * y * y)
    u = _uniform(k2, shape, dtype)
    return lnp.where(u <= mu / (mu + x), x, mu * mu / x)


# ----------------------------------------------------------------------------- binomial
# Counts as floats (JAX's signatures and dtypes).  The draws are exact in distribution but
# not JAX's bits: fixed-size computations replace JAX's loops (lepton.random sits below
# control flow), so they trace, batch and compile like every other sampler here.
__all__ += ["binomial", "multinomial"]

#: inversion covers means below 10: P(Binomial >= 48) < 1e-14 there, so 48 terms of the CDF
_BINOMIAL_TERMS = 48
#: BTRS accepts a round with probability above 0.8 for means >= 10: 16 rounds leave < 1e-11
_BTRS_ROUNDS = 16


def binomial(key, n, p, shape=None, dtype=None):
    """Binomial(n, p) counts as floats (float32 by default, as JAX): inversion of the CDF
    where ``n * min(p, 1 - p) < 10``, Hormann's BTRS transformed rejection (16 fixed rounds)
    above.  ``n`` is floored (as JAX, ``n=2.5`` draws from Binomial(2, p)); ``n < 0`` or ``p``
    outside [0, 1] (or NaN) give NaN; ``n = inf`` gives inf where ``0 < p``.

    Deviation from JAX: same distribution, different bits for a given key."""
    key = _take_key("binomial", key)
    dtype = _dtype_arg("binomial", dtype, "f")
    n, p = _param(n, dtype), _param(p, dtype)
    shape = _sample_shape("binomial", shape, n.shape, p.shape)
    return _binomial(key, lnp.broadcast_to(n, shape), lnp.broadcast_to(p, shape), shape,
                     dtype)


def _binomial(key, n, p, shape, dtype):
    f64 = dtypes.float64
    n, p = n.astype(f64), p.astype(f64)
    valid = (n >= 0) & (p >= 0) & (p <= 1)
    finite = valid & lnp.isfinite(n)
    nf = lnp.floor(lnp.where(finite, n, 0.))
    flip = p > 0.5
    q = lnp.where(finite, lnp.where(flip, 1 - p, p), 0.)  # q <= 1/2: the smaller tail
    small = nf * q < 10
    k_inv, k_btrs = _split_list(key, 2)
    k = lnp.where(small, _binomial_inversion(k_inv, lnp.where(small, nf, 0.),
                                             lnp.where(small, q, 0.), shape),
                  _btrs(k_btrs, lnp.where(small, 100., nf), lnp.where(small, 0.5, q), shape))
    k = lnp.where(q == 0, 0., k)
    k = lnp.where(flip, nf - k, k)
    k = lnp.where(finite, k, lnp.where(valid & (p > 0), np.inf, 0.))
    return lnp.where(valid, k, np.nan).astype(dtype)


def _binomial_inversion(key, n, q, shape):
    """The number of CDF terms below one uniform: exact up to ``_BINOMIAL_TERMS`` (the
    probability mass functions are computed in logs with Lanczos' lgamma)."""
    f64 = dtypes.float64
    ks = broadcast_in_dim(iota(f64, (_BINOMIAL_TERMS,)), (_BINOMIAL_TERMS,) + shape, (0,))
    nb = broadcast_in_dim(n, (_BINOMIAL_TERMS,) + shape, tuple(range(1, len(shape) + 1)))
    qb = broadcast_in_dim(lnp.where(q > 0, q, 0.5), nb.shape, tuple(range(1, len(shape) + 1)))
    inside = ks <= nb
    rest = lnp.where(inside, nb - ks, 0.)
    log_pmf = (_lgamma_ge1(nb + 1) - _lgamma_ge1(ks + 1) - _lgamma_ge1(rest + 1)
               + ks * lnp.log(qb) + rest * lnp.log1p(-qb))
    cdf = lnp.cumsum(lnp.where(inside, lnp.exp(log_pmf), 0.), axis=0)
    u = broadcast_in_dim(_uniform(key, shape, f64), nb.shape, tuple(range(1, len(shape) + 1)))
    return lnp.minimum(reduce_sum((cdf < u).astype(f64), (0,)), n)


def _btrs(key, n, q, shape):
    """Hormann's BTRS (1993) for n * q >= 10, q <= 1/2, with the exact acceptance test
    (Lanczos' lgamma: every argument is >= 1); the first accepting round of
    ``_BTRS_ROUNDS`` wins (none: the mode)."""
    f64 = dtypes.float64
    spq = lnp.sqrt(n * q * (1 - q))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * q
    c = n * q + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = lnp.log(q / (1 - q))
    m = lnp.floor((n + 1) * q)
    h = _lgamma_ge1(m + 1) + _lgamma_ge1(n - m + 1)
    out = m
    done = lnp.zeros(shape, dtypes.bool_)
    for sub in _split_list(key, _BTRS_ROUNDS):
        k_u, k_v = _split_list(sub, 2)
        u = _uniform(k_u, shape, f64) - 0.5
        v = _uniform(k_v, shape, f64)
        us = 0.5 - lnp.abs(u)
        k = lnp.floor((2 * a / us + b) * u + c)
        quick = (us >= 0.07) & (v <= v_r)
        inside = (k >= 0) & (k <= n)
        ks = lnp.where(inside, k, m)
        log_v = lnp.log(v * alpha / (a / (us * us) + b))
        log_ratio = h - _lgamma_ge1(ks + 1) - _lgamma_ge1(n - ks + 1) + (ks - m) * lpq
        exact = inside & (log_v <= log_ratio)
        accept = ~done & (quick | exact)
        out = lnp.where(accept, k, out)
        done = done | accept
    return out


def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
    """Multinomial counts of ``n`` trials over the outcomes on the last axis of ``p`` (as
    JAX: one binomial per outcome of the trials left, with probability ``p_i`` over the
    mass left; the counts sum to ``n``).  Float counts (float32 by default); ``shape`` is
    the full result shape (``p.shape`` by default).  ``unroll`` is accepted for JAX's
    signature: the outcomes are unrolled here.  Same distribution as JAX, different bits."""
    del unroll
    key = _take_key("multinomial", key)
    dtype = _dtype_arg("multinomial", dtype, "f")
    n, p = asarray(n), asarray(p)
    work = dtypes.promote((n.dtype, n.aval.weak_type), (p.dtype, p.aval.weak_type),
                          (dtypes.float32, True))[0]
    if p.ndim == 0:
        raise ShapeError(f"lepton.random.multinomial: p must have an outcome axis (its last); "
                         f"got a scalar {p.aval.str_short()}")
    shape = p.shape if shape is None else _shape_arg("multinomial", shape)
    if not shape:
        raise ShapeError("lepton.random.multinomial: shape must include the outcome axis")
    _check_shape("multinomial", shape, p.shape)
    _check_shape("multinomial", shape[:-1], n.shape)
    n = lnp.broadcast_to(to_dtype(n, work), shape[:-1])
    p = lnp.broadcast_to(to_dtype(p, work), shape)
    left = lnp.flip(lnp.cumsum(lnp.flip(p, -1), axis=-1), -1)  # mass of outcomes i, i+1, ...
    ratios = lnp.clip(p / lnp.where(left == 0, 1, left), 0, 1)
    remainder, counts = n, []
    for i, sub in enumerate(_split_list(key, shape[-1])):
        count = _binomial(sub, remainder, ratios[..., i], shape[:-1], work)
        counts.append(count)
        remainder = remainder - count
    return lnp.stack(counts, axis=-1).astype(dtype)


if os.environ.get("LEPTON_DEBUG_KEY_REUSE", "").lower() in ("1", "true", "yes"):
    set_debug_key_reuse(True)
