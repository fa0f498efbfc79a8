"""Differentially private SGD: per-example gradients with vmap(grad), each clipped to an
L2 norm of ``--clip``, summed, noised with Gaussian noise of scale ``--noise * clip``, and
averaged (Abadi et al., 2016).  A small MLP on MNIST digits.
Run: python examples/dp_sgd.py [--epochs 3] [--clip 1.0] [--noise 1.1]
"""
import argparse
import time

import numpy as np

import lepton
import lepton.numpy as jnp
from lepton import nn, optimizers, random, stax, tree

from _data import load_digits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--noise", type=float, default=1.1)
    ap.add_argument("--lr", type=float, default=0.25)
    args = ap.parse_args()

    x_train, y_train, x_test, y_test, _ = load_digits()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255

    init_fun, apply_fun = stax.serial(stax.Dense(128), stax.Relu, stax.Dense(10))
    _, params = init_fun(random.PRNGKey(0), (-1, 784))

    def example_loss(params, x, y):            # one example: x (784,), y ()
        logits = apply_fun(params, x[None])[0]
        return -nn.log_softmax(logits)[y]

    def private_grad(params, x, y, key):
        grads = lepton.vmap(lepton.grad(example_loss), in_axes=(None, 0, 0))(params, x, y)
        leaves = tree.leaves(grads)
        norms = jnp.sqrt(sum(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1)
                             for g in leaves))
        scale = jnp.minimum(1.0, args.clip / (norms + 1e-12))
        keys = random.split(key, len(leaves))
        noised = [(jnp.tensordot(scale, g, axes=1)
                   + args.noise * args.clip * random.normal(k, g.shape[1:])) / x.shape[0]
                  for g, k in zip(leaves, keys)]
        return tree.unflatten(tree.structure(grads), noised), jnp.mean(norms)

    opt_init, opt_update, get_params = optimizers.sgd(args.lr)

    @lepton.jit
    def update(i, opt_state, x, y, key):
        grads, mean_norm = private_grad(get_params(opt_state), x, y, random.fold_in(key, i))
        return opt_update(i, grads, opt_state), mean_norm

    @lepton.jit
    def accuracy(params, x, y):
        return jnp.mean(jnp.argmax(apply_fun(params, x), axis=-1) == y)

    opt_state, key = opt_init(params), random.PRNGKey(1)
    rng, step = np.random.default_rng(0), 0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        perm = rng.permutation(len(x_train))
        for k in range(0, len(x_train) - 255, 256):
            idx = perm[k:k + 256]
            opt_state, mean_norm = update(step, opt_state, x_train[idx], y_train[idx], key)
            step += 1
        acc = float(accuracy(get_params(opt_state), x_test, y_test))
        print(f"epoch {epoch + 1}: mean per-example gradient norm {float(mean_norm):.2f} "
              f"(clipped to {args.clip})  test accuracy {acc:.4f}  "
              f"({time.perf_counter() - start:.1f} s)", flush=True)
    print(f"final test accuracy with DP-SGD (clip {args.clip}, noise multiplier "
          f"{args.noise}): {acc:.4f}")


if __name__ == "__main__":
    main()
