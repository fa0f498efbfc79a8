"""Keras's activation functions (``keras.activations.relu``, ...), with Keras 3's defaults:
``gelu`` is exact (``approximate=False``) and ``leaky_relu`` has ``negative_slope=0.2``,
where ``jax.nn`` (and ``lepton.nn``) use the tanh approximation and 0.01.

Passing one of these as ``activation=`` is the same as passing its name: a softmax or
sigmoid output still hands the loss its logits, and ``save`` stores the name.
"""
from __future__ import annotations

from .. import nn
from .. import numpy as lnp

__all__ = ["relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu",
           "gelu", "softplus", "softsign", "swish", "silu", "leaky_relu", "exponential",
           "linear", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "mish", "celu",
           "log_sigmoid", "squareplus", "sparse_plus", "get", "serialize"]


def _named(name):
    def mark(fn):
        fn.__name__ = fn.__qualname__ = name
        fn.keras_activation = name
        return fn
    return mark


@_named("relu")
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's relu: ``x`` above ``threshold``, ``negative_slope * (x - threshold)`` below,
    capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn.relu(x)
    x = lnp.asarray(x)
    y = lnp.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else lnp.minimum(y, max_value)


relu6 = _named("relu6")(lambda x: nn.relu6(x))
sigmoid = _named("sigmoid")(lambda x: nn.sigmoid(x))
tanh = _named("tanh")(lambda x: nn.tanh(x))
softmax = _named("softmax")(lambda x, axis=-1: nn.softmax(x, axis=axis))
log_softmax = _named("log_softmax")(lambda x, axis=-1: nn.log_softmax(x, axis=axis))
elu = _named("elu")(lambda x, alpha=1.0: nn.elu(x, alpha))
selu = _named("selu")(lambda x: nn.selu(x))
gelu = _named("gelu")(lambda x, approximate=False: nn.gelu(x, approximate=approximate))
softplus = _named("softplus")(lambda x: nn.softplus(x))
softsign = _named("softsign")(lambda x: nn.soft_sign(x))
swish = _named("swish")(lambda x: nn.silu(x))
silu = _named("silu")(lambda x: nn.silu(x))
leaky_relu = _named("leaky_relu")(
    lambda x, negative_slope=0.2: nn.leaky_relu(x, negative_slope=negative_slope))
exponential = _named("exponential")(lambda x: lnp.exp(x))
linear = _named("linear")(lambda x: lnp.asarray(x))
hard_sigmoid = _named("hard_sigmoid")(lambda x: nn.hard_sigmoid(x))
hard_silu = _named("hard_silu")(lambda x: nn.hard_silu(x))
hard_swish = _named("hard_swish")(lambda x: nn.hard_silu(x))
hard_tanh = _named("hard_tanh")(lambda x: nn.hard_tanh(x))
mish = _named("mish")(lambda x: nn.mish(x))
celu = _named("celu")(lambda x, alpha=1.0: nn.celu(x, alpha))
log_sigmoid = _named("log_sigmoid")(lambda x: nn.log_sigmoid(x))
squareplus = _named("squareplus")(lambda x, b=4: nn.squareplus(x, b))
sparse_plus = _named("sparse_plus")(lambda x: nn.sparse_plus(x))


def get(identifier):
    """The function for a name (None and 'linear' give ``linear``), or a function as is."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    fn = globals().get(str(identifier).lower())
    if not (callable(fn) and hasattr(fn, "keras_activation")):
        names = sorted(n for n in __all__ if n not in ("get", "serialize"))
        raise ValueError(f"unknown activation {identifier!r}. Valid names: "
                         f"{', '.join(names)}")
    return fn


def serialize(activation):
    return getattr(activation, "keras_activation", None) or \
        getattr(activation, "__name__", "custom")
