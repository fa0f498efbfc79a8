"""The Keras ``Layer`` base class: a unique name, the stax layer it builds, and the
translation between that layer's stax leaves and Keras's ``get_weights`` lists.
"""
from __future__ import annotations

import itertools
import re

import numpy as np

from ... import stax
from .options import activation_layer
from . import symbolic


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
    takes_list = False  # a merge layer: called on a list of tensors
    takes_initial_state = False  # the recurrent layers
    supports_masking = False  # passes an incoming mask on unchanged (Keras's flag)

    def __call__(self, inputs, **kwargs):
        """On symbolic tensors (``keras.Input``): record the call for a functional model."""
        return symbolic.call_layer(self, inputs, **kwargs)

    def _node(self, what, index):
        nodes = self.__dict__.get("_inbound_nodes") or []
        owner = getattr(self, "_owner", None)
        model = owner() if owner is not None else None
        if not nodes and hasattr(model, "_symbolic"):  # a Sequential's layer
            model._symbolic()
            nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(f"layer {self.name!r} has never been called, so it has no "
                                 f"{what}; call it on a tensor from keras.Input(...)")
        if len(nodes) > 1 and index is None:
            raise AttributeError(f"layer {self.name!r} has been called {len(nodes)} times "
                                 f"(shared), so its {what} is ambiguous; use "
                                 f"get_{what}_at({len(nodes) - 1}) or the tensors its calls "
                                 f"returned")
        return nodes[index or 0]

    @property
    def output(self):
        """The tensor(s) this layer's call made (Keras's ``layer.output``), e.g. for
        ``keras.Model(model.inputs, model.get_layer('features').output)``."""
        outs = self._node("output", None).outputs
        return outs[0] if len(outs) == 1 else list(outs)

    @property
    def input(self):
        node = self._node("input", None)
        return list(node.inputs) if node.as_list else node.inputs[0]

    def get_output_at(self, index):
        outs = self._node("output", index).outputs
        return outs[0] if len(outs) == 1 else list(outs)

    def compute_mask(self, inputs, mask):
        """The mask of this layer's output given its input's (Keras's ``compute_mask``)."""
        return mask if self.supports_masking else None

    def apply(self, params, state, x, *, train, rng, mask=None, core=False, **kwargs):
        """``(y, new state)``: the stax layer (``core``: without its output activation)
        on ``x``; ``mask`` reaches only layers that take one (``uses_mask``)."""
        if core:
            f = stax.stateful(self.core_stax())
            params, state = self.core_params(params), self.core_state(state)
        else:
            f = stax.stateful(self.to_stax())
        if mask is not None and getattr(self, "uses_mask", False):
            kwargs["mask"] = mask
        return f[1](params, state, x, train=train, rng=rng, **kwargs)

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
