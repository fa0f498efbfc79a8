"""Real digits: a small stax CNN trained with adam under jit on the 8,000 / 2,000 split of
the official MNIST test set reaches at least 97% test accuracy."""
import os

import numpy as np
import pytest

import lepton
import lepton.numpy as jnp
from lepton import optimizers, random, stax
from lepton.datasets import mnist

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                      "shared", "data", "mnist")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared/data/mnist is absent")
def test_stax_cnn_reaches_97_percent_on_real_digits():
    (x, y), (xt, yt) = mnist.load_sample(SHARED)
    x = x[..., None].astype(np.float32) / 255
    xt = xt[..., None].astype(np.float32) / 255
    onehot = np.eye(10, dtype=np.float32)
    init_fun, predict = stax.serial(
        stax.Conv(16, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2), (2, 2)),
        stax.Conv(32, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2), (2, 2)),
        stax.Flatten, stax.Dense(64), stax.Relu, stax.Dense(10), stax.LogSoftmax)

    def loss(params, xb, yb):
        return -jnp.mean(jnp.sum(predict(params, xb) * yb, axis=1))

    opt_init, opt_update, get_params = optimizers.adam(
        optimizers.exponential_decay(2e-3, decay_steps=125, decay_rate=0.75))

    @lepton.jit
    def update(i, opt_state, xb, yb):
        return opt_update(i, lepton.grad(loss)(get_params(opt_state), xb, yb), opt_state)

    _, params = init_fun(random.PRNGKey(0), (-1, 28, 28, 1))
    opt_state = opt_init(params)
    rng, step = np.random.default_rng(0), 0
    for _ in range(5):
        perm = rng.permutation(len(x))
        for k in range(0, len(x), 64):
            idx = perm[k:k + 64]
            opt_state = update(step, opt_state, x[idx], onehot[y[idx]])
            step += 1
    logits = lepton.jit(predict)(get_params(opt_state), xt)
    acc = float(np.mean(np.asarray(logits).argmax(1) == yt))
    assert acc >= 0.97, acc
