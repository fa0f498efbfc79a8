"""Jitted training workloads side by side: lepton vs JAX (jax.jit) vs PyTorch (where installed).

Each library runs in its own process (``python jit_workloads.py --lib NAME``); the parent
collects the medians and prints ratios.  Workloads (issue #4):
  mlp_step           SGD step (grad + update), MLP 784-1024-1024-10 ReLU, softmax CE, batch 256
  cnn_step           SGD step, Conv(6 5x5 SAME)+ReLU+MaxPool 2x2+Dense(10), batch 64, 28x28x1
  per_example_grads  jit(vmap(grad(loss), in_axes=(None, 0, 0))), MLP 784-128-10, batch 128
  first_call_mlp     first call of mlp_step in a fresh process (cold cache; warm for lepton too).
                     lepton's default tiered mode answers it with the reference interpreter
                     while kernels compile in the background; the steady-state timings wait
                     for compilation first.
Run: python benchmarks/jit_workloads.py [--backend cpu]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from _harness import median_seconds

LR = 0.01


def data(seed=0):
    rng = np.random.default_rng(seed)
    mlp = [((rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32),
            np.zeros(n, np.float32)) for m, n in zip([784, 1024, 1024], [1024, 1024, 10])]
    small = [((rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32),
              np.zeros(n, np.float32)) for m, n in zip([784, 128], [128, 10])]
    cnn = {"k": rng.standard_normal((5, 5, 1, 6)).astype(np.float32) * 0.2,
           "kb": np.zeros(6, np.float32),
           "w": rng.standard_normal((14 * 14 * 6, 10)).astype(np.float32) * 0.02,
           "b": np.zeros(10, np.float32)}
    x256 = rng.standard_normal((256, 784)).astype(np.float32)
    y256 = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    img = rng.standard_normal((64, 28, 28, 1)).astype(np.float32)
    y64 = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    return mlp, small, cnn, (x256, y256), (img, y64), (x256[:128], y256[:128])


# ----------------------------------------------------------------------------- lepton
def lepton_workloads(backend):
    import lepton
    import lepton.numpy as lnp
    from lepton.primitives.conv import conv_general_dilated, reduce_window

    def xent(logits, y):
        m = lnp.max(logits, axis=-1, keepdims=True)
        lse = m + lnp.log(lnp.sum(lnp.exp(logits - m), axis=-1, keepdims=True))
        return -lnp.mean(lnp.sum(y * (logits - lse), axis=-1))

    def mlp_loss(params, x, y):
        for w, b in params[:-1]:
            x = lnp.maximum(x @ w + b, 0.0)
        w, b = params[-1]
        return xent(x @ w + b, y)

    def cnn_loss(p, x, y):
        h = conv_general_dilated(x, p["k"], (1, 1), "SAME",
                                 dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["kb"]
        h = lnp.maximum(h, 0.0)
        h = reduce_window(h, -np.inf, "max", (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        h = h.reshape((h.shape[0], -1))
        return xent(h @ p["w"] + p["b"], y)

    def sgd(loss):
        def step(p, x, y):
            g = lepton.grad(loss)(p, x, y)
            return lepton.tree.map(lambda a, b: a - LR * b, p, g)
        return lepton.jit(step, backend=backend)

    def per_example(loss):
        return lepton.jit(lepton.vmap(lepton.grad(loss), in_axes=(None, 0, 0)), backend=backend)

    return sgd(mlp_loss), sgd(cnn_loss), per_example(mlp_loss), lambda t: t


def settle(lib, step, seconds=1.5):
    """Let tiered compiles finish so steady-state timings measure compiled code, then run
    ``step`` for a while, as a training loop does (every library alike): lepton's BLAS
    policy counts the finished compile children's CPU time as load for half a second."""
    if lib == "lepton":
        import lepton
        lepton.wait_for_compilation()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()


# ----------------------------------------------------------------------------- JAX
def jax_workloads(backend):
    import jax
    import jax.numpy as jnp

    def xent(logits, y):
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits), axis=-1))

    def mlp_loss(params, x, y):
        for w, b in params[:-1]:
            x = jnp.maximum(x @ w + b, 0.0)
        w, b = params[-1]
        return xent(x @ w + b, y)

    def cnn_loss(p, x, y):
        h = jax.lax.conv_general_dilated(x, p["k"], (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["kb"]
        h = jnp.maximum(h, 0.0)
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        return xent(h.reshape((h.shape[0], -1)) @ p["w"] + p["b"], y)

    def sgd(loss):
        @jax.jit
        def step(p, x, y):
            g = jax.grad(loss)(p, x, y)
            return jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g)
        return step

    per_example = jax.jit(jax.vmap(jax.grad(mlp_loss), in_axes=(None, 0, 0)))
    return sgd(mlp_loss), sgd(cnn_loss), per_example, jax.block_until_ready


# ----------------------------------------------------------------------------- PyTorch
def torch_workloads(backend):
    import torch
    from torch.func import grad, vmap

    torch.set_num_threads(os.cpu_count() or 2)

    def xent(logits, y):
        return -(y * torch.log_softmax(logits, -1)).sum(-1).mean()

    def mlp_loss(params, x, y):
        for w, b in params[:-1]:
            x = torch.relu(x @ w + b)
        w, b = params[-1]
        return xent(x @ w + b, y)

    def cnn_loss(p, x, y):
        h = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), p["k"].permute(3, 2, 0, 1),
                                       padding=2) + p["kb"][:, None, None]
        h = torch.nn.functional.max_pool2d(torch.relu(h), 2)
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        return xent(h @ p["w"] + p["b"], y)

    def sgd(loss):
        g = grad(loss)

        def step(p, x, y):
            gr = g(p, x, y)
            return torch.utils._pytree.tree_map(lambda a, b: a - LR * b, p, gr)
        return step

    return sgd(mlp_loss), sgd(cnn_loss), vmap(grad(mlp_loss), in_dims=(None, 0, 0)), lambda t: t


# ----------------------------------------------------------------------------- runner
def run_one(lib, backend, only_first_call=False):
    mlp, small, cnn, (x, y), (img, y64), (xs, ys) = data()
    if lib == "torch":
        import torch
        to = lambda t: torch.utils._pytree.tree_map(torch.as_tensor, t)  # noqa: E731
        mlp, small, cnn, x, y, img, y64, xs, ys = map(to, (mlp, small, cnn, x, y, img, y64,
                                                           xs, ys))
    make = {"lepton": lepton_workloads, "jax": jax_workloads, "torch": torch_workloads}[lib]
    t0 = time.perf_counter()
    mlp_step, cnn_step, per_ex, block = make(backend)
    block(mlp_step(mlp, x, y))
    first = time.perf_counter() - t0
    if only_first_call:
        return {"first_call_mlp": first}
    block(cnn_step(cnn, img, y64))
    block(per_ex(small, xs, ys))
    settle(lib, lambda: block(mlp_step(mlp, x, y)))
    return {
        "first_call_mlp": first,
        "mlp_step": median_seconds(lambda: block(mlp_step(mlp, x, y)), repeat=5),
        "cnn_step": median_seconds(lambda: block(cnn_step(cnn, img, y64)), repeat=5),
        "per_example_grads": median_seconds(lambda: block(per_ex(small, xs, ys)), repeat=5),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib")
    ap.add_argument("--backend", default=os.environ.get("LEPTON_BACKEND", "cpu"))
    ap.add_argument("--first-call-only", action="store_true")
    ap.add_argument("--rounds", type=int, default=5, help="alternations of the libraries")
    args = ap.parse_args()
    if args.lib:
        print(json.dumps(run_one(args.lib, args.backend, args.first_call_only)))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    cache = tempfile.mkdtemp(prefix="lepton-bench-cache-")
    rounds: dict = {}
    for _ in range(args.rounds):  # alternate the libraries: the shared machine's speed drifts
        for lib in ("lepton", "jax", "torch"):
            env = dict(os.environ, LEPTON_CACHE_DIR=cache)
            proc = subprocess.run([sys.executable, os.path.join(here, "jit_workloads.py"),
                                   "--lib", lib, "--backend", args.backend],
                                  capture_output=True, text=True, env=env, cwd=here)
            if proc.returncode != 0:
                print(f"({lib}: not run: {proc.stderr.strip().splitlines()[-1:]})")
                continue
            rounds.setdefault(lib, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    # Steady-state rows: the median over rounds; first calls: the first round (the only
    # one with a cold kernel cache for lepton).
    results = {lib: {k: (v if k.startswith("first_call") else
                         statistics.median(r[k] for r in rs)) for k, v in rs[0].items()}
               for lib, rs in rounds.items()}
    if "lepton" in results:  # warm persistent cache: a second fresh process
        proc = subprocess.run([sys.executable, os.path.join(here, "jit_workloads.py"), "--lib",
                               "lepton", "--backend", args.backend, "--first-call-only"],
                              capture_output=True, text=True, cwd=here,
                              env=dict(os.environ, LEPTON_CACHE_DIR=cache))
        if proc.returncode == 0:
            results["lepton"]["first_call_mlp_warm_cache"] = json.loads(
                proc.stdout.strip().splitlines()[-1])["first_call_mlp"]
    keys = ["mlp_step", "cnn_step", "per_example_grads", "first_call_mlp",
            "first_call_mlp_warm_cache"]
    print(f"{'workload':28s}" + "".join(f"{lib:>14s}" for lib in results) + "   lepton/jax")
    for k in keys:
        row = [results[lib].get(k) for lib in results]
        ratio = ""
        if "jax" in results and results["lepton"].get(k) and results["jax"].get(
                k if k != "first_call_mlp_warm_cache" else "first_call_mlp"):
            base = results["jax"][k if k != "first_call_mlp_warm_cache" else "first_call_mlp"]
            ratio = f"{results['lepton'][k] / base:10.2f}x"
        print(f"{k:28s}" + "".join(f"{(v * 1e3 if v else float('nan')):12.2f}ms" for v in row)
              + "   " + ratio)


if __name__ == "__main__":
    main()
