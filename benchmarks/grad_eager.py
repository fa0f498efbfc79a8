"""Eager (un-jitted) gradient of an MLP loss: 784-1024-1024-10 ReLU, softmax cross-entropy,
batch 256, float32.  Compares lepton.grad with autograd and JAX's eager mode where installed.

Target (issue #3): lepton no slower than autograd.  Run: python benchmarks/grad_eager.py
"""
from __future__ import annotations

import numpy as np

from _harness import median_seconds, report

SIZES = [784, 1024, 1024, 10]
BATCH = 256


def make_data():
    rng = np.random.default_rng(0)
    params = [((rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32),
               np.zeros(n, np.float32)) for m, n in zip(SIZES[:-1], SIZES[1:])]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)]
    return params, x, y


def loss_fn(np_like):
    """The same loss written against any NumPy-like module (lnp, autograd.numpy, jnp)."""

    def logsumexp(z):
        m = np_like.max(z, axis=1, keepdims=True)
        return m + np_like.log(np_like.sum(np_like.exp(z - m), axis=1, keepdims=True))

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = np_like.maximum(h @ w + b, 0.0)
        w, b = params[-1]
        logits = h @ w + b
        return -np_like.mean(np_like.sum(y * (logits - logsumexp(logits)), axis=1))
    return loss


def bench_lepton(params, x, y):
    import lepton
    import lepton.numpy as lnp

    g = lepton.grad(loss_fn(lnp))
    p = lepton.tree.map(lnp.asarray, params)
    xl, yl = lnp.asarray(x), lnp.asarray(y)
    return median_seconds(lambda: g(p, xl, yl))


def bench_autograd(params, x, y):
    import autograd
    import autograd.numpy as anp

    g = autograd.grad(loss_fn(anp))
    return median_seconds(lambda: g(params, x, y))


def bench_jax(params, x, y):
    import jax
    import jax.numpy as jnp

    g = jax.grad(loss_fn(jnp))
    p = jax.tree_util.tree_map(jnp.asarray, params)
    with jax.disable_jit():
        return median_seconds(lambda: jax.block_until_ready(g(p, x, y)))


def main():
    params, x, y = make_data()
    results = {"lepton": bench_lepton(params, x, y)}
    for name, fn in (("autograd", bench_autograd), ("jax-eager", bench_jax)):
        try:
            results[name] = fn(params, x, y)
        except ImportError:
            print(f"({name} not installed; skipped)")
    report("grad of MLP loss 784-1024-1024-10, batch 256, float32 (eager, median)", results)


if __name__ == "__main__":
    main()
