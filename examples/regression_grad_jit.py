"""Fit a small MLP regression (lepton.grad + lepton.jit, no framework) with a jitted lepton.grad step on synthetic data (seconds)."""
import numpy as np

import lepton
import lepton.numpy as lnp


def init(rng, sizes):
    return [(rng.standard_normal((m, n)).astype(np.float32) / np.sqrt(m),
             np.zeros(n, np.float32)) for m, n in zip(sizes[:-1], sizes[1:])]


def predict(params, x):
    for w, b in params[:-1]:
        x = lnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def loss(params, x, y):
    return lnp.mean((predict(params, x) - y) ** 2)


def main():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (256, 1)).astype(np.float32)
    y = np.sin(2 * x)
    params = init(rng, [1, 32, 32, 1])
    @lepton.jit
    def step(params, x, y):
        value, grads = lepton.value_and_grad(loss)(params, x, y)
        return value, lepton.tree.map(lambda p, g: p - 0.02 * g, params, grads)

    for i in range(3001):
        value, params = step(params, x, y)
        if i % 500 == 0:
            print(f"step {i:4d}  loss {float(value):.4f}")
    assert float(value) < 0.01, "training did not converge"
    print("ok")


if __name__ == "__main__":
    main()
