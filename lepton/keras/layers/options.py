"""Keras constructor arguments turned into checked stax pieces: ``activation=``,
``*_initializer=``, ``padding=``, ``seed=``, and the options accepted only at their defaults.
Every layer family reads these, so they sit below ``base``.
"""
from __future__ import annotations

import numpy as np

from ... import nn
from ... import stax
from .. import initializers as kinits


def _keras_act(name, fun, **fun_kwargs):
    """A stax activation with Keras's defaults where they differ from jax.nn's."""
    layer = stax.elementwise(fun, **fun_kwargs)
    return stax.Layer(layer[0], layer[1], name)


# Keras's defaults differ from jax.nn's (and stax's) for two names: 'gelu' is the exact
# erf form (jax.nn.gelu defaults to the tanh approximation) and 'leaky_relu' has
# negative_slope=0.2 (jax.nn: 0.01).
ACTIVATIONS = {
    "linear": None, "relu": stax.Relu, "relu6": stax.Relu6, "sigmoid": stax.Sigmoid,
    "tanh": stax.Tanh, "softmax": stax.Softmax, "log_softmax": stax.LogSoftmax,
    "elu": stax.Elu, "selu": stax.Selu, "softplus": stax.Softplus,
    "gelu": _keras_act("Gelu", nn.gelu, approximate=False),
    "swish": stax.Silu, "silu": stax.Silu,
    "leaky_relu": _keras_act("LeakyRelu", nn.leaky_relu, negative_slope=0.2),
    "exponential": stax.Exp,
    "hard_sigmoid": _keras_act("HardSigmoid", nn.hard_sigmoid),
    "hard_silu": _keras_act("HardSilu", nn.hard_silu),
    "hard_swish": _keras_act("HardSilu", nn.hard_silu),
    "hard_tanh": _keras_act("HardTanh", nn.hard_tanh),
    "softsign": _keras_act("Softsign", nn.soft_sign),
    "mish": _keras_act("Mish", nn.mish), "celu": _keras_act("Celu", nn.celu),
    "log_sigmoid": _keras_act("LogSigmoid", nn.log_sigmoid),
    "squareplus": _keras_act("Squareplus", nn.squareplus),
    "sparse_plus": _keras_act("SparsePlus", nn.sparse_plus),
}


def activation_layer(activation, where):
    """The stax layer for a Keras ``activation=`` value: a name, None, or a function."""
    if activation is None:
        return None
    name = getattr(activation, "keras_activation", None)  # keras.activations.relu, ...
    if name is not None and name in ACTIVATIONS:
        return ACTIVATIONS[name]
    if callable(activation) and not isinstance(activation, str):
        return stax.elementwise(activation)
    key = str(activation).lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {activation!r}. Valid names: "
                         f"{', '.join(sorted(ACTIVATIONS))}, or pass a function.")
    return ACTIVATIONS[key]


def initializer(value, where):
    """``init(key, shape, dtype)`` for a Keras ``*_initializer=`` value: a name (Keras's
    defaults: 'random_uniform' is [-0.05, 0.05)), a keras.initializers object or class,
    or a function."""
    try:
        return kinits.get(value)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _pair(v, n, what):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{what} must be an int or a tuple of {n} ints, got {v}")
    return v


def _padding(p, where, causal=False):
    p = str(p).lower()
    ok = ("valid", "same", "causal") if causal else ("valid", "same")
    if p not in ok:
        raise ValueError(f"{where}: padding must be {', '.join(map(repr, ok))}, got {p!r}")
    return p.upper()


def _defaults_only(layer, **options):
    """Keras arguments accepted at their default only: ``name=(value, default)``."""
    for arg, (value, default) in options.items():
        if value is not default and value != default:
            raise NotImplementedError(f"{type(layer).__name__} {layer.name!r}: {arg}={value!r} "
                                      f"is not supported; leave it at {default!r}")


def _channels_last(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{type(layer).__name__}: only data_format='channels_last' is "
                         "supported; transpose the data to channels-last "
                         "(e.g. x.transpose(0, 2, 3, 1) for NCHW images)")


def check_seed(seed, where):
    """A layer's ``seed=``: None or an int in [0, 2**32)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or \
            not 0 <= seed < 2 ** 32:
        raise TypeError(f"{where}: seed must be None or an int in [0, 2**32); got {seed!r}")
    return int(seed)


def _act_name(activation):
    if activation is None or isinstance(activation, str):
        return activation
    return getattr(activation, "keras_activation", None) or \
        getattr(activation, "__name__", "custom")


def _act_fn(activation, where):
    if callable(activation) and not isinstance(activation, str):
        return activation
    key = str(activation).lower()
    fns = {"tanh": nn.tanh, "relu": nn.relu, "sigmoid": nn.sigmoid, "linear": lambda x: x}
    if key not in fns:
        raise ValueError(f"{where}: activation must be one of {sorted(fns)} or a function")
    return fns[key]
