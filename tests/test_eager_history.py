"""Eager results never depend on what ran before (issue 10, defect 2).

The eager fast path memoises type promotion; a memo keyed on less than the answer
depends on leaks one call's dtype into the next.  Hypothesis draws sequences of eager
operations over arrays of many dtypes, weak arrays and Python scalars (big ints and
non-finite floats included); results feed later steps.  Every step is checked against
the same operation traced afresh by ``jit`` on the reference backend (value, dtype, weak
type, or the same exception), and a subprocess replays a fixed batch in reverse order to
check that a fresh process gives identical answers.
"""
import contextlib
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton.core import Array

BINARY = {
    "add": lnp.add, "subtract": lnp.subtract, "multiply": lnp.multiply,
    "divide": lnp.divide, "maximum": lnp.maximum, "minimum": lnp.minimum,
    "less": lnp.less, "equal": lnp.equal, "greater_equal": lnp.greater_equal,
    "matmul": lnp.matmul, "where": lambda x, y: lnp.where(np.array([True, False, True]), x, y),
    "floor_divide": lnp.floor_divide, "power": lnp.power,
}
UNARY = {"negative": lnp.negative, "exp": lnp.exp, "sin": lnp.sin, "sqrt": lnp.sqrt,
         "tanh": lnp.tanh, "log1p": lnp.log1p, "sum": lnp.sum, "mean": lnp.mean,
         "prod": lnp.prod, "max": lnp.max, "argmax": lnp.argmax, "cumsum": lnp.cumsum,
         "square": lnp.square, "abs": lnp.abs}
DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "uint32", "uint64",
          "float16", "float32", "float64", "complex64"]
SCALARS = [True, False, 0, 1, -1, 2, 255, 256, -129, 2**31 - 1, 2**31, -2**31 - 1, 2**40,
           2**63, 2**64, -2**63, 0.5, -2.25, 1e40, 1e-45, float("inf"), float("nan"), -0.0,
           1 + 2j]


def _array(rng, dtype, shape):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        edges = np.array([info.min, info.max, 0, 1], dtype=dt)
        return np.where(rng.random(shape) < 0.3, rng.choice(edges, shape),
                        rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True))
    vals = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 6, shape)
    vals = np.where(rng.random(shape) < 0.15, rng.choice([np.nan, np.inf, -np.inf, -0.0],
                                                         shape), vals)
    if dt.kind == "c":
        vals = vals + 1j * rng.standard_normal(shape)
    with np.errstate(over="ignore"):
        return vals.astype(dt)


# An operand spec: ("array", dtype, shape, seed) | ("weak", python scalar) |
# ("scalar", python scalar) | ("result", index of an earlier step's result).
_python_scalar = st.one_of(st.sampled_from(SCALARS), st.integers(-2**70, 2**70),
                           st.floats(allow_nan=True, allow_infinity=True))
_leaf = st.one_of(
    st.tuples(st.just("array"), st.sampled_from(DTYPES), st.sampled_from([(), (3,)]),
              st.integers(0, 2**16)),
    st.tuples(st.just("weak"), _python_scalar),
    st.tuples(st.just("scalar"), _python_scalar))
_step = st.tuples(st.sampled_from(sorted(BINARY) + sorted(UNARY)),
                  st.one_of(_leaf, st.tuples(st.just("result"), st.integers(0, 30))),
                  st.one_of(_leaf, st.tuples(st.just("result"), st.integers(0, 30))))
SEQUENCES = st.lists(_step, min_size=1, max_size=12)


def _operand(spec, results):
    kind = spec[0]
    if kind == "array":
        _, dtype, shape, seed = spec
        return lnp.asarray(_array(np.random.default_rng(seed), dtype, shape))
    if kind == "weak":
        try:
            with np.errstate(over="ignore"):  # 1e40 -> inf in float32
                return lnp.asarray(spec[1])
        except OverflowError:  # an int beyond the default int (as in JAX): use it as is
            return spec[1]
    if kind == "scalar":
        return spec[1]
    live = [r for r in results if isinstance(r, Array)]
    return live[spec[1] % len(live)] if live else 1.5


def _outcome(fn):
    """(dtype, weak, value) of ``fn()``, or the exception's type name."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001 - compared with the other path's outcome
            return type(e).__name__, None
    return (str(r.dtype), bool(r.aval.weak_type), np.asarray(r)), r


def _call(name, x, y):
    return BINARY[name](x, y) if name in BINARY else UNARY[name](x)


def _jit_oracle(name, x, y):
    """The same operation traced afresh (arrays as arguments, Python scalars as constants)."""
    args = [a for a in (x, y) if isinstance(a, Array)]

    def f(*arrs):
        it = iter(arrs)
        xx, yy = (next(it) if isinstance(a, Array) else a for a in (x, y))
        return _call(name, xx, yy)

    return lambda: lepton.jit(f, backend="reference")(*args)


def _same(name, got, want):
    if isinstance(got, str) or isinstance(want, str):
        assert got == want, f"{name}: eager gave {got}, a fresh trace gave {want}"
        return
    (gd, gw, gv), (wd, ww, wv) = got, want
    assert (gd, gw) == (wd, ww), f"{name}: eager gave {gd}{' weak' * gw}, " \
                                 f"a fresh trace {wd}{' weak' * ww}"
    assert gv.shape == wv.shape, name
    if name in UNARY or name in ("divide", "power"):  # libm-level or summation order: 4 eps
        np.testing.assert_allclose(gv, wv, rtol=4 * np.finfo(gv.dtype).eps if
                                   gv.dtype.kind in "fc" else 0, err_msg=name)
    else:
        np.testing.assert_array_equal(gv, wv, err_msg=name)


def _run(steps, check=None):
    """Evaluate ``steps`` eagerly in order; returns each step's outcome."""
    results, outcomes = [], []
    for name, a, b in steps:
        x, y = _operand(a, results), _operand(b, results)
        got, r = _outcome(lambda: _call(name, x, y))
        if check is not None:
            check(name, x, y, got)
        results.append(r)
        outcomes.append(got)
    return outcomes


def _x64_modes():
    return [False, True] if hasattr(lepton, "enable_x64") else [False]


@settings(max_examples=300, deadline=None)
@given(SEQUENCES, st.sampled_from(_x64_modes()))
def test_eager_results_match_a_fresh_trace(steps, x64):
    mode = lepton.enable_x64() if x64 else contextlib.nullcontext()

    def check(name, x, y, got):
        want, _ = _outcome(_jit_oracle(name, x, y))
        _same(name, got, want)

    with mode:
        _run(steps, check)


def test_defect_2_regressions():
    """The issue's examples, in both orders."""
    for order in (0, 1):
        x = lnp.asarray(np.array([16777217], np.int32))
        calls = [lambda: x / 2, lambda: x + 1]
        if order:
            calls.reverse()
        outs = [c() for c in calls]
        half, plus = (outs[0], outs[1]) if not order else (outs[1], outs[0])
        assert half.dtype == np.float32 and not half.aval.weak_type
        assert plus.dtype == np.int32 and int(plus[0]) == 16777218
        with pytest.raises(OverflowError):
            x + 2**40


_REPLAY = """
import pickle, sys
sys.path.insert(0, {tests!r})
import test_eager_history as t
steps = pickle.loads(bytes.fromhex(sys.stdin.read()))
out = [t._run([s])[0] for s in reversed(steps)]  # every step alone, in reverse order
sys.stdout.write(pickle.dumps(out[::-1]).hex())
"""


def test_a_fresh_process_gives_the_same_answers():
    rng = np.random.default_rng(10)
    names = sorted(BINARY) + sorted(UNARY)
    pool = [("array", d, s, int(rng.integers(1 << 16))) for d in DTYPES for s in [(), (3,)]]
    pool += [("scalar", v) for v in SCALARS] + [("weak", v) for v in SCALARS]
    steps = [(names[rng.integers(len(names))], pool[rng.integers(len(pool))],
              pool[rng.integers(len(pool))]) for _ in range(400)]
    here = _run(steps)
    tests = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, "-c", _REPLAY.format(tests=tests)],
                         input=pickle.dumps(steps).hex(), capture_output=True, text=True,
                         cwd=os.path.dirname(tests), timeout=300)
    assert out.returncode == 0, out.stderr
    fresh = pickle.loads(bytes.fromhex(out.stdout))
    for (name, _, _), got, want in zip(steps, here, fresh):
        _same(name, got, want)
