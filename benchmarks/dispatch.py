"""Eager dispatch overhead per op on 10-element float32 arrays, versus NumPy.

Prints the median time per call for each op and the overhead above NumPy in microseconds.
Target (issue #2): at most 5 us above NumPy per op.  Run: python benchmarks/dispatch.py
"""
from __future__ import annotations

import sys

import numpy as np

from _harness import median_us

import lepton.numpy as lnp


def main():
    rng = np.random.default_rng(0)
    xn = rng.standard_normal(10).astype(np.float32)
    yn = rng.standard_normal(10).astype(np.float32)
    xl, yl = lnp.asarray(xn), lnp.asarray(yn)
    cn = xn > 0
    cl = lnp.asarray(cn)
    cases = {
        "add": (lambda: np.add(xn, yn), lambda: lnp.add(xl, yl)),
        "x * y (operator)": (lambda: xn * yn, lambda: xl * yl),
        "x * 2.0 (weak scalar)": (lambda: xn * np.float32(2.0), lambda: xl * 2.0),
        "tanh": (lambda: np.tanh(xn), lambda: lnp.tanh(xl)),
        "exp": (lambda: np.exp(xn), lambda: lnp.exp(xl)),
        "maximum": (lambda: np.maximum(xn, yn), lambda: lnp.maximum(xl, yl)),
        "where": (lambda: np.where(cn, xn, yn), lambda: lnp.where(cl, xl, yl)),
        "x > 0": (lambda: xn > 0, lambda: xl > 0),
    }
    if hasattr(lnp, "sum"):
        cases["sum"] = (lambda: np.sum(xn), lambda: lnp.sum(xl))
    if hasattr(lnp, "_getitem"):
        cases["x[2:5]"] = (lambda: xn[2:5], lambda: xl[2:5])
    if hasattr(lnp, "matmul"):
        an = rng.standard_normal((10, 10)).astype(np.float32)
        al = lnp.asarray(an)
        cases["matmul 10x10 @ 10"] = (lambda: an @ xn, lambda: al @ xl)
    print(f"{'op':28s} {'numpy us':>9s} {'lepton us':>10s} {'overhead us':>12s} {'ratio':>6s}")
    worst = 0.0
    for name, (fn, fl) in cases.items():
        tn, tl = median_us(fn), median_us(fl)
        worst = max(worst, tl - tn)
        print(f"{name:28s} {tn:9.2f} {tl:10.2f} {tl - tn:12.2f} {tl / tn:6.1f}")
    print(f"worst overhead above NumPy: {worst:.2f} us (target <= 2 us, issue 14)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
