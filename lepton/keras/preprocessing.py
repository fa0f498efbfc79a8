"""Keras preprocessing and augmentation layers over ``lepton.stax``'s image layers.

They sit at the start of a model, run inside the jitted train step, and (the ``Random*``
ones) act only in training: ``predict`` and ``evaluate`` see the images unchanged.
"""
from __future__ import annotations

import numpy as np

from .. import stax
from .layers import Layer, _channels_last, check_seed

__all__ = ["Rescaling", "Normalization", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom", "RandomContrast"]


class Rescaling(Layer):
    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def build_stax(self):
        return stax.Rescaling(self.scale, self.offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Standardise features along ``axis`` with a mean and variance given or learned from
    data by ``adapt(data)`` (before ``compile``/``fit``); ``invert=True`` maps
    standardised values back (``x * sqrt(variance) + mean``)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.invert = axis, bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both mean and variance, or neither (and "
                             "call adapt(data))")
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.variance = None if variance is None else np.asarray(variance, np.float32)

    def adapt(self, data):
        data = np.asarray(data, np.float64)
        if data.ndim == 0 or data.size == 0:
            raise ValueError("Normalization.adapt needs a non-empty array of examples")
        if self.axis is None:
            axes = None
        else:
            ax = self.axis % data.ndim
            axes = tuple(i for i in range(data.ndim) if i != ax)
        self.mean = np.asarray(data.mean(axis=axes), np.float32)
        self.variance = np.asarray(data.var(axis=axes), np.float32)
        self._stax = self._core = None

    def build_stax(self):
        if self.mean is None:
            raise ValueError(f"Normalization {self.name!r} has no statistics: call "
                             f"layer.adapt(x_train) before building the model, or pass "
                             f"mean= and variance=")
        return stax.Normalization(self.mean, self.variance,
                                  axis=-1 if self.axis is None else self.axis,
                                  invert=self.invert)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": None if self.mean is None else self.mean.tolist(),
                "variance": None if self.variance is None else self.variance.tolist()}


class _Random(Layer):
    """A random augmentation; ``seed`` gives it its own stream (as Dropout's)."""
    stax_name = None
    arg_names = ()

    def __init__(self, *args, seed=None, name=None, input_shape=None, data_format=None,
                 **kwargs):
        super().__init__(name=name, input_shape=input_shape)
        _channels_last(self, data_format)
        self.args = dict(zip(self.arg_names, args))
        self.args.update(kwargs)
        self.seed = check_seed(seed, f"{type(self).__name__} {self.name!r}")
        self.build_stax()  # validate the arguments now, not at fit

    def build_stax(self):
        try:
            return getattr(stax, self.stax_name)(**self.args)
        except TypeError as e:
            raise TypeError(f"{type(self).__name__}: {e}") from None

    def get_config(self):
        return {**super().get_config(), **self.args, "seed": self.seed}


class RandomFlip(_Random):
    stax_name, arg_names = "RandomFlip", ("mode",)


class RandomRotation(_Random):
    stax_name = "RandomRotation"
    arg_names = ("factor", "fill_mode", "interpolation", "fill_value")


class RandomTranslation(_Random):
    stax_name = "RandomTranslation"
    arg_names = ("height_factor", "width_factor", "fill_mode", "interpolation", "fill_value")


class RandomZoom(_Random):
    stax_name = "RandomZoom"
    arg_names = ("height_factor", "width_factor", "fill_mode", "interpolation", "fill_value")


class RandomContrast(_Random):
    stax_name, arg_names = "RandomContrast", ("factor", "value_range")
