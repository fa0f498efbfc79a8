"""Keras's core layers: the model input, ``Dense``, ``Lambda`` and ``Embedding`` (and
the kernel/bias regularizer plumbing the convolutions share with ``Dense``).
"""
from __future__ import annotations

import numpy as np

from ... import numpy as lnp
from ... import stax
from ...transforms.api import eval_shape
from ...tree import leaves
from .. import regularizers as kregs
from .options import _act_name, _defaults_only, initializer
from .base import Layer


class InputLayer:
    """The layer behind ``Input(shape=(28, 28, 1))``: the shape of one example (batch
    excluded); also accepted as the first entry of a Sequential model."""

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

    trainable = False

    def get_weights(self):
        return []

    weights = property(get_weights)

    @property
    def output(self):
        """The tensor ``keras.Input`` made (Keras's ``InputLayer.output``)."""
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(f"InputLayer {self.name!r} has no output tensor: make it "
                                 f"with keras.Input(shape=...)")
        return nodes[0].outputs[0]

    def __repr__(self):
        return f"<InputLayer name={self.name!r} shape={self.shape}>"


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
    supports_masking = True  # passes a mask on (Keras)
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


class Lambda(Layer):
    """``function(x, **arguments)`` as a layer (in a functional model ``x`` may be a list
    of tensors).  Its output shape is traced from the
    function (or given by ``output_shape``: a shape without the batch axis, or a function
    of the input shape).  ``save`` stores the function's name: ``load_model(...,
    custom_objects={name: function})`` gives it back."""

    takes_list = None  # one tensor or a list of them

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
            several = isinstance(input_shape, list)
            input_shape = [tuple(s) for s in input_shape] if several else tuple(input_shape)
            batch = input_shape[0][0] if several else input_shape[0]
            if callable(given):
                return tuple(given(input_shape)), ()
            if given is not None:
                return (batch,) + tuple(given), ()
            probe = [lnp.zeros(tuple(1 if d < 0 else d for d in s), "float32")
                     for s in (input_shape if several else [input_shape])]
            out = eval_shape(lambda x: fn(x, **args), probe if several else probe[0])
            return (batch,) + tuple(out.shape[1:]), ()

        return stax.Layer(init_fun, lambda params, inputs, **kw: fn(inputs, **args), "Lambda")

    def get_config(self):
        cfg = {**super().get_config(), "function": getattr(self.function, "__name__",
                                                           "custom"),
               "arguments": self.arguments}
        if self.output_shape is not None and not callable(self.output_shape):
            cfg["output_shape"] = list(self.output_shape)
        return cfg


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value`` (zeroing them), for
    the recurrent layers and GlobalAveragePooling1D downstream, as Keras."""
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask):
        return lnp.any(lnp.not_equal(inputs, self.mask_value), axis=-1)

    def build_stax(self):
        value = self.mask_value

        def apply_fun(params, inputs, **kwargs):
            x = lnp.asarray(inputs)
            keep = lnp.any(lnp.not_equal(x, value), axis=-1, keepdims=True)
            return lnp.where(keep, x, lnp.zeros((), x.dtype))

        return stax.Layer(lambda rng, shape: (tuple(shape), ()), apply_fun, "Masking")

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


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
        self.mask_zero = bool(mask_zero)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        if input_length is not None and self.input_shape is None:
            self.input_shape = (int(input_length),)

    def compute_mask(self, inputs, mask):
        """``mask_zero=True``: id 0 is padding, so the mask is ``inputs != 0`` (the
        recurrent layers and GlobalAveragePooling1D downstream skip those steps)."""
        return lnp.not_equal(inputs, 0) if self.mask_zero else None

    def build_stax(self):
        return stax.Embedding(self.input_dim, self.output_dim,
                              W_init=initializer(self.embeddings_initializer,
                                                 f"Embedding {self.name!r}"))

    def penalties(self, params):
        reg = self.embeddings_regularizer
        return [] if reg is None else [(reg, leaves(params)[0])]

    def get_config(self):
        cfg = {**super().get_config(), "input_dim": self.input_dim,
               "output_dim": self.output_dim, "mask_zero": self.mask_zero}
        if self.embeddings_regularizer is not None:
            cfg["embeddings_regularizer"] = kregs.serialize(self.embeddings_regularizer)
        return cfg
