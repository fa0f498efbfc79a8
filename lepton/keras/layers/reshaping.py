"""Layers that only move, pad or repeat values: Flatten, Reshape, ZeroPadding,
UpSampling.
"""
from __future__ import annotations

from ... import numpy as lnp
from ... import stax
from .options import _channels_last, _pair
from .base import Layer


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(self, data_format)

    def build_stax(self):
        return stax.Flatten


def _resize_layer(name, shape_fn, apply_fn):
    """A parameter-free stax layer that changes the spatial sizes (-1 stays unknown)."""
    def init_fun(rng, input_shape):
        return tuple(shape_fn(tuple(input_shape))), ()

    def apply_fun(params, inputs, **kwargs):
        return apply_fn(lnp.asarray(inputs))

    return stax.Layer(init_fun, apply_fun, name)


def _check_rank(layer, shape, rank):
    if len(shape) != rank + 2:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} needs (batch, "
                         f"{'steps' if rank == 1 else 'rows, cols'}, channels) input, got "
                         f"shape {shape}")


class _ZeroPadding(Layer):
    rank = 2

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(self, data_format)
        n = self.rank
        if isinstance(padding, int):
            pads = ((padding, padding),) * n
        elif n == 1 and len(padding) == 2 and all(isinstance(p, int) for p in padding):
            pads = (tuple(padding),)
        elif all(isinstance(p, int) for p in padding):
            pads = tuple((int(p), int(p)) for p in padding)
        else:
            pads = tuple((int(a), int(b)) for a, b in padding)
        if len(pads) != n or any(p < 0 for pair in pads for p in pair):
            raise ValueError(f"{type(self).__name__}: padding must be an int, {n} ints or "
                             f"{n} (before, after) pairs >= 0; got {padding!r}")
        self.padding = pads

    def build_stax(self):
        pads = self.padding

        def shape_fn(shape):
            _check_rank(self, shape, self.rank)
            return (shape[0],) + tuple(-1 if d < 0 else d + a + b
                                       for d, (a, b) in zip(shape[1:-1], pads)) + shape[-1:]
        return _resize_layer(type(self).__name__, shape_fn,
                             lambda x: lnp.pad(x, ((0, 0),) + pads + ((0, 0),)))

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class ZeroPadding2D(_ZeroPadding):
    rank = 2


class ZeroPadding1D(_ZeroPadding):
    rank = 1


class _UpSampling(Layer):
    rank = 2

    def __init__(self, size=2, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        _channels_last(self, data_format)
        if interpolation != "nearest":
            raise NotImplementedError(f"{type(self).__name__}: only interpolation='nearest' "
                                      f"is supported; got {interpolation!r}")
        self.size = _pair(size, self.rank, "size")

    def build_stax(self):
        size = self.size

        def shape_fn(shape):
            _check_rank(self, shape, self.rank)
            return (shape[0],) + tuple(-1 if d < 0 else d * k
                                       for d, k in zip(shape[1:-1], size)) + shape[-1:]

        def apply_fn(x):
            for axis, k in enumerate(size, start=1):
                x = lnp.repeat(x, k, axis=axis)
            return x
        return _resize_layer(type(self).__name__, shape_fn, apply_fn)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size)}


class UpSampling2D(_UpSampling):
    rank = 2


class UpSampling1D(_UpSampling):
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def build_stax(self):
        return stax.Reshape(self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
