"""What the LSTM train step's speed work relies on (issues #11, #15): a scan whose body
returns a y twice stacks it once, and a float32 LSTM cell's gates run as a serial kernel
(a prange launch costs more than their work, at every step of the loop)."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.control_flow.scan import scan_p
from lepton.test_util import check_grads


def _twice(c, x):
    y = c * x
    return c + x, (y, y, x, y)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape", [(5,), (5, 3, 2)], ids=["scalar-steps", "array-steps"])
def test_scan_with_a_repeated_y_matches_reference(shape, reverse):
    xs = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    init = np.ones(shape[1:], np.float32)

    def f(init, xs):
        return lax.scan(_twice, init, xs, reverse=reverse)

    got = lepton.jit(f, backend="cpu")(init, xs)
    want = lepton.jit(f, backend="reference")(init, xs)
    for g, w in zip(lepton.tree.leaves(got), lepton.tree.leaves(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)
    _, (a, b, x, d) = got
    np.testing.assert_array_equal(np.asarray(x), xs)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(d))


def test_repeated_y_is_stacked_once():
    jaxpr = lepton.make_jaxpr(lambda c, xs: lax.scan(_twice, c, xs))(
        np.float32(1), np.arange(4, dtype=np.float32))
    eqn = next(e for e in jaxpr.jaxpr.eqns if e.prim is scan_p)
    _, a, b, x, d = scan_p.impl(np.float32(1), np.arange(4, dtype=np.float32), **eqn.params)
    assert a is b is d and x is not a
    np.testing.assert_array_equal(a, [0, 1, 4, 12])


def _lstm_loss(w, xs):
    def cell(carry, x):
        h, c = carry
        z = x @ w[:3] + h @ w[3:]
        i, f, g, o = (z[:, k * 2:(k + 1) * 2] for k in range(4))
        c = lax.logistic(f) * c + lax.logistic(i) * lnp.tanh(g)
        h = lax.logistic(o) * lnp.tanh(c)
        return (h, c), h
    h0 = lnp.zeros((xs.shape[1], 2), xs.dtype)
    (h, _), hs = lax.scan(cell, (h0, h0), xs)
    return lnp.sum(h * h) + lnp.mean(hs)


def test_lstm_grads_compiled_match_reference_and_finite_differences():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 8)) * 0.5
    xs = rng.standard_normal((6, 4, 3))
    check_grads(_lstm_loss, (w, xs), order=1, modes=("rev",))
    w32, xs32 = w.astype(np.float32), xs.astype(np.float32)
    got = lepton.jit(lepton.grad(_lstm_loss), backend="cpu")(w32, xs32)
    want = lepton.jit(lepton.grad(_lstm_loss), backend="reference")(w32, xs32)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-5, atol=1e-6)


def test_float32_gates_run_serially_libm_ones_in_parallel():
    def gates(z):
        return lax.logistic(z) * lnp.tanh(z) + lax.logistic(-z) * lnp.tanh(2 * z)
    z32 = np.random.default_rng(2).standard_normal((64, 128)).astype(np.float32)
    jf = lepton.jit(gates, backend="cpu")
    assert "parallel=True" not in jf.source(z32)  # 29 us of work: a launch costs more
    assert "parallel=True" in jf.source(z32.astype(np.float64))  # libm: ~20 ns an element
    assert "parallel=True" in jf.source(np.zeros((512, 1024), np.float32))
    np.testing.assert_allclose(np.asarray(jf(z32)), np.asarray(
        lepton.jit(gates, backend="reference")(z32)), rtol=2e-6, atol=1e-7)
