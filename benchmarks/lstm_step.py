"""One SGD step of an LSTM written with ``scan`` under jit (issue #5), lepton vs JAX.

LSTM: input 28, hidden 128, 28 steps, batch 64, then Dense(10) and softmax cross-entropy.
The gates use each library's sigmoid primitive (``lax.logistic``; ``jax.nn.sigmoid`` is it).
Also reports a fresh step's first call (trace, compile, one run) as the sequence length
grows from 28 to 1000: with a loop primitive the compile part stays flat (lepton reuses the
T=28 kernels; what grows is running 1000 steps and first-touching their residuals).  The
steady step is timed after 1.5 s of steps, as a training loop runs.  Each library runs in
its own process.
Run: python benchmarks/lstm_step.py [--backend cpu]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from _harness import median_seconds

HIDDEN, INPUT, BATCH = 128, 28, 64


def params_and_data(steps, seed=0):
    rng = np.random.default_rng(seed)
    p = {"wx": rng.standard_normal((INPUT, 4 * HIDDEN)).astype(np.float32) * 0.1,
         "wh": rng.standard_normal((HIDDEN, 4 * HIDDEN)).astype(np.float32) * 0.1,
         "b": np.zeros(4 * HIDDEN, np.float32),
         "wo": rng.standard_normal((HIDDEN, 10)).astype(np.float32) * 0.1,
         "bo": np.zeros(10, np.float32)}
    x = rng.standard_normal((steps, BATCH, INPUT)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)]
    return p, x, y


def make_step(np_like, scan, grad, jit, tree_map, sigmoid, log_softmax):
    def loss(p, x, y):
        def cell(carry, xt):
            h, c = carry
            z = xt @ p["wx"] + h @ p["wh"] + p["b"]
            i, f, g, o = (z[:, k * HIDDEN:(k + 1) * HIDDEN] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np_like.tanh(g)
            h = sigmoid(o) * np_like.tanh(c)
            return (h, c), None

        h0 = np_like.zeros((x.shape[1], HIDDEN), np.float32)
        (h, _), _ = scan(cell, (h0, h0), x)
        logits = h @ p["wo"] + p["bo"]
        return -np_like.mean(np_like.sum(y * log_softmax(logits), axis=-1))

    def step(p, x, y):
        g = grad(loss)(p, x, y)
        return tree_map(lambda a, b: a - 0.01 * b, p, g)

    return jit(step)


def lepton_step(backend):
    import lepton
    import lepton.numpy as lnp

    def log_softmax(z):
        m = lnp.max(z, axis=-1, keepdims=True)
        return z - m - lnp.log(lnp.sum(lnp.exp(z - m), axis=-1, keepdims=True))

    return make_step(lnp, lepton.lax.scan, lepton.grad,
                     lambda f: lepton.jit(f, backend=backend), lepton.tree.map,
                     lepton.lax.logistic, log_softmax), lambda t: t


def lepton_stax_step(backend):
    """The same classifier as a stax model: ``serial(LSTM(128), Dense(10))`` on
    batch-major input, SGD on its params (built once, closed over by ``step``)."""
    import lepton
    from lepton import nn, random, stax
    init_fun, apply_fun = stax.serial(stax.LSTM(HIDDEN), stax.Dense(10))
    _, params = init_fun(random.PRNGKey(0), (-1, 1, INPUT))

    def loss(params, x, y):
        return nn.losses.categorical_crossentropy(y, apply_fun(params, x), from_logits=True)

    @lepton.jit
    def update(params, x, y):
        g = lepton.grad(loss)(params, x, y)
        return lepton.tree.map(lambda a, b: a - 0.01 * b, params, g)

    def step(p, x, y):  # x arrives time-major, as the hand-written cell takes it
        return update(params, x.transpose(1, 0, 2), y)
    return step, lambda t: t


def jax_step(backend):
    import jax
    import jax.numpy as jnp
    return make_step(jnp, jax.lax.scan, jax.grad, jax.jit, jax.tree_util.tree_map,
                     jax.nn.sigmoid, jax.nn.log_softmax), jax.block_until_ready


def _first_call_seconds(lib, step, args):
    """Wall time of a fresh jitted step's first call until it has run compiled: trace,
    compile (or load from lepton's kernel cache) and one step, for both libraries (the
    step at T=1000 runs ~0.35 s and first-touches ~0.5 GB of stacked residuals)."""
    t0 = time.perf_counter()
    if lib == "jax":
        import jax
        jax.block_until_ready(step(*args))
        return time.perf_counter() - t0
    import lepton
    # until every program (the step and its loop bodies) runs compiled: they compile side
    # by side in compile children; the step itself may run on the reference tier meanwhile
    lepton.block_until_ready(step(*args))
    lepton.wait_for_compilation()
    return time.perf_counter() - t0


def settle(fn, seconds=1.5):
    """Steps for a while first, as a training loop runs: lepton's BLAS policy counts the
    compile children's CPU time as load for half a second after they finish."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()


def run(lib, backend):
    make = {"lepton": lepton_step, "lepton-stax": lepton_stax_step, "jax": jax_step}[lib]
    out = {}
    for steps in (28, 100, 1000):
        p, x, y = params_and_data(steps)
        step, block = make(backend)  # a fresh jitted function: the first call traces+compiles
        out[f"first_call_T{steps}"] = _first_call_seconds(lib, step, (p, x, y))
        if steps == 28:
            settle(lambda: block(step(p, x, y)))
            out["step_T28"] = median_seconds(lambda: block(step(p, x, y)), repeat=7)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib")
    ap.add_argument("--backend", default=os.environ.get("LEPTON_BACKEND", "cpu"))
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternate the libraries' processes this many times (the shared "
                         "machine's speed drifts; alternating exposes both to it)")
    args = ap.parse_args()
    if args.lib:
        print(json.dumps(run(args.lib, args.backend)))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    rounds: dict = {}
    for _ in range(args.rounds):
        for lib in ("lepton", "lepton-stax", "jax"):
            proc = subprocess.run([sys.executable, os.path.join(here, "lstm_step.py"), "--lib",
                                   lib, "--backend", args.backend], capture_output=True,
                                  text=True, cwd=here)
            if proc.returncode != 0:
                print(f"({lib}: not run: {proc.stderr.strip().splitlines()[-1:]})")
                continue
            rounds.setdefault(lib, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    # Steady state: the median over rounds; first calls: the first (coldest) round.
    results = {lib: dict(rs[0], step_T28=statistics.median(r["step_T28"] for r in rs),
                         steps=[r["step_T28"] for r in rs]) for lib, rs in rounds.items()}
    keys = ["step_T28", "first_call_T28", "first_call_T100", "first_call_T1000"]
    print(f"{'measure':22s}" + "".join(f"{lib:>12s}" for lib in results) + "   lepton(s)/jax")
    for k in keys:
        vals = [results[lib][k] for lib in results]
        ratio = "  ".join(f"{results[lib][k] / results['jax'][k]:6.2f}x" for lib in results
                          if lib != "jax") if "jax" in results else ""
        print(f"{k:22s}" + "".join(f"{v * 1e3:10.1f}ms" for v in vals) + "   " + ratio)
    for lib in results:
        print(f"{lib} step_T28 per round: "
              + ", ".join(f"{t * 1e3:.1f}ms" for t in results[lib]["steps"]))


if __name__ == "__main__":
    main()
