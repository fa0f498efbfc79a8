"""autograd's gradient-descent loops (``autograd.misc.optimizers``): ``sgd`` with
momentum, ``rmsprop`` and ``adam``.

Each takes ``grad(x, i)`` (the gradient at parameters ``x`` on iteration ``i``), the
initial parameters (any pytree), an optional ``callback(x, i, g)``, the iteration count
and its hyperparameters, and returns the final parameters with the structure of ``x0``.
They run eagerly in Python, one step per iteration (``grad`` may itself be jitted).
"""
from __future__ import annotations

import functools

from .. import numpy as lnp
from .flatten import flatten

__all__ = ["adam", "rmsprop", "sgd", "unflatten_optimizer"]


def unflatten_optimizer(optimize):
    """Lift ``optimize(grad, x, callback, ...)`` on flat vectors to pytrees of arrays."""

    @functools.wraps(optimize)
    def run(grad, x0, callback=None, *args, **kwargs):
        x_flat, unflatten = flatten(x0)

        def flat_grad(x, i):
            return flatten(grad(unflatten(x), i))[0]

        flat_callback = None
        if callback is not None:
            def flat_callback(x, i, g):
                return callback(unflatten(x), i, unflatten(g))
        return unflatten(optimize(flat_grad, x_flat, flat_callback, *args, **kwargs))

    return run


@unflatten_optimizer
def sgd(grad, x, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Gradient descent with momentum: v <- mass v - (1 - mass) g; x <- x + step v."""
    velocity = lnp.zeros_like(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@unflatten_optimizer
def rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=1e-8):
    """RMSProp: steps divided by a running root-mean-square of the gradients (which
    starts at 1, as autograd's)."""
    avg_sq = lnp.ones_like(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        avg_sq = gamma * avg_sq + (1 - gamma) * g ** 2
        x = x - step_size * g / (lnp.sqrt(avg_sq) + eps)
    return x


@unflatten_optimizer
def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma and Ba): bias-corrected first and second moment estimates."""
    m = lnp.zeros_like(x)
    v = lnp.zeros_like(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** (i + 1))
        v_hat = v / (1 - b2 ** (i + 1))
        x = x - step_size * m_hat / (lnp.sqrt(v_hat) + eps)
    return x
