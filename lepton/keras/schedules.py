"""Keras's learning-rate schedules (``keras.optimizers.schedules``), with Keras 3's
formulas: ``Adam(learning_rate=ExponentialDecay(1e-2, 1000, 0.9))``.

A schedule maps the 0-based optimizer step (Keras's ``optimizer.iterations``) to a
learning rate.  It is plain ``lepton.numpy`` arithmetic in float32, so it runs inside the
jitted train step (the step may be a traced value).
"""
from __future__ import annotations

import math

from .. import numpy as lnp

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay",
           "PiecewiseConstantDecay", "PolynomialDecay", "CosineDecay"]


def _f(x):
    return lnp.asarray(x, dtype="float32")


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and keep their arguments as
    attributes (``get_config`` lists them)."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class _RateDecay(LearningRateSchedule):
    """A rate decayed by ``decay_rate`` over ``step / decay_steps`` (floored with
    ``staircase``): the shared part of ExponentialDecay and InverseTimeDecay."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        name = name or type(self).__name__
        if decay_steps <= 0:
            raise ValueError(f"{name}: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, bool(staircase), name

    def _progress(self, step):
        p = _f(step) / _f(self.decay_steps)
        return lnp.floor(p) if self.staircase else p


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored
    with ``staircase``)."""

    def __call__(self, step):
        return _f(self.initial_learning_rate) * _f(self.decay_rate) ** self._progress(step)


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio
    floored with ``staircase``)."""

    def __call__(self, step):
        return _f(self.initial_learning_rate) / (1 + _f(self.decay_rate) * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: give one more value than boundaries; "
                             f"got {len(boundaries)} boundaries and {len(values)} values")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        step = lnp.asarray(step)
        # the number of boundaries strictly below step picks the value
        index = sum((step > b).astype("int32") for b in self.boundaries)
        return lnp.take(_f(self.values), index)


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` as
    ``(1 - step / decay_steps) ** power``; constant afterwards, or with ``cycle`` restarting
    over the next multiple of ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"PolynomialDecay: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = bool(cycle), name

    def __call__(self, step):
        step, decay_steps = _f(step), _f(self.decay_steps)
        if self.cycle:
            decay_steps = decay_steps * lnp.where(step == 0, _f(1.0),
                                                  lnp.ceil(step / decay_steps))
        else:
            step = lnp.minimum(step, decay_steps)
        start, end = _f(self.initial_learning_rate), _f(self.end_learning_rate)
        return (start - end) * (1 - step / decay_steps) ** _f(self.power) + end


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` to ``alpha`` times it over
    ``decay_steps``; with ``warmup_target``, first a linear warmup from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then the cosine
    decay from ``warmup_target``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        if decay_steps <= 0:
            raise ValueError(f"CosineDecay: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def _decay(self, step, top):
        cosine = 0.5 * (1.0 + lnp.cos(_f(math.pi) * (step / _f(self.decay_steps))))
        return top * ((1 - _f(self.alpha)) * cosine + _f(self.alpha))

    def __call__(self, step):
        step, start = _f(step), _f(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(lnp.minimum(step, _f(self.decay_steps)), start)
        target, warm = _f(self.warmup_target), _f(self.warmup_steps)
        step = lnp.minimum(step, _f(self.decay_steps) + warm)
        warmup = (target - start) * (step / lnp.maximum(warm, _f(1.0))) + start
        return lnp.where(step < warm, warmup, self._decay(step - warm, target))
