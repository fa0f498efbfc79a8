"""Shared timing helpers: medians of repeated runs, ratio tables."""
from __future__ import annotations

import compileall
import os
import statistics
import time


def compile_bytecode():
    """Write lepton's ``.pyc`` files, as a normal install has them.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (as in the environment these numbers come
    from), a source checkout never gets them, and every process start compiled lepton's
    ~160 modules again: ``import lepton.keras`` took 0.27 s instead of 0.10 s.  The
    libraries compared with come from pip with their bytecode, so process-start timings
    call this first."""
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lepton")
    compileall.compile_dir(root, quiet=1)


def median_seconds(fn, repeat=7, warmup=2, min_time=0.05):
    """Median wall time of ``fn()`` over ``repeat`` runs (each run loops to at least min_time)."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(min_time / one))
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def median_us(fn, repeat=15, number=2000):
    """Median microseconds per call of a fast ``fn`` (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(samples)


def report(title, results, baseline="lepton"):
    """Print ``{library: seconds}`` with ratios relative to ``baseline``."""
    base = results.get(baseline)
    print(f"\n{title}")
    for lib, t in results.items():
        ratio = f"{t / base:6.2f}x lepton" if base else ""
        print(f"  {lib:10s} {t * 1e3:10.3f} ms   {ratio}")
