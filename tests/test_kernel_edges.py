"""Elementwise ops at the edge values of every dtype, on every execution path.

Integer ops run on every pair of edge values of each width (min, max, -1, 0, 1, the
unsigned max and their neighbours) and must equal NumPy bit for bit; float ops run on
the non-finite edges (nan, +-inf, +-0.0, subnormals, the largest finite values) and must
agree with NumPy in NaN-ness, in infinities, and in the sign of every zero.  Each program
runs eagerly, on the reference backend and compiled on the cpu backend, at a few hundred
elements (serial kernels) and at 1.1M elements (above ``PARALLEL_WORK``: prange kernels).
The programs put every op in one jitted function, so each dtype costs one compile per
size; the failure message names the op, the path and the first inputs that differ.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.backends.cpu import backend as numba_cpu

INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOATS = [np.float32, np.float64]
PATHS = ["eager", "reference", "cpu"]
#: Above the parallel threshold for a kernel of a single cheap op (cost 2 per element).
BIG = 1_100_000


def test_big_size_is_parallel():
    assert BIG * 2 >= numba_cpu.PARALLEL_WORK


# ----------------------------------------------------------------------------- inputs
def int_edges(dt):
    info = np.iinfo(dt)
    vals = {info.min, info.min + 1, info.max, info.max - 1, 0, 1, 2, 3, 7}
    if info.min < 0:
        vals |= {-1, -2, -3, -7, info.min // 2, info.max // 2}
    else:
        vals |= {info.max // 2, info.max // 2 + 1}
    return np.array(sorted(vals), dt)


def float_edges(dt):
    fi = np.finfo(dt)
    vals = [np.nan, np.inf, -np.inf, 0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal,
            fi.smallest_normal, -fi.smallest_normal, fi.max, -fi.max, 1.0, -1.0, 0.5, -2.5,
            3.0]
    return np.array(vals, dt)


def pairs(edges, size):
    """Every (x, y) pair of edge values, tiled to ``size`` elements if given."""
    x, y = (a.ravel() for a in np.meshgrid(edges, edges, indexing="ij"))
    if size is not None:
        reps = -(-size // x.size)
        x, y = np.tile(x, reps)[:size], np.tile(y, reps)[:size]
    return x, y


def run(program, path, *args):
    if path == "eager":
        # The eager fast path (lepton/numpy/_eager.py) is NumPy's own call, so it warns on
        # overflow, x / 0 and the like where NumPy does (test_eager_warns_only_where_numpy_does).
        with np.errstate(all="ignore"):
            return program(*(lnp.asarray(a) for a in args))
    return lepton.jit(program, backend=path)(*args)


def test_eager_is_silent():
    """As in JAX, inf/nan results come without warnings on every path."""
    x = lnp.asarray(np.array([3e38, 1.0, 0.0], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(np.asarray(x + x), [np.inf, 2.0, 0.0])
        np.testing.assert_array_equal(np.asarray(x * x), [np.inf, 1.0, 0.0])


def _numpy_warned(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args)
    return any(issubclass(w.category, RuntimeWarning) for w in caught)


@pytest.mark.parametrize("name,lfn,nfn", [
    ("add", lambda x: x + x, lambda x: x + x), ("multiply", lambda x: x * x, lambda x: x * x),
    ("divide", lambda x: x / x, lambda x: x / x), ("power", lambda x: x ** 0.5,
                                                   lambda x: x ** 0.5),
    ("log", lnp.log, np.log), ("sqrt", lnp.sqrt, np.sqrt), ("arctanh", lnp.arctanh, np.arctanh),
    ("abs", lnp.abs, np.abs), ("maximum", lnp.maximum, np.maximum),
])
def test_eager_warns_only_where_numpy_does(name, lfn, nfn):
    """Issue 14: NumPy's RuntimeWarnings may reach the user from an eager op only where
    NumPy itself warns for the same call (the eager fast path *is* that NumPy call; JAX
    never warns, and lepton's primitives, the traced and compiled paths are silent)."""
    x = np.array([3e38, 1.0, 0.0, -1.0], np.float32)
    args = (x, x[::-1]) if name == "maximum" else (x,)
    warned = _numpy_warned(nfn, *args)
    with warnings.catch_warnings():
        if warned:
            warnings.simplefilter("ignore", RuntimeWarning)
        else:
            warnings.simplefilter("error")
        out = np.asarray(lfn(*(lnp.asarray(a) for a in args)))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(out, nfn(*args))
    if name in ("add", "multiply", "log"):
        assert warned  # the policy is exercised: these do warn in NumPy


def test_library_functions_are_silent_where_numpy_has_no_call():
    """Composite library functions (jax.nn / scipy names) have no NumPy counterpart whose
    warning a user would expect: -inf * 0 inside silu(-inf) must not warn."""
    import lepton.nn as nn
    import lepton.scipy.special as ss
    x = lnp.asarray(np.array([-np.inf, -1e30, -1.0, 0.0, 1e30, np.inf, np.nan], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (nn.silu, nn.gelu, nn.mish, nn.squareplus, nn.standardize, nn.hard_silu,
                   nn.softplus, nn.log_softmax, ss.logit, ss.entr, ss.log_ndtr, ss.ndtri):
            fn(x)
        assert np.isnan(np.asarray(nn.silu(x))[0])


def test_gradients_with_inf_inputs_are_silent():
    """grad has no NumPy counterpart: inf * 0 in a backward matmul (dot_general's impl)
    gives NaN without a warning, as in JAX."""
    a = lnp.asarray(np.array([[np.inf, 1.0], [0.0, 2.0]]))
    b = lnp.asarray(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = lepton.grad(lambda x: lnp.sum(lnp.vecdot(x, b)))(a)
        lepton.grad(lambda y: lnp.sum(a @ y))(b)
    np.testing.assert_array_equal(np.asarray(g), np.asarray(b))


def test_reference_is_silent():
    x = np.array([3e38, 1.0, 0.0, -1.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = lepton.jit(lambda x: (x + x, x * x, x / x, lnp.sqrt(x), lnp.log(x), x ** 0.7),
                         backend="reference")(x)
    np.testing.assert_array_equal(np.asarray(out[0]), [np.inf, 2.0, 0.0, -2.0])
    assert np.isnan(np.asarray(out[2])[2]) and np.isnan(np.asarray(out[3])[3])


# ----------------------------------------------------------------------------- integer programs
def _c_div(a: int, b: int, dt) -> int:
    """lax.div as XLA defines it, on Python ints: truncating; x / 0 is -1; wraps."""
    if b == 0:
        return _wrap(-1, dt)
    q = abs(a) // abs(b)
    return _wrap(-q if (a < 0) != (b < 0) else q, dt)


def _c_rem(a: int, b: int, dt) -> int:
    """lax.rem as XLA defines it: the dividend's sign; x % 0 is x."""
    if b == 0:
        return a
    r = abs(a) % abs(b)
    return _wrap(-r if a < 0 else r, dt)


def _wrap(v: int, dt) -> int:
    bits = np.dtype(dt).itemsize * 8
    v &= (1 << bits) - 1
    return v - (1 << bits) if np.dtype(dt).kind == "i" and v >> (bits - 1) else v


def int_program(x, y):
    out = {
        "add": lnp.add(x, y), "subtract": lnp.subtract(x, y), "multiply": lnp.multiply(x, y),
        "floor_divide": lnp.floor_divide(x, y), "remainder": lnp.remainder(x, y),
        "fmod": lnp.fmod(x, y), "lax.div": lax.div(x, y), "lax.rem": lax.rem(x, y),
        "maximum": lnp.maximum(x, y), "minimum": lnp.minimum(x, y),
        "lax.max": lax.max(x, y), "lax.min": lax.min(x, y),
        "bitwise_and": lnp.bitwise_and(x, y), "bitwise_or": lnp.bitwise_or(x, y),
        "bitwise_xor": lnp.bitwise_xor(x, y), "left_shift": lnp.left_shift(x, y),
        "right_shift": lnp.right_shift(x, y),
        "equal": lnp.equal(x, y), "not_equal": lnp.not_equal(x, y), "less": lnp.less(x, y),
        "less_equal": lnp.less_equal(x, y), "greater": lnp.greater(x, y),
        "greater_equal": lnp.greater_equal(x, y),
        "negative": lnp.negative(x), "abs": lnp.abs(x), "sign": lnp.sign(x),
        "invert": lnp.invert(x), "lax.neg": lax.neg(x), "lax.sign": lax.sign(x),
        "power2": x ** 2, "power3": x ** 3, "power7": x ** 7,
    }
    if x.dtype.kind == "i":
        out["lax.abs"] = lax.abs(x)
    for d in INTS + FLOATS + [np.bool_]:
        out[f"astype_{np.dtype(d).name}"] = x.astype(d)
    return out


def int_expected(x, y):
    dt = x.dtype
    with np.errstate(all="ignore"):
        out = {
            "add": np.add(x, y), "subtract": np.subtract(x, y), "multiply": np.multiply(x, y),
            "floor_divide": np.floor_divide(x, y), "remainder": np.remainder(x, y),
            "fmod": np.fmod(x, y),
            "lax.div": np.array([_c_div(int(a), int(b), dt) for a, b in zip(x, y)], dt),
            "lax.rem": np.array([_c_rem(int(a), int(b), dt) for a, b in zip(x, y)], dt),
            "maximum": np.maximum(x, y), "minimum": np.minimum(x, y),
            "lax.max": np.maximum(x, y), "lax.min": np.minimum(x, y),
            "bitwise_and": np.bitwise_and(x, y), "bitwise_or": np.bitwise_or(x, y),
            "bitwise_xor": np.bitwise_xor(x, y), "left_shift": np.left_shift(x, y),
            "right_shift": np.right_shift(x, y),
            "equal": np.equal(x, y), "not_equal": np.not_equal(x, y), "less": np.less(x, y),
            "less_equal": np.less_equal(x, y), "greater": np.greater(x, y),
            "greater_equal": np.greater_equal(x, y),
            "negative": np.negative(x), "abs": np.abs(x), "sign": np.sign(x),
            "invert": np.invert(x), "lax.neg": np.negative(x), "lax.sign": np.sign(x),
            "power2": np.power(x, 2, dtype=dt), "power3": np.power(x, 3, dtype=dt),
            "power7": np.power(x, 7, dtype=dt),
        }
        if dt.kind == "i":
            out["lax.abs"] = np.abs(x)
        for d in INTS + FLOATS + [np.bool_]:
            out[f"astype_{np.dtype(d).name}"] = x.astype(d)
    return out


def test_c_division_reference():
    """The test's own lax.div/lax.rem model, at the cases the issue names."""
    assert _c_div(-2**31, 3, np.int32) == -715827882
    assert _c_div(-2**31, -1, np.int32) == -2**31
    assert _c_rem(-2**31, -1, np.int32) == 0
    assert _c_div(2**64 - 1, 3, np.uint64) == 6148914691236517205
    assert _c_div(5, 0, np.uint8) == 255 and _c_rem(5, 0, np.uint8) == 5


def _first_diffs(name, path, got, want, bad, *args):
    idx = np.flatnonzero(bad)[:5]
    shown = [tuple(a[i] for a in args) + (got[i], want[i]) for i in idx]
    return (f"{name} on {path}: {bad.sum()} of {bad.size} elements differ; "
            f"(inputs..., got, NumPy) = {shown}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [None, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("dt", INTS, ids=lambda d: np.dtype(d).name)
def test_integer_edges(dt, size, path):
    x, y = pairs(int_edges(dt), size)
    small = pairs(int_edges(dt), None)
    want = int_expected(*small)
    got = run(int_program, path, x, y)
    assert set(got) == set(want)
    errors = []
    for name, w in want.items():
        g = np.asarray(got[name])
        if size is not None:
            w = np.tile(w, -(-size // w.size))[:size]
        if g.dtype != w.dtype:
            errors.append(f"{name} on {path}: dtype {g.dtype}, NumPy {w.dtype}")
            continue
        bad = (g != w) & ~(np.isnan(w) & np.isnan(g) if w.dtype.kind == "f" else False)
        if bad.any():
            errors.append(_first_diffs(name, path, g, w, bad, x, y))
    assert not errors, "\n".join(errors)


# ----------------------------------------------------------------------------- float programs
def _logistic(x):
    return lax.logistic(x)


def float_program(x, y):
    return {
        "add": x + y, "subtract": x - y, "multiply": x * y, "divide": x / y,
        "floor_divide": lnp.floor_divide(x, y), "remainder": lnp.remainder(x, y),
        "fmod": lnp.fmod(x, y), "power": lnp.power(x, y),
        "maximum": lnp.maximum(x, y), "minimum": lnp.minimum(x, y),
        "fmax": lnp.fmax(x, y), "fmin": lnp.fmin(x, y),
        "lax.max": lax.max(x, y), "lax.min": lax.min(x, y), "lax.rem": lax.rem(x, y),
        "arctan2": lnp.arctan2(x, y), "hypot": lnp.hypot(x, y),
        "logaddexp": lnp.logaddexp(x, y), "nextafter": lax.nextafter(x, y),
        "equal": x == y, "not_equal": x != y, "less": x < y, "less_equal": x <= y,
        "greater": x > y, "greater_equal": x >= y,
        "negative": -x, "abs": lnp.abs(x), "sign": lnp.sign(x), "lax.sign": lax.sign(x),
        "sqrt": lnp.sqrt(x), "pow_half": x ** 0.5, "square": x ** 2, "cube": x ** 3,
        "reciprocal": lnp.reciprocal(x), "pow_neg2": x ** -2,
        "exp": lnp.exp(x), "expm1": lnp.expm1(x), "log": lnp.log(x), "log1p": lnp.log1p(x),
        "exp2": lnp.exp2(x), "log2": lnp.log2(x), "log10": lnp.log10(x),
        "sin": lnp.sin(x), "cos": lnp.cos(x), "tan": lnp.tan(x), "tanh": lnp.tanh(x),
        "arcsin": lnp.arcsin(x), "arccos": lnp.arccos(x), "arctan": lnp.arctan(x),
        "sinh": lnp.sinh(x), "cosh": lnp.cosh(x), "arcsinh": lnp.arcsinh(x),
        "arccosh": lnp.arccosh(x), "arctanh": lnp.arctanh(x), "cbrt": lnp.cbrt(x),
        "logistic": lax.logistic(x), "rsqrt": lax.rsqrt(x),
        "floor": lnp.floor(x), "ceil": lnp.ceil(x), "trunc": lnp.trunc(x), "rint": lnp.rint(x),
        "isnan": lnp.isnan(x), "isinf": lnp.isinf(x), "isfinite": lnp.isfinite(x),
        "signbit": lnp.signbit(x),
    }


def float_expected(x, y):
    dt = x.dtype
    with np.errstate(all="ignore"):
        one = np.ones((), dt)
        return {
            "add": x + y, "subtract": x - y, "multiply": x * y, "divide": x / y,
            "floor_divide": np.floor_divide(x, y), "remainder": np.remainder(x, y),
            "fmod": np.fmod(x, y), "power": np.power(x, y),
            "maximum": np.maximum(x, y), "minimum": np.minimum(x, y),
            "fmax": np.fmax(x, y), "fmin": np.fmin(x, y),
            "lax.max": np.maximum(x, y), "lax.min": np.minimum(x, y), "lax.rem": np.fmod(x, y),
            "arctan2": np.arctan2(x, y), "hypot": np.hypot(x, y),
            "logaddexp": np.logaddexp(x, y), "nextafter": np.nextafter(x, y),
            "equal": x == y, "not_equal": x != y, "less": x < y, "less_equal": x <= y,
            "greater": x > y, "greater_equal": x >= y,
            "negative": -x, "abs": np.abs(x), "sign": np.sign(x), "lax.sign": np.sign(x),
            "sqrt": np.sqrt(x), "pow_half": x ** 0.5, "square": x ** 2, "cube": x ** 3,
            "reciprocal": np.reciprocal(x), "pow_neg2": x ** -2,
            "exp": np.exp(x), "expm1": np.expm1(x), "log": np.log(x), "log1p": np.log1p(x),
            "exp2": np.exp2(x), "log2": np.log2(x), "log10": np.log10(x),
            "sin": np.sin(x), "cos": np.cos(x), "tan": np.tan(x), "tanh": np.tanh(x),
            "arcsin": np.arcsin(x), "arccos": np.arccos(x), "arctan": np.arctan(x),
            "sinh": np.sinh(x), "cosh": np.cosh(x), "arcsinh": np.arcsinh(x),
            "arccosh": np.arccosh(x), "arctanh": np.arctanh(x), "cbrt": np.cbrt(x),
            "logistic": (1 / (1 + np.exp(-x.astype(np.float64)))).astype(dt),
            "rsqrt": one / np.sqrt(x),
            "floor": np.floor(x), "ceil": np.ceil(x), "trunc": np.trunc(x), "rint": np.rint(x),
            "isnan": np.isnan(x), "isinf": np.isinf(x), "isfinite": np.isfinite(x),
            "signbit": np.signbit(x),
        }


def float_mismatch(g, w):
    """Where ``g`` and NumPy's ``w`` disagree: NaN-ness, infinities and zeros (with their
    sign) exactly, finite values to a few ulp (transcendentals differ in the last bits)."""
    if w.dtype == np.bool_:
        return g != w
    fi = np.finfo(w.dtype)
    nan = np.isnan(w)
    bad = np.isnan(g) != nan
    exact = ~nan & (np.isinf(w) | (w == 0))
    bad |= exact & ~((g == w) & (np.signbit(g) == np.signbit(w)))
    close = ~nan & ~exact
    with np.errstate(all="ignore"):
        err = np.abs(g.astype(np.float64) - w.astype(np.float64))
        tol = 8 * fi.eps * np.abs(w.astype(np.float64)) + 2 * float(fi.smallest_subnormal)
    bad |= close & ~(err <= tol)
    return bad


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [None, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_float_edges(dt, size, path):
    x, y = pairs(float_edges(dt), size)
    small = pairs(float_edges(dt), None)
    want = float_expected(*small)
    got = run(float_program, path, x, y)
    assert set(got) == set(want)
    errors = []
    for name, w in want.items():
        g = np.asarray(got[name])
        if size is not None:
            w = np.tile(w, -(-size // w.size))[:size]
        if g.dtype != w.dtype:
            errors.append(f"{name} on {path}: dtype {g.dtype}, NumPy {w.dtype}")
            continue
        bad = float_mismatch(g, w)
        if bad.any():
            errors.append(_first_diffs(name, path, g, w, bad, x, y))
    assert not errors, "\n".join(errors)


# ----------------------------------------------------------------------------- issue 10 examples
def _on_every_path(f, *args):
    """f's result on eager, reference and cpu, as NumPy arrays."""
    return {path: np.asarray(run(f, path, *args)) for path in PATHS}


@pytest.mark.parametrize("dt", [np.int8, np.int16, np.int32, np.int64])
def test_remainder_at_int_min(dt):
    x = np.array([np.iinfo(dt).min] * 4, dt)
    y = np.array([3, -3, 7, -1], dt)
    for f, np_f in [(lambda a, b: a % b, np.remainder), (lnp.fmod, np.fmod),
                    (lambda a, b: a // b, np.floor_divide)]:
        with np.errstate(all="ignore"):
            want = np_f(x, y)
        for path, got in _on_every_path(f, x, y).items():
            np.testing.assert_array_equal(got, want, err_msg=path)


def test_uint64_floor_division_is_exact():
    x = np.array([2**64 - 1, 2**64 - 2, 2**63 + 1, 12345678901234567891], np.uint64)
    y = np.array([3, 7, 2**32 + 1, 10], np.uint64)
    for path, got in _on_every_path(lambda a, b: (a // b, a % b), x, y).items():
        q, r = got
        assert q.dtype == np.uint64 and r.dtype == np.uint64
        assert [int(v) for v in q] == [int(a) // int(b) for a, b in zip(x, y)], path
        assert [int(v) for v in r] == [int(a) % int(b) for a, b in zip(x, y)], path
    assert int(np.asarray(lepton.jit(lambda a: a // 3, backend="cpu")(x))[0]) == \
        6148914691236517205


def test_lax_div_truncates_and_follows_xla():
    """lax.div/rem: C semantics; x / 0 = -1, x % 0 = x, INT_MIN / -1 = INT_MIN (XLA)."""
    m = -2**31
    x = np.array([m, m, 7, -7, 7, m, 5], np.int32)
    y = np.array([3, -1, -2, 2, 0, 0, 1], np.int32)
    for path, (q, r) in _on_every_path(lambda a, b: (lax.div(a, b), lax.rem(a, b)), x, y).items():
        np.testing.assert_array_equal(q, [-715827882, m, -3, -3, -1, -1, 5], err_msg=path)
        np.testing.assert_array_equal(r, [-2, 0, 1, -1, 7, m, 0], err_msg=path)


def test_integer_division_by_zero_is_numpys_zero():
    x = np.array([5, -5, 0, np.iinfo(np.int32).min], np.int32)
    y = np.zeros(4, np.int32)
    for path, got in _on_every_path(lambda a, b: (a // b, a % b, lnp.fmod(a, b)), x, y).items():
        np.testing.assert_array_equal(np.asarray(got), np.zeros((3, 4), np.int32), err_msg=path)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_sqrt_power_and_signed_zeros(dt):
    x = np.array([-np.inf, -0.0, 0.0, 4.0, np.nan], dt)
    for path, got in _on_every_path(lambda a: a ** 0.5, x).items():
        np.testing.assert_array_equal(got, [np.nan, -0.0, 0.0, 2.0, np.nan], err_msg=path)
        assert np.signbit(got[1]) and not np.signbit(got[2]), path
    a = np.array([-0.0, 0.0, np.nan, 1.0, -0.0], dt)
    b = np.array([0.0, -0.0, 1.0, np.nan, -0.0], dt)
    for path, (mx, mn, sg) in _on_every_path(
            lambda a, b: (lnp.maximum(a, b), lnp.minimum(a, b), lnp.sign(a)), a, b).items():
        # NumPy: equal operands give the second; NaN propagates; sign(-0.0) is +0.0
        np.testing.assert_array_equal(np.signbit(mx), [False, True, False, False, True], path)
        np.testing.assert_array_equal(np.signbit(mn), [False, True, False, False, True], path)
        assert np.isnan(mx[2:4]).all() and np.isnan(mn[2:4]).all(), path
        assert not np.signbit(sg[[0, 1, 4]]).any() and np.isnan(sg[2]), path


# ----------------------------------------------------------------------------- float to int
_TO_INT_VALUES = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 127.9, -128.9, -129.5, 255.5, 300.7,
                  65535.9, -32768.5, 70000.25, -70000.25, 2.0**31 - 1, -2.0**31, 4.0e9, -3.0e9,
                  1.0e10, -1.0e10, 2.0**53, 2.0**63, -2.0**63, 1.8e19]


def _defined_casts(x, dt):
    """NumPy's cast of ``x`` and the mask of the elements where it is defined: no
    'invalid value' warning, and its vectorised and one-element casts agree."""
    with np.errstate(all="ignore"):
        want = x.astype(dt)
    ok = np.zeros(x.size, bool)
    for i, v in enumerate(x):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                ok[i] = np.array([v]).astype(dt)[0] == want[i]
            except RuntimeWarning:
                pass
    return want, ok


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [None, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("src", FLOATS, ids=lambda d: np.dtype(d).name)
def test_float_to_int_casts(src, size, path):
    """Where NumPy defines a float-to-int cast, every path gives its answer: truncation,
    and for unsigned types (and int8/int16) the int64 value wrapped (-1.5 -> 255)."""
    small = np.array(_TO_INT_VALUES, src)
    x = small if size is None else np.tile(small, -(-size // small.size))[:size]
    got = run(lambda a: {np.dtype(d).name: a.astype(d) for d in INTS}, path, x)
    errors = []
    for d in INTS:
        want, ok = _defined_casts(small, d)
        assert ok.sum() >= 8
        g = np.asarray(got[np.dtype(d).name])[:small.size]
        bad = ok & (g != want)
        if bad.any():
            errors.append(_first_diffs(f"astype({np.dtype(d).name})", path, g, want, bad, small))
    assert not errors, "\n".join(errors)


# ----------------------------------------------------------------------------- reductions
def _int_reductions(x):
    rows = x.reshape(-1, 5)
    return {"sum": lnp.sum(x), "prod": lnp.prod(x), "max": lnp.max(x), "min": lnp.min(x),
            "sum_rows": lnp.sum(rows, axis=1), "max_rows": lnp.max(rows, axis=1),
            "min_cols": lnp.min(rows, axis=0), "sum_cols": lnp.sum(rows, axis=0)}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [None, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("dt", INTS, ids=lambda d: np.dtype(d).name)
def test_integer_reductions_at_edges(dt, size, path):
    """Sums and products wrap in the result's dtype (NumPy with that dtype), extremes
    are exact; in the chunked parallel reduction as in the serial loop."""
    edges = int_edges(dt)
    n = 5 * (-(-(size or 4 * edges.size) // 5))
    x = np.resize(np.random.default_rng(1).permutation(np.tile(edges, 5)), n).astype(dt)
    got = run(_int_reductions, path, x)
    rows = x.reshape(-1, 5)
    errors = []
    for name, g in got.items():
        g = np.asarray(g)
        op = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}[name.split("_")[0]]
        arg, axis = {"rows": (rows, 1), "cols": (rows, 0)}.get(name.partition("_")[2], (x, None))
        with np.errstate(all="ignore"):
            want = op(arg, axis=axis, dtype=g.dtype) if op in (np.sum, np.prod) else \
                op(arg, axis=axis)
        if g.dtype != want.dtype and op not in (np.sum, np.prod):
            errors.append(f"{name}: dtype {g.dtype}, NumPy {want.dtype}")
        elif not np.array_equal(g, want):
            errors.append(f"{name} on {path}: {g.ravel()[:4]} vs NumPy {want.ravel()[:4]}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [None, BIG], ids=["small", "parallel"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_float_reductions_propagate_nan(dt, size, path):
    """A NaN anywhere (first, last, in one chunk of a parallel reduction) makes max, min
    and sum NaN; inf and -inf make the sum NaN; otherwise an infinity is exact."""
    n = size or 1000
    base = np.random.default_rng(2).uniform(-1, 1, n).astype(dt)
    cases = []
    for where in (0, n // 3, n - 1):
        x = base.copy()
        x[where] = np.nan
        cases.append((x, [np.nan] * 3))
    x = base.copy()
    x[[5, n - 7]] = [np.inf, -np.inf]
    cases.append((x, [np.inf, -np.inf, np.nan]))
    x = base.copy()
    x[n // 2] = -np.inf
    cases.append((x, [None, -np.inf, -np.inf]))
    for x, (mx, mn, total) in cases:
        got = [np.asarray(v) for v in run(lambda a: (lnp.max(a), lnp.min(a), lnp.sum(a)),
                                           path, x)]
        for g, w, name in zip(got, (mx, mn, total), ("max", "min", "sum")):
            if w is None:
                continue
            ok = np.isnan(g) if np.isnan(w) else g == w
            assert ok, f"{name} on {path}: {g}, expected {w}"


def test_compiled_host_steps_are_silent():
    """A compiled program's products and host steps (here inf * 0 inside the matmul) give
    NaN without a RuntimeWarning, as its kernels do and as in JAX."""
    a = np.array([[np.inf, 1.0], [0.0, 2.0]], np.float32)
    b = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = lepton.jit(lambda a, b: a @ b, backend="cpu")(a, b)
        lepton.jit(lambda a: lnp.linalg.inv(a - a), backend="cpu")(a)
    assert np.isnan(np.asarray(out)[0, 0])
