"""Steady-state forms of common ops (issues #11, #15): ``maximum``/``minimum`` are one
NaN-propagating primitive (not a max plus an isnan select chain, which cost two extra
kernels and two extra full-size outputs per ReLU in a training step), and their results and
gradients stay NumPy's / JAX's at NaN, ties, signed zeros and integer edge values, in serial
and in parallel (past 1M elements) kernels."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.backends.cpu import backend as numba_cpu

BIG = 1_100_000  # past PARALLEL_WORK for a one-op kernel: the prange kernel runs
FLOATS = [np.float32, np.float64]


def _prims(f, *args):
    """The primitives of ``f``'s jaxpr, less the broadcasts of scalar operands."""
    return [e.prim.name for e in lepton.make_jaxpr(f)(*args).jaxpr.eqns
            if e.prim.name != "broadcast_in_dim"]


@pytest.mark.parametrize("fn,prim", [(lnp.maximum, "max"), (lnp.minimum, "min")])
@pytest.mark.parametrize("dt", FLOATS + [np.int32], ids=lambda d: np.dtype(d).name)
def test_minmax_is_one_primitive(fn, prim, dt):
    x = np.arange(4, dtype=dt)
    assert _prims(lambda a: fn(a, dt(0)), x) == [prim]
    assert _prims(fn, x, x[::-1]) == [prim]


def test_relu_by_maximum_fuses_like_relu():
    """The kernel of ``maximum(x @ w + b, 0)`` under grad stores only what the backward
    needs: no isnan masks or constant booleans as extra outputs, and no extra kernels."""
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((8, 5), (5, 6), (6,)))

    def loss(w, b, x, act):
        return lnp.sum(act(x @ w + b) * 3.0)

    def kernels(act):
        src = lepton.jit(lepton.grad(loss, argnums=(0, 1)), static_argnums=3).source(
            w, b, x, act)
        return [ln for ln in src.splitlines() if ln.startswith("# kernel_")]

    by_max = kernels(lambda h: lnp.maximum(h, 0.0))
    by_relu = kernels(lepton.nn.relu)
    assert len(by_max) == len(by_relu), (by_max, by_relu)
    assert not any(" ne," in k or k.endswith(" ne") for k in by_max), by_max


def _float_cases(dt, size):
    vals = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.5,
                     np.finfo(dt).max, -np.finfo(dt).max, np.finfo(dt).smallest_subnormal],
                    dt)
    x, y = (a.ravel() for a in np.meshgrid(vals, vals, indexing="ij"))
    reps = -(-size // x.size)
    return np.tile(x, reps)[:size], np.tile(y, reps)[:size]


def _same(got, want):
    got = np.asarray(got)
    assert got.dtype == want.dtype
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(got[~nan], want[~nan])
    np.testing.assert_array_equal(np.signbit(got[~nan]), np.signbit(want[~nan]))


@pytest.mark.parametrize("size", [144, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_float_minmax_nan_and_zeros(dt, size):
    assert BIG * 2 >= numba_cpu.PARALLEL_WORK
    x, y = _float_cases(dt, size)
    f = lepton.jit(lambda a, b: (lnp.maximum(a, b), lnp.minimum(a, b),
                                 lnp.maximum(a, 0.0), lnp.minimum(a, 0.0)))
    got = f(x, y)
    zero = dt(0)
    for g, w in zip(got, (np.maximum(x, y), np.minimum(x, y),
                          np.maximum(x, zero), np.minimum(x, zero))):
        _same(g, w)


@pytest.mark.parametrize("size", [64, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int32, np.int64, np.uint64],
                         ids=lambda d: np.dtype(d).name)
def test_int_minmax_edges(dt, size):
    info = np.iinfo(dt)
    vals = np.array(sorted({info.min, info.min + 1, info.max, info.max - 1, 0, 1}), dt)
    x, y = (a.ravel() for a in np.meshgrid(vals, vals, indexing="ij"))
    reps = -(-size // x.size)
    x, y = np.tile(x, reps)[:size], np.tile(y, reps)[:size]
    got = lepton.jit(lambda a, b: (lnp.maximum(a, b), lnp.minimum(a, b)))(x, y)
    np.testing.assert_array_equal(np.asarray(got[0]), np.maximum(x, y))
    np.testing.assert_array_equal(np.asarray(got[1]), np.minimum(x, y))
    assert np.asarray(got[0]).dtype == dt


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_minmax_gradients_as_jax(dt, backend):
    """JAX's balanced rule: the larger operand gets the cotangent, ties split it, and a NaN
    operand (whose output is NaN) gets a zero gradient on both sides."""
    x = np.array([2.0, -1.0, 3.0, np.nan, 1.0, np.nan], dt)
    y = np.array([1.0, 0.5, 3.0, 1.0, np.nan, np.nan], dt)
    for fn, big in ((lnp.maximum, x > y), (lnp.minimum, x < y)):
        gx, gy = lepton.jit(lepton.grad(lambda a, b: lnp.sum(fn(a, b)), argnums=(0, 1)),
                            backend=backend)(x, y)
        tie = x == y
        np.testing.assert_array_equal(np.asarray(gx), np.where(big, 1, np.where(tie, .5, 0)))
        want_y = np.where(~big & ~tie & ~np.isnan(x) & ~np.isnan(y), 1, np.where(tie, .5, 0))
        np.testing.assert_array_equal(np.asarray(gy), want_y)
        assert np.asarray(gx).dtype == dt


def test_maximum_numeric_gradient():
    from lepton.test_util import check_grads
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3, 4))
    check_grads(lambda a, b: lnp.maximum(a, b) * lnp.minimum(a, 0.25), (x, y), order=2)


# ----------------------------------------------------------------------------- stop_gradient
@pytest.mark.parametrize("dt", FLOATS + [np.int32], ids=lambda d: np.dtype(d).name)
def test_stop_gradient_fuses_as_identity(dt):
    """``stop_gradient`` is the identity in a compiled program: a view inside a fused
    kernel, not a host step that splits the kernel around it."""
    x = np.arange(-6, 6, dtype=dt).reshape(3, 4)
    f = lepton.jit(lambda a: lepton.lax.stop_gradient(a * 2) + a)
    src = f.source(x)
    assert "stop_gradient" not in src.split("# kernel_")[0], src
    assert src.count("# kernel_") == 1, src
    np.testing.assert_array_equal(np.asarray(f(x)), x * 2 + x)
    # returned as it stands (a host view of the input), and on an empty array
    np.testing.assert_array_equal(np.asarray(lepton.jit(lepton.lax.stop_gradient)(x)), x)
    e = np.zeros((0, 3), dt)
    assert np.asarray(f(e)).shape == (0, 3)
    # a fused value returned through stop_gradient and also read on: both right
    g = lepton.jit(lambda a: (lepton.lax.stop_gradient(a * 2),
                              lepton.lax.stop_gradient(a * 2) + a,
                              lnp.sum(lepton.lax.stop_gradient(a * 3))))
    r = g(x)
    np.testing.assert_array_equal(np.asarray(r[0]), x * 2)
    np.testing.assert_array_equal(np.asarray(r[1]), x * 3)
    assert np.asarray(r[2]) == np.sum(x * 3)


def test_stop_gradient_still_stops_gradients_compiled():
    x = np.linspace(-2.0, 2.0, 7)

    def f(a):
        m = lepton.lax.stop_gradient(lnp.max(a))
        return lnp.sum(lnp.exp(a - m) * lepton.lax.stop_gradient(a * a))

    g = lepton.jit(lepton.grad(f))(x)
    np.testing.assert_allclose(np.asarray(g), np.exp(x - x.max()) * x * x, rtol=1e-12)
    gv = lepton.jit(lepton.vmap(lepton.grad(f)))(np.stack([x, x + 1]))
    np.testing.assert_allclose(np.asarray(gv)[1], np.exp(x - x.max()) * (x + 1) ** 2,
                               rtol=1e-12)


# ----------------------------------------------------------------------------- scan rows
@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length", [0, 1, 5, 2 * 256 + 3])
def test_scan_rows_in_blocks(length, reverse, backend):
    """The scan driver hands each step its rows block by block (``ROW_BLOCK``): every step
    sees its own x, writes its own y (scalar ys included), in loop order, across blocks."""
    from lepton.control_flow import scan as scan_mod
    assert 2 * scan_mod.ROW_BLOCK + 3 == 2 * 256 + 3
    rng = np.random.default_rng(length)
    xs = rng.standard_normal((length, 2, 3))
    ks = np.arange(length, dtype=np.int32)

    def body(c, x):
        x, k = x
        c = c * 0.5 + x
        return c, (c.sum(), c * k, k * 2)

    f = lepton.jit(lambda c, xs: lepton.lax.scan(body, c, xs, reverse=reverse),
                   backend=backend)
    carry, (s, ck, k2) = f(np.ones((2, 3)), (xs, ks))
    c, want_s, want_ck = np.ones((2, 3)), np.zeros(length), np.zeros((length, 2, 3))
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        c = c * 0.5 + xs[i]
        want_s[i], want_ck[i] = c.sum(), c * ks[i]
    np.testing.assert_allclose(np.asarray(carry), c, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(s), want_s, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ck), want_ck, rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(k2), ks * 2)
    assert np.asarray(k2).dtype == np.int32 and np.asarray(s).shape == (length,)


def test_scan_rows_without_xs_and_with_duplicate_ys():
    def body(c, _):
        c = c + 1.0
        return c, (c, c)

    carry, (a, b) = lepton.jit(lambda c: lepton.lax.scan(body, c, None, length=300))(0.0)
    np.testing.assert_array_equal(np.asarray(a), np.arange(1.0, 301.0))
    np.testing.assert_array_equal(np.asarray(b), np.arange(1.0, 301.0))
    assert float(carry) == 300.0


def test_driver_destinations_as_tuple_with_literal_and_scalar_outputs():
    """The per-output ``out`` path of the generated driver (what a scan step calls): a
    tuple of destinations, a literal output, a 0-d kernel output, a reshaped kernel
    output written in place, and a None destination left alone."""
    def f(x):
        return 3.0, lnp.sum(x * 2), x * x, x + 1
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    run = numba_cpu.compile(lepton.make_jaxpr(f)(x).jaxpr)
    dests = (np.empty(()), np.empty(()), np.empty((2, 3)), None)
    got = run(x, out=dests)
    assert float(dests[0]) == 3.0 and float(dests[1]) == 30.0
    np.testing.assert_array_equal(dests[2], x * x)
    assert got[2] is dests[2]
    np.testing.assert_array_equal(got[3], x + 1)
