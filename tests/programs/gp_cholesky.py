"""Gaussian-process regression: the marginal likelihood through a Cholesky factor,
hyperparameters fitted by gradient descent, then the predictive mean and variance."""
import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve, solve_triangular

from tests.programs._data import gp_data

jax.config.update("jax_enable_x64", True)


def rbf(params, x1, x2):
    d2 = (x1[:, None] - x2[None, :]) ** 2
    return jnp.exp(2 * params["log_amp"]) * jnp.exp(-0.5 * d2 / jnp.exp(2 * params["log_len"]))


def neg_log_marginal(params, x, y):
    n = x.shape[0]
    k = rbf(params, x, x) + jnp.exp(2 * params["log_noise"]) * jnp.eye(n)
    chol = jnp.linalg.cholesky(k)
    alpha = cho_solve((chol, True), y)
    return 0.5 * y @ alpha + jnp.sum(jnp.log(jnp.diag(chol))) + 0.5 * n * jnp.log(2 * jnp.pi)


def predict(params, x, y, xs):
    n = x.shape[0]
    k = rbf(params, x, x) + jnp.exp(2 * params["log_noise"]) * jnp.eye(n)
    chol = jnp.linalg.cholesky(k)
    ks = rbf(params, x, xs)
    mean = ks.T @ cho_solve((chol, True), y)
    v = solve_triangular(chol, ks, lower=True)
    var = jnp.diag(rbf(params, xs, xs)) - jnp.sum(v * v, axis=0)
    return mean, var


def main():
    x, y, xs, params = gp_data()
    params = jax.tree_util.tree_map(jnp.asarray, params)
    value, grads = jax.value_and_grad(neg_log_marginal)(params, x, y)
    step = jax.jit(jax.grad(neg_log_marginal))
    for _ in range(30):
        g = step(params, x, y)
        params = jax.tree_util.tree_map(lambda p, d: p - 0.05 * d, params, g)
    mean, var = predict(params, x, y, xs)
    return {"nll": value, "grad_log_amp": grads["log_amp"], "grad_log_len": grads["log_len"],
            "grad_log_noise": grads["log_noise"], "fitted_log_len": params["log_len"],
            "fitted_nll": neg_log_marginal(params, x, y), "mean": mean, "var": var}
