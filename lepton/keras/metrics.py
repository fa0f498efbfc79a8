"""Keras metrics for ``compile(metrics=[...])``: per-example values that fit averages over
an epoch (weighted by batch size, as Keras's running means are)."""
from __future__ import annotations

from .. import numpy as lnp

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


def mean_squared_error(y_true, y_pred):
    return (y_pred - y_true) ** 2


def mean_absolute_error(y_true, y_pred):
    return lnp.abs(y_pred - y_true)


METRICS = {
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
}
_ACCURACY_BY_TARGET = {"onehot": categorical_accuracy, "index": sparse_categorical_accuracy}


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
            raise ValueError(f"unknown metric {identifier!r}. Valid names: accuracy, "
                             f"{', '.join(sorted(METRICS))}; or pass a function "
                             f"metric(y_true, y_pred).")
        return Metric(identifier, METRICS[key])
    if callable(identifier):
        return Metric(getattr(identifier, "__name__", "metric"), identifier)
    raise TypeError(f"metrics must be names or functions; got {type(identifier).__name__}")
