"""Step-size schedules: functions ``i -> step size`` of the 0-based step index.

Each works for a Python int ``i`` (then the simple ones return a Python float) and for a
traced ``i`` inside ``jit``. The first five match ``jax.example_libraries.optimizers``;
``cosine_decay`` follows optax's ``cosine_decay_schedule`` and ``warmup`` prepends a linear
ramp to any schedule or constant.
"""
from __future__ import annotations

import math

import numpy as np

from .. import numpy as lnp
from .base import make_schedule

__all__ = ["constant", "exponential_decay", "inverse_time_decay", "polynomial_decay",
           "piecewise_constant", "cosine_decay", "warmup", "linear_warmup"]


def _positive(name, what, value):
    if not value > 0:
        raise ValueError(f"{name}: {what} must be > 0, got {value!r}")


def constant(step_size):
    """``i -> step_size``."""
    def schedule(i):
        return step_size
    return schedule


def exponential_decay(step_size, decay_steps, decay_rate):
    """``step_size * decay_rate ** (i / decay_steps)`` (smooth, no staircase, as in JAX)."""
    _positive("exponential_decay", "decay_steps", decay_steps)

    def schedule(i):
        return step_size * decay_rate ** (i / decay_steps)
    return schedule


def inverse_time_decay(step_size, decay_steps, decay_rate, staircase=False):
    """``step_size / (1 + decay_rate * i / decay_steps)``; with ``staircase`` the ratio is floored."""
    _positive("inverse_time_decay", "decay_steps", decay_steps)
    if staircase:
        def schedule(i):
            return step_size / (1 + decay_rate * lnp.floor(i / decay_steps))
    else:
        def schedule(i):
            return step_size / (1 + decay_rate * i / decay_steps)
    return schedule


def polynomial_decay(step_size, decay_steps, final_step_size, power=1.0):
    """From ``step_size`` to ``final_step_size`` over ``decay_steps`` as ``(1 - i/decay_steps)**power``,
    then constant."""
    _positive("polynomial_decay", "decay_steps", decay_steps)

    def schedule(i):
        i = lnp.minimum(i, decay_steps)
        mult = (1 - i / decay_steps) ** power
        return mult * (step_size - final_step_size) + final_step_size
    return schedule


def piecewise_constant(boundaries, values):
    """``values[0]`` for ``i <= boundaries[0]``, ``values[k]`` for ``boundaries[k-1] < i <= boundaries[k]``,
    ``values[-1]`` after the last boundary (JAX's convention: a boundary belongs to the piece before it)."""
    b = np.asarray(boundaries)
    v = np.asarray(values)
    if not (b.ndim == 1 and v.ndim == 1):
        raise ValueError(f"piecewise_constant: boundaries and values must be 1-D sequences, got shapes "
                         f"{b.shape} and {v.shape}")
    if b.shape[0] != v.shape[0] - 1:
        raise ValueError(f"piecewise_constant: boundaries must be one shorter than values, got "
                         f"{b.shape[0]} boundaries and {v.shape[0]} values")
    if b.size and np.any(np.diff(b) < 0):
        raise ValueError(f"piecewise_constant: boundaries must be sorted, got {b.tolist()}")
    if v.dtype.kind in "iub":
        v = v.astype(np.float32)
    bounds, vals = lnp.asarray(b), lnp.asarray(v)

    def schedule(i):
        return vals[lnp.sum(i > bounds)]
    return schedule


def cosine_decay(step_size, decay_steps, alpha=0.0):
    """Cosine annealing over ``decay_steps``, then constant (optax's ``cosine_decay_schedule``):
    ``step_size * ((1 - alpha) * 0.5 * (1 + cos(pi * min(i, decay_steps) / decay_steps)) + alpha)``,
    so it ends at ``alpha * step_size``."""
    _positive("cosine_decay", "decay_steps", decay_steps)

    def schedule(i):
        frac = lnp.minimum(i, decay_steps) / decay_steps
        cos = 0.5 * (1 + lnp.cos(math.pi * frac))
        return step_size * ((1 - alpha) * cos + alpha)
    return schedule


def warmup(schedule_or_step_size, warmup_steps, init_value=0.0):
    """A linear ramp from ``init_value`` (at ``i = 0``) to ``schedule(0)`` (at ``i = warmup_steps``),
    then ``schedule(i - warmup_steps)``: the wrapped schedule starts when the warmup ends, as
    optax's ``join_schedules`` does. Accepts a constant step size too."""
    if not (isinstance(warmup_steps, (int, np.integer)) and warmup_steps >= 0):
        raise ValueError(f"warmup: warmup_steps must be an int >= 0, got {warmup_steps!r}")
    after = make_schedule(schedule_or_step_size)
    if warmup_steps == 0:
        return after
    peak = after(0)

    def schedule(i):
        ramp = init_value + (peak - init_value) * (lnp.minimum(i, warmup_steps) / warmup_steps)
        return lnp.where(i < warmup_steps, ramp, after(lnp.maximum(i - warmup_steps, 0)))
    return schedule


linear_warmup = warmup
