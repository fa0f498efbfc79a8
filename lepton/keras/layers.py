"""Keras layers as thin descriptions of lepton.stax layers.

A keras layer holds Keras's constructor arguments (names and defaults: glorot_uniform
kernels, zero biases, channels-last, ``activation=`` strings) and builds one stax layer
from them (``to_stax()``).  The model is a ``stax.serial`` of those, so everything
numerical -- shapes, checks, gradients, jit -- is stax's.
"""
from __future__ import annotations

import functools
import itertools
import re

import numpy as np

from .. import lax
from .. import nn
from .. import numpy as lnp
from .. import random
from .. import stax
from ..stax import gated_recurrent
from ..transforms.api import eval_shape
from . import activations as kacts
from . import initializers as kinits
from . import regularizers as kregs
from ..tree import leaves

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Conv1D", "Conv2D", "MaxPooling1D",
           "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten",
           "Dropout", "BatchNormalization", "LayerNormalization", "Activation", "Reshape",
           "Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "ACTIVATIONS", "ReLU",
           "LeakyReLU", "ELU", "Softmax", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D",
           "UpSampling2D", "Conv1DTranspose", "Conv2DTranspose", "SpatialDropout1D",
           "SpatialDropout2D", "GaussianNoise", "Lambda"]

# ----------------------------------------------------------------------------- activations
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


# ----------------------------------------------------------------------------- initializers
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


# ----------------------------------------------------------------------------- base
_counters: dict[str, itertools.count] = {}


def _snake(name):
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


class Layer:
    """A Keras layer: configuration, a unique ``name``, and ``to_stax()``."""

    def __init__(self, *, name=None, input_shape=None, input_dim=None, dtype=None,
                 trainable=True, **unknown):
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments "
                            f"{sorted(unknown)}")
        base = _snake(type(self).__name__)
        if name is None:
            n = next(_counters.setdefault(base, itertools.count()))
            name = base if n == 0 else f"{base}_{n}"
        self.name = name
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.trainable = trainable
        self._stax = None

    activation = None
    seed = None  # a layer with its own random stream sets an int (Dropout, Random*)

    def to_stax(self):
        """The stax layer: the core layer, then the output activation if there is one."""
        if self._stax is None:
            act = activation_layer(self.activation, f"{type(self).__name__} {self.name!r}")
            core = self.core_stax()
            self._stax = core if act is None else stax.serial(core, act)
        return self._stax

    def core_stax(self):
        """The layer without its output activation (a loss may take the logits)."""
        if getattr(self, "_core", None) is None:
            self._core = self.build_stax()
        return self._core

    def core_params(self, params):
        return params if activation_layer(self.activation, self.name) is None else params[0]

    def core_state(self, state):
        """State of the core layer (a stateless serial keeps the empty state ``()``)."""
        if activation_layer(self.activation, self.name) is None or not isinstance(state, list):
            return state
        return state[0]

    def build_stax(self):
        raise NotImplementedError

    def penalties(self, params):
        """``[(regularizer, weight)]`` for this layer's stax ``params`` (the model adds
        ``regularizer(weight)`` to the loss)."""
        return []

    def keras_shape(self, index, shape):
        """The shape Keras gives this layer's ``index``-th weight (``get_weights``)."""
        return tuple(shape)

    def keras_order(self, n):
        """Keras's order of this layer's ``n`` weights (params, then state), as indices."""
        return list(range(n))

    # get_weights / set_weights translate between the stax leaves (params, then state)
    # and Keras's list through these three; most layers only reorder and reshape.
    def keras_weight_count(self, n):
        """How many arrays Keras lists for this layer, given its ``n`` stax leaves."""
        return n

    def to_keras_weights(self, arrays):
        """This layer's stax leaves as Keras's ``get_weights`` lists them."""
        return [np.array(arrays[j]).reshape(self.keras_shape(j, np.shape(arrays[j])))
                for j in self.keras_order(len(arrays))]

    def from_keras_weights(self, weights, arrays, offset):
        """New stax leaves from Keras-ordered ``weights``; ``arrays`` are the current
        leaves (shapes, dtypes), ``offset`` the index of ``weights[0]`` in the model's
        list (for messages).  An array may also have the stax leaf's own shape."""
        new = [None] * len(arrays)
        for pos, (j, w) in enumerate(zip(self.keras_order(len(arrays)), weights)):
            want = np.shape(arrays[j])
            keras_shape = self.keras_shape(j, want)
            if np.shape(w) not in (want, keras_shape):
                raise ValueError(f"set_weights: array {offset + pos} (layer {self.name!r}) "
                                 f"has shape {np.shape(w)}, the model needs {keras_shape}")
            new[j] = np.asarray(w, dtype=np.asarray(arrays[j]).dtype).reshape(want)
        return new

    def get_config(self):
        return {"name": self.name} if self.trainable else {"name": self.name,
                                                           "trainable": False}

    def _model(self, who):
        owner = getattr(self, "_owner", None)
        model = owner() if owner is not None else None
        if model is None:
            raise ValueError(f"{who}: layer {self.name!r} has no weights yet; put it in a "
                             f"Sequential model and build it (fit, build, or an Input)")
        return model

    def get_weights(self):
        """This layer's weights in Keras's order and shapes (from the model it was built
        in)."""
        return self._model("get_weights").layer_weights(self)

    def set_weights(self, weights):
        """Set this layer's weights from a list in ``get_weights``'s order."""
        self._model("set_weights").set_layer_weights(self, weights)

    @property
    def weights(self):
        return self.get_weights()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class InputLayer:
    """``Input(shape=(28, 28, 1))``: the input shape of a Sequential model, batch excluded."""

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None, **kwargs):
        shape = kwargs.pop("input_shape", shape)
        if shape is None:
            raise TypeError("Input needs shape=, the shape of one example, e.g. "
                            "Input(shape=(28, 28, 1))")
        if kwargs:
            raise TypeError(f"Input() got unexpected keyword arguments {sorted(kwargs)}")
        self.shape = tuple(shape)
        self.batch_size = batch_size
        self.name = name or "input_layer"
        self.dtype = dtype


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    return InputLayer(shape, batch_size, name, dtype, **kwargs)


def _without_bias(layer):
    """A stax ``(W, b)`` layer (Dense, conv) with only ``W`` as a parameter
    (``use_bias=False``): the bias is a constant zero."""
    init, apply = layer

    def init_fun(rng, input_shape):
        out, (W, _) = init(rng, input_shape)
        return out, (W,)

    def apply_fun(params, inputs, **kwargs):
        (W,) = params
        return apply((W, lnp.zeros((), W.dtype)), inputs, **kwargs)

    return stax.Layer(init_fun, apply_fun, layer.name)


# ----------------------------------------------------------------------------- core layers
class _KernelBias:
    """kernel_regularizer / bias_regularizer on the core params ``(kernel[, bias])``."""

    def _set_regularizers(self, kernel_regularizer, bias_regularizer, activity_regularizer,
                          kernel_constraint, bias_constraint):
        self.kernel_regularizer = kregs.get(kernel_regularizer)
        self.bias_regularizer = kregs.get(bias_regularizer)
        _defaults_only(self, activity_regularizer=(activity_regularizer, None),
                       kernel_constraint=(kernel_constraint, None),
                       bias_constraint=(bias_constraint, None))

    def penalties(self, params):
        p = leaves(self.core_params(params))
        out = [] if self.kernel_regularizer is None else [(self.kernel_regularizer, p[0])]
        if self.bias_regularizer is not None and self.use_bias:
            out.append((self.bias_regularizer, p[1]))
        return out

    def _regularizer_config(self):
        return {k: kregs.serialize(getattr(self, k)) for k in
                ("kernel_regularizer", "bias_regularizer") if getattr(self, k) is not None}


class Dense(_KernelBias, Layer):
    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation, self.use_bias = int(units), activation, use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self._set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer,
                               kernel_constraint, bias_constraint)
        _defaults_only(self, lora_rank=(lora_rank, None), lora_alpha=(lora_alpha, None),
                       quantization_config=(quantization_config, None))

    def build_stax(self):
        where = f"Dense {self.name!r}"
        layer = stax.Dense(self.units, W_init=initializer(self.kernel_initializer, where),
                           b_init=initializer(self.bias_initializer, where))
        return layer if self.use_bias else _without_bias(layer)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _act_name(self.activation), "use_bias": self.use_bias,
                **self._regularizer_config()}


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
    kind, rank = "avg", 1


class GlobalMaxPooling2D(_GlobalPool):
    kind = "max"


class GlobalMaxPooling1D(_GlobalPool):
    kind, rank = "max", 1


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(self, data_format)

    def build_stax(self):
        return stax.Flatten


class Activation(Layer):
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


def check_seed(seed, where):
    """A layer's ``seed=``: None or an int in [0, 2**32)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or \
            not 0 <= seed < 2 ** 32:
        raise TypeError(f"{where}: seed must be None or an int in [0, 2**32); got {seed!r}")
    return int(seed)


class Dropout(Layer):
    """Keras semantics: ``rate`` is the fraction of inputs DROPPED in training.
    ``noise_shape`` (None entries take the input's size) shares one mask along the axes
    where it is 1.  With ``seed`` the masks are this layer's own stream, as Keras's
    seeded layers: the same seed gives the same masks at the same training step in any
    model; without it they follow ``fit``'s (globally seeded) stream."""

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


class Lambda(Layer):
    """``function(x, **arguments)`` as a layer.  Its output shape is traced from the
    function (or given by ``output_shape``: a shape without the batch axis, or a function
    of the input shape).  ``save`` stores the function's name: ``load_model(...,
    custom_objects={name: function})`` gives it back."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda {self.name!r}: function must be callable, got "
                            f"{type(function).__name__}")
        _defaults_only(self, mask=(mask, None))
        self.function, self.output_shape = function, output_shape
        self.arguments = dict(arguments or {})

    def build_stax(self):
        fn, args, given = self.function, self.arguments, self.output_shape

        def init_fun(rng, input_shape):
            input_shape = tuple(input_shape)
            if callable(given):
                return tuple(given(input_shape)), ()
            if given is not None:
                return (input_shape[0],) + tuple(given), ()
            probe = tuple(1 if d < 0 else d for d in input_shape)
            out = eval_shape(lambda x: fn(x, **args), lnp.zeros(probe, "float32"))
            return (input_shape[0],) + tuple(out.shape[1:]), ()

        return stax.Layer(init_fun, lambda params, inputs, **kw: fn(inputs, **args), "Lambda")

    def get_config(self):
        cfg = {**super().get_config(), "function": getattr(self.function, "__name__",
                                                           "custom"),
               "arguments": self.arguments}
        if self.output_shape is not None and not callable(self.output_shape):
            cfg["output_shape"] = list(self.output_shape)
        return cfg


def _gamma_first(self, n):
    """Keras lists a normalisation's gamma before beta; stax's params are (beta, gamma)."""
    order = list(range(n))
    if self.center and self.scale:
        order[0], order[1] = 1, 0
    return order


class _BetaGamma:
    """beta/gamma initializers and regularizers of the normalisation layers (stax params
    ``(beta, gamma)``, ``()`` for an absent one)."""

    def _set_beta_gamma(self, beta_initializer, gamma_initializer, beta_regularizer,
                        gamma_regularizer, beta_constraint, gamma_constraint):
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.beta_regularizer = kregs.get(beta_regularizer)
        self.gamma_regularizer = kregs.get(gamma_regularizer)
        _defaults_only(self, beta_constraint=(beta_constraint, None),
                       gamma_constraint=(gamma_constraint, None))

    def _beta_gamma_inits(self):
        where = f"{type(self).__name__} {self.name!r}"
        return dict(beta_init=initializer(self.beta_initializer, where),
                    gamma_init=initializer(self.gamma_initializer, where))

    def penalties(self, params):
        beta, gamma = params
        return [(r, w) for r, w in ((self.beta_regularizer, beta),
                                    (self.gamma_regularizer, gamma))
                if r is not None and not isinstance(w, tuple)]

    def _regularizer_config(self):
        return {k: kregs.serialize(getattr(self, k)) for k in
                ("beta_regularizer", "gamma_regularizer") if getattr(self, k) is not None}


class BatchNormalization(_BetaGamma, Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self._set_beta_gamma(beta_initializer, gamma_initializer, beta_regularizer,
                             gamma_regularizer, beta_constraint, gamma_constraint)
        # synchronized only matters across devices; lepton runs on one
        _defaults_only(self, moving_mean_initializer=(moving_mean_initializer, "zeros"),
                       moving_variance_initializer=(moving_variance_initializer, "ones"),
                       renorm=(renorm, False), renorm_clipping=(renorm_clipping, None))

    def build_stax(self):
        # Keras names the feature axis; stax's BatchNorm takes the axes it averages over.
        def make(rank):
            feature = self.axis % rank
            return stax.BatchNorm(axis=tuple(i for i in range(rank) if i != feature),
                                  epsilon=self.epsilon, center=self.center, scale=self.scale,
                                  momentum=self.momentum, **self._beta_gamma_inits())

        def init_fun(rng, input_shape):
            return make(len(input_shape))[0](rng, input_shape)

        def apply_fun(params, state, inputs, *, train=True, rng=None, **kwargs):
            return make(len(inputs.shape))[1](params, state, inputs, train=train, rng=rng,
                                              **kwargs)

        return stax.Layer(init_fun, apply_fun, "BatchNorm", stateful=True)

    keras_order = _gamma_first

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **self._regularizer_config()}


class LayerNormalization(_BetaGamma, Layer):
    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self._set_beta_gamma(beta_initializer, gamma_initializer, beta_regularizer,
                             gamma_regularizer, beta_constraint, gamma_constraint)

    def build_stax(self):
        return stax.LayerNorm(axis=self.axis, epsilon=self.epsilon, center=self.center,
                              scale=self.scale, **self._beta_gamma_inits())

    keras_order = _gamma_first

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **self._regularizer_config()}


class Embedding(Layer):
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 input_length=None, **kwargs):
        super().__init__(**kwargs)
        self.embeddings_regularizer = kregs.get(embeddings_regularizer)
        _defaults_only(self, embeddings_constraint=(embeddings_constraint, None),
                       lora_rank=(lora_rank, None), lora_alpha=(lora_alpha, None),
                       quantization_config=(quantization_config, None))
        if weights is not None:  # Keras 3: the initial embedding matrix
            table = np.asarray(weights[0] if isinstance(weights, (list, tuple)) else weights)
            if table.shape != (int(input_dim), int(output_dim)):
                raise ValueError(f"Embedding {self.name!r}: weights has shape {table.shape}, "
                                 f"expected (input_dim, output_dim) = ({input_dim}, "
                                 f"{output_dim})")
            embeddings_initializer = (
                lambda key, shape, dtype="float32": lnp.asarray(table.astype(dtype)))
        if mask_zero:
            raise ValueError("Embedding(mask_zero=True) is not supported; pass lengths= to "
                             "the recurrent layer instead")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        if input_length is not None and self.input_shape is None:
            self.input_shape = (int(input_length),)

    def build_stax(self):
        return stax.Embedding(self.input_dim, self.output_dim,
                              W_init=initializer(self.embeddings_initializer,
                                                 f"Embedding {self.name!r}"))

    def penalties(self, params):
        reg = self.embeddings_regularizer
        return [] if reg is None else [(reg, leaves(params)[0])]

    def get_config(self):
        cfg = {**super().get_config(), "input_dim": self.input_dim,
               "output_dim": self.output_dim}
        if self.embeddings_regularizer is not None:
            cfg["embeddings_regularizer"] = kregs.serialize(self.embeddings_regularizer)
        return cfg


class _Recurrent(Layer):
    """Keras's recurrent layers.  The weights Keras lists (kernel ``(in, G*units)``,
    recurrent_kernel ``(units, G*units)``, bias) line up with Keras's; LSTM's gate order
    (i, f, c, o) is stax's, GRU translates its own (see ``GRU``)."""
    cell = "LSTM"
    gated = True

    def __init__(self, units, activation="tanh", return_sequences=False, go_backwards=False,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_state=False, stateful=False, unroll=False, use_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, seed=None, use_cudnn="auto", **kwargs):
        super().__init__(**kwargs)
        where = f"{type(self).__name__} {self.name!r}"
        self.use_bias = bool(use_bias)
        _defaults_only(self, activity_regularizer=(activity_regularizer, None),
                       kernel_constraint=(kernel_constraint, None),
                       recurrent_constraint=(recurrent_constraint, None),
                       bias_constraint=(bias_constraint, None))
        self.kernel_regularizer = kregs.get(kernel_regularizer)
        self.recurrent_regularizer = kregs.get(recurrent_regularizer)
        self.bias_regularizer = kregs.get(bias_regularizer)
        del seed, use_cudnn  # seed only drives dropout (unsupported); no cuDNN here
        # the cell's activation (the layer has no output activation of its own)
        self.units, self.cell_activation = int(units), activation
        self.return_sequences, self.go_backwards = bool(return_sequences), bool(go_backwards)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        for arg, value, ok in [("dropout", dropout, 0), ("recurrent_dropout",
                                                         recurrent_dropout, 0),
                               ("return_state", return_state, False),
                               ("stateful", stateful, False)]:
            if value != ok:
                raise NotImplementedError(
                    f"{where}: {arg}={value!r} is not supported; leave it at {ok!r} "
                    f"(for dropout, put a Dropout layer before or after the recurrent "
                    f"layer)")
        del unroll  # scan compiles the step once; unrolling changes nothing here

    def penalties(self, params):
        """kernel (W), recurrent kernel (U) and the bias leaves (GRU: input and recurrent
        biases, each penalised on its own: the same sum for L1/L2)."""
        w = leaves(params)
        out = [(self.kernel_regularizer, w[0]), (self.recurrent_regularizer, w[1])]
        out += [(self.bias_regularizer, b) for b in w[2:]]
        return [(r, a) for r, a in out if r is not None]

    def _inits(self):
        where = f"{type(self).__name__} {self.name!r}"
        return dict(W_init=initializer(self.kernel_initializer, where),
                    U_init=initializer(self.recurrent_initializer, where),
                    b_init=initializer(self.bias_initializer, where))

    def build_stax(self):
        rnn = self.rnn_stax()
        if self.go_backwards and self.return_sequences:
            # Keras returns the outputs in the order it read them (last step first);
            # stax aligns them with the input positions.
            return stax.serial(rnn, stax.elementwise(lnp.flip, axis=1))
        return rnn

    def rnn_stax(self):
        """The stax recurrent layer (outputs aligned with the input positions); with
        ``use_bias=False`` its params are ``(W, U)`` and the biases are constant zeros."""
        rnn = self._rnn_core()
        if self.use_bias:
            return rnn
        n_bias = 2 if isinstance(self, GRU) and self.reset_after else 1

        def without_bias(core):
            init, apply = core

            def init_fun(rng, input_shape):
                out, params = init(rng, input_shape)
                return out, tuple(params[:2])

            def apply_fun(params, inputs, **kwargs):
                W, U = params
                zero = lnp.zeros((U.shape[1],), U.dtype)
                return apply((W, U) + (zero,) * n_bias, inputs, **kwargs)

            return stax.Layer(init_fun, apply_fun, core.name, config=core.config,
                              rebuild=lambda **cfg: without_bias(core.rebuild(**cfg)))
        return without_bias(rnn)

    def _rnn_core(self):
        """The stax recurrent layer with its biases."""
        make = getattr(stax, self.cell)
        kwargs = dict(return_sequences=self.return_sequences, reverse=self.go_backwards,
                      **self._inits())
        if self.cell == "SimpleRNN":
            kwargs["activation"] = _act_fn(self.cell_activation, f"SimpleRNN {self.name!r}")
        elif self.cell_activation not in ("tanh", None):
            raise ValueError(f"{self.cell} {self.name!r}: only activation='tanh' is "
                             f"supported (the cell's standard equations)")
        return make(self.units, **kwargs)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _act_name(self.cell_activation),
                "return_sequences": self.return_sequences,
                "go_backwards": self.go_backwards, "use_bias": self.use_bias,
                **{k: kregs.serialize(getattr(self, k)) for k in
                   ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
                   if getattr(self, k) is not None},
                **{k: getattr(self, k) for k in ("kernel_initializer", "recurrent_initializer",
                                                 "bias_initializer")
                   if isinstance(getattr(self, k), str)}}


def _check_recurrent_activation(layer, recurrent_activation):
    if str(recurrent_activation).lower() != "sigmoid":
        raise NotImplementedError(f"{type(layer).__name__} {layer.name!r}: only "
                                  f"recurrent_activation='sigmoid' (Keras's default) is "
                                  f"supported; got {recurrent_activation!r}")


class SimpleRNN(_Recurrent):
    cell = "SimpleRNN"


class LSTM(_Recurrent):
    """Keras's LSTM: gates (i, f, c, o), as stax's; ``unit_forget_bias`` adds 1 to the
    forget gate's initial bias."""
    cell = "LSTM"

    def __init__(self, units, recurrent_activation="sigmoid", unit_forget_bias=True,
                 **kwargs):
        super().__init__(units, **kwargs)
        _check_recurrent_activation(self, recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _rnn_core(self):
        if self.cell_activation not in ("tanh", None):
            raise ValueError(f"LSTM {self.name!r}: only activation='tanh' is supported "
                             f"(the cell's standard equations)")
        return stax.LSTM(self.units, return_sequences=self.return_sequences,
                         reverse=self.go_backwards, forget_bias=float(self.unit_forget_bias),
                         **self._inits())

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


def _swap_zr(a):
    """Swap the first two gate blocks of the last axis: Keras's (z, r, h) <-> stax's
    (r, z, n) (its own inverse)."""
    a = np.asarray(a)
    u = a.shape[-1] // 3
    return np.concatenate([a[..., u:2 * u], a[..., :u], a[..., 2 * u:]], axis=-1)


class GRU(_Recurrent):
    """Keras's GRU.  ``reset_after=True`` (Keras's default, cuDNN's and PyTorch's
    equations) runs stax's GRU; ``get_weights``/``set_weights`` use Keras's layout: gate
    order (z, r, h), kernel ``(in, 3u)``, recurrent_kernel ``(u, 3u)`` and bias ``(2, 3u)``
    (input bias, recurrent bias), so Keras's weights give Keras's outputs.
    ``reset_after=False`` (Keras 2's original GRU: the reset gate applies to ``h`` before
    its matrix product, one bias ``(3u,)``) runs its own cell with Keras's layout."""
    cell = "GRU"

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        _check_recurrent_activation(self, recurrent_activation)
        self.reset_after = bool(reset_after)

    def _rnn_core(self):
        if self.cell_activation not in ("tanh", None):
            raise ValueError(f"GRU {self.name!r}: only activation='tanh' is supported "
                             f"(the cell's standard equations)")
        make = stax.GRU if self.reset_after else _gru_reset_before
        return make(self.units, return_sequences=self.return_sequences,
                    reverse=self.go_backwards, **self._inits())

    def keras_weight_count(self, n):
        return 3 if self.use_bias else 2

    def to_keras_weights(self, arrays):
        if not self.reset_after:
            return super().to_keras_weights(arrays)
        if not self.use_bias:
            return [_swap_zr(a) for a in arrays]
        W, U, b_x, b_h = (np.asarray(a) for a in arrays)
        return [_swap_zr(W), _swap_zr(U), np.stack([_swap_zr(b_x), _swap_zr(b_h)])]

    def from_keras_weights(self, weights, arrays, offset):
        if not self.reset_after:
            return super().from_keras_weights(weights, arrays, offset)
        if not self.use_bias:
            return [_swap_zr(a) for a in super().from_keras_weights(weights, arrays,
                                                                     offset)]
        W, U, b_x = (np.shape(a) for a in arrays[:3])
        wants = [W, U, (2,) + b_x]
        for pos, (w, want) in enumerate(zip(weights, wants)):
            if np.shape(w) != want:
                raise ValueError(f"set_weights: array {offset + pos} (layer {self.name!r}) "
                                 f"has shape {np.shape(w)}, the model needs {want} (Keras's "
                                 f"GRU layout, reset_after=True)")
        dt = np.asarray(arrays[0]).dtype
        kernel, recurrent, bias = (np.asarray(w, dt) for w in weights)
        return [_swap_zr(kernel), _swap_zr(recurrent), _swap_zr(bias[0]), _swap_zr(bias[1])]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


def _gru_reset_before(units, return_sequences=False, reverse=False, W_init=None,
                      U_init=None, b_init=None):
    """Keras's ``reset_after=False`` GRU as a stax layer; gates (z, r, h), params
    ``(W, U, b)``: ``hh = tanh(x W_h + b_h + (r h) U_h)``, ``h' = z h + (1 - z) hh``."""
    units = int(units)

    def cell(z_x, state, U, b_h):
        (h,) = state
        H = units
        zr = z_x[:, :2 * H] + lnp.matmul(h, U[:, :2 * H])
        z, r = nn.sigmoid(zr[:, :H]), nn.sigmoid(zr[:, H:])
        hh = lnp.tanh(z_x[:, 2 * H:] + lnp.matmul(r * h, U[:, 2 * H:]))
        return (z * h + (1 - z) * hh,)

    config = dict(units=units, return_sequences=return_sequences, reverse=reverse,
                  W_init=W_init, U_init=U_init, b_init=b_init)
    return gated_recurrent("GRU", 3, cell, 1, units, return_sequences, reverse, W_init, U_init,
                           b_init, False, config, _gru_reset_before)


class Bidirectional(Layer):
    """Keras's Bidirectional: the forward layer's weights, then the backward layer's."""

    def __init__(self, layer, merge_mode="concat", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, _Recurrent):
            raise TypeError("Bidirectional wraps a SimpleRNN, LSTM or GRU layer")
        self.layer, self.merge_mode = layer, merge_mode

    def build_stax(self):
        return stax.Bidirectional(self.layer.rnn_stax(), merge_mode=self.merge_mode)

    def penalties(self, params):
        forward, backward = params
        return self.layer.penalties(forward) + self.layer.penalties(backward)

    def keras_weight_count(self, n):
        return 2 * self.layer.keras_weight_count(n // 2)

    def to_keras_weights(self, arrays):
        half = len(arrays) // 2
        return (self.layer.to_keras_weights(arrays[:half]) +
                self.layer.to_keras_weights(arrays[half:]))

    def from_keras_weights(self, weights, arrays, offset):
        half, k = len(arrays) // 2, len(weights) // 2
        return (self.layer.from_keras_weights(weights[:k], arrays[:half], offset) +
                self.layer.from_keras_weights(weights[k:], arrays[half:], offset + k))

    def get_config(self):
        return {**super().get_config(), "layer": {"class_name": type(self.layer).__name__,
                                                  "config": self.layer.get_config()},
                "merge_mode": self.merge_mode}


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


def from_config(spec, custom_objects=None):
    """A layer from ``{'class_name': ..., 'config': ...}`` as ``Sequential.get_config``
    writes it; only lepton.keras layer classes and ``custom_objects`` (a user's layer
    classes, activation and regularizer functions, by the names saved) are looked up
    (nothing is imported)."""
    from . import preprocessing
    custom_objects = custom_objects or {}
    name = spec["class_name"]
    cls = custom_objects.get(name) or globals().get(name) or getattr(preprocessing, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"unknown layer class {name!r} in a saved model; pass it in "
                         f"load_model(..., custom_objects={{{name!r}: {name}}})")
    config = dict(spec["config"])
    for key, value in config.items():
        if not isinstance(value, str) or \
                not key.endswith(("activation", "_regularizer", "function")):
            continue
        if value in custom_objects:
            config[key] = custom_objects[value]
        elif key == "function" or \
                key.endswith("activation") and value.lower() not in ACTIVATIONS or \
                key.endswith("_regularizer") and value.lower() not in kregs._NAMES:
            raise ValueError(f"layer {config.get('name', name)!r} was saved with the "
                             f"function {value!r} as its {key}, which a file cannot hold: "
                             f"load it with load_model(path, custom_objects={{{value!r}: "
                             f"{value}}})")
    if name == "Bidirectional":
        config["layer"] = from_config(config["layer"], custom_objects)
    return cls(**config)
