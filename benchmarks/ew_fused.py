"""A fused elementwise chain ending in a reduction: lepton (cpu backend) vs NumPy vs JAX.

    sum(tanh(x) * 2 + sin(x) ** 2 - exp(-x * x))   on 2**23 float32 values

lepton.jit(backend='cpu') compiles this to one loop nest; NumPy makes a temporary per op;
jax.jit fuses it with XLA.  Prints the median times and ratios (target: lepton <= 0.5x JAX).
Run: python benchmarks/ew_fused.py [--log2n 23]
"""
from __future__ import annotations

import argparse

import numpy as np

from _harness import median_seconds, report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", type=int, default=23)
    ap.add_argument("--repeat", type=int, default=9)
    n = 1 << ap.parse_args().log2n
    repeat = ap.parse_args().repeat
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    results, values = {}, {}

    import lepton
    import lepton.numpy as lnp
    f = lepton.jit(lambda x: lnp.sum(lnp.tanh(x) * 2 + lnp.sin(x) ** 2 - lnp.exp(-x * x)),
                   backend="cpu")
    xl = lnp.asarray(x)
    f(xl)
    lepton.wait_for_compilation()  # time the compiled program, not the tier before it
    values["lepton"] = float(f(xl))
    results["lepton"] = median_seconds(lambda: f(xl), repeat=repeat)

    def numpy_fn(x):
        return np.sum(np.tanh(x) * 2 + np.sin(x) ** 2 - np.exp(-x * x))

    values["numpy"] = float(numpy_fn(x))
    results["numpy"] = median_seconds(lambda: numpy_fn(x), repeat=repeat)

    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("jax not installed: skipping it")
    else:
        g = jax.jit(lambda x: jnp.sum(jnp.tanh(x) * 2 + jnp.sin(x) ** 2 - jnp.exp(-x * x)))
        xj = jnp.asarray(x)
        values["jax"] = float(g(xj))
        results["jax"] = median_seconds(lambda: g(xj).block_until_ready(), repeat=repeat)

    exact = float(np.sum(np.tanh(x.astype(np.float64)) * 2 + np.sin(x.astype(np.float64)) ** 2
                         - np.exp(-x.astype(np.float64) ** 2)))
    report(f"sum(tanh(x)*2 + sin(x)**2 - exp(-x*x)), n = 2**{n.bit_length() - 1} float32",
           results)
    for lib, v in values.items():
        err = abs(v - exact) / abs(exact)
        print(f"  {lib:10s} value {v:.7g}  (relative error vs float64 {err:.1e})")
    if "jax" in results:
        print(f"  lepton / jax = {results['lepton'] / results['jax']:.3f}  (target <= 0.5)")


if __name__ == "__main__":
    main()
