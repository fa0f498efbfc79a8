"""Gradient clipping with jax.custom_vjp (as in JAX's custom-derivatives tutorial), with
nondiff_argnums, under vmap and jit; and a custom_vjp of a pytree argument."""
from functools import partial

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def clip_gradient(lo, hi, x):
    return x


def clip_gradient_fwd(lo, hi, x):
    return x, None


def clip_gradient_bwd(lo, hi, _, g):
    return (jnp.clip(g, lo, hi),)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def clipped_sin(x):
    return 2.0 * clip_gradient(-0.75, 0.75, jnp.sin(x))


@jax.custom_vjp
def sq_norm(p):
    return jnp.sum(p["w"] ** 2) + p["b"] ** 2


def sq_norm_fwd(p):
    return sq_norm(p), p


def sq_norm_bwd(p, g):
    return ({"w": jnp.clip(2 * g * p["w"], -1.0, 1.0), "b": 2 * g * p["b"]},)


sq_norm.defvjp(sq_norm_fwd, sq_norm_bwd)


def main():
    t = jnp.linspace(0.0, 10.0, 50)
    grads = jax.vmap(jax.grad(clipped_sin))(t)
    jitted = jax.jit(jax.vmap(jax.grad(clipped_sin)))(t)
    p = {"w": jnp.array([0.1, -2.0, 0.7]), "b": jnp.array(1.5)}
    gp = jax.jit(jax.grad(sq_norm))(p)
    return {"t": t, "grads": grads, "jitted": jitted, "value": clipped_sin(t[3]),
            "pytree_w": gp["w"], "pytree_b": gp["b"]}
