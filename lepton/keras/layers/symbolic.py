"""Symbolic tensors for Keras's functional API: ``Input(...)`` makes one, calling a layer
on symbolic tensors records a ``Node`` (the layer, the tensors it read, the tensors it
made) and returns new symbolic tensors.  Shapes are worked out at the call (from the
layer's stax ``init``), so a shape mistake is reported where it is written, as Keras
does.  ``lepton.keras.functional.Model`` turns the recorded graph into one program.
"""
from __future__ import annotations

import itertools

from ... import random
from ... import stax
from ...tree import leaves
from ..errors import KerasLayerError, _shape

_input_names = itertools.count()
_tensor_names = itertools.count()


def _batch_shape(shape):
    """A stax shape (batch ``-1``) as Keras writes it (batch ``None``)."""
    return tuple(None if d is None or d < 0 else int(d) for d in shape)


class KerasTensor:
    """A placeholder for a layer's output while a functional model is written: it has a
    ``shape`` (batch axis first, ``None``) and a ``dtype``, but no values."""

    def __init__(self, shape, dtype, node, index, name=None):
        self.shape = _batch_shape(shape)
        self.dtype = dtype
        self._node, self._index = node, index
        self.name = name or f"keras_tensor_{next(_tensor_names)}"

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def _stax_shape(self):
        return tuple(-1 if d is None else d for d in self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic: it has no values while the model is being "
                        f"written. Build the model with keras.Model(inputs, outputs) and "
                        f"run it on data with model(x) or model.predict(x); for an "
                        f"operation on symbolic tensors use a layer (layers.Lambda(fn)).")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic and has no truth value")

    def __len__(self):
        raise TypeError(f"{self!r} is symbolic and has no length")

    def __iter__(self):
        raise TypeError(f"{self!r} is symbolic and cannot be iterated; a layer with several "
                        f"outputs (return_state=True) returns a list of tensors")

    def _merge(self, other, cls, swap=False):
        from .merging import _MERGES  # same package: the merge layers build on this module
        if not isinstance(other, KerasTensor):
            return NotImplemented
        pair = [other, self] if swap else [self, other]
        return _MERGES[cls]()(pair)

    def __add__(self, other):
        return self._merge(other, "Add")

    def __sub__(self, other):
        return self._merge(other, "Subtract")

    def __mul__(self, other):
        return self._merge(other, "Multiply")

    __hash__ = object.__hash__


class Node:
    """One call of a layer: ``inputs`` (the tensors passed, in order; ``as_list`` when a
    list was passed), ``states`` (RNN ``initial_state`` tensors), ``training`` (a fixed
    ``training=`` argument or None) and the ``outputs`` it made."""

    def __init__(self, layer, inputs, as_list, states=(), training=None):
        self.layer, self.inputs, self.as_list = layer, list(inputs), as_list
        self.states, self.training = list(states), training
        self.outputs: list = []

    @property
    def parents(self):
        return self.inputs + self.states

    @property
    def is_input(self):
        return not self.parents


class InputNode(Node):
    def __init__(self, layer):
        super().__init__(layer, [], False)


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None,
          batch_shape=None, tensor=None, optional=False, **kwargs):
    """Keras's ``Input``: a symbolic tensor of examples of ``shape`` (batch excluded).  It
    starts a functional model, or gives a Sequential model its input shape."""
    from .core import InputLayer  # same package; InputLayer also serves Sequential
    if batch_shape is not None and shape is None:
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if sparse or tensor is not None or optional:
        raise NotImplementedError("Input: sparse=, tensor= and optional= are not supported")
    if name is None:
        n = next(_input_names)
        name = "input_layer" if n == 0 else f"input_layer_{n}"
    layer = InputLayer(shape, batch_size, name, dtype, **kwargs)
    node = InputNode(layer)
    layer._inbound_nodes = [node]
    t = KerasTensor((-1,) + tuple(-1 if d is None else int(d) for d in layer.shape),
                    layer.dtype or "float32", node, 0, name=name)
    node.outputs = [t]
    return t


def _as_tensors(layer, value, what):
    """``(tensors, as_list)`` from a call's argument; anything not symbolic is refused."""
    if isinstance(value, KerasTensor):
        return [value], False
    if isinstance(value, (list, tuple)) and value and \
            all(isinstance(v, KerasTensor) for v in value):
        return list(value), True
    got = type(value).__name__
    if isinstance(value, (list, tuple)):
        got = f"a {got} of " + ", ".join(sorted({type(v).__name__ for v in value}) or
                                         ["nothing"])
    raise TypeError(
        f"{type(layer).__name__} {layer.name!r} was called on {got} as its {what}. "
        f"lepton.keras layers are called on symbolic tensors to write a functional model: "
        f"start from inputs = keras.Input(shape=...) and pass the result of each layer to "
        f"the next. To compute with arrays, build keras.Model(inputs, outputs) (or a "
        f"Sequential) and call model(x) or model.predict(x).")


def _describe(shapes):
    if isinstance(shapes, list):
        return "[" + ", ".join(_shape(s) for s in shapes) + "]"
    return _shape(shapes)


def _init(layer, shapes, key):
    """``(output shape(s), params, state)`` of ``layer`` for inputs of ``shapes``."""
    return stax.stateful(layer.to_stax())[0](key, shapes)


def call_layer(layer, inputs, *, training=None, initial_state=None, mask=None, **kwargs):
    """``layer(inputs)`` on symbolic tensors: record the call, return its outputs."""
    if kwargs:
        raise TypeError(f"{type(layer).__name__} {layer.name!r}: unexpected call arguments "
                        f"{sorted(kwargs)}")
    if mask is not None:
        raise NotImplementedError(f"{layer.name!r}: mask= is not supported as a call "
                                  f"argument; masks come from Embedding(mask_zero=True)")
    tensors, as_list = _as_tensors(layer, inputs, "input")
    states = []
    if initial_state is not None:
        if not getattr(layer, "takes_initial_state", False):
            raise TypeError(f"{type(layer).__name__} {layer.name!r} takes no "
                            f"initial_state (only SimpleRNN, LSTM and GRU do)")
        states, _ = _as_tensors(layer, initial_state, "initial_state")
    takes_list = getattr(layer, "takes_list", False)
    if takes_list is None:  # either (Lambda)
        takes_list = as_list
    if as_list and not takes_list:
        if len(tensors) != 1:
            raise TypeError(f"{type(layer).__name__} {layer.name!r} takes one tensor; it was "
                            f"called on a list of {len(tensors)}. To combine tensors use a "
                            f"merge layer first (layers.Concatenate(), layers.Add(), ...)")
        as_list = False
    if takes_list and not as_list:
        raise TypeError(f"{type(layer).__name__} {layer.name!r} merges a list of tensors: "
                        f"call it as {type(layer).__name__}()([a, b])")
    shapes = [t._stax_shape for t in tensors] if as_list else tensors[0]._stax_shape
    if states:
        layer.check_initial_state(shapes, [t._stax_shape for t in states])
    try:
        out, params, state = _init(layer, shapes, random.PRNGKey(0))
    except (stax.LayerShapeError, ValueError, TypeError) as e:
        raise _call_error(layer, tensors, shapes, e) from None
    got = [tuple(a.shape) for a in leaves((params, state))]
    if getattr(layer, "_weight_shapes", None) is None:
        layer._weight_shapes, layer._first_input = got, shapes
    elif got != layer._weight_shapes:
        raise KerasLayerError(
            f"{type(layer).__name__} {layer.name!r} is shared (called more than once) but "
            f"its weights cannot serve input of shape {_describe(shapes)}: it was first "
            f"called on {_describe(layer._first_input)}. A shared layer uses one set of "
            f"weights, so every call needs inputs of the same feature sizes; use a new "
            f"layer for inputs of another size.")
    node = Node(layer, tensors, as_list, states, training)
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    multi = isinstance(out, list)
    outs = out if multi else [out]
    dtype = "float32"
    node.outputs = [KerasTensor(s, dtype, node, i) for i, s in enumerate(outs)]
    return list(node.outputs) if multi else node.outputs[0]


def _call_error(layer, tensors, shapes, err):
    fix = getattr(err, "fix", "")
    expected = getattr(err, "expected", None)
    sources = ", ".join(f"{t._node.layer.name!r}" for t in tensors)
    msg = (f"{type(layer).__name__} {layer.name!r} cannot take input of shape "
           f"{_describe(shapes)} (from {sources})")
    msg += f": it expects {expected}." if expected else f": {err}"
    detail = getattr(err, "detail", "")
    if detail:
        msg += f" {detail}"
    if fix:
        msg += f" Fix: {fix.strip()}"
    return KerasLayerError(msg)


def is_symbolic(x):
    """A KerasTensor, or a list / tuple / dict holding one."""
    if isinstance(x, KerasTensor):
        return True
    values = x.values() if isinstance(x, dict) else x if isinstance(x, (list, tuple)) \
        else ()
    return any(isinstance(v, KerasTensor) for v in values)


def call_model(model, inputs, training=None):
    """A model called on symbolic tensors, as a layer: its layers are called on them in
    turn (the same layer objects, so the weights stay shared with ``model``).  The outer
    model lists those layers itself (Keras shows the sub-model as one layer)."""
    kw = {} if training is None else {"training": training}
    if not hasattr(model, "_nodes"):  # a Sequential
        (t,), _ = _as_tensors(model, inputs, "input")
        want = model.input_shape
        _check_model_input(model, t, want)
        for layer in model._layers:
            t = layer(t, **kw)
        return t
    if isinstance(inputs, dict):
        missing = [k for k in model.input_names if k not in inputs]
        if missing:
            raise ValueError(f"Model {model.name!r} called on a dict without the input(s) "
                             f"{missing}")
        given = [inputs[k] for k in model.input_names]
    else:
        given, _ = _as_tensors(model, inputs, "input")
    if len(given) != len(model.inputs):
        raise ValueError(f"Model {model.name!r} takes {len(model.inputs)} input(s); it was "
                         f"called on {len(given)}")
    env = {}
    for t, g in zip(model.inputs, given):
        _check_model_input(model, g, t.shape)
        env[id(t)] = g
    for node in model._nodes:
        ins = [env[id(t)] for t in node.inputs]
        call_kw = dict(kw)
        if node.training is not None:
            call_kw["training"] = node.training
        if node.states:
            call_kw["initial_state"] = [env[id(t)] for t in node.states]
        out = call_layer(node.layer, ins if node.as_list else ins[0], **call_kw)
        for t, o in zip(node.outputs, out if isinstance(out, list) else [out]):
            env[id(t)] = o
    outs = [env[id(t)] for t in model.outputs]
    return outs[0] if model._single_output else outs


def _check_model_input(model, tensor, want):
    if not isinstance(tensor, KerasTensor):
        raise TypeError(f"Model {model.name!r} was called on {type(tensor).__name__}; "
                        f"mix symbolic tensors and arrays in one call is not possible")
    got = tensor.shape
    if want is not None and (len(got) != len(want) or any(
            a is not None and b is not None and a != b for a, b in zip(got, want))):
        raise KerasLayerError(f"Model {model.name!r} expects input of shape {_shape(want)}; "
                              f"it was called on a tensor of shape {_shape(got)}")
