"""Max and average pooling and their global forms (1-D and 2-D, channels-last)."""
from __future__ import annotations

from ... import numpy as lnp
from ... import stax
from .options import _channels_last, _padding, _pair
from .base import Layer


class _Pool(Layer):
    rank, kind = 2, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        _channels_last(self, data_format)
        self.pool_size = _pair(pool_size, self.rank, "pool_size")
        # Keras: strides default to the pool size (stax's default is 1).
        self.strides = self.pool_size if strides is None else _pair(strides, self.rank,
                                                                    "strides")
        self.padding = _padding(padding, type(self).__name__)

    def build_stax(self):
        make = stax.MaxPool if self.kind == "max" else stax.AvgPool
        return make(self.pool_size, strides=self.strides, padding=self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding.lower()}


class MaxPooling2D(_Pool):
    rank, kind = 2, "max"


class MaxPooling1D(_Pool):
    rank, kind = 1, "max"


class AveragePooling2D(_Pool):
    rank, kind = 2, "avg"


class AveragePooling1D(_Pool):
    rank, kind = 1, "avg"


class _GlobalPool(Layer):
    kind, rank = "avg", 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _channels_last(self, data_format)
        self.keepdims = bool(keepdims)

    def build_stax(self):
        pool = stax.GlobalAvgPool if self.kind == "avg" else stax.GlobalMaxPool
        if not self.keepdims:
            return pool
        # Keras keeps the pooled axes as size 1: (batch, 1, ..., 1, channels)
        return stax.serial(pool, stax.Reshape((1,) * self.rank + (-1,)))

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPool):
    kind = "avg"


class GlobalAveragePooling1D(_GlobalPool):
    """With a mask (``Embedding(mask_zero=True)``): the mean over the unmasked steps
    (NaN where a sequence is all padding, as Keras)."""
    kind, rank = "avg", 1

    def apply(self, params, state, x, *, train, rng, mask=None, core=False, **kwargs):
        if mask is None:
            return super().apply(params, state, x, train=train, rng=rng, core=core, **kwargs)
        m = lnp.asarray(mask).astype(x.dtype)[:, :, None]
        return (lnp.sum(x * m, axis=1, keepdims=self.keepdims) /
                lnp.sum(m, axis=1, keepdims=self.keepdims)), state


class GlobalMaxPooling2D(_GlobalPool):
    kind = "max"


class GlobalMaxPooling1D(_GlobalPool):
    kind, rank = "max", 1
