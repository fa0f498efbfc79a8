"""The quick-start CNN trained by ``fit`` against the same model in other loops (issue #12).

Model: Conv 6@5x5 relu, MaxPool 2, Flatten, Dense 10 softmax; adam 1e-3, categorical
cross-entropy, batch 64, 10 epochs.  Runs, each a fresh process timed from spawn to exit:

* ``lepton-fit``: ``lepton.keras`` ``Sequential.fit`` (the README's main job);
* ``lepton-stax``: the same model in a hand-written lepton.stax + optimizers loop;
* ``jax``: the same loop with ``jax.example_libraries`` (if JAX is installed);
* ``keras3-jax``: Keras 3 on its JAX backend (if Keras is installed).

``--data sample`` (default) uses the 8,000 / 2,000 split of the real MNIST test digits;
``--data fashion`` the full Fashion-MNIST (Debian's dataset-fashion-mnist).  lepton runs
with an empty kernel cache (cold) and again with the cache it left (warm).  Rounds alternate
the order; wall and epoch times are medians over the rounds.  Run ``k`` trains every library
from seed ``k`` (initial weights, shuffles); test accuracy is the mean, standard deviation
and range over ``--seeds`` seeds (one random run says little: on the 8,000-digit split the
run-to-run spread is about a point), with extra untimed runs when seeds > rounds.
Run: python benchmarks/keras_fit.py [--rounds 3] [--seeds 3] [--epochs 10]
[--data sample|fashion]
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

from _harness import compile_bytecode

HERE = os.path.dirname(os.path.abspath(__file__))


def load(data):
    """uint8 images (n, 28, 28) and int labels, without importing any ML library."""
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    if data == "fashion":
        from lepton.datasets import fashion_mnist
        (x, y), (xt, yt) = fashion_mnist.load_data(download=False, verbose=False)
    else:
        from lepton.datasets import mnist
        (x, y), (xt, yt) = mnist.load_sample()
    return x, y.astype(np.int64), xt, yt.astype(np.int64)


def prepared(data):
    x, y, xt, yt = load(data)
    f = np.float32
    return (x[..., None].astype(f) / 255, np.eye(10, dtype=f)[y], xt[..., None].astype(f) / 255,
            yt)


def fit_and_score(keras, model, x, y, xt, yt, epochs):
    """Keras-style ``fit`` with per-epoch wall times, then test accuracy (either Keras)."""
    epoch_times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[Timer()])
    probs = model.predict(xt, batch_size=500, verbose=0)
    return float(np.mean(probs.argmax(1) == yt)), epoch_times


def run_lepton_fit(data, epochs, seed):
    import lepton.keras as keras
    from lepton.keras import layers
    keras.utils.set_random_seed(seed)
    x, y, xt, yt = prepared(data)
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(6, (5, 5), activation="relu"),
                              layers.MaxPooling2D((2, 2)), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return fit_and_score(keras, model, x, y, xt, yt, epochs)


def run_stax_loop(lib, data, epochs, seed):
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        from jax import random
        from jax.example_libraries import optimizers, stax
    else:
        import lepton as jax
        import lepton.numpy as jnp
        from lepton import optimizers, random, stax
    x, y, xt, yt = prepared(data)
    init_fun, predict = stax.serial(stax.Conv(6, (5, 5)), stax.Relu,
                                    stax.MaxPool((2, 2), strides=(2, 2)), stax.Flatten,
                                    stax.Dense(10), stax.LogSoftmax)

    def loss(params, xb, yb):
        return -jnp.mean(jnp.sum(predict(params, xb) * yb, axis=1))

    opt_init, opt_update, get_params = optimizers.adam(1e-3)

    @jax.jit
    def update(i, opt_state, xb, yb):
        return opt_update(i, jax.grad(loss)(get_params(opt_state), xb, yb), opt_state)

    predict_jit = jax.jit(predict)
    _, params = init_fun(random.PRNGKey(seed), (-1, 28, 28, 1))
    opt_state = opt_init(params)
    rng = np.random.default_rng(seed)
    step, epoch_times = 0, []
    for _ in range(epochs):
        t = time.perf_counter()
        perm = rng.permutation(len(x))
        for k in range(0, len(x), 64):
            idx = perm[k:k + 64]
            opt_state = update(step, opt_state, x[idx], y[idx])
            step += 1
        np.asarray(get_params(opt_state)[0][0])
        epoch_times.append(time.perf_counter() - t)
    params = get_params(opt_state)
    preds = np.concatenate([np.asarray(predict_jit(params, xt[k:k + 500]))
                            for k in range(0, len(xt), 500)])
    return float(np.mean(preds.argmax(1) == yt)), epoch_times


def run_keras3(data, epochs, seed):
    os.environ["KERAS_BACKEND"] = "jax"
    import keras
    keras.utils.set_random_seed(seed)
    x, y, xt, yt = prepared(data)
    model = keras.Sequential([keras.Input((28, 28, 1)),
                              keras.layers.Conv2D(6, (5, 5), activation="relu"),
                              keras.layers.MaxPooling2D((2, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return fit_and_score(keras, model, x, y, xt, yt, epochs)


RUNNERS = {"lepton-fit": run_lepton_fit,
           "lepton-stax": lambda d, e, s: run_stax_loop("lepton", d, e, s),
           "jax": lambda d, e, s: run_stax_loop("jax", d, e, s),
           "keras3-jax": run_keras3}


def child(name, data, epochs, cache, seed):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if cache:
        env["LEPTON_CACHE_DIR"] = cache
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", name, "--data", data,
                          "--epochs", str(epochs), "--seed", str(seed)],
                         capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    acc, epoch_times = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall": wall, "acc": acc, "seed": seed,
            "epoch": statistics.median(epoch_times[1:] or epoch_times)}


def available(name):
    mod = {"jax": "jax", "keras3-jax": "keras"}.get(name)
    if mod is None:
        return True
    import importlib.util
    return importlib.util.find_spec(mod) is not None


def accuracy_summary(runs, seeds):
    """Mean, sample standard deviation and range of the test accuracy over the runs of
    distinct seeds ``0 .. seeds - 1`` (the first run of each)."""
    acc = {}
    for r in runs:
        if r["seed"] < seeds:
            acc.setdefault(r["seed"], r["acc"])
    v = list(acc.values())
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return {"mean": statistics.fmean(v), "sd": sd, "min": min(v), "max": max(v), "n": len(v)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (medians)")
    ap.add_argument("--seeds", type=int, default=3,
                    help="seeds the accuracy is averaged over")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--data", choices=["sample", "fashion"], default="sample")
    ap.add_argument("--child")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.rounds < 1 or args.seeds < 1:
        ap.error("--rounds and --seeds must be at least 1")
    if args.child:
        print(json.dumps(RUNNERS[args.child](args.data, args.epochs, args.seed)))
        return
    compile_bytecode()  # every timed process starts as from a normal install
    names = [n for n in RUNNERS if available(n)]
    timed, untimed = {}, {}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as warm_cache:
        for r in range(max(args.rounds, args.seeds)):
            order = names if r % 2 == 0 else names[::-1]
            seed = r % args.seeds
            if r >= args.rounds:  # accuracy only: one warm run each
                for name in order:
                    cache = os.path.join(warm_cache, name) if name.startswith("lepton") \
                        else None
                    untimed.setdefault(name, []).append(
                        child(name, args.data, args.epochs, cache, seed))
                print(f"seed {seed} (untimed) done", flush=True)
                continue
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as cache:
                for name in order:
                    if name.startswith("lepton"):
                        sub = os.path.join(cache, name)
                        timed.setdefault(name + " cold", []).append(
                            child(name, args.data, args.epochs, sub, seed))
                        timed.setdefault(name + " warm", []).append(
                            child(name, args.data, args.epochs, sub, seed))
                    else:
                        timed.setdefault(name, []).append(
                            child(name, args.data, args.epochs, None, seed))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]['wall']:.1f}s"
                                                 for k, v in timed.items()), flush=True)
    med = {k: {f: statistics.median(x[f] for x in v) for f in ("wall", "epoch")}
           for k, v in timed.items()}
    acc = {k: accuracy_summary(v + untimed.get(k.split()[0], []), args.seeds)
           for k, v in timed.items()}
    print(f"\nquick-start CNN, {args.epochs} epochs, data={args.data}; wall time from process "
          f"start, medians of {args.rounds} rounds; test accuracy over seeds 0..{args.seeds - 1}")
    ref = {k: med[k]["wall"] for k in ("jax", "keras3-jax", "lepton-stax warm") if k in med}
    head = "".join(f" {'vs ' + k:>18s}" for k in ref)
    print(f"  {'run':18s} {'wall s':>8s} {'epoch s':>8s} {'accuracy mean +- sd':>20s} "
          f"{'[min, max]':>17s}{head}")
    for k, m in med.items():
        a = acc[k]
        ratios = "".join(f" {m['wall'] / v:17.2f}x" for v in ref.values())
        print(f"  {k:18s} {m['wall']:8.1f} {m['epoch']:8.2f} {a['mean']:12.4f} +- "
              f"{a['sd']:.4f} [{a['min']:.4f}, {a['max']:.4f}]{ratios}")


if __name__ == "__main__":
    main()
