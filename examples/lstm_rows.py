"""A row-by-row LSTM classifier on MNIST digits with lepton.stax: each image is a sequence
of 28 rows of 28 pixels, read by an LSTM (hidden 128) built on lax.scan.
Run: python examples/lstm_rows.py [--epochs 2]
"""
import argparse
import time

import numpy as np

import lepton
import lepton.numpy as jnp
from lepton import nn, optimizers, random, stax

from _data import load_digits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    args = ap.parse_args()

    x_train, y_train, x_test, y_test, _ = load_digits()
    x_train = x_train.astype(np.float32) / 255            # (n, 28 rows, 28 pixels)
    x_test = x_test.astype(np.float32) / 255

    init_fun, apply_fun = stax.serial(stax.LSTM(args.hidden), stax.Dense(10))
    _, params = init_fun(random.PRNGKey(0), (-1, 28, 28))

    def loss(params, x, y):
        return nn.losses.sparse_categorical_crossentropy(y, apply_fun(params, x),
                                                         from_logits=True)

    opt_init, opt_update, get_params = optimizers.adam(2e-3)

    @lepton.jit
    def update(i, opt_state, x, y):
        value, grads = lepton.value_and_grad(loss)(get_params(opt_state), x, y)
        grads = optimizers.clip_by_global_norm(grads, 1.0)
        return opt_update(i, grads, opt_state), value

    @lepton.jit
    def accuracy(params, x, y):
        return jnp.mean(jnp.argmax(apply_fun(params, x), axis=-1) == y)

    opt_state = opt_init(params)
    rng = np.random.default_rng(0)
    step = 0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        perm = rng.permutation(len(x_train))
        for k in range(0, len(x_train), 64):
            idx = perm[k:k + 64]
            opt_state, value = update(step, opt_state, x_train[idx], y_train[idx])
            step += 1
        acc = float(accuracy(get_params(opt_state), x_test, y_test))
        print(f"epoch {epoch + 1}: loss {float(value):.4f}  test accuracy {acc:.4f}  "
              f"({time.perf_counter() - start:.1f} s)", flush=True)
    print(f"final test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
