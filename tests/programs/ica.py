"""Independent component analysis by maximum likelihood with a 1/cosh source density,
fitted by gradient ascent (autograd style)."""
import autograd.numpy as np
from autograd import grad

from tests.programs._data import ica_data


def neg_log_likelihood(W, X):
    sources = np.dot(X, W.T)
    n = X.shape[0]
    return -n * np.log(np.abs(np.linalg.det(W))) + np.sum(np.log(np.cosh(sources)))


def main():
    X, W = ica_data()
    g = grad(neg_log_likelihood)
    first = g(W, X)
    for _ in range(150):
        W = W - 0.002 * g(W, X)
    return {"first_grad": first, "W": W, "nll": neg_log_likelihood(W, X)}
