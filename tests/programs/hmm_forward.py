"""The forward algorithm of a discrete HMM in log space with lax.scan and logsumexp; its
log likelihood differentiated in the (softmax-parametrised) model, jitted and vmapped over
sequences."""
import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.special import logsumexp

from tests.programs._data import hmm_data

jax.config.update("jax_enable_x64", True)


def log_likelihood(params, obs):
    log_pi = jax.nn.log_softmax(params["init"])
    log_a = jax.nn.log_softmax(params["trans"], axis=1)
    log_b = jax.nn.log_softmax(params["emit"], axis=1)

    def step(alpha, o):
        alpha = logsumexp(alpha[:, None] + log_a, axis=0) + log_b[:, o]
        return alpha, logsumexp(alpha)

    alpha, _ = lax.scan(step, log_pi + log_b[:, obs[0]], obs[1:])
    return logsumexp(alpha)


def total(params, batch):
    return jnp.sum(jax.vmap(log_likelihood, in_axes=(None, 0))(params, batch))


def main():
    params, obs = hmm_data()
    per_seq = jax.jit(jax.vmap(log_likelihood, in_axes=(None, 0)))(params, obs)
    value, grads = jax.jit(jax.value_and_grad(total))(params, obs)
    return {"per_sequence": per_seq, "total": value, "grad_init": grads["init"],
            "grad_trans": grads["trans"], "grad_emit": grads["emit"]}
