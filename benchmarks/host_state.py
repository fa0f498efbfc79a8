"""Is the host slowing this machine's BLAS down right now?  A diagnostic for noisy rounds.

It runs what an LSTM step does at every time step: a 64x128 @ 128x512 float32 product on
NumPy's OpenBLAS (two threads), then about 70 us of serial Numba work.  It prints both
times for each second.  On the 2-core CI machine the product took 41 us for a few
seconds, then 58-63 us from one second to the next, in the same process, with nothing
else running.  The serial work kept its speed, and the BLAS threads stayed on their own
cores.  While this script shows the slow numbers, `lstm_step.py` measures lepton's
products in that state too (lepton 7.0 ms against 5.3 ms; JAX's step stayed at
6.5-7.0 ms).
Run: python benchmarks/host_state.py [seconds]
"""
from __future__ import annotations

import sys
import time

import numpy as np
from numba import njit


@njit(cache=False)
def serial_work(a):
    s = 0.0
    for i in range(a.size):
        s += np.tanh(a.flat[i])
    return s


def main(seconds: float):
    rng = np.random.default_rng(0)
    h = rng.random((64, 128), dtype=np.float32)
    w = rng.random((128, 512), dtype=np.float32)
    serial_work(h)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        product = work = 0.0
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            a = time.perf_counter()
            np.matmul(h, w)
            b = time.perf_counter()
            serial_work(h)
            product += b - a
            work += time.perf_counter() - b
            n += 1
        print(f"product {product / n * 1e6:6.1f} us   serial work {work / n * 1e6:6.1f} us",
              flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
