"""Logistic regression by gradient descent, as an autograd user writes it."""
import autograd.numpy as np
from autograd import grad

from tests.programs._data import logistic_data


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights, inputs, targets):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def main():
    inputs, targets = logistic_data()
    training_gradient_fun = grad(training_loss)
    weights = np.zeros(3, dtype=np.float64)
    first_grad = training_gradient_fun(weights, inputs, targets)
    for _ in range(100):
        weights = weights - 0.01 * training_gradient_fun(weights, inputs, targets)
    return {"first_grad": first_grad, "weights": weights,
            "loss": training_loss(weights, inputs, targets)}
