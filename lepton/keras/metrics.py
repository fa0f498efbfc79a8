"""Keras metrics for ``compile(metrics=[...])``: per-example values that fit averages over
an epoch (weighted by batch size, as Keras's running means are)."""
from __future__ import annotations

from .. import numpy as lnp
from . import losses as _losses

__all__ = ["Metric", "get", "METRICS"]


class Metric:
    weighted = False  # compile(weighted_metrics=...) marks a copy

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def per_example(self, y_true, y_pred):
        out = lnp.asarray(self.fn(y_true, y_pred))
        if out.ndim == 0:
            return lnp.broadcast_to(out, (y_pred.shape[0],))
        return lnp.mean(out.reshape(out.shape[0], -1), axis=1) if out.ndim > 1 else out

    def __repr__(self):
        return f"<Metric {self.name}>"


def _f32(b):
    return b.astype("float32")


def categorical_accuracy(y_true, y_pred):
    return _f32(lnp.argmax(y_pred, axis=-1) == lnp.argmax(y_true, axis=-1))


def sparse_categorical_accuracy(y_true, y_pred):
    if y_true.ndim == y_pred.ndim:
        y_true = y_true[..., 0]
    return _f32(lnp.argmax(y_pred, axis=-1) == y_true.astype("int32"))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    return _f32((y_pred > threshold) == (y_true > 0.5))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    target = lnp.take_along_axis(y_pred, lnp.argmax(y_true, axis=-1)[..., None], axis=-1)
    return _f32(lnp.sum(y_pred > target, axis=-1) < k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    if y_true.ndim == y_pred.ndim:
        y_true = y_true[..., 0]
    target = lnp.take_along_axis(y_pred, y_true.astype("int32")[..., None], axis=-1)
    return _f32(lnp.sum(y_pred > target, axis=-1) < k)


def mean_squared_error(y_true, y_pred):
    return (y_pred - y_true) ** 2


def mean_absolute_error(y_true, y_pred):
    return lnp.abs(y_pred - y_true)


METRICS = {
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
}
_ACCURACY_BY_TARGET = {"onehot": categorical_accuracy, "index": sparse_categorical_accuracy}


# ----------------------------------------------------------------------------- classes
# Keras's metric objects (``metrics=[keras.metrics.SparseCategoricalAccuracy()]``); the
# name is the History key, as in Keras.
class MeanMetricWrapper(Metric):
    """The mean over the examples of ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "metric"),
                         (lambda t, p: fn(t, p, **kwargs)) if kwargs else fn)


def _metric_class(class_name, fn, default_name, **params):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(params)
        if unknown:
            raise TypeError(f"{class_name}() got unexpected keyword arguments "
                            f"{sorted(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name, **{**params, **kwargs})
        self._config = {"name": name, **params, **kwargs}
    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__,
                                                   "__doc__": f"Keras's {class_name}."})


def accuracy(y_true, y_pred):
    """Keras's ``Accuracy``: how often the prediction EQUALS the label (not argmax)."""
    return _f32(y_true == y_pred)


Accuracy = _metric_class("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                               threshold=0.5)
CategoricalAccuracy = _metric_class("CategoricalAccuracy", categorical_accuracy,
                                    "categorical_accuracy")
SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy",
                                          sparse_categorical_accuracy,
                                          "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _metric_class("TopKCategoricalAccuracy",
                                        top_k_categorical_accuracy,
                                        "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _metric_class("SparseTopKCategoricalAccuracy",
                                              sparse_top_k_categorical_accuracy,
                                              "sparse_top_k_categorical_accuracy", k=5)
MeanSquaredError = _metric_class("MeanSquaredError", mean_squared_error,
                                 "mean_squared_error")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", mean_absolute_error,
                                  "mean_absolute_error")
__all__ += ["MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
            "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
            "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
            "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
            "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]


def serialize(metric):
    """What ``save`` stores for a metric: a Keras metric object's class and arguments, or
    the name it was given (a user function is looked up in ``custom_objects`` at load)."""
    cls = type(metric)
    if hasattr(metric, "_config") and globals().get(cls.__name__) is cls:
        return {"class_name": cls.__name__, "config": dict(metric._config)}
    return getattr(metric, "source", None) or metric.name


def deserialize(spec, loss, custom_objects=None):
    custom_objects = custom_objects or {}
    if isinstance(spec, dict):
        cls = custom_objects.get(spec["class_name"]) or globals().get(spec["class_name"])
        if not (isinstance(cls, type) and issubclass(cls, Metric)):
            raise ValueError(f"unknown metric class {spec['class_name']!r} in a saved model; "
                             f"pass it in custom_objects")
        return cls(**spec["config"])
    if spec in custom_objects:
        return get(custom_objects[spec], loss)
    try:
        return get(spec, loss)
    except ValueError:
        raise ValueError(f"the model was compiled with the metric {spec!r}, which a file "
                         f"cannot hold: load it with load_model(path, custom_objects="
                         f"{{{spec!r}: {spec}}}), or with compile=False and compile "
                         f"again") from None


def _loss_metric(identifier, key):
    """A loss name used as a metric (``metrics=['categorical_crossentropy']``): its
    per-example value on the model's output."""
    cls = _losses.LOSSES[key]
    return Metric(identifier, lambda t, p: cls().per_example(t, p, False))


def get(identifier, loss):
    """A Metric from a name or function; 'accuracy' picks the variant that fits ``loss``."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            fn = _ACCURACY_BY_TARGET.get(loss.target)
            if fn is None:
                fn = binary_accuracy if loss.probabilistic == "sigmoid" else \
                    categorical_accuracy
            return Metric(identifier, fn)
        if key not in METRICS:
            if key in _losses.LOSSES:
                return _loss_metric(identifier, key)
            raise ValueError(f"unknown metric {identifier!r}. Valid names: accuracy, "
                             f"{', '.join(sorted(METRICS))}, or a loss name; or pass a function "
                             f"metric(y_true, y_pred).")
        return Metric(identifier, METRICS[key])
    if callable(identifier):
        return Metric(getattr(identifier, "__name__", "metric"), identifier)
    raise TypeError(f"metrics must be names or functions; got {type(identifier).__name__}")
