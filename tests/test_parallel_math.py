"""Vectorised float32 math in parallel (prange) kernels, and float64 alongside.

Regression for issue 10 defect 1: the guarded float32 sin/cos count the arguments
outside their exact range in a reduction variable, and two updates of it in one prange
body made Numba reject every parallel kernel with two sin/cos calls (``sin(x) +
cos(x)`` above ~1k elements, ``sin(cos(x))``, ``grad(sum(sin(x) * x))``).  Each case here
is checked to compile its parallel variant, then compared with the reference backend,
with and without an argument beyond the fast range (which reruns the loop with libm).
"""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.backends import tiered
from lepton.backends.cpu.lowering import LOWERINGS

#: 100k: above PARALLEL_WORK for two vectorised float32 transcendentals (``render.cost``)
SIZES = [100_000, 1_100_000]


def _tol(dt):
    return dict(rtol=2e-6, atol=2e-6) if dt == np.float32 else dict(rtol=1e-13, atol=1e-13)


def _inputs(dt, shape, big):
    x = np.random.default_rng(0).uniform(-30, 30, shape).astype(dt)
    if big:  # outside sin_f32/cos_f32's exact range: the kernel reruns with libm
        x.flat[x.size // 3] = dt(3.0e7)
    return x


def check_parallel(f, x, dt, **tol):
    jf = lepton.jit(f, backend="cpu")
    assert "(parallel)" in jf.source(x), "this case no longer exercises a prange kernel"
    got = jf(x)
    want = lepton.jit(f, backend="reference")(x)
    for g, w in zip(lepton.tree.leaves(got), lepton.tree.leaves(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), **(tol or _tol(dt)))


def test_every_fast_function_is_covered():
    fast = {name for name, row in LOWERINGS.rows.items() if row.fast_f32}
    assert fast == {"exp", "tanh", "logistic", "sin", "cos"}


UNARY = {"exp": lnp.exp, "tanh": lnp.tanh, "logistic": lax.logistic, "sin": lnp.sin,
         "cos": lnp.cos}


@pytest.mark.parametrize("big", [False, True], ids=["in_range", "beyond_range"])
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
def test_all_fast_functions_in_one_parallel_kernel(n, dt, big):
    """Every vectorised helper in one prange body, each used twice."""
    def f(x):
        y = x * dt(0.1)
        return sum((g(x) + g(y) for g in UNARY.values()), start=lnp.zeros_like(x))
    check_parallel(f, _inputs(dt, (n,), big), dt)


CASES = {
    "sin+cos": lambda x: lnp.sin(x) + lnp.cos(x),
    "sin(cos)": lambda x: lnp.sin(lnp.cos(x)),
    "grad": lepton.grad(lambda x: lnp.sum(lnp.sin(x) * x)),
}


@pytest.mark.parametrize("big", [False, True], ids=["in_range", "beyond_range"])
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", list(CASES))
def test_issue_cases(case, n, dt, big):
    check_parallel(CASES[case], _inputs(dt, (n,), big), dt)


REDUCTIONS = {  # the chunked full reduction, trailing-axis and interleaved-axis reductions
    "sum_all": lambda x: lnp.sum(lnp.sin(x) * lnp.cos(x)),
    "sum_last": lambda x: lnp.sum(lnp.sin(x) + lnp.cos(2 * x), axis=-1),
    "max_last": lambda x: lnp.max(lnp.cos(x) * lnp.sin(x), axis=-1),
    "sum_middle": lambda x: lnp.sum(lnp.sin(x) * lnp.cos(x), axis=1),
}


@pytest.mark.parametrize("big", [False, True], ids=["in_range", "beyond_range"])
@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(REDUCTIONS))
def test_guarded_reductions(case, dt, big):
    x = _inputs(dt, (100, 100, 110), big)
    f = REDUCTIONS[case]
    # the reference sums float32 in float32, the kernel in float64: compare at the float32
    # rounding of a sum of up to 1.1M terms of size 1
    tol = dict(rtol=1e-5, atol=1e-2) if dt == np.float32 else dict(rtol=1e-12, atol=1e-11)
    check_parallel(f, x, dt, **tol)


def test_tiered_mode_keeps_working(monkeypatch):
    """In tiered mode the first calls used to succeed and every later call raise."""
    monkeypatch.setenv("LEPTON_TIERED", "1")
    x = _inputs(np.float32, (5000,), False)
    f = lepton.jit(lambda x: lnp.cos(x) * lnp.sin(x) - lnp.sin(lnp.cos(x)), backend="cpu")
    want = lepton.jit(f.fun, backend="reference")(x)
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(f(x)), np.asarray(want), **_tol(np.float32))
    tiered.wait_for_compilation()
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(f(x)), np.asarray(want), **_tol(np.float32))
