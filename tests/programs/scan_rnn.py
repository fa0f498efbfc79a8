"""An Elman RNN unrolled with lax.scan; the loss on its last output differentiated in
every weight, with jit, and a few gradient steps."""
import jax
import jax.numpy as jnp

from tests.programs._data import rnn_data

jax.config.update("jax_enable_x64", True)


def rnn_loss(params, xs, target):
    def cell(h, x):
        h = jnp.tanh(x @ params["wx"] + h @ params["wh"] + params["b"])
        return h, h

    h_last, hs = jax.lax.scan(cell, jnp.zeros(params["wh"].shape[0]), xs)
    y = h_last @ params["wo"]
    return jnp.sum((y - target) ** 2) + 1e-3 * jnp.sum(hs ** 2)


def main():
    params, xs, target = rnn_data()
    loss0, g = jax.value_and_grad(rnn_loss)(params, xs, target)
    update = jax.jit(lambda p: jax.tree_util.tree_map(
        lambda w, d: w - 0.2 * d, p, jax.grad(rnn_loss)(p, xs, target)))
    for _ in range(5):
        params = update(params)
    return {"loss0": loss0, "grad_wx": g["wx"], "grad_wh": g["wh"], "grad_b": g["b"],
            "grad_wo": g["wo"], "loss5": rnn_loss(params, xs, target)}
