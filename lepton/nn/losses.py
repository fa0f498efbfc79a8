"""Loss functions: mean squared error and the cross-entropies.

Argument order is Keras's, ``loss(labels, predictions)``.  ``reduction='mean'`` (default)
averages over examples, ``'sum'`` sums, ``'none'`` returns one loss per example (the class
axis reduced; for ``mse`` every element is its own example).

Stability: from logits, the cross-entropies go through ``log_softmax`` / ``softplus``
(shifted by the max; never exp of a large positive number), so values and gradients are
finite for logits of any size.  From probabilities, inputs are clipped to
``[eps, 1 - eps]`` (``eps`` = 1e-7, as Keras) before the log, so a 0 or 1 probability gives
a large finite loss, not inf, and the gradient is 0 rather than NaN at the clip.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from .. import numpy as lnp
from ..core import Tracer
from ..errors import DTypeError, ShapeError
from ..numpy import asarray
from ..numpy.util import promote_args_inexact
from ._activations import log_softmax, softplus

__all__ = ["mse", "mean_squared_error", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy"]

EPSILON = 1e-7


def _reduce(name, losses, reduction):
    if reduction == "mean":
        return lnp.mean(losses)
    if reduction == "sum":
        return lnp.sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(name, labels, preds, what="labels and predictions"):
    if lnp.shape(labels) != lnp.shape(preds):
        raise ShapeError(f"{name}: {what} must have the same shape, got labels "
                         f"{labels.shape} and predictions {preds.shape}")


def mse(labels, predictions, *, reduction="mean"):
    """Mean of ``(predictions - labels) ** 2``."""
    _same_shape("mse", labels, predictions)
    labels, predictions = promote_args_inexact("mse", labels, predictions)
    d = predictions - labels
    return _reduce("mse", d * d, reduction)


mean_squared_error = mse


def _clip_probs(p):
    eps = EPSILON if p.dtype != dtypes.float16 else 1e-4
    return lnp.clip(p, eps, 1 - eps)


def categorical_crossentropy(labels, predictions, *, from_logits=False, axis=-1,
                             reduction="mean"):
    """``-sum(labels * log(probs), axis)`` with one-hot (or soft) ``labels``.

    ``from_logits=True``: ``predictions`` are unnormalised logits (log_softmax is applied);
    otherwise they are probabilities along ``axis``, renormalised to sum to 1 and clipped.
    """
    name = "categorical_crossentropy"
    _same_shape(name, labels, predictions)
    labels, predictions = promote_args_inexact(name, labels, predictions)
    if from_logits:
        logp = log_softmax(predictions, axis=axis)
    else:
        p = predictions / lnp.sum(predictions, axis=axis, keepdims=True)
        logp = lnp.log(_clip_probs(p))
    # labels == 0 contributes 0 even where logp is -inf (a -inf logit).
    terms = labels * lnp.where(labels == 0, lnp.zeros((), logp.dtype), logp)
    return _reduce(name, -lnp.sum(terms, axis=axis), reduction)


def sparse_categorical_crossentropy(labels, predictions, *, from_logits=False, axis=-1,
                                    reduction="mean"):
    """Cross-entropy with integer class ``labels`` (shape = predictions' shape without
    ``axis``).  Concrete labels outside ``[0, num_classes)`` raise; traced ones cannot be
    checked and give the loss of a clamped index."""
    name = "sparse_categorical_crossentropy"
    labels = asarray(labels)
    (predictions,) = promote_args_inexact(name, predictions)
    if not dtypes.is_integer(labels.dtype):
        raise DTypeError(f"{name}: labels must be integer class indices, got dtype "
                         f"{labels.dtype}; for one-hot labels use categorical_crossentropy")
    ax = axis % predictions.ndim if predictions.ndim else 0
    want = predictions.shape[:ax] + predictions.shape[ax + 1:]
    if predictions.ndim == 0 or labels.shape != want:
        raise ShapeError(f"{name}: labels of shape {labels.shape} do not fit predictions of "
                         f"shape {predictions.shape}: labels need shape {want} (one class "
                         f"index per row of predictions along axis {axis})")
    n = predictions.shape[ax]
    if not isinstance(labels, Tracer) and labels.size:
        lv = np.asarray(labels)
        if lv.min() < 0 or lv.max() >= n:
            raise ValueError(f"{name}: labels must be in [0, {n}) for {n} classes, got values "
                             f"in [{lv.min()}, {lv.max()}]")
    if from_logits:
        logp = log_softmax(predictions, axis=ax)
    else:
        p = predictions / lnp.sum(predictions, axis=ax, keepdims=True)
        logp = lnp.log(_clip_probs(p))
    picked = lnp.take_along_axis(logp, lnp.expand_dims(labels, ax), axis=ax)
    return _reduce(name, -lnp.squeeze(picked, axis=ax), reduction)


def binary_crossentropy(labels, predictions, *, from_logits=False, reduction="mean"):
    """``-(z log p + (1 - z) log(1 - p))`` elementwise, averaged over the last axis per
    example (as Keras) when ``reduction='none'``.

    From logits ``x`` it is ``softplus(x) - z x``: exact, with gradient
    ``sigmoid(x) - z``, finite for any ``x``."""
    name = "binary_crossentropy"
    _same_shape(name, labels, predictions)
    labels, predictions = promote_args_inexact(name, labels, predictions)
    if from_logits:
        terms = softplus(predictions) - labels * predictions
    else:
        p = _clip_probs(predictions)
        terms = -(labels * lnp.log(p) + (1 - labels) * lnp.log1p(-p))
    per_example = lnp.mean(terms, axis=-1) if terms.ndim else terms
    return _reduce(name, per_example, reduction)
