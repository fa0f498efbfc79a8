"""Eager (un-jitted) gradients against autograd and JAX's eager mode, measured in one run.

Small functions (5-20 operations on 10-100 elements, written in several styles) and the
MLP loss 784-1024-1024-10 ReLU + softmax cross-entropy at batch 256, float32.  Each case
is one function body written against a NumPy-like module, so every library runs the same
operations.  Libraries alternate round by round (the medians share the machine's load).

Target (issue #14): lepton's eager ``grad`` no slower than autograd (and JAX eager for the
MLP).  Run: python benchmarks/grad_eager.py [--rounds N] [--only NAME]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SIZES = [784, 1024, 1024, 10]
BATCH = 256


# ----------------------------------------------------------------------------- the cases
def f5(np_):
    """5 operations on 50 elements."""
    def f(x):
        y = np_.sin(x) * x
        return np_.sum(np_.tanh(y) + y * 2.0)
    return f


def f20(np_):
    """20 operations on 100 elements, mixed unary/binary/scalar/reduction."""
    def f(x, y):
        a = np_.exp(-x * x) + np_.cos(y)
        b = np_.log1p(a * a) - 0.5 * y
        c = np_.maximum(b, 0.1) / (1.0 + np_.abs(x))
        d = np_.sqrt(c * c + 1.0) * np_.tanh(a - b)
        return np_.mean(d * y) + np_.sum(c) * 0.01
    return f


def floop(np_):
    """A loop-built function: 10 steps of a damped sine map on 20 elements."""
    def f(x):
        for i in range(10):
            x = np_.sin(x) * 0.9 + x * (0.1 * i)
        return np_.sum(x * x)
    return f


def fdict(np_):
    """Parameters in a dict, data arguments closed over: a 2-layer regression on 32 x 10."""
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((32, 10))
    ys = rng.standard_normal(32)

    def f(params):
        h = np_.tanh(np_.dot(xs, params["w1"]) + params["b1"])
        pred = np_.dot(h, params["w2"]) + params["b2"]
        return np_.mean((pred - ys) ** 2)
    return f


def dict_params():
    rng = np.random.default_rng(2)
    return {"w1": rng.standard_normal((10, 16)) * 0.3, "b1": np.zeros(16),
            "w2": rng.standard_normal(16) * 0.3, "b2": np.zeros(())}


def flstm(np_):
    """An LSTM unrolled by a Python loop: 20 steps, batch 8, 16 inputs, 32 hidden units,
    softmax cross-entropy on the last state (the autograd examples' style)."""
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((20, 8, 16))
    ys = np.eye(10)[rng.integers(0, 10, 8)]

    def sig(x):
        return 1.0 / (1.0 + np_.exp(-x))

    def f(p):
        h = np_.zeros((8, 32))
        c = np_.zeros((8, 32))
        for t in range(20):
            z = np_.dot(np_.concatenate([xs[t], h], axis=1), p["W"]) + p["b"]
            c = sig(z[:, 32:64]) * c + sig(z[:, :32]) * np_.tanh(z[:, 96:])
            h = sig(z[:, 64:96]) * np_.tanh(c)
        logits = np_.dot(h, p["V"])
        m = np_.max(logits, axis=1, keepdims=True)
        lse = m + np_.log(np_.sum(np_.exp(logits - m), axis=1, keepdims=True))
        return -np_.mean(np_.sum(ys * (logits - lse), axis=1))
    return f


def lstm_params():
    rng = np.random.default_rng(4)
    return {"W": rng.standard_normal((48, 128)) * 0.1, "b": np.zeros(128),
            "V": rng.standard_normal((32, 10)) * 0.1}


def mlp_loss(np_like):
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


def mlp_data():
    rng = np.random.default_rng(0)
    params = [((rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32),
               np.zeros(n, np.float32)) for m, n in zip(SIZES[:-1], SIZES[1:])]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)]
    return params, x, y


def _x(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n)


# Each case: (body, args, mode) where mode is "grad", "grad01" (argnums=(0, 1)),
# "value_and_grad" or "has_aux".  Inputs are float64 NumPy arrays (float32 for the MLP).
CASES = {
    "5-op (50)": (f5, lambda: (_x(50),), "grad"),
    "20-op (100)": (f20, lambda: (_x(100), _x(100, 1)), "grad01"),
    "loop-built 10x (20)": (floop, lambda: (_x(20),), "grad"),
    "dict params": (fdict, lambda: (dict_params(),), "grad"),
    "value_and_grad 5-op": (f5, lambda: (_x(50),), "value_and_grad"),
    "has_aux 5-op": (f5, lambda: (_x(50),), "has_aux"),
    "LSTM loop 20 steps": (flstm, lambda: (lstm_params(),), "grad"),
    "MLP b256": (mlp_loss, lambda: mlp_data(), "grad"),
}


# ----------------------------------------------------------------------------- libraries
def _with_aux(f):
    def g(*args):
        v = f(*args)
        return v, {"loss": v}
    return g


def _jax_like(lib, np_like, tree_map, body, args, mode):
    """lepton and JAX share one API: (the transform for ``mode``, the arguments)."""
    f = body(np_like)
    args = tree_map(np_like.asarray, args)
    if mode == "grad":
        g = lib.grad(f)
    elif mode == "grad01":
        g = lib.grad(f, argnums=(0, 1))
    elif mode == "value_and_grad":
        g = lib.value_and_grad(f)
    else:
        g = lib.grad(_with_aux(f), has_aux=True)
    return g, args


def make_lepton(body, args, mode):
    import lepton
    import lepton.numpy as lnp
    g, args = _jax_like(lepton, lnp, lepton.tree.map, body, args, mode)
    return lambda: g(*args)


def make_autograd(body, args, mode):
    import autograd
    import autograd.numpy as anp
    f = body(anp)
    if mode == "grad":
        g = autograd.grad(f)
    elif mode == "grad01":
        g = autograd.grad(lambda xy: f(*xy))
        return lambda: g(args)
    elif mode == "value_and_grad":
        g = autograd.value_and_grad(f)
    else:  # autograd has no has_aux: the same loss with its aux returned alongside
        vg = autograd.value_and_grad(f)

        def g(*a):
            v, gr = vg(*a)
            return gr, {"loss": v}
    return lambda: g(*args)


def make_jax(body, args, mode):
    import jax
    import jax.numpy as jnp
    g, args = _jax_like(jax, jnp, jax.tree_util.tree_map, body, args, mode)

    def run():
        with jax.disable_jit():
            return jax.block_until_ready(g(*args))
    return run


def make_lepton_linearize(body, args, mode):
    """lepton with the tape off: eager grad re-linearizes every call (the old path)."""
    from lepton.transforms import tape
    fn = make_lepton(body, args, mode)

    def run():
        tape.ENABLED = False
        try:
            return fn()
        finally:
            tape.ENABLED = True
    return run


LIBS = {"lepton": make_lepton, "autograd": make_autograd, "jax-eager": make_jax}


# ----------------------------------------------------------------------------- timing
def _batch_time(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def interleaved_medians(fns: dict, rounds: int, min_time=0.02):
    """Median seconds per call of each ``fns`` entry; entries alternate every round."""
    numbers = {}
    for name, fn in fns.items():
        fn()
        fn()
        one = max(_batch_time(fn, 1), 1e-7)
        numbers[name] = max(1, int(min_time / one))
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(_batch_time(fn, numbers[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--only", default=None, help="run only cases whose name contains this")
    ap.add_argument("--baseline", action="store_true",
                    help="also time lepton with the tape off (linearize on every call)")
    ap.add_argument("--no-jax", action="store_true")
    opts = ap.parse_args(argv)
    if opts.baseline:
        LIBS["linearize"] = make_lepton_linearize
    if opts.no_jax:
        del LIBS["jax-eager"]
    print(f"{'case':22s} " + " ".join(f"{lib:>12s}" for lib in LIBS) +
          "   lepton/autograd  lepton/jax")
    for case, (body, make_args, mode) in CASES.items():
        if opts.only and opts.only not in case:
            continue
        fns = {}
        for lib, make in LIBS.items():
            try:
                fns[lib] = make(body, make_args(), mode)
            except ImportError:
                pass
        rounds = max(3, opts.rounds // 3) if case.startswith("MLP") else opts.rounds
        t = interleaved_medians(fns, rounds)
        cells = " ".join(f"{t[lib] * 1e6:10.1f}us" if lib in t else f"{'-':>12s}"
                         for lib in LIBS)
        ra = f"{t['lepton'] / t['autograd']:16.2f}x" if "autograd" in t else f"{'-':>17s}"
        rj = f"{t['lepton'] / t['jax-eager']:10.2f}x" if "jax-eager" in t else f"{'-':>11s}"
        print(f"{case:22s} {cells} {ra} {rj}", flush=True)


if __name__ == "__main__":
    main()
