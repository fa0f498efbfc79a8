"""Stress jit for wrong answers from kernels that look alike (tests/test_kernel_symbols.py).

Programs ``T(x) * c0 -/+ c1`` that differ only in the transcendental ``T`` and in their
constants compile to kernels of one signature (sizes, c0, c1, input, output).  Each round
jits all of them, in a fresh cache folder with this process's kernel tables cleared (so
every kernel is compiled again, by forked children, by threads or in turn), and checks
every result against NumPy; all rounds' kernels stay loaded in this one process, where a
symbol shared by two of them would link one to the other's code.  ``--processes P``
first has P fresh processes compile shares of the programs into one cache, which this
process then loads (a warm cache mixing processes).

    python tests/stress_kernel_symbols.py --mode fork --rounds 20 [--force-ids]

``--force-ids`` makes Numba's ``id()``-based names of prange loop bodies coincide, as they
do by chance (rarely): before the fix in ``lepton.backends.cache`` (``_own_function_ids``)
fork mode then fails at once.  Exit status 1 if any result was wrong.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

OPS = ("sin", "cos", "exp", "tanh", "log1p", "expm1", "arctan", "sinh")


def _programs(rng, dtype):
    """(name, lepton function, NumPy reference) for every op and sign, random constants."""
    import lepton.numpy as lnp

    out = []
    for op in OPS:
        for sign in (1, -1):
            c0, c1 = (float(v) for v in rng.uniform(0.5, 4.0, 2).astype(dtype))
            g, h = getattr(lnp, op), getattr(np, op)

            def f(x, g=g, c0=c0, c1=c1, sign=sign):
                return g(x) * c0 + sign * c1

            def ref(x, h=h, c0=c0, c1=c1, sign=sign):
                return (h(x.astype(np.float64)) * c0 + sign * c1).astype(x.dtype)
            out.append((f"{op}*{c0:.3g}{'+' if sign > 0 else '-'}{c1:.3g}", f, ref))
    return out


def _check(name, got, want, dtype, failures):
    tol = 1e-5 if dtype == np.float32 else 1e-12  # a wrong kernel is off by far more
    if not np.allclose(np.asarray(got), want, rtol=tol, atol=tol):
        failures.append(name)
        print(f"WRONG: {name}: got {np.asarray(got)[:3]} want {want[:3]}", flush=True)


def _round(programs, x, mode, dtype, failures):
    import lepton

    jitted = [(name, lepton.jit(f, backend="cpu"), ref) for name, f, ref in programs]
    if mode == "thread":  # the programs compile at once, each in its own thread
        threads = [threading.Thread(target=f, args=(x,)) for _, f, _ in jitted]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for _, f, _ in jitted:
            f(x)
    lepton.wait_for_compilation()
    for name, f, ref in jitted:
        _check(name, f(x), ref(x), dtype, failures)


def _compile_share(args):
    """In a fresh process (``--processes``): compile every ``args.share``-th program."""
    import lepton

    rng = np.random.default_rng(args.seed)
    x = np.linspace(-0.9, 0.9, args.size).astype(args.dtype)
    for k, (_, f, _) in enumerate(_programs(rng, args.dtype)):
        if (k // 2) % args.of == args.share:  # both signs of an op share a kernel
            lepton.jit(f, backend="cpu")(x)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("fork", "thread", "seq"), default="fork")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--size", type=int, default=513)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--serial", action="store_true", help="serial kernels (no prange)")
    p.add_argument("--processes", type=int, default=0)
    p.add_argument("--force-ids", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--share", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--of", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.dtype = np.dtype(args.dtype).type
    os.environ["LEPTON_PARALLEL_WORK"] = str(1 << 60 if args.serial else 0)
    os.environ["LEPTON_TIERED"] = "0" if args.mode == "seq" else "1"
    os.environ["LEPTON_COMPILE_PROCESS"] = "1" if args.mode == "fork" else "0"
    os.environ["LEPTON_COMPILE_AT_EXIT"] = "0"
    if args.force_ids:
        from numba.parfors.parfor import Parfor
        Parfor.__hash__ = lambda self: 0x1e9707
    if args.share is not None:
        return _compile_share(args)

    import lepton
    from lepton.backends import cache

    base = tempfile.mkdtemp(prefix="lepton-stress-")
    rng = np.random.default_rng(args.seed)
    x = np.linspace(-0.9, 0.9, args.size).astype(args.dtype)
    failures, t0 = [], time.perf_counter()
    if args.processes:  # fresh processes fill one cache; this one loads it all
        os.environ["LEPTON_CACHE_DIR"] = os.path.join(base, "shared")
        cmd = [sys.executable, os.path.abspath(__file__), "--of", str(args.processes),
               "--seed", str(args.seed), "--size", str(args.size),
               "--dtype", np.dtype(args.dtype).name, "--mode", "seq"]
        cmd += ["--serial"] * args.serial + ["--force-ids"] * args.force_ids
        procs = [subprocess.Popen(cmd + ["--share", str(i)], env=dict(os.environ))
                 for i in range(args.processes)]
        assert all(pr.wait() == 0 for pr in procs), "a compiling process failed"
        _round(_programs(np.random.default_rng(args.seed), args.dtype), x, args.mode,
               args.dtype, failures)
        print(f"loaded: {cache.stats}")
    for r in range(args.rounds):
        os.environ["LEPTON_CACHE_DIR"] = os.path.join(base, str(r))
        cache._entries.clear()  # every kernel compiled again (this round's own files)
        cache._dispatchers.clear()
        lepton.clear_cache()
        _round(_programs(rng, args.dtype), x, args.mode, args.dtype, failures)
    total = len(OPS) * 2 * (args.rounds + bool(args.processes))
    print(f"{args.mode}{' serial' * args.serial}{' force-ids' * args.force_ids} "
          f"{np.dtype(args.dtype).name}: {len(failures)} wrong of {total} in "
          f"{time.perf_counter() - t0:.1f} s; {cache.stats}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
