"""jit with static arguments, by position and by name, and jit of partials, bound
methods and callable objects (JAX style)."""
from functools import partial

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


@partial(jax.jit, static_argnums=(1,))
def power_sum(x, n):
    return sum(x ** k / k for k in range(1, n + 1))  # a Python loop over the static n


@partial(jax.jit, static_argnames=("mode",))
def normalize(x, mode="l2"):
    if mode == "l2":
        return x / jnp.sqrt(jnp.sum(x ** 2))
    if mode == "max":
        return x / jnp.max(jnp.abs(x))
    raise ValueError(mode)


def affine(a, b, x):
    return a * x + b


class Scaler:
    def __init__(self, s):
        self.s = s

    def __call__(self, x):
        return self.s * x

    def shifted(self, x, shift):
        return self.s * x + shift


def main():
    x = jnp.array([0.5, -1.0, 2.0])
    ones = jax.jit(lambda v, n: jnp.ones((n,)) * v, static_argnames="n")
    scaler = Scaler(3.0)
    return {
        "power_sum_3": power_sum(x, 3), "power_sum_5": power_sum(x, 5),
        "grad_power_sum_4": jax.grad(lambda v: jnp.sum(power_sum(v, 4)))(x),
        "l2": normalize(x), "max": normalize(x, mode="max"),
        "ones_by_position": ones(2.0, 3), "ones_by_name": ones(2.0, n=4),
        "partial": jax.jit(partial(affine, 2.0))(1.0, x),
        "callable_object": jax.jit(scaler)(x),
        "bound_method": jax.jit(scaler.shifted, static_argnums=(1,))(x, 1),
    }
