"""64-bit mode (lepton.config / enable_x64) and exact float64 creation from Python numbers."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import random as lr
from lepton import test_util

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F32, F64, I32, I64 = (np.dtype(t) for t in ("float32", "float64", "int32", "int64"))


@pytest.fixture(autouse=True)
def _default_mode():
    """Every test starts in the default (32-bit) mode; the session's mode is restored after."""
    prev = lepton.config.jax_enable_x64
    lepton.config.update("jax_enable_x64", False)
    yield
    lepton.config.update("jax_enable_x64", prev)


# ----------------------------------------------------------------------------- defect 9
EXACT_F64 = {
    "array": lambda v: lnp.array([v], dtype=lnp.float64)[0],
    "array_np_dtype": lambda v: lnp.array([[v]], dtype=np.float64)[0, 0],
    "asarray": lambda v: lnp.asarray([v], dtype="float64")[0],
    "asarray_scalar": lambda v: lnp.asarray(v, dtype=lnp.float64),
    "scalar_type": lambda v: lnp.float64(v),
    "full": lambda v: lnp.full((2,), v, dtype=lnp.float64)[1],
    "full_like": lambda v: lnp.full_like(np.zeros(2), v)[0],
    "linspace_start": lambda v: lnp.linspace(v, 1.0, 5, dtype=lnp.float64)[0],
    "linspace_stop": lambda v: lnp.linspace(0.0, v, 5, dtype=lnp.float64)[-1],
    "arange": lambda v: lnp.arange(v, 2.5 * v, v, dtype=lnp.float64)[0],
    "uniform_minval": lambda v: lr.uniform(lr.PRNGKey(0), (), lnp.float64, v, v),
    "at_set": lambda v: lnp.zeros(2, lnp.float64).at[0].set(v)[0],
    "at_add": lambda v: lnp.zeros(2, lnp.float64).at[1].add(v)[1],
    "at_set_jit": lambda v: lepton.jit(lambda z: z.at[0].set(v))(np.zeros(2))[0],
    "array_mixed": lambda v: lnp.array([lnp.zeros((), lnp.float64), v])[1],
    "stack": lambda v: lnp.stack([lnp.zeros((), lnp.float64), v])[1],
    "concatenate": lambda v: lnp.concatenate([lnp.zeros(1, lnp.float64), [v]])[1],
    "where": lambda v: lnp.where(True, v, lnp.zeros((), lnp.float64)),
}


@pytest.mark.parametrize("make", EXACT_F64.values(), ids=EXACT_F64.keys())
def test_float64_from_python_float_is_exact(make):
    for v in (0.1, 1 / 3, 1e300, -2.0 ** -1070, 16777217.0):
        out = make(v)
        assert out.dtype == F64
        assert float(out) - v == 0.0, (v, float(out))


def test_complex128_and_int64_from_python_numbers_are_exact():
    z = 0.1 + 0.2j
    assert complex(lnp.array([z], dtype=lnp.complex128)[0]) == z
    assert complex(lnp.full((), z, dtype=lnp.complex128)) == z
    big = 2 ** 53 + 1  # not representable in float32 or float64, exact in int64
    assert int(lnp.array([big], dtype=lnp.int64)[0]) == big
    assert int(lnp.asarray(big, dtype=lnp.int64)) == big


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=6))
def test_float64_array_of_python_floats_equals_numpy(xs):
    want = np.array(xs, dtype=np.float64)
    for got in (lnp.array(xs, dtype=lnp.float64), lnp.asarray(xs, dtype=np.float64)):
        assert got.dtype == F64
        np.testing.assert_array_equal(np.asarray(got), want)


def test_explicit_float32_still_rounds_once():
    # Rounding to the requested narrow dtype happens once, from the exact value.
    assert float(lnp.array([0.1], dtype=lnp.float32)[0]) == float(np.float32(0.1))
    assert float(lnp.full((), 0.1, dtype=lnp.float16)) == float(np.float16(0.1))


# ----------------------------------------------------------------------------- config API
def test_config_update_read_alias_and_context_manager():
    assert lepton.config.read("jax_enable_x64") is False
    lepton.config.update("jax_enable_x64", True)
    assert lepton.config.jax_enable_x64 and lepton.config.lepton_enable_x64
    assert lepton.config.x64_enabled and lepton.config.read("lepton_enable_x64")
    lepton.config.update("lepton_enable_x64", False)
    assert not lepton.config.jax_enable_x64
    with lepton.enable_x64():
        assert lepton.config.jax_enable_x64
        with lepton.disable_x64():
            assert not lepton.config.jax_enable_x64
            with lepton.enable_x64(True):
                assert lnp.zeros(1).dtype == F64
            assert lnp.zeros(1).dtype == F32
        with lepton.enable_x64(False):
            assert lnp.zeros(1).dtype == F32
        assert lepton.config.jax_enable_x64
    assert not lepton.config.jax_enable_x64


def test_context_manager_restores_on_error():
    with pytest.raises(ZeroDivisionError):
        with lepton.enable_x64():
            1 / 0
    assert not lepton.config.jax_enable_x64


def test_config_rejects_unknown_options_and_bad_values():
    with pytest.raises(AttributeError, match="jax_enable_x64"):
        lepton.config.update("jax_enable_x46", True)
    with pytest.raises(AttributeError, match="jax_enable_x64"):
        lepton.config.read("enable_x64")
    with pytest.raises(AttributeError):
        lepton.config.jax_enable_x46
    with pytest.raises(TypeError, match="bool"):
        lepton.config.update("jax_enable_x64", "yes")
    assert not lepton.config.jax_enable_x64


def _run(code, **env):
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_environment_variable_turns_x64_on():
    code = ("import lepton, lepton.numpy as lnp;"
            "print(lepton.config.jax_enable_x64, lnp.zeros(1).dtype, lnp.array([1]).dtype,"
            " (lnp.ones(2) * 0.1).dtype, lepton.random.uniform(lepton.random.PRNGKey(0)).dtype)")
    on = _run(code, LEPTON_ENABLE_X64="1")
    assert on.returncode == 0, on.stderr
    assert on.stdout.split() == ["True", "float64", "int64", "float64", "float64"]
    off = _run(code, LEPTON_ENABLE_X64="0")
    assert off.stdout.split() == ["False", "float32", "int32", "float32", "float32"]
    bad = _run("import lepton", LEPTON_ENABLE_X64="maybe")
    assert bad.returncode != 0 and "LEPTON_ENABLE_X64" in bad.stderr


# ----------------------------------------------------------------------------- defaults
KEY = lr.PRNGKey(0)
DEFAULTS = {  # expression -> (dtype without x64, dtype with x64), as JAX
    "python float": (lambda: lnp.asarray(1.5), F32, F64),
    "python int": (lambda: lnp.asarray(3), I32, I64),
    "python complex": (lambda: lnp.asarray(1j), np.dtype("complex64"), np.dtype("complex128")),
    "array floats": (lambda: lnp.array([0.1, 0.2]), F32, F64),
    "array ints": (lambda: lnp.array([[1, 2]]), I32, I64),
    "array nested mix": (lambda: lnp.array([1, 2.5]), F32, F64),
    "zeros": (lambda: lnp.zeros((2, 3)), F32, F64),
    "ones": (lambda: lnp.ones(3), F32, F64),
    "empty": (lambda: lnp.empty(3), F32, F64),
    "full float": (lambda: lnp.full(3, 0.5), F32, F64),
    "full int": (lambda: lnp.full(3, 7), I32, I64),
    "eye": (lambda: lnp.eye(3), F32, F64),
    "identity": (lambda: lnp.identity(2), F32, F64),
    "arange int": (lambda: lnp.arange(5), I32, I64),
    "arange float": (lambda: lnp.arange(0.0, 1.0, 0.25), F32, F64),
    "linspace": (lambda: lnp.linspace(0, 1, 5), F32, F64),
    "indices": (lambda: lnp.indices((2, 3)), I32, I64),
    "int / 2": (lambda: lnp.arange(4) / 2, F32, F64),
    "int32 array / 2": (lambda: lnp.ones(2, lnp.int32) / 2, F32, F64),
    "sin(int32)": (lambda: lnp.sin(lnp.ones(2, lnp.int32)), F32, F64),
    "mean(int32)": (lambda: lnp.mean(lnp.ones(2, lnp.int32)), F32, F64),
    "sum(int8)": (lambda: lnp.sum(lnp.ones(2, lnp.int8)), I32, I64),
    "float32 * python float": (lambda: lnp.ones(2, lnp.float32) * 0.1, F32, F32),
    "int32 + python int": (lambda: lnp.ones(2, lnp.int32) + 1, I32, I32),
    "float64 stays": (lambda: lnp.ones(2, lnp.float64) + 1, F64, F64),
    "uniform": (lambda: lr.uniform(KEY, (3,)), F32, F64),
    "normal": (lambda: lr.normal(KEY, (3,)), F32, F64),
    "exponential": (lambda: lr.exponential(KEY, (3,)), F32, F64),
    "gamma": (lambda: lr.gamma(KEY, 2.0, (3,)), F32, F64),
    "truncated_normal": (lambda: lr.truncated_normal(KEY, -1.0, 1.0, (3,)), F32, F64),
    "randint": (lambda: lr.randint(KEY, (3,), 0, 10), I32, I64),
    "bits": (lambda: lr.bits(KEY, (3,)), np.dtype("uint32"), np.dtype("uint64")),
    "choice int": (lambda: lr.choice(KEY, 5, (3,)), I32, I64),
    "permutation": (lambda: lr.permutation(KEY, 5), I32, I64),
    "bernoulli": (lambda: lr.bernoulli(KEY, 0.5, (3,)), np.dtype(bool), np.dtype(bool)),
}


@pytest.mark.parametrize("name", DEFAULTS)
def test_default_dtypes_in_each_mode(name):
    make, d32, d64 = DEFAULTS[name]
    assert make().dtype == d32  # default mode is unchanged
    with lepton.enable_x64():
        assert make().dtype == d64
        assert lepton.jit(make)().dtype == d64  # traced code sees the mode too
    assert make().dtype == d32


def test_python_scalars_are_weak_64_bit_under_x64():
    with lepton.enable_x64():
        x = lnp.asarray(0.1)
        assert x.dtype == F64 and x.weak_type and float(x) == 0.1
        assert (lnp.ones(2, lnp.float16) * 0.1).dtype == np.float16  # weak: no upcast
        assert (lnp.asarray(2) * 0.5).dtype == F64


def test_random_values_in_x64_are_valid_samples():
    with lepton.enable_x64():
        u = np.asarray(lr.uniform(KEY, (2000,)))
        n = np.asarray(lr.normal(KEY, (2000,)))
        r = np.asarray(lr.randint(KEY, (2000,), -3, 5))
    assert u.dtype == F64 and 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.05
    assert len(np.unique(u)) == 2000  # 52-bit mantissas, not float32 values widened
    assert not np.all(u == u.astype(np.float32))
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    assert r.dtype == I64 and set(np.unique(r)) == set(range(-3, 5))


def test_random_keys_from_python_seeds_in_x64():
    # JAX with x64: a Python seed is an int64, so a negative seed fills the high word.
    with lepton.enable_x64():
        np.testing.assert_array_equal(np.asarray(lr.PRNGKey(-1)), [2**32 - 1, 2**32 - 1])
        np.testing.assert_array_equal(np.asarray(lr.PRNGKey(7)), [0, 7])
    np.testing.assert_array_equal(np.asarray(lr.PRNGKey(-1)), [0, 2**32 - 1])


# ----------------------------------------------------------------------------- jit keys
def test_jit_retraces_when_the_mode_changes():
    lepton.clear_cache()
    f = lepton.jit(lambda x: x + lnp.zeros(2) + 0.1)
    x = np.ones(2, np.int32)  # concrete NumPy input: the eager fast path is keyed too
    a = f(x)
    with lepton.enable_x64():
        b = f(x)
        b2 = f(lnp.asarray(x))
    c = f(x)
    assert a.dtype == F32 and c.dtype == F32
    assert b.dtype == F64 and b2.dtype == F64
    assert float(b[0]) == 1.1 and float(a[0]) == float(np.float32(1) + np.float32(0.1))
    assert lepton.cache_info().misses == 2  # one trace per mode; switching back hits


def test_jit_explains_a_mode_change():
    f = lepton.jit(lambda x: x * 2.0)
    f(lnp.ones(2, lnp.float64))
    lepton.explain_cache_misses(True)
    try:
        with lepton.enable_x64():
            with pytest.warns(UserWarning, match="64-bit mode changed"):
                f(lnp.ones(2, lnp.float64))
    finally:
        lepton.explain_cache_misses(False)


def test_jit_python_scalar_arguments_follow_the_mode():
    f = lepton.jit(lambda x, s: x * s)
    assert f(lnp.ones(2, lnp.float16), 3.0).dtype == np.float16
    with lepton.enable_x64():
        out = f(1.0, 0.1)
        assert out.dtype == F64 and float(out) == 0.1


# ----------------------------------------------------------------------------- gradients
def _central_diff(f, x, h=1e-6):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


def _autograd_style_1(x):
    return lnp.sum(lnp.sin(x) * 0.1 + x ** 2.5)


def _autograd_style_2(x):
    # Builds arrays from Python floats inside, as autograd code does with np.array([...]).
    w = lnp.array([0.3, -1.7, 2.25])
    b = lnp.array(0.1)
    c = lnp.full(3, 1.0 / 3.0) + lnp.linspace(0.0, 0.2, 3)
    return lnp.sum(w * lnp.exp(x / 3.0) + c * x ** 2) * b + lnp.log1p(x[0] ** 2) / 7.0


def _autograd_style_3(x):
    m = lnp.array([[2.0, 0.1, 0.0], [0.1, 3.0, 0.2], [0.0, 0.2, 1.5]])
    return 0.5 * x @ m @ x + lnp.sum(lnp.tanh(x) * lnp.arange(1, 4)) - 1e-3 * lnp.prod(x)


@pytest.mark.parametrize("f", [_autograd_style_1, _autograd_style_2, _autograd_style_3])
def test_x64_gradients_pass_float64_finite_differences(f):
    x = np.array([0.7, 1.3, 2.1])
    with lepton.enable_x64():
        want = _central_diff(f, x)
        for g_fn in (lepton.grad(f), lepton.jit(lepton.grad(f))):
            g = g_fn(x)
            assert g.dtype == F64
            np.testing.assert_allclose(np.asarray(g), want, rtol=1e-8, atol=1e-8)
        # Python-float input: the gradient is float64 as well (autograd code passes floats)
        gs = lepton.grad(lambda t: f(lnp.array([t, 1.3, 2.1])))(0.7)
        assert gs.dtype == F64
        np.testing.assert_allclose(float(gs), want[0], rtol=1e-8, atol=1e-8)
        test_util.check_grads(f, (x,), order=2, atol=1e-7, rtol=1e-7)


def test_without_x64_python_constants_keep_float32_behaviour():
    # Unchanged default: Python floats and creation functions are float32, so a float32
    # input gets a float32 gradient and the float64 check only holds to float32 accuracy.
    x = np.array([0.7, 1.3, 2.1], np.float32)
    g = lepton.grad(_autograd_style_2)(x)
    assert g.dtype == F32
    assert lepton.grad(lambda t: t * 0.1)(1.0).dtype == F32
    with lepton.enable_x64():
        want = _central_diff(_autograd_style_2, x.astype(np.float64))
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-4)
    assert np.max(np.abs(np.asarray(g, np.float64) - want)) > 1e-9


def test_float64_inputs_without_x64_keep_float64_gradients():
    # Explicit float64 stays float64 in the default mode (no truncation as in JAX).
    x = np.array([0.7, 1.3, 2.1])
    g = lepton.grad(_autograd_style_1)(x)
    assert g.dtype == F64
    with lepton.enable_x64():
        want = _central_diff(_autograd_style_1, x)
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-8, atol=1e-8)
