"""The update rules, each written for one array and lifted to pytrees by ``@optimizer``.

Formulas and defaults follow ``jax.example_libraries.optimizers`` (``adamw`` follows optax and
PyTorch, which that module lacks). ``step_size`` is a scalar or a schedule ``i -> step size``;
``i`` is the 0-based step index, so bias corrections use ``i + 1``.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import numpy as lnp
from .base import make_schedule, optimizer

__all__ = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "rmsprop_momentum", "adam",
           "adamax", "adamw", "sm3"]


def _const(value, dtype):
    """``value`` as a 0-d array of ``dtype``, rounded once (via NumPy: lnp.asarray(0.8, float64)
    currently passes the Python float through float32 first)."""
    return lnp.asarray(np.asarray(value, dtype=dtype))


def _first(state):
    return state[0]


@optimizer
def sgd(step_size):
    """Stochastic gradient descent: ``x <- x - lr(i) * g``."""
    lr = make_schedule(step_size)

    def update(i, g, x):
        return x - lr(i) * g

    return (lambda x0: x0), update, (lambda x: x)


@optimizer
def momentum(step_size, mass: float):
    """Heavy-ball momentum: ``v <- mass * v + g``; ``x <- x - lr(i) * v``."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, v = state
        v = mass * v + g
        return x - lr(i) * v, v

    return (lambda x0: (x0, lnp.zeros_like(x0))), update, _first


@optimizer
def nesterov(step_size, mass: float):
    """Nesterov momentum: ``v <- mass * v + g``; ``x <- x - lr(i) * (mass * v + g)``."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, v = state
        v = mass * v + g
        return x - lr(i) * (mass * v + g), v

    return (lambda x0: (x0, lnp.zeros_like(x0))), update, _first


def _inv_sqrt_or_zero(s):
    """``1/sqrt(s)`` where ``s > 0``, else 0 (no inf for a parameter never given a gradient)."""
    positive = s > 0
    return lnp.where(positive, 1.0 / lnp.sqrt(lnp.where(positive, s, 1)), 0)


@optimizer
def adagrad(step_size, momentum=0.9):
    """Adagrad with momentum (JAX's form): ``G <- G + g**2``;
    ``m <- (1 - momentum) * g / sqrt(G) + momentum * m``; ``x <- x - lr(i) * m``."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, g_sq, m = state
        g_sq = g_sq + lnp.square(g)
        m = (1.0 - momentum) * (g * _inv_sqrt_or_zero(g_sq)) + momentum * m
        return x - lr(i) * m, g_sq, m

    return (lambda x0: (x0, lnp.zeros_like(x0), lnp.zeros_like(x0))), update, _first


@optimizer
def rmsprop(step_size, gamma=0.9, eps=1e-8):
    """RMSProp: ``a <- gamma * a + (1 - gamma) * g**2``; ``x <- x - lr(i) * g / sqrt(a + eps)``."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq = state
        avg_sq = avg_sq * gamma + lnp.square(g) * (1.0 - gamma)
        return x - lr(i) * g / lnp.sqrt(avg_sq + eps), avg_sq

    return (lambda x0: (x0, lnp.zeros_like(x0))), update, _first


@optimizer
def rmsprop_momentum(step_size, gamma=0.9, eps=1e-8, momentum=0.9):
    """RMSProp with momentum: ``mom <- momentum * mom + lr(i) * g / sqrt(a + eps)``; ``x <- x - mom``."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq, mom = state
        avg_sq = avg_sq * gamma + lnp.square(g) * (1.0 - gamma)
        mom = momentum * mom + lr(i) * g / lnp.sqrt(avg_sq + eps)
        return x - mom, avg_sq, mom

    return (lambda x0: (x0, lnp.zeros_like(x0), lnp.zeros_like(x0))), update, _first


def _adam_direction(i, g, m, v, b1, b2, eps):
    m = (1 - b1) * g + b1 * m
    v = (1 - b2) * lnp.square(g) + b2 * v
    mhat = m / (1 - _const(b1, m.dtype) ** (i + 1))
    vhat = v / (1 - _const(b2, m.dtype) ** (i + 1))
    return mhat / (lnp.sqrt(vhat) + eps), m, v


@optimizer
def adam(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """Adam with bias correction; ``eps`` is added to ``sqrt(v_hat)`` (not inside the root)."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, m, v = state
        direction, m, v = _adam_direction(i, g, m, v, b1, b2, eps)
        return x - lr(i) * direction, m, v

    return (lambda x0: (x0, lnp.zeros_like(x0), lnp.zeros_like(x0))), update, _first


@optimizer
def adamw(step_size, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as optax and PyTorch define it:

        x <- x - lr(i) * (m_hat / (sqrt(v_hat) + eps) + weight_decay * x)

    The decay uses the parameters before the step, is scaled by the (scheduled) step size,
    and never enters the moment estimates (unlike L2 regularisation added to the loss).
    ``weight_decay`` defaults to optax's 1e-4; PyTorch's ``torch.optim.AdamW`` defaults to 1e-2.
    It applies to every leaf (biases included): give it only the leaves you want decayed, or
    chain two optimizers, to exclude some.
    """
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, m, v = state
        direction, m, v = _adam_direction(i, g, m, v, b1, b2, eps)
        return x - lr(i) * (direction + weight_decay * x), m, v

    return (lambda x0: (x0, lnp.zeros_like(x0), lnp.zeros_like(x0))), update, _first


@optimizer
def adamax(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax (Adam with the infinity norm): ``u <- max(b2 * u, |g|)``;
    ``x <- x - lr(i) / (1 - b1**(i+1)) * m / (u + eps)``."""
    lr = make_schedule(step_size)

    def update(i, g, state):
        x, m, u = state
        m = (1 - b1) * g + b1 * m
        u = lnp.maximum(b2 * u, lnp.abs(g))
        x = x - (lr(i) / (1 - _const(b1, m.dtype) ** (i + 1))) * m / (u + eps)
        return x, m, u

    return (lambda x0: (x0, lnp.zeros_like(x0), lnp.zeros_like(x0))), update, _first


@optimizer
def sm3(step_size, momentum=0.9):
    """SM3 (Anil et al. 2019, "Memory-Efficient Adaptive Optimization"): one accumulator per
    axis instead of one per element.

    State per parameter: ``(x, m, vs)`` with ``vs[k]`` of shape ``(x.shape[k],)``; a 0-d
    parameter keeps one 0-d accumulator. JAX stores the parameter reshaped to at least 1-D plus
    its shape as (traced) leaves; lepton keeps the parameter's own shape, so ``get_params``
    needs no reshape under ``jit``. The updates are the same.
    """
    lr = make_schedule(step_size)

    def init(x0):
        x0 = lnp.asarray(x0)
        shape = x0.shape or ()
        vs = [lnp.zeros(n, dtype=x0.dtype) for n in shape] if shape else [lnp.zeros((), dtype=x0.dtype)]
        return x0, lnp.zeros_like(x0), vs

    def update(i, g, state):
        x, m, vs = state
        nd = g.ndim
        if nd == 0:
            accum = vs[0] + lnp.square(g)
            new_vs = [accum]
        else:
            shaped = [lnp.reshape(v, tuple(g.shape[j] if k == j else 1 for k in range(nd)))
                      for j, v in enumerate(vs)]
            accum = functools.reduce(lnp.minimum, shaped) + lnp.square(g)
            empty = 0 if g.size == 0 else None  # accumulators are >= 0: an empty max gives 0
            new_vs = [lnp.max(accum, axis=tuple(k for k in range(nd) if k != j), initial=empty)
                      if nd > 1 else accum for j in range(nd)]
        m = (1.0 - momentum) * (g * _inv_sqrt_or_zero(accum)) + momentum * m
        return x - lr(i) * m, m, new_vs

    return init, update, _first
