"""Train the same stax CNN with lepton and with ``jax.example_libraries`` (issue #11).

Model: Conv 32 3x3 SAME, Relu, MaxPool 2x2/2, Conv 64 3x3 SAME, Relu, MaxPool, Flatten,
Dense 128, Relu, Dense 10, LogSoftmax; adam 1e-3, batch 64, 5 epochs on 8,000 real MNIST
digits (the official test split's first 8,000), tested on the other 2,000.  The training
script is one function written against the stax/optimizers API; only the imports differ.

Each run is a fresh process, timed by the parent from spawn to exit (what a user waits
for).  lepton runs twice per round: with an empty kernel cache (cold) and again with the
cache that run left (warm).  Rounds alternate the libraries; the table shows medians.
Run: python benchmarks/stax_train.py [--rounds 3] [--epochs 5]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from _harness import compile_bytecode

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "shared", "data", "mnist")


def load_split():
    """The 10,000 official MNIST test digits as an 8,000 / 2,000 train/test split (NHWC)."""
    def read(name, offset):
        path = os.path.join(MNIST, name)
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: this benchmark needs ../shared/data/mnist")
        with gzip.open(path, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    x = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype(np.float32) / 255
    y = read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


def train(lib, epochs, batch=64, seed=0):
    """The user's script: stax model, adam, a jitted update, a shuffled epoch loop."""
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        from jax import random
        from jax.example_libraries import optimizers, stax
        jit, grad = jax.jit, jax.grad
    else:
        import lepton as jax  # noqa: F401  (the only change a JAX user makes)
        import lepton.numpy as jnp
        from lepton import optimizers, random, stax
        jit, grad = jax.jit, jax.grad

    init_fun, predict = stax.serial(
        stax.Conv(32, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2), strides=(2, 2)),
        stax.Conv(64, (3, 3), padding="SAME"), stax.Relu, stax.MaxPool((2, 2), strides=(2, 2)),
        stax.Flatten, stax.Dense(128), stax.Relu, stax.Dense(10), stax.LogSoftmax)

    def loss(params, batch):
        inputs, targets = batch
        return -jnp.mean(jnp.sum(predict(params, inputs) * targets, axis=1))

    opt_init, opt_update, get_params = optimizers.adam(1e-3)

    @jit
    def update(i, opt_state, batch):
        return opt_update(i, grad(loss)(get_params(opt_state), batch), opt_state)

    @jit
    def accuracy(params, inputs, labels):
        return jnp.mean(jnp.argmax(predict(params, inputs), axis=1) == labels)

    (x_tr, y_tr), (x_te, y_te) = load_split()
    onehot = np.eye(10, dtype=np.float32)
    _, params = init_fun(random.PRNGKey(seed), (-1, 28, 28, 1))
    opt_state = opt_init(params)
    rng = np.random.default_rng(seed)
    step, first_step_s, t0 = 0, None, time.perf_counter()
    for _ in range(epochs):
        perm = rng.permutation(len(x_tr))
        for k in range(0, len(x_tr), batch):
            idx = perm[k:k + batch]
            opt_state = update(step, opt_state, (x_tr[idx], onehot[y_tr[idx]]))
            step += 1
            if first_step_s is None:
                np.asarray(get_params(opt_state)[-2][0])  # block until the first step is done
                first_step_s = time.perf_counter() - t0
    acc = float(accuracy(get_params(opt_state), x_te, y_te))
    return {"accuracy": acc, "first_step_s": first_step_s,
            "train_s": time.perf_counter() - t0, "steps": step}


def run_child(lib, epochs, cache_dir):
    env = dict(os.environ)
    if cache_dir:
        env["LEPTON_CACHE_DIR"] = cache_dir
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", lib, "--epochs", str(epochs)],
                         capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{lib} run failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(train(args.child, args.epochs)))
        return
    compile_bytecode()  # every timed process starts as from a normal install
    try:
        import jax  # noqa: F401
        libs = ["jax"]
    except ImportError:
        libs = []
        print("JAX is not installed: lepton runs alone (pip install jax for the comparison)")
    runs = {"lepton cold": [], "lepton warm": [], "jax": []}
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as cache:
            order = ["lepton"] + libs if r % 2 == 0 else libs + ["lepton"]
            for lib in order:
                if lib == "jax":
                    runs["jax"].append(run_child("jax", args.epochs, None))
                else:
                    runs["lepton cold"].append(run_child("lepton", args.epochs, cache))
                    runs["lepton warm"].append(run_child("lepton", args.epochs, cache))
        print(f"round {r + 1}: " + ", ".join(
            f"{k} {v[-1]['wall_s']:.1f}s acc {v[-1]['accuracy']:.4f}" for k, v in runs.items() if v))
    print(f"\nstax CNN, {args.epochs} epochs on 8,000 MNIST digits, batch 64 "
          f"(medians of {args.rounds} rounds, wall time from process start)")
    jax_wall = statistics.median(r["wall_s"] for r in runs["jax"]) if runs["jax"] else None
    print(f"  {'run':12s} {'wall s':>8s} {'first step s':>13s} {'accuracy':>9s} {'vs JAX':>7s}")
    for name, rs in runs.items():
        if not rs:
            continue
        wall = statistics.median(r["wall_s"] for r in rs)
        first = statistics.median(r["first_step_s"] for r in rs)
        acc = statistics.median(r["accuracy"] for r in rs)
        ratio = f"{wall / jax_wall:6.2f}x" if jax_wall else ""
        print(f"  {name:12s} {wall:8.1f} {first:13.2f} {acc:9.4f} {ratio:>7s}")


if __name__ == "__main__":
    main()
