"""One compiled kernel serves many programs: float constants are kernel arguments.

Sizes were already run-time arguments; float and complex scalar literals are too (the rule
is in ``lepton/backends/render.py``), so a new batch size (whose mean divides by a new
``n``) or a new learning rate compiles nothing, while every constant keeps its dtype
exactly (float64 to the bit, float32 never promoted).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import lax, optimizers
from lepton.backends import kernel_compiles
from lepton.backends.cpu import backend as numba_cpu

pytestmark = pytest.mark.usefixtures("fresh_kernel_cache")

_settings = dict(deadline=None, derandomize=True, database=None, max_examples=40,
                 suppress_health_check=list(HealthCheck))


def _kernels(src: str) -> str:
    """The kernels of a program's source, without the comments naming their domains."""
    return re.sub(r"^# kernel_\d+: .*$", "", src.split("\n\n", 1)[1], flags=re.M)


def _compiles(f, *args):
    """(result, kernels compiled by this call)."""
    before = kernel_compiles()
    out = f(*args)
    lepton.block_until_ready(out)
    return out, kernel_compiles() - before


# ----------------------------------------------------------------------------- batch sizes
def _mlp_step(lr):
    def loss(p, x, y):
        w, b = p
        return lnp.mean((lnp.tanh(x @ w + b) - y) ** 2)

    opt_init, update, get_params = optimizers.sgd(lr)

    @lepton.jit
    def step(state, x, y):
        return update(0, lepton.grad(loss)(get_params(state), x, y), state)

    rng = np.random.default_rng(0)
    params = (rng.standard_normal((6, 3)).astype(np.float32), np.zeros(3, np.float32))
    return step, opt_init(params), loss


def test_a_new_batch_size_compiles_no_kernel():
    step, state, loss = _mlp_step(1e-2)
    rng = np.random.default_rng(1)
    sources = []
    for i, b in enumerate((64, 37, 5)):
        x = rng.standard_normal((b, 6)).astype(np.float32)
        y = rng.standard_normal((b, 3)).astype(np.float32)
        sources.append(_kernels(step.source(state, x, y)))
        new, n = _compiles(step, state, x, y)
        if i:
            assert n == 0, f"batch {b} compiled {n} kernels"
        # the compiled step is the reference step (the 1/b of the mean included)
        want = lepton.jit(step.fun, backend="reference")(state, x, y)
        for g, w in zip(lepton.tree.leaves(new), lepton.tree.leaves(want)):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-6, atol=1e-7)
        state = new
    assert sources[0] == sources[1] == sources[2]
    assert "/ np.float32(" not in sources[0]  # 1/b is an argument, not source text


def test_mean_at_two_batch_sizes_shares_its_kernels():
    f = lepton.jit(lambda x: (lnp.mean(x, axis=0), lnp.var(x), x - lnp.mean(x)))
    x = np.random.default_rng(2).standard_normal((64, 5))
    _compiles(f, x)
    got, n = _compiles(f, x[:37])
    assert n == 0
    np.testing.assert_allclose(got[0], x[:37].mean(0), rtol=1e-14)
    np.testing.assert_allclose(got[1], x[:37].var(), rtol=1e-14)
    np.testing.assert_allclose(got[2], x[:37] - x[:37].mean(), rtol=1e-13, atol=1e-15)


# ----------------------------------------------------------------------------- constants
def test_programs_differing_only_in_a_float_constant_share_kernels():
    x = np.linspace(-3, 3, 50, dtype=np.float32)
    results = []
    for k, (a, b) in enumerate([(0.1, 0.3), (2.5, -1e30), (np.inf, -7.0)]):
        f = lepton.jit(lambda x: lnp.maximum(x * a + b, 0.0) - lnp.exp(x) / a)
        got, n = _compiles(f, x)
        if k:
            assert n == 0, f"constants {a}, {b} compiled {n} kernels"
        a32, b32 = np.float32(a), np.float32(b)
        with np.errstate(all="ignore"):
            results.append((got, np.maximum(x * a32 + b32, np.float32(0)) - np.exp(x) / a32))
    for got, want in results:
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_learning_rates_share_kernels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    step, state, _ = _mlp_step(1e-2)
    _compiles(step, state, x, y)
    other, state2, _ = _mlp_step(3e-4)
    new, n = _compiles(other, state2, x, y)
    assert n == 0
    assert _kernels(step.source(state, x, y)) == _kernels(other.source(state2, x, y))


def test_float64_constants_keep_full_precision():
    x = np.random.default_rng(4).standard_normal(1000) * 10.0 ** np.arange(-5, 5).repeat(100)
    f = lepton.jit(lambda x: (x * (1 / 3), x / 3.0 + 0.1, x * 1e-300, x * 5e-324 + 1e308))
    got = f(x)
    with np.errstate(over="ignore"):
        want = (x * (1 / 3), x / 3.0 + 0.1, x * 1e-300, x * 5e-324 + 1e308)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.float64
        np.testing.assert_array_equal(np.asarray(g), w)  # bit for bit
    # a constant rounded through float32 would differ
    assert not np.array_equal(x * (1 / 3), x * np.float64(np.float32(1 / 3)))


def test_float32_constants_stay_float32(monkeypatch):
    made = []
    real = numba_cpu.kernel_for
    monkeypatch.setattr(numba_cpu, "kernel_for", lambda g: made.append(real(g)) or made[-1])
    x = np.random.default_rng(5).standard_normal(4096).astype(np.float32) * 1000
    f = lepton.jit(lambda x: (x * 0.1 + 0.2) * 0.3)
    got = np.asarray(f(x))
    # float32 arguments: float64 ones would compute each step in float64 (rounding each
    # result back to float32 hides that in the values; the vectors would be half as wide)
    (k,) = made
    assert [type(c) for c in k.consts] == [np.float32] * 3
    assert [str(t) for t in numba_cpu._signature(k)[1:4]] == ["float32"] * 3
    c = [np.float32(v) for v in (0.1, 0.2, 0.3)]
    want = (x * c[0] + c[1]) * c[2]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)  # NumPy's float32 arithmetic, bit for bit
    # float64 arithmetic (or float64 constants) rounded once at the end would differ
    wide = ((x.astype(np.float64) * 0.1 + 0.2) * 0.3).astype(np.float32)
    assert not np.array_equal(wide, want)
    src = _kernels(f.source(x))
    assert "float64" not in src and "np.float32(0.1" not in src


@settings(**_settings)
@given(st.floats(width=32), st.floats(width=32), st.sampled_from(["float32", "float64"]))
def test_any_float_constant_matches_numpy(a, b, dtype):
    x = np.array([-2.5, -0.0, 0.0, 1.0, 3.0e7, np.inf, -np.inf, np.nan], dtype)
    f = lepton.jit(lambda x: lnp.where(x > 1.0, x * a, x - b))
    got = np.asarray(f(x))
    a_, b_ = np.dtype(dtype).type(a), np.dtype(dtype).type(b)
    with np.errstate(all="ignore"):
        want = np.where(x > 1.0, x * a_, x - b_)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_special_values_as_constants():
    x = np.array([-2.0, -0.0, 0.0, 1.5, np.inf, np.nan], np.float32)
    f = lepton.jit(lambda x: (lnp.where(x > 0, x, -0.0), x * np.nan, lnp.minimum(x, np.inf),
                              lnp.maximum(x, -np.inf), x + -np.inf, x * -0.0))
    got = f(x)
    with np.errstate(invalid="ignore"):
        want = (np.where(x > 0, x, np.float32(-0.0)), x * np.float32(np.nan),
                np.minimum(x, np.float32(np.inf)), np.maximum(x, np.float32(-np.inf)),
                x + np.float32(-np.inf), x * np.float32(-0.0))
    for g, w in zip(got, want):
        g = np.asarray(g)
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def test_complex_constants():
    x = (np.arange(6) - 2.5 + 1j * np.arange(6)).astype(np.complex64)
    f = lepton.jit(lambda x: x * (1 + 2j) - 0.5j)
    got = np.asarray(f(x))
    assert got.dtype == np.complex64
    np.testing.assert_array_equal(got, x * np.complex64(1 + 2j) - np.complex64(0.5j))
    g = lepton.jit(lambda x: x * (3 - 1j) - 0.25j)
    got, n = _compiles(g, x)
    assert n == 0
    np.testing.assert_array_equal(np.asarray(got), x * np.complex64(3 - 1j) - np.complex64(0.25j))


def test_pad_fill_values_are_arguments():
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    outs = []
    for k, fill in enumerate([0.5, -np.inf, np.nan]):
        f = lepton.jit(lambda x: lnp.pad(x, ((1, 0), (2, 1)), constant_values=fill) * 2.0)
        if k == 0:
            assert "kernel_0" in f.source(x) and "pad(" not in f.source(x).split("\n\n")[0]
        got, n = _compiles(f, x)
        if k:
            assert n == 0
        outs.append((got, np.pad(x, ((1, 0), (2, 1)), constant_values=fill) * 2.0))
    for got, want in outs:
        np.testing.assert_array_equal(np.asarray(got), want)


def test_integer_constants_pow_exponents_and_zeros_stay_in_the_source():
    """They shape the code: LLVM multiplies for ``x ** 2.0``, divides ints by shifts and
    folds relu's comparison with a known (non-NaN) zero."""
    x = np.linspace(0.5, 2, 7)
    sq, cube = (lepton.jit(lambda x, e=e: x ** e) for e in (2.0, 3.0))
    assert _kernels(sq.source(x)) != _kernels(cube.source(x))
    np.testing.assert_allclose(np.asarray(sq(x)), x ** 2.0, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(cube(x)), x ** 3.0, rtol=1e-15)
    relu, shifted = (lepton.jit(lambda x, c=c: lnp.maximum(x - 1.0, c)) for c in (0.0, 0.5))
    assert "np.float64(0.0)" in relu.source(x) and "def kernel_0(n, c0, a0" in relu.source(x)
    assert "def kernel_0(n, c0, c1, a0" in shifted.source(x)
    np.testing.assert_array_equal(np.asarray(relu(x)), np.maximum(x - 1.0, 0.0))
    i = np.arange(-7, 8, dtype=np.int32)
    h = lepton.jit(lambda i: i // 4 + 3)
    assert "np.int32(4)" in h.source(i)
    np.testing.assert_array_equal(np.asarray(h(i)), i // 4 + 3)


# ----------------------------------------------------------------------------- variants
def test_parallel_and_guarded_kernels_take_constants(monkeypatch):
    monkeypatch.setattr(numba_cpu, "PARALLEL_WORK", 0)  # every kernel's prange variant
    x = np.linspace(-4, 4, 4000).astype(np.float32)
    x[::97] = 3.0e7  # past the fast sine's range: the kernel redoes its loop with libm
    f = lepton.jit(lambda x: (lnp.sin(x * 0.5) * 1.5, lnp.sum(x * 0.25)))
    src = f.source(x)
    assert "prange" in src and "nbig" in src
    s, t = f(x)
    np.testing.assert_allclose(np.asarray(s), np.sin(x * np.float32(0.5)) * np.float32(1.5),
                               rtol=2e-7, atol=1e-7)
    np.testing.assert_allclose(float(t), np.sum(x.astype(np.float64) * 0.25), rtol=1e-6)


def test_loop_bodies_take_constants():
    x = np.linspace(-1, 1, 5)

    def f(x, c):
        return lax.fori_loop(0, 6, lambda i, v: v * c + 0.25, x)

    got = lepton.jit(lambda x: f(x, 0.5))(x)
    want = x.copy()
    for _ in range(6):
        want = want * 0.5 + 0.25
    np.testing.assert_array_equal(np.asarray(got), want)
    got, n = _compiles(lepton.jit(lambda x: f(x, -1.5)), x)
    assert n == 0
    want = x.copy()
    for _ in range(6):
        want = want * -1.5 + 0.25
    np.testing.assert_array_equal(np.asarray(got), want)
