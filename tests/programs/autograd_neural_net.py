"""A tanh MLP classifier trained with autograd's adam on minibatches, as in autograd's
neural-net example: parameters as a list of (W, b) tuples, initialised with
numpy.random through autograd.numpy.random, a log-softmax output, a callback."""
import autograd.numpy as np
import autograd.numpy.random as npr
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp

from tests.programs._data import mlp_data


def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def main():
    inputs, targets = mlp_data()
    init_params = init_random_params(0.3, layer_sizes=[3, 5, 2])
    batch_size, num_batches = 20, 3

    def batch_indices(iter):
        idx = iter % num_batches
        return slice(idx * batch_size, (idx + 1) * batch_size)

    def objective(params, iter):
        idx = batch_indices(iter)
        return -log_posterior(params, inputs[idx], targets[idx], 0.01)

    losses = []

    def callback(params, iter, gradient):
        if iter % 10 == 0:
            losses.append(objective(params, iter))

    trained = adam(grad(objective), init_params, step_size=0.05, num_iters=40,
                   callback=callback)
    accuracy = np.mean(np.argmax(neural_net_predict(trained, inputs), axis=1)
                       == np.argmax(targets, axis=1))
    return {"losses": np.array(losses), "W0": trained[0][0], "b1": trained[1][1],
            "final_objective": objective(trained, 0), "accuracy": accuracy}
