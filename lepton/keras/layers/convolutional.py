"""Convolutions and transposed convolutions (1-D and 2-D, channels-last) as stax's."""
from __future__ import annotations

import functools

from ... import lax
from ... import numpy as lnp
from ... import random
from ... import stax
from .options import _act_name, _channels_last, _defaults_only, initializer, _padding, _pair
from .base import Layer
from .core import _KernelBias, _without_bias


class _Conv(_KernelBias, Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", data_format=None, groups=1,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        _channels_last(self, data_format)
        _defaults_only(self, groups=(groups, 1))
        self._set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer,
                               kernel_constraint, bias_constraint)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, n, "kernel_size")
        self.strides = _pair(strides, n, "strides")
        self.dilation_rate = _pair(dilation_rate, n, "dilation_rate")
        # 'causal' (Conv1D only): pad (kernel_size - 1) * dilation_rate steps on the left
        self.padding = _padding(padding, type(self).__name__, causal=n == 1)
        self.activation, self.use_bias = activation, use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build_stax(self):
        where = f"{type(self).__name__} {self.name!r}"
        spec = ("NHWC", "HWIO", "NHWC") if self.rank == 2 else ("NHC", "HIO", "NHC")
        padding = self.padding
        if padding == "CAUSAL":
            padding = [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)]
        layer = stax.GeneralConv(
            spec, self.filters, self.kernel_size, strides=self.strides, padding=padding,
            W_init=initializer(self.kernel_initializer, where),
            b_init=initializer(self.bias_initializer, where), dilation=self.dilation_rate)
        return layer if self.use_bias else _without_bias(layer)

    def keras_shape(self, index, shape):
        # stax keeps the bias broadcastable, (1, ..., 1, filters); Keras stores (filters,).
        return (self.filters,) if index == 1 and self.use_bias else tuple(shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding.lower(), "dilation_rate": list(self.dilation_rate),
                "activation": _act_name(self.activation), "use_bias": self.use_bias,
                **self._regularizer_config()}


class Conv2D(_Conv):
    rank = 2


class Conv1D(_Conv):
    rank = 1


def _keras_transpose_pads(k, s, d, padding, output_padding):
    """Keras 3's (lo, hi) padding of the stride-dilated input for a transposed conv
    (``_convert_conv_transpose_padding_args_from_keras_to_jax``)."""
    k = (k - 1) * d + 1
    if padding == "VALID":
        extra = max(k, s) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    pad_len = s + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    lo = min(pad_len // 2 + pad_len % 2, k - 1)
    return lo, pad_len - lo


class _ConvTranspose(_Conv):
    """Keras's Conv1DTranspose/Conv2DTranspose: kernel ``(*kernel_size, filters,
    in_channels)`` as Keras stores it; 'same' multiplies each size by its stride, 'valid'
    gives ``(n - 1) * s + max(k, s)``; ``output_padding`` adds to the end."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias, **kwargs)
        if self.padding == "CAUSAL":
            raise ValueError(f"{type(self).__name__}: padding must be 'valid' or 'same'")
        self.output_padding = None if output_padding is None else \
            _pair(output_padding, self.rank, "output_padding")

    def build_stax(self):
        where = f"{type(self).__name__} {self.name!r}"
        n, filters = self.rank, self.filters
        spec = ("NHWC", "HWIO", "NHWC") if n == 2 else ("NHC", "HIO", "NHC")
        w_init = initializer(self.kernel_initializer, where)
        b_init = initializer(self.bias_initializer, where)
        out_pad = self.output_padding or (None,) * n
        pads_of = [functools.partial(_keras_transpose_pads, k, s, d, self.padding, op)
                   for k, s, d, op in zip(self.kernel_size, self.strides, self.dilation_rate,
                                          out_pad)]
        use_bias, strides, dilation = self.use_bias, self.strides, self.dilation_rate

        def init_fun(rng, input_shape):
            input_shape = tuple(input_shape)
            if len(input_shape) != n + 2:
                raise ValueError(f"{where} needs rank-{n + 2} channels-last input, got "
                                 f"shape {input_shape}")
            out = [input_shape[0]]
            for size, k, s, d, pads in zip(input_shape[1:-1], self.kernel_size, strides,
                                           dilation, pads_of):
                lo, hi = pads()
                out.append(-1 if size < 0 else
                           max(0, (size - 1) * s + 1 + lo + hi - ((k - 1) * d + 1) + 1))
            k1, k2 = random.split(rng)
            W = w_init(k1, self.kernel_size + (filters, input_shape[-1]))
            params = (W, b_init(k2, (filters,))) if use_bias else (W,)
            return tuple(out) + (filters,), params

        def apply_fun(params, inputs, **kwargs):
            W = params[0]
            x = lnp.asarray(inputs)
            if x.ndim != n + 2 or x.shape[-1] != W.shape[-1]:
                raise ValueError(f"{where} expects (batch, ..., {W.shape[-1]}) input of rank "
                                 f"{n + 2}, got shape {x.shape}")
            if x.dtype != W.dtype:
                dt = lnp.result_type(x, W)
                x, W = x.astype(dt), W.astype(dt)
            # Keras (transpose_kernel=True): the kernel flipped, in/out channels swapped
            K = lnp.swapaxes(lnp.flip(W, axis=tuple(range(n))), -1, -2)
            y = lax.conv_general_dilated(x, K, (1,) * n, [p() for p in pads_of], strides,
                                         dilation, dimension_numbers=spec)
            return y + params[1] if use_bias else y

        return stax.Layer(init_fun, apply_fun, type(self).__name__)

    def keras_shape(self, index, shape):
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "output_padding":
                None if self.output_padding is None else list(self.output_padding)}


class Conv2DTranspose(_ConvTranspose):
    rank = 2


class Conv1DTranspose(_ConvTranspose):
    rank = 1
