"""Time to a fast step: what a user feels after changing a model and pressing enter.

Each (workload, library, cache state) runs in a fresh process that times every call of a
plain loop, with no ``wait_for_compilation()`` inside it: the first call, the time until
steps run at steady-state speed, the wall time of all N steps (compile included), and the
steady-state step.  lepton runs twice per round: with an empty kernel cache ("cold") and
then with the cache the cold process left ("warm").  JAX and PyTorch run where installed,
in the same rounds, alternating with lepton, and the table reports medians over rounds.

    python benchmarks/compile_latency.py                  # all workloads, 3 rounds
    python benchmarks/compile_latency.py --only mlp_step --rounds 1 --steps 100

"Time to steady" is the elapsed time, from the first call's start, to the end of the
last step that was still slower than 1.3x the steady-state median (the median of the
last third of the steps) among slow neighbours (the median of the five steps around it
also slower): after it, steps run at compiled speed.  A lone slow step (a collection, a
descheduled thread: JAX's loops show them every few dozen steps on this machine) does
not count; the first call always does.  "Meanwhile" is
the median of the calls before that (the first excluded): what a step costs while the
kernels compile; ``lepton-eager`` runs the same step with ``disable_jit`` (up to 40
calls), lepton's eager speed, which the issue bounds it by (<= 1.3x).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from _harness import compile_bytecode

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ("mlp_step", "mlp_step_vmapped_loss", "cnn_step", "lstm_step", "ew_fused")
SLOW = 1.3


# ----------------------------------------------------------------------------- workloads
def _lepton(name):
    import lepton
    import lepton.numpy as lnp
    sys.path.insert(0, HERE)
    import jit_workloads as W
    import lstm_step as L
    mlp_step, cnn_step, _, _ = W.lepton_workloads("cpu")
    if name == "mlp_step":
        return mlp_step, "mlp"
    if name == "cnn_step":
        return cnn_step, "cnn"
    if name == "lstm_step":
        return L.lepton_step("cpu")[0], "lstm"
    if name == "mlp_step_vmapped_loss":  # the way a JAX user writes a per-example loss
        def example_loss(params, x, y):
            for w, b in params[:-1]:
                x = lepton.nn.relu(lnp.dot(x, w) + b)
            w, b = params[-1]
            return -lnp.sum(lepton.nn.log_softmax(lnp.dot(x, w) + b) * y)

        def loss(params, xs, ys):
            return lnp.mean(lepton.vmap(example_loss, in_axes=(None, 0, 0))(params, xs, ys))

        @lepton.jit
        def step(params, xs, ys):
            grads = lepton.grad(loss)(params, xs, ys)
            return [(w - W.LR * gw, b - W.LR * gb) for (w, b), (gw, gb) in zip(params, grads)]
        return step, "mlp"
    if name == "ew_fused":
        return lepton.jit(lambda x: lnp.tanh(x) * lnp.exp(-x * x) + lnp.sin(x) * 0.5), "ew"
    raise KeyError(name)


def _jax(name):
    import jax
    import jax.numpy as jnp
    sys.path.insert(0, HERE)
    import jit_workloads as W
    import lstm_step as L
    mlp_step, cnn_step, _, _ = W.jax_workloads("cpu")
    if name == "mlp_step":
        return mlp_step, "mlp"
    if name == "cnn_step":
        return cnn_step, "cnn"
    if name == "lstm_step":
        return L.jax_step("cpu")[0], "lstm"
    if name == "mlp_step_vmapped_loss":
        def example_loss(params, x, y):
            for w, b in params[:-1]:
                x = jax.nn.relu(jnp.dot(x, w) + b)
            w, b = params[-1]
            return -jnp.sum(jax.nn.log_softmax(jnp.dot(x, w) + b) * y)

        def loss(params, xs, ys):
            return jnp.mean(jax.vmap(example_loss, in_axes=(None, 0, 0))(params, xs, ys))

        @jax.jit
        def step(params, xs, ys):
            grads = jax.grad(loss)(params, xs, ys)
            return [(w - W.LR * gw, b - W.LR * gb) for (w, b), (gw, gb) in zip(params, grads)]
        return step, "mlp"
    if name == "ew_fused":
        return jax.jit(lambda x: jnp.tanh(x) * jnp.exp(-x * x) + jnp.sin(x) * 0.5), "ew"
    raise KeyError(name)


def _torch(name):
    import torch
    sys.path.insert(0, HERE)
    import jit_workloads as W
    mlp_step, cnn_step, _, _ = W.torch_workloads("cpu")
    if name in ("mlp_step", "mlp_step_vmapped_loss"):
        return mlp_step, "mlp"
    if name == "cnn_step":
        return cnn_step, "cnn"
    if name == "ew_fused":  # torch.compile is what a PyTorch user reaches for here
        return torch.compile(lambda x: torch.tanh(x) * torch.exp(-x * x) + torch.sin(x) * 0.5), "ew"
    raise KeyError(name)  # no LSTM step written against torch.func here


def _args(kind, lib):
    sys.path.insert(0, HERE)
    import jit_workloads as W
    import lstm_step as L
    mlp, _, cnn, (x, y), (img, y64), _ = W.data()
    args = {"mlp": lambda: (mlp, x, y), "cnn": lambda: (cnn, img, y64),
            "lstm": lambda: L.params_and_data(28),
            "ew": lambda: (np.random.default_rng(0).standard_normal(1 << 23)
                           .astype(np.float32),)}[kind]()
    if lib == "torch":
        import torch
        args = torch.utils._pytree.tree_map(torch.as_tensor, args)
    return args


def _block(lib, out):
    if lib == "jax":
        import jax
        jax.block_until_ready(out)
    elif lib == "lepton":
        import lepton
        lepton.block_until_ready(out)


# ----------------------------------------------------------------------------- one process
def child(lib, name, steps):
    """Runs in a fresh process: time every call of a loop of ``steps`` calls."""
    t_start = time.perf_counter()
    eager = lib == "lepton-eager"  # the same step with jit off: lepton's eager speed
    lib = "lepton" if eager else lib
    maker = {"lepton": _lepton, "jax": _jax, "torch": _torch}[lib]
    step, kind = maker(name)
    args = _args(kind, lib)
    t_ready = time.perf_counter()
    times = []
    import contextlib
    with (__import__("lepton").disable_jit() if eager else contextlib.nullcontext()):
        for _ in range(min(steps, 40) if eager else steps):
            t0 = time.perf_counter()
            _block(lib, step(*args))
            times.append(time.perf_counter() - t0)
    out = summarise(times)
    out["import_and_build"] = t_ready - t_start
    if lib == "lepton":  # outside the timed loop: leave a full cache for the warm process
        import lepton
        lepton.wait_for_compilation()
    return out


def summarise(times):
    steady = statistics.median(times[-max(3, len(times) // 3):])

    def compiling(i):  # slow, among slow neighbours: a lone hiccup is not a compile
        around = times[max(0, i - 2):i + 3]
        return times[i] > SLOW * steady and statistics.median(around) > SLOW * steady

    last_slow = max((i for i in range(len(times)) if compiling(i)), default=0)
    meanwhile = times[1:last_slow + 1]  # the calls after the first, before steady speed
    return {"first_call": times[0], "to_steady": sum(times[:last_slow + 1]),
            "all_steps": sum(times), "steady": steady, "steps": len(times),
            "meanwhile": statistics.median(meanwhile) if meanwhile else steady}


def run_child(lib, name, steps, env):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", lib, "--only", name,
           "--steps", str(steps)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["?"]
        print(f"  {lib} {name}: failed ({tail[0]})", file=sys.stderr)
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def installed(lib):
    import importlib.util
    return importlib.util.find_spec(lib) is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", choices=WORKLOADS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--libs", default="lepton,lepton-eager,jax,torch")
    ap.add_argument("--child")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.only[0], a.steps)))
        return
    compile_bytecode()  # every timed process starts as from a normal install
    names = a.only or WORKLOADS
    libs = [lib for lib in a.libs.split(",")
            if lib in ("lepton", "lepton-eager") or installed(lib)]
    results = {}
    for _ in range(a.rounds):
        for name in names:
            steps = a.steps if name != "ew_fused" else max(20, a.steps // 10)
            for lib in libs:
                env = dict(os.environ)
                if lib != "lepton":
                    results.setdefault((name, lib), []).append(run_child(lib, name, steps, env))
                    continue
                cache = tempfile.mkdtemp(prefix="lepton-cold-")
                env["LEPTON_CACHE_DIR"] = cache
                try:
                    for state in ("cold", "warm"):
                        results.setdefault((name, f"lepton {state}"), []).append(
                            run_child(lib, name, steps, env))
                finally:
                    shutil.rmtree(cache, ignore_errors=True)
    print(f"\nmedians over {a.rounds} round(s); seconds; steady in ms; time to steady = "
          f"until every later step is within {SLOW}x the steady step")
    print(f"{'workload':24s} {'library':13s} {'first call':>10s} {'to steady':>10s} "
          f"{'N steps':>9s} {'steady ms':>10s} {'meanwhile ms':>13s}")
    for (name, lib), runs in results.items():
        runs = [r for r in runs if r]
        if not runs:
            print(f"{name:24s} {lib:13s} failed")
            continue
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{name:24s} {lib:13s} {med['first_call']:10.2f} {med['to_steady']:10.2f} "
              f"{med['all_steps']:9.2f} {med['steady'] * 1e3:10.2f} "
              f"{med['meanwhile'] * 1e3:13.2f}  (N={int(med['steps'])})")


if __name__ == "__main__":
    main()
