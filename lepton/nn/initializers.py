"""Parameter initializers, as ``jax.nn.initializers``.

Every entry is (or builds) a function ``init(key, shape, dtype=float32) -> Array``.
``variance_scaling`` is the general form: the glorot/xavier, he/kaiming and lecun families
are its specialisations, with fans computed as in JAX (axes other than ``in_axis``,
``out_axis`` and ``batch_axis`` form the receptive field of a convolution kernel, so an
HWIO kernel of shape (3, 3, 16, 32) has fan_in = 3*3*16).  Real dtypes only.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import dtypes
from .. import numpy as lnp
from .. import random

__all__ = ["zeros", "ones", "constant", "uniform", "normal", "truncated_normal",
           "variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform",
           "xavier_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal",
           "kaiming_uniform", "kaiming_normal", "orthogonal", "delta_orthogonal"]

_F32 = dtypes.float32


def _dtype(name, dtype):
    d = dtypes.canonicalize(dtype)
    if d.kind != "f":
        raise TypeError(f"{name}: initializers make real floating-point arrays; got dtype {d}")
    return d


def _shape(shape):
    return tuple(int(d) for d in shape)


def zeros(key, shape, dtype=_F32):
    """All zeros; ``key`` is ignored."""
    return lnp.zeros(_shape(shape), dtypes.canonicalize(dtype))


def ones(key, shape, dtype=_F32):
    """All ones; ``key`` is ignored."""
    return lnp.ones(_shape(shape), dtypes.canonicalize(dtype))


def constant(value, dtype=_F32):
    """Builds an initializer filling every element with ``value``."""
    def init(key, shape, dtype=dtype):
        return lnp.full(_shape(shape), value, dtypes.canonicalize(dtype))
    return init


def uniform(scale=1e-2, dtype=_F32):
    """Builds an initializer drawing uniformly from ``[0, scale)`` (as JAX)."""
    def init(key, shape, dtype=dtype):
        dtype = _dtype("uniform", dtype)
        return random.uniform(key, _shape(shape), dtype) * lnp.asarray(scale, dtype)
    return init


def normal(stddev=1e-2, dtype=_F32):
    """Builds an initializer drawing from N(0, stddev^2)."""
    def init(key, shape, dtype=dtype):
        dtype = _dtype("normal", dtype)
        return random.normal(key, _shape(shape), dtype) * lnp.asarray(stddev, dtype)
    return init


def truncated_normal(stddev=1e-2, dtype=_F32, lower=-2.0, upper=2.0):
    """Builds an initializer drawing from a normal truncated to ``(lower, upper)``
    standard deviations, then scaled by ``stddev`` (no variance correction, as JAX)."""
    def init(key, shape, dtype=dtype):
        dtype = _dtype("truncated_normal", dtype)
        return random.truncated_normal(key, lower, upper, _shape(shape), dtype) \
            * lnp.asarray(stddev, dtype)
    return init


def _axes_size(shape, axes):
    if isinstance(axes, int):
        return shape[axes]
    return math.prod(shape[a] for a in axes)


def compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """(fan_in, fan_out) of a weight shape; the other axes are the receptive field."""
    shape = _shape(shape)
    if len(shape) <= 1:
        raise ValueError(f"variance_scaling: cannot compute fan-in/fan-out of a "
                         f"{len(shape)}-d weight of shape {shape}; it must be at least 2-d "
                         "(for a bias use zeros or normal)")
    in_size = _axes_size(shape, in_axis)
    out_size = _axes_size(shape, out_axis)
    batch_size = _axes_size(shape, batch_axis)
    denom = in_size * out_size * batch_size
    receptive = math.prod(shape) / denom if denom else 0
    return in_size * receptive, out_size * receptive


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=_F32):
    """Builds an initializer with standard deviation ``sqrt(scale / n)``, ``n`` being
    fan_in, fan_out or their mean (``mode``).  ``distribution``: 'truncated_normal'
    (truncated at 2 std, rescaled so the std after truncation is right), 'normal' or
    'uniform' (on ``[-sqrt(3 var), sqrt(3 var)]``)."""
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"variance_scaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', "
                         f"got {mode!r}")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"variance_scaling: distribution must be 'truncated_normal', "
                         f"'normal' or 'uniform', got {distribution!r}")

    def init(key, shape, dtype=dtype):
        dtype = _dtype("variance_scaling", dtype)
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape, in_axis, out_axis, batch_axis)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / n if n else 0.0
        if distribution == "truncated_normal":
            # 0.8796... is the std of a standard normal truncated to (-2, 2).
            std = math.sqrt(variance) / .87962566103423978
            return random.truncated_normal(key, -2, 2, shape, dtype) * lnp.asarray(std, dtype)
        if distribution == "normal":
            return random.normal(key, shape, dtype) * lnp.asarray(math.sqrt(variance), dtype)
        return random.uniform(key, shape, dtype, -1) * lnp.asarray(math.sqrt(3 * variance),
                                                                    dtype)
    return init


def _family(scale, mode, distribution, doc):
    def make(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
             batch_axis: Sequence[int] = (), dtype=_F32):
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis,
                                dtype)
    make.__doc__ = doc
    return make


glorot_uniform = _family(1.0, "fan_avg", "uniform", "variance_scaling(1, 'fan_avg', 'uniform')")
glorot_uniform.__name__ = "glorot_uniform"
glorot_normal = _family(1.0, "fan_avg", "truncated_normal",
                        "variance_scaling(1, 'fan_avg', 'truncated_normal')")
glorot_normal.__name__ = "glorot_normal"
lecun_uniform = _family(1.0, "fan_in", "uniform", "variance_scaling(1, 'fan_in', 'uniform')")
lecun_uniform.__name__ = "lecun_uniform"
lecun_normal = _family(1.0, "fan_in", "truncated_normal",
                       "variance_scaling(1, 'fan_in', 'truncated_normal')")
lecun_normal.__name__ = "lecun_normal"
he_uniform = _family(2.0, "fan_in", "uniform", "variance_scaling(2, 'fan_in', 'uniform')")
he_uniform.__name__ = "he_uniform"
he_normal = _family(2.0, "fan_in", "truncated_normal",
                    "variance_scaling(2, 'fan_in', 'truncated_normal')")
he_normal.__name__ = "he_normal"
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=_F32):
    """Builds an initializer of (scaled) random orthogonal matrices: the columns along
    ``column_axis`` are orthonormal (or the rows, when there are more columns than rows).
    """
    def init(key, shape, dtype=dtype):
        dtype = _dtype("orthogonal", dtype)
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal: needs a shape of at least 2 dims, got {shape}")
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols if n_cols else 0
        mshape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
        q, r = lnp.linalg.qr(random.normal(key, mshape, dtype))
        d = lnp.diagonal(r)
        q = q * lnp.where(d < 0, -1., 1.).astype(dtype)  # uniform (Haar) measure
        if n_rows < n_cols:
            q = q.T
        rest = tuple(np.delete(np.array(shape), column_axis % len(shape)))
        q = lnp.moveaxis(q.reshape(rest + (n_cols,)), -1, column_axis)
        return lnp.asarray(scale, dtype) * q
    return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=_F32):
    """Builds an initializer for conv kernels (3-5 dims): zero except the centre tap,
    which is orthogonal (Xiao et al. 2018)."""
    def init(key, shape, dtype=dtype):
        shape = _shape(shape)
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"delta_orthogonal: needs a 3-, 4- or 5-d shape, got {shape}")
        if shape[-1] < shape[-2]:
            raise ValueError(f"delta_orthogonal: fan_in {shape[-2]} must be <= fan_out "
                             f"{shape[-1]}")
        dtype = _dtype("delta_orthogonal", dtype)
        mat = orthogonal(scale, column_axis, dtype)(key, shape[-2:], dtype)
        return lnp.zeros(shape, dtype).at[tuple((k - 1) // 2 for k in shape[:-2])].set(mat)
    return init
