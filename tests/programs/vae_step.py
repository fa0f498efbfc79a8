"""Training steps of a small variational autoencoder (Bernoulli decoder, Gaussian
posterior, reparameterisation with given noise), JAX style: pytrees of parameters,
jit(value_and_grad), tree_map updates."""
import jax
import jax.numpy as jnp

from tests.programs._data import vae_data

jax.config.update("jax_enable_x64", True)


def dense(p, x):
    return x @ p["w"] + p["b"]


def neg_elbo(params, x, eps):
    h = jnp.tanh(dense(params["enc"], x))
    mu, logvar = dense(params["mu"], h), dense(params["logvar"], h)
    z = mu + jnp.exp(0.5 * logvar) * eps
    logits = dense(params["out"], jax.nn.relu(dense(params["dec"], z)))
    log_px = jnp.sum(x * jax.nn.log_sigmoid(logits) + (1 - x) * jax.nn.log_sigmoid(-logits))
    kl = 0.5 * jnp.sum(jnp.exp(logvar) + mu ** 2 - 1 - logvar)
    return (kl - log_px) / x.shape[0]


@jax.jit
def train_step(params, x, eps):
    loss, grads = jax.value_and_grad(neg_elbo)(params, x, eps)
    return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads), loss, grads


def main():
    params, x, eps = vae_data()
    losses = []
    first_grads = None
    for e in eps:
        params, loss, grads = train_step(params, x, e)
        first_grads = grads if first_grads is None else first_grads
        losses.append(loss)
    leaves = jax.tree_util.tree_leaves(params)
    return {"losses": jnp.stack(losses), "grad_enc_w": first_grads["enc"]["w"],
            "grad_out_b": first_grads["out"]["b"], "final_dec_w": params["dec"]["w"],
            "n_leaves": len(leaves)}
