"""Derivatives of tanh to third order with elementwise_grad, and host-side random draws
through np.random, as in autograd's README (its arrays are float64 NumPy; lepton's
linspace is float32 unless 64-bit mode is on, hence the looser tolerance)."""
import autograd.numpy as np
from autograd import elementwise_grad as egrad
from autograd import grad


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def main():
    x = np.linspace(-3, 3, 25)
    rs = np.random.RandomState(0)
    pts = rs.randn(4)  # NumPy float64 draws
    return {
        "x": x, "d1": egrad(tanh)(x), "d2": egrad(egrad(tanh))(x),
        "d3": egrad(egrad(egrad(tanh)))(x),
        "grad_at_points": np.array([grad(tanh)(p) for p in pts]),
        "points": pts,
    }
