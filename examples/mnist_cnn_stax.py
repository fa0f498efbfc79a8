"""A custom training loop on real MNIST digits with lepton.stax, adam and jit.

Written the way a jax.example_libraries user writes it: only the imports differ.
Run: python examples/mnist_cnn_stax.py [--epochs 3]
"""
import argparse
import time

import numpy as np

import lepton
import lepton.numpy as jnp
from lepton import optimizers, random, stax

from _data import load_digits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    x_train, y_train, x_test, y_test, _ = load_digits()
    x_train = x_train[..., None].astype(np.float32) / 255
    x_test = x_test[..., None].astype(np.float32) / 255
    onehot = np.eye(10, dtype=np.float32)

    init_fun, predict = stax.serial(
        stax.Conv(16, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2), (2, 2)),
        stax.Conv(32, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2), (2, 2)),
        stax.Flatten, stax.Dense(64), stax.Relu, stax.Dense(10), stax.LogSoftmax)

    def loss(params, batch):
        inputs, targets = batch
        return -jnp.mean(jnp.sum(predict(params, inputs) * targets, axis=1))

    @lepton.jit
    def accuracy(params, inputs, labels):
        return jnp.mean(jnp.argmax(predict(params, inputs), axis=1) == labels)

    opt_init, opt_update, get_params = optimizers.adam(1e-3)

    @lepton.jit
    def update(i, opt_state, batch):
        value, grads = lepton.value_and_grad(loss)(get_params(opt_state), batch)
        return opt_update(i, grads, opt_state), value

    _, params = init_fun(random.PRNGKey(0), (-1, 28, 28, 1))
    opt_state = opt_init(params)
    rng = np.random.default_rng(0)
    step = 0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        perm = rng.permutation(len(x_train))
        for k in range(0, len(x_train), args.batch):
            idx = perm[k:k + args.batch]
            opt_state, value = update(step, opt_state, (x_train[idx], onehot[y_train[idx]]))
            step += 1
        acc = float(accuracy(get_params(opt_state), x_test, y_test))
        print(f"epoch {epoch + 1}: loss {float(value):.4f}  test accuracy {acc:.4f}  "
              f"({time.perf_counter() - start:.1f} s)", flush=True)
    print(f"final test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
