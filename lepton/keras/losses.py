"""Keras losses over ``lepton.nn.losses``: names for ``compile(loss='...')`` and the loss
classes.  Every loss returns one value per example; the train step averages them.

When the model ends in a softmax (or sigmoid) and the loss is a cross-entropy on
probabilities, the model hands the loss its logits instead (``from_logits=True``): the same
math, without the log of a rounded probability.  Keras's TensorFlow backend does the same;
its JAX backend instead takes the log of probabilities clipped to ``[1e-7, 1 - 1e-7]``, so
an example predicted more confidently than that (right or wrong) counts at most
``-log(1e-7) = 16.1`` and passes no gradient, where lepton keeps the exact loss and its
gradient.  Elsewhere the two agree (the quickstart CNN trained from the same weights on the
same batches matches Keras 3's JAX backend to 1e-5 in loss over 1,250 steps).
"""
from __future__ import annotations

import inspect

from .. import numpy as lnp
from ..nn import losses as _nl

__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError", "Huber", "get",
           "LOSSES", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "huber"]


class Loss:
    """A per-example loss ``(y_true, y_pred) -> (batch,)``.  ``target`` says what the labels
    must look like: 'onehot', 'index' or 'same' (same shape as the predictions)."""
    target = "same"
    probabilistic = None  # 'softmax' or 'sigmoid': the output activation it can absorb

    def __init__(self, from_logits=False, name=None):
        self.from_logits = bool(from_logits)
        self.name = name or _snake(type(self).__name__)

    def __call__(self, y_true, y_pred):
        return lnp.mean(self.per_example(y_true, y_pred, self.from_logits))

    def per_example(self, y_true, y_pred, from_logits):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments (what ``save`` stores to rebuild the loss)."""
        cfg = {"name": self.name}
        if "from_logits" in _init_args(type(self)):
            cfg["from_logits"] = self.from_logits
        for k in ("label_smoothing", "delta"):
            if hasattr(self, k):
                cfg[k] = getattr(self, k)
        return cfg


def _init_args(cls):
    return inspect.signature(cls.__init__).parameters


class CategoricalCrossentropy(Loss):
    target, probabilistic = "onehot", "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None):
        super().__init__(from_logits, name or "categorical_crossentropy")
        self.label_smoothing = float(label_smoothing)

    def per_example(self, y_true, y_pred, from_logits):
        if self.label_smoothing:
            k = y_pred.shape[-1]
            y_true = y_true * (1 - self.label_smoothing) + self.label_smoothing / k
        return _nl.categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                            reduction="none")


class SparseCategoricalCrossentropy(Loss):
    target, probabilistic = "index", "softmax"

    def __init__(self, from_logits=False, name=None):
        super().__init__(from_logits, name or "sparse_categorical_crossentropy")

    def per_example(self, y_true, y_pred, from_logits):
        if y_true.ndim == y_pred.ndim:  # Keras accepts (batch, 1) labels
            y_true = y_true[..., 0]
        return _nl.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                                   reduction="none")


class BinaryCrossentropy(Loss):
    probabilistic = "sigmoid"

    def __init__(self, from_logits=False, name=None):
        super().__init__(from_logits, name or "binary_crossentropy")

    def per_example(self, y_true, y_pred, from_logits):
        return _nl.binary_crossentropy(y_true, y_pred, from_logits=from_logits,
                                       reduction="none")


def _per_example_mean(e):
    return lnp.mean(e.reshape(e.shape[0], -1), axis=1) if e.ndim > 1 else e


class MeanSquaredError(Loss):
    def __init__(self, name=None):
        super().__init__(False, name or "mean_squared_error")

    def per_example(self, y_true, y_pred, from_logits):
        return _per_example_mean((y_pred - y_true) ** 2)


class MeanAbsoluteError(Loss):
    def __init__(self, name=None):
        super().__init__(False, name or "mean_absolute_error")

    def per_example(self, y_true, y_pred, from_logits):
        return _per_example_mean(lnp.abs(y_pred - y_true))


class Huber(Loss):
    def __init__(self, delta=1.0, name=None):
        super().__init__(False, name or "huber")
        self.delta = float(delta)

    def per_example(self, y_true, y_pred, from_logits):
        a = lnp.abs(y_pred - y_true)
        q = lnp.minimum(a, self.delta)
        return _per_example_mean(0.5 * q * q + self.delta * (a - q))


class _FunctionLoss(Loss):
    """A user function ``loss(y_true, y_pred)`` returning per-example values or a scalar."""

    def __init__(self, fn):
        super().__init__(False, getattr(fn, "__name__", "loss"))
        self.fn = fn

    def per_example(self, y_true, y_pred, from_logits):
        out = lnp.asarray(self.fn(y_true, y_pred))
        return out if out.ndim else lnp.broadcast_to(out, (y_pred.shape[0],))


# ----------------------------------------------------------------------------- functions
# Keras's function forms (``loss=keras.losses.categorical_crossentropy``): one value per
# example.  ``compile`` maps them to their classes, so they keep the class's label checks
# and its use of the logits.
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    _last_axis("categorical_crossentropy", axis)
    return CategoricalCrossentropy(from_logits, label_smoothing).per_example(
        lnp.asarray(y_true), lnp.asarray(y_pred), from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    _last_axis("sparse_categorical_crossentropy", axis)
    return SparseCategoricalCrossentropy(from_logits).per_example(
        lnp.asarray(y_true), lnp.asarray(y_pred), from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    _last_axis("binary_crossentropy", axis)
    return _per_example_mean(BinaryCrossentropy(from_logits).per_example(
        lnp.asarray(y_true), lnp.asarray(y_pred), from_logits))


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().per_example(lnp.asarray(y_true), lnp.asarray(y_pred), False)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().per_example(lnp.asarray(y_true), lnp.asarray(y_pred), False)


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta).per_example(lnp.asarray(y_true), lnp.asarray(y_pred), False)


def _last_axis(name, axis):
    if axis not in (-1,):
        raise NotImplementedError(f"{name}: only axis=-1 (classes on the last axis) is "
                                  f"supported, got axis={axis}")


LOSSES = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber,
}


_FUNCTIONS = {categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
              binary_crossentropy: BinaryCrossentropy, mean_squared_error: MeanSquaredError,
              mean_absolute_error: MeanAbsoluteError, huber: Huber}


def serialize(loss):
    """``{'class_name', 'config'}`` for a built-in loss; a user function is stored by its
    name (``load_model(custom_objects={name: fn})`` gives it back)."""
    if isinstance(loss, _FunctionLoss):
        return {"class_name": "function", "config": {"name": loss.name}}
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(spec, custom_objects=None):
    custom_objects = custom_objects or {}
    if isinstance(spec, str):  # files written before the config was stored
        return get(custom_objects.get(spec, spec))
    name, cfg = spec["class_name"], spec["config"]
    if name in custom_objects:
        obj = custom_objects[name]
        return obj(**cfg) if isinstance(obj, type) else get(obj)
    if name == "function":
        fn = custom_objects.get(cfg["name"])
        if fn is None:
            raise ValueError(f"the model was compiled with the loss function "
                             f"{cfg['name']!r}, which a file cannot hold: load it with "
                             f"load_model(path, custom_objects={{{cfg['name']!r}: "
                             f"{cfg['name']}}}), or with compile=False and compile again")
        return get(fn)
    cls = globals().get(name)
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise ValueError(f"unknown loss class {name!r} in a saved model; pass it in "
                         f"custom_objects")
    return cls(**cfg)


def get(identifier):
    if isinstance(identifier, Loss):
        return identifier
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in LOSSES:
            raise ValueError(f"unknown loss {identifier!r}. Valid names: "
                             f"{', '.join(sorted(LOSSES))}; or pass a function "
                             f"loss(y_true, y_pred).")
        return LOSSES[key]()
    if callable(identifier):
        return _FunctionLoss(identifier)
    raise TypeError(f"loss must be a name ({', '.join(sorted(LOSSES))}), a Loss object or a "
                    f"function loss(y_true, y_pred); got {type(identifier).__name__}")


def _snake(name):
    import re
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()
