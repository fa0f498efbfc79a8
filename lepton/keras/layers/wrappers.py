"""``TimeDistributed``: a layer applied to every time step of a sequence with one set of
weights (Keras's wrapper), by folding the time axis into the batch."""
from __future__ import annotations

from ... import numpy as lnp
from ... import stax
from .base import Layer


class TimeDistributed(Layer):
    """``TimeDistributed(layer)`` on inputs ``(batch, time, ...)``: ``layer`` runs on
    each ``(batch, ...)`` slice, the same weights for every step (listed as the wrapped
    layer's).  A mask passes through unchanged."""
    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed wraps a lepton.keras layer; got "
                            f"{type(layer).__name__}")
        self.layer = layer

    @property
    def seed(self):
        return self.layer.seed

    def build_stax(self):
        init, apply = stax.stateful(self.layer.to_stax())
        name = self.name

        def init_fun(rng, input_shape):
            input_shape = tuple(input_shape)
            if len(input_shape) < 3:
                raise stax.LayerShapeError(
                    f"TimeDistributed {name!r}", input_shape, "(batch, time, ...) inputs",
                    "give it sequences; a layer on (batch, features) needs no wrapper")
            out, params, state = init(rng, (-1,) + input_shape[2:])
            return input_shape[:2] + tuple(out[1:]), params, state

        def apply_fun(params, state, inputs, **kwargs):
            x = lnp.asarray(inputs)
            b, t = x.shape[0], x.shape[1]
            y, new_state = apply(params, state, x.reshape((b * t,) + tuple(x.shape[2:])),
                                 **kwargs)
            return y.reshape((b, t) + tuple(y.shape[1:])), new_state

        return stax.Layer(init_fun, apply_fun, "TimeDistributed", stateful=True)

    def penalties(self, params):
        return self.layer.penalties(params)

    def keras_weight_count(self, n):
        return self.layer.keras_weight_count(n)

    def to_keras_weights(self, arrays):
        return self.layer.to_keras_weights(arrays)

    def from_keras_weights(self, weights, arrays, offset):
        return self.layer.from_keras_weights(weights, arrays, offset)

    def get_config(self):
        return {**super().get_config(), "layer": {"class_name": type(self.layer).__name__,
                                                  "config": self.layer.get_config()}}
