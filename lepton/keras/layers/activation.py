"""Activation layers: ``Activation('relu')`` and the ones with arguments (ReLU,
LeakyReLU, ELU, Softmax).
"""
from __future__ import annotations

from ... import nn
from ... import stax
from .. import activations as kacts
from .options import _act_name, activation_layer, _keras_act
from .base import Layer


class Activation(Layer):
    supports_masking = True  # passes a mask on (Keras)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        activation_layer(activation, f"Activation {self.name!r}")  # validate early
        self.activation = activation

    def build_stax(self):
        return stax.Identity

    def get_config(self):
        return {**super().get_config(), "activation": _act_name(self.activation)}


class _Elementwise(Layer):
    """An activation layer with arguments (ReLU, LeakyReLU, ELU, Softmax)."""
    supports_masking = True  # passes a mask on (Keras)
    fn, args = None, ()

    def __init__(self, *values, **kwargs):
        own = {k: kwargs.pop(k) for k in list(kwargs) if k in dict(self.args)}
        super().__init__(**kwargs)
        config = dict(self.args)
        config.update(zip([k for k, _ in self.args], values))
        config.update(own)
        for k, v in config.items():
            setattr(self, k, v)
        self._config = config

    def build_stax(self):
        return _keras_act(type(self).__name__, type(self).fn, **self._config)

    def get_config(self):
        return {**super().get_config(), **self._config}


class ReLU(_Elementwise):
    """Keras's ReLU layer: ``max_value`` cap, ``negative_slope`` below ``threshold``."""
    args = (("max_value", None), ("negative_slope", 0.0), ("threshold", 0.0))

    fn = staticmethod(kacts.relu)


class LeakyReLU(_Elementwise):
    """Keras's LeakyReLU layer (``negative_slope=0.3`` by default, as Keras)."""
    args = (("negative_slope", 0.3),)
    fn = staticmethod(nn.leaky_relu)


class ELU(_Elementwise):
    args = (("alpha", 1.0),)
    fn = staticmethod(nn.elu)


class Softmax(_Elementwise):
    """Keras's Softmax layer; over the last axis it is ``activation='softmax'`` (a
    cross-entropy loss then takes the logits)."""
    args = (("axis", -1),)
    fn = staticmethod(nn.softmax)

    @property
    def activation(self):
        return "softmax" if self._config["axis"] == -1 else None

    def build_stax(self):
        return stax.Identity if self.activation else super().build_stax()
