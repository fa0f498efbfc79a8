"""Training-time noise layers: Dropout (plain and spatial) and GaussianNoise,
each optionally on its own random stream (``seed=``).
"""
from __future__ import annotations

from ... import numpy as lnp
from ... import random
from ... import stax
from .options import _channels_last, check_seed
from .base import Layer


class Dropout(Layer):
    """Keras semantics: ``rate`` is the fraction of inputs DROPPED in training.
    ``noise_shape`` (None entries take the input's size) shares one mask along the axes
    where it is 1.  With ``seed`` the masks are this layer's own stream, as Keras's
    seeded layers: the same seed gives the same masks at the same training step in any
    model; without it they follow ``fit``'s (globally seeded) stream."""
    supports_masking = True  # passes a mask on (Keras)

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= float(rate) < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else \
            tuple(None if d is None else int(d) for d in noise_shape)
        self.seed = check_seed(seed, f"Dropout {self.name!r}")

    def build_stax(self):
        if self.noise_shape is None:
            return stax.Dropout(self.rate)
        rate, noise_shape, name = self.rate, self.noise_shape, self.name

        def init_fun(rng, input_shape):
            if len(noise_shape) != len(input_shape):
                raise ValueError(f"Dropout {name!r}: noise_shape {noise_shape} needs one "
                                 f"entry per input axis; the input has shape "
                                 f"{tuple(input_shape)}")
            return input_shape, ()

        def apply_fun(params, inputs, *, rng=None, train=True, **kwargs):
            x = lnp.asarray(inputs)
            if not train or rate == 0.0 or rng is None:
                return x
            shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
            keep = random.bernoulli(rng, 1.0 - rate, shape)
            return lnp.where(keep, x * (1.0 / (1.0 - rate)), lnp.zeros((), x.dtype))

        return stax.Layer(init_fun, apply_fun, "Dropout")

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class SpatialDropout1D(Dropout):
    """Drops whole channels: one mask per (example, channel), shared over the steps."""
    noise = (None, 1, None)

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, noise_shape=self.noise, seed=seed, **kwargs)

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("noise_shape")
        return cfg


class SpatialDropout2D(SpatialDropout1D):
    """Drops whole feature maps: one mask per (example, channel)."""
    noise = (None, 1, 1, None)

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        _channels_last(self, data_format)
        super().__init__(rate, seed=seed, **kwargs)


class GaussianNoise(Layer):
    """Adds N(0, stddev^2) noise in training only (Keras's GaussianNoise)."""
    supports_masking = True  # passes a mask on (Keras)

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = float(stddev)
        self.seed = check_seed(seed, f"GaussianNoise {self.name!r}")

    def build_stax(self):
        stddev = self.stddev

        def apply_fun(params, inputs, *, rng=None, train=True, **kwargs):
            x = lnp.asarray(inputs)
            if not train or rng is None or stddev == 0:
                return x
            return x + lnp.asarray(stddev, x.dtype) * random.normal(rng, x.shape, x.dtype)

        return stax.Layer(lambda rng, input_shape: (input_shape, ()), apply_fun,
                          "GaussianNoise")

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
