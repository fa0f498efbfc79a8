"""Per-call overhead of a jitted function on tiny inputs (10 float32 elements).

Reports the median microseconds per call of lepton.jit on the cpu and reference backends
and, for scale, the same computation in NumPy and under jax.jit when JAX is installed.
Target: lepton.jit(backend='cpu') <= 20 us per call.
Run: python benchmarks/jit_overhead.py
"""
from __future__ import annotations


import numpy as np

from _harness import median_us


def main():
    import lepton
    import lepton.numpy as lnp

    def fn(x, y):
        return lnp.tanh(x) * y + 1.0

    x = np.random.default_rng(0).standard_normal(10).astype(np.float32)
    y = np.random.default_rng(1).standard_normal(10).astype(np.float32)
    xl, yl = lnp.asarray(x), lnp.asarray(y)
    rows = {}
    for backend in ("cpu", "reference"):
        f = lepton.jit(fn, backend=backend)
        f(xl, yl)
        lepton.wait_for_compilation()
        rows[f"lepton.jit {backend}"] = median_us(lambda: f(xl, yl))
    from lepton.backends.cpu import backend as numba_cpu
    f = lepton.jit(fn, backend="cpu")
    exe = numba_cpu.compile(f.make_jaxpr(xl, yl).jaxpr)
    rows["cpu executable alone"] = median_us(lambda: exe(x, y))
    rows["lepton eager"] = median_us(lambda: fn(xl, yl))
    rows["numpy"] = median_us(lambda: np.tanh(x) * y + np.float32(1.0))
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        g = jax.jit(lambda x, y: jnp.tanh(x) * y + 1.0)
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        rows["jax.jit"] = median_us(lambda: g(xj, yj).block_until_ready())
    print("\njitted call overhead, tanh(x) * y + 1 on 10 float32 elements (median us/call)")
    for name, us in rows.items():
        print(f"  {name:22s} {us:8.2f} us")
    verdict = "met" if rows["lepton.jit cpu"] <= 20 else "NOT met"
    print(f"  target: lepton.jit cpu <= 20 us -> {verdict}")


if __name__ == "__main__":
    main()
