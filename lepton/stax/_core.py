"""Dense, Embedding, Flatten, Reshape, Identity and the elementwise (activation) layers."""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from .. import nn
from .. import numpy as lnp
from .. import random
from ..core import Tracer
from ..errors import DTypeError
from ..nn.initializers import glorot_normal, normal
from ._base import (ConfigurableLayer, Layer, LayerShapeError, check_rank, fmt_shape,
                    known, shape_of)


# ----------------------------------------------------------------------------- Dense
def _dense_check(shape, in_dim=None):
    if len(shape) not in (1, 2, 3):
        feat = math.prod(shape[1:]) if all(d >= 0 for d in shape[1:]) else "features"
        raise LayerShapeError(
            "Dense", shape, f"(batch, {in_dim if in_dim is not None else 'features'}) "
            "(or (batch, time, features))",
            f"add Flatten() before this Dense to make it (batch, {feat}); for a "
            "per-position projection of feature maps use Conv(out, (1, 1)).",
            f"Dense takes rank 1 to 3 inputs (it multiplies the last axis), this one has "
            f"rank {len(shape)}.")
    if in_dim is not None and shape[-1] != in_dim:
        raise LayerShapeError(
            "Dense", shape, f"(..., {in_dim}): the last axis must have the {in_dim} "
            "features the layer was initialised with",
            "re-run init with the real input shape, or check the layer before this one.")


def Dense(out_dim, W_init=glorot_normal(), b_init=normal()):
    """Fully connected layer: ``inputs @ W + b`` with W of shape (in_dim, out_dim).

    Inputs of rank 1-3 are accepted (the product is over the last axis); higher ranks are
    an error that suggests Flatten()."""
    out_dim = int(out_dim)

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        _dense_check(input_shape)
        in_dim = known("Dense", input_shape, -1, "feature")
        k1, k2 = random.split(rng)
        W, b = W_init(k1, (in_dim, out_dim)), b_init(k2, (out_dim,))
        return input_shape[:-1] + (out_dim,), (W, b)

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        _dense_check(shape_of(inputs), shape_of(W)[0])
        return lnp.dot(inputs, W) + b

    return Layer(init_fun, apply_fun, "Dense", config=dict(out_dim=out_dim))


# ----------------------------------------------------------------------------- Embedding
def Embedding(vocab_size, features, W_init=normal(1.0)):
    """Lookup table: integer ids of any shape -> ``ids.shape + (features,)`` vectors.

    Concrete ids outside ``[0, vocab_size)`` raise; traced ids are clamped (as a gather)."""
    vocab_size, features = int(vocab_size), int(features)

    def init_fun(rng, input_shape):
        return tuple(input_shape) + (features,), W_init(rng, (vocab_size, features))

    def apply_fun(params, inputs, **kwargs):
        W = params
        ids = lnp.asarray(inputs)
        if not dtypes.is_integer(ids.dtype):
            raise DTypeError(f"stax layer Embedding: ids must be integers, got dtype "
                             f"{ids.dtype} with shape {fmt_shape(ids.shape)}. Fix: pass "
                             "token ids with .astype('int32').")
        if not isinstance(ids, Tracer) and ids.size:
            v = np.asarray(ids)
            if v.min() < 0 or v.max() >= shape_of(W)[0]:
                raise ValueError(f"stax layer Embedding: ids must be in [0, "
                                 f"{shape_of(W)[0]}), got values in [{v.min()}, {v.max()}]")
        return lnp.take(W, ids, axis=0)

    return Layer(init_fun, apply_fun, "Embedding",
                 config=dict(vocab_size=vocab_size, features=features))


# ----------------------------------------------------------------------------- reshaping
def _flatten():
    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        check_rank("Flatten", input_shape, range(1, 64), "(batch, ...)")
        rest = input_shape[1:]
        size = -1 if any(d < 0 for d in rest) else math.prod(rest)
        return (input_shape[0], size), ()

    def apply_fun(params, inputs, **kwargs):
        shape = shape_of(inputs)
        check_rank("Flatten", shape, range(1, 64), "(batch, ...)")
        return lnp.reshape(inputs, (shape[0], math.prod(shape[1:])))

    return ConfigurableLayer(init_fun, apply_fun, "Flatten", rebuild=_flatten)


Flatten = _flatten()
Flatten.__doc__ = "Flatten all axes but the leading (batch) one: (N, ...) -> (N, prod(...))."


def Reshape(new_shape):
    """Reshape each example: ``(N,) + s -> (N,) + new_shape`` (batch axis kept; one entry
    of ``new_shape`` may be -1)."""
    new_shape = tuple(int(d) for d in new_shape)
    if sum(d == -1 for d in new_shape) > 1:
        raise ValueError(f"Reshape: at most one -1 in new_shape, got {new_shape}")

    def resolve(shape):
        check_rank("Reshape", shape, range(1, 64), "(batch, ...)")
        size = math.prod(shape[1:])
        fixed = math.prod(d for d in new_shape if d != -1)
        if -1 in new_shape:
            ok = fixed > 0 and size % fixed == 0
            out = tuple(size // fixed if d == -1 and ok else d for d in new_shape)
        else:
            ok, out = fixed == size, new_shape
        if not ok:
            raise LayerShapeError(
                "Reshape", shape, f"(batch, ...) with {fixed} elements per example to "
                f"reshape to {new_shape}", "check new_shape: it excludes the batch axis.",
                f"Each example has {size} elements.")
        return out

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        if any(d < 0 for d in input_shape[1:]):
            return (input_shape[0],) + new_shape, ()
        return (input_shape[0],) + resolve(input_shape), ()

    def apply_fun(params, inputs, **kwargs):
        shape = shape_of(inputs)
        return lnp.reshape(inputs, (shape[0],) + resolve(shape))

    return Layer(init_fun, apply_fun, "Reshape", config=dict(new_shape=new_shape))


def _identity():
    return ConfigurableLayer(lambda rng, input_shape: (input_shape, ()),
                             lambda params, inputs, **kwargs: inputs, "Identity",
                             rebuild=_identity)


Identity = _identity()


# ----------------------------------------------------------------------------- elementwise
def _elementwise(name, fun, fun_kwargs):
    def make():
        return ConfigurableLayer(lambda rng, input_shape: (input_shape, ()),
                                 lambda params, inputs, **kwargs: fun(inputs, **fun_kwargs),
                                 name, rebuild=make)
    return make()


def elementwise(fun, **fun_kwargs):
    """Layer applying ``fun(inputs, **fun_kwargs)``; no parameters, shape unchanged."""
    return _elementwise(f"elementwise({getattr(fun, '__name__', 'fun')})", fun, fun_kwargs)


def _act(name, fun, **fun_kwargs):
    return _elementwise(name, fun, fun_kwargs)


Tanh = _act("Tanh", lnp.tanh)
Relu = _act("Relu", nn.relu)
Relu6 = _act("Relu6", nn.relu6)
Exp = _act("Exp", lnp.exp)
LogSoftmax = _act("LogSoftmax", nn.log_softmax, axis=-1)
Softmax = _act("Softmax", nn.softmax, axis=-1)
Softplus = _act("Softplus", nn.softplus)
Sigmoid = _act("Sigmoid", nn.sigmoid)
Elu = _act("Elu", nn.elu)
LeakyRelu = _act("LeakyRelu", nn.leaky_relu)
Selu = _act("Selu", nn.selu)
Gelu = _act("Gelu", nn.gelu)
Silu = _act("Silu", nn.silu)
