"""The op-table suite: every row is checked against NumPy, finite differences, a vmap loop
and the staged IR.  Rows live in tests/ops/<family>.py."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import test_util, tree
from tests import xfails
from tests.ops import all_ops, as_numpy_warns, diff_positions, numpy_reference, partial_fn

OPS = all_ops()
VALUE_EXAMPLES = 12
GRAD_EXAMPLES = 4
VMAP_EXAMPLES = 6
_settings = dict(deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


def _to_lepton(args):
    return tuple(lnp.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args)


def _expected_dtype(op, dtype, ref_out):
    if op.out_dtype is not None:
        return np.dtype(op.out_dtype(np.dtype(dtype)))
    d = np.asarray(ref_out).dtype
    wide = np.dtype(dtype) in (np.float64, np.int64, np.uint64, np.complex128)
    if not wide:
        d = {np.dtype("float64"): np.dtype("float32"), np.dtype("int64"): np.dtype("int32"),
             np.dtype("complex128"): np.dtype("complex64"),
             np.dtype("uint64"): np.dtype("uint32")}.get(d, d)
    return d


def _tols(op, dtype):
    rtol, atol = op.tols(dtype)
    if np.dtype(dtype) in (np.float64, np.complex128):
        return rtol or 1e-12, atol or 1e-12
    return rtol or 1e-5, atol or 1e-6


def _assert_rejects(op, err, call, strict=True):
    """``call()`` raises like ``err`` (same type) for the same input.  Not ``strict``: it may
    also return, as JAX does where NumPy refuses (reductions of empty arrays, ``vectorize``
    of size-0 inputs, axis=0 of a 0-d array): there is no NumPy value to compare then."""
    try:
        call()
    except type(err):
        return
    except Exception as e:
        raise AssertionError(f"{op}: NumPy raises {type(err).__name__}: {err}; lepton raises "
                             f"{type(e).__name__}: {e}") from e
    assert not strict, f"{op}: {type(err).__name__}: {err} is raised eagerly, not under jit"


class _Counter:
    """Counts the examples of a hypothesis test that reached their comparison."""

    def __init__(self, what):
        self.what, self.n = what, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.n > 0, f"{self.what}: no example reached its comparison"


def _compare(op, dtype, got, want):
    rtol, atol = _tols(op, dtype)
    g_leaves, w_leaves = tree.leaves(got), tree.leaves(want)
    assert len(g_leaves) == len(w_leaves), f"{op}: output structure differs"
    for g, w in zip(g_leaves, w_leaves):
        w = np.asarray(w)
        assert tuple(np.shape(g)) == w.shape, f"{op}: shape {np.shape(g)} != NumPy {w.shape}"
        if op.check_dtype:
            assert np.asarray(g).dtype == _expected_dtype(op, dtype, w), \
                f"{op}: dtype {np.asarray(g).dtype} != expected {_expected_dtype(op, dtype, w)}"
        g = np.asarray(g)
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w.astype(g.dtype) if g.dtype.kind in "fc" else w,
                                       rtol=rtol, atol=atol, equal_nan=True, err_msg=str(op))
        else:
            np.testing.assert_array_equal(g, w, err_msg=str(op))


def _cases(test, attr=None):
    return [pytest.param(op, dt, id=f"{op.id}-{dt}", marks=xfails.marks(op.id, dt, test))
            for op in OPS for dt in op.dtypes if attr is None or getattr(op, attr)]


@pytest.mark.parametrize("op,dtype", _cases("eager"))
def test_matches_numpy(op, dtype):
    check_matches_numpy(op, dtype, VALUE_EXAMPLES)


def check_matches_numpy(op, dtype, examples):
    """Eager lepton equals NumPy; inputs NumPy rejects must be rejected (same error type)."""
    with _Counter(f"{op}-{dtype}") as count:
        @settings(max_examples=examples, **_settings)
        @given(data=st.data())
        def run(data):
            args, kwargs = op.gen(data.draw, dtype, False)
            want, err, warned = numpy_reference(op, args, kwargs)
            with as_numpy_warns(warned or err is not None):
                if err is not None:
                    _assert_rejects(op, err, lambda: op.fn(*_to_lepton(args), **kwargs),
                                    strict=False)
                    return
                got = op.fn(*_to_lepton(args), **kwargs)
            _compare(op, dtype, got, want)
            count.n += 1
        run()


@pytest.mark.parametrize("op,dtype", _cases("jit-eager", "jit"))
def test_jit_matches_eager(op, dtype):
    """jit (the IR, run by the reference backend) equals eager; shape rules agree with impls.
    An input eager rejects is rejected by jit with the same error type.

    The compiled backends are checked against the reference in their own test files."""
    with _Counter(f"{op}-{dtype}") as count:
        @settings(max_examples=3, **_settings)
        @given(data=st.data())
        def run(data):
            args, kwargs = op.gen(data.draw, dtype, False)
            largs = _to_lepton(args)
            arr_pos = [i for i, a in enumerate(largs) if isinstance(a, lnp.ndarray)]
            f = partial_fn(op, largs, kwargs, arr_pos)
            arrays = [largs[i] for i in arr_pos]
            _, _, warned = numpy_reference(op, args, kwargs)
            jf = lepton.jit(f, backend="reference")
            with as_numpy_warns(warned):
                try:
                    eager = f(*arrays)
                except Exception as e:
                    _assert_rejects(op, e, lambda: jf(*arrays))
                    return
                staged = jf(*arrays)
            closed = jf.make_jaxpr(*arrays)
            for aval, e in zip(closed.out_avals, tree.leaves(eager)):
                assert aval.shape == np.shape(e) and aval.dtype == np.asarray(e).dtype, \
                    f"{op}: staged {aval} vs eager {np.shape(e)} {np.asarray(e).dtype}"
            for s, e in zip(tree.leaves(staged), tree.leaves(eager)):
                np.testing.assert_array_equal(np.asarray(s), np.asarray(e), err_msg=str(op))
            count.n += 1
        run()


def _grad_cases():
    return [pytest.param(op, id=op.id, marks=xfails.marks(op.id, "float64", "eager-grad"))
            for op in OPS if op.grad and "float64" in op.dtypes]


@pytest.mark.parametrize("op", _grad_cases())
def test_grads(op):
    with _Counter(f"grad {op}") as count:
        @settings(max_examples=GRAD_EXAMPLES, **_settings)
        @given(data=st.data())
        def run(data):
            args, kwargs = op.gen(data.draw, "float64", True)
            diff = diff_positions(op, args)
            if not diff:
                return
            f = partial_fn(op, args, kwargs, diff)
            test_util.check_grads(f, [args[i] for i in diff], order=op.grad_order,
                                  modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)
            count.n += 1
        run()


def _permuted(rng, a):
    flat = np.asarray(a).reshape(-1)
    return rng.permutation(flat).reshape(np.shape(a))


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id,
                                             marks=xfails.marks(op.id, "*", "vmap"))
                                for op in OPS if op.vmap])
def test_vmap_matches_loop(op):
    with _Counter(f"vmap {op}") as count:
        @settings(max_examples=VMAP_EXAMPLES, **_settings)
        @given(data=st.data())
        def run(data):
            dtype = op.dtypes[0]
            args, kwargs = op.gen(data.draw, dtype, False)
            _, err, warned = numpy_reference(op, args, kwargs)
            if err is not None:
                return  # test_matches_numpy checks that lepton rejects it too
            rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
            positions = op.vmap_args if op.vmap_args is not None else tuple(
                i for i, a in enumerate(args) if isinstance(a, np.ndarray))
            assert positions, f"{op}: vmap row without array arguments"
            in_axes = [None] * len(args)
            batched = list(args)
            for i in positions:
                if data.draw(st.booleans()) or i == positions[-1]:
                    ax = data.draw(st.integers(0, np.ndim(args[i])))
                    batched[i] = np.stack([args[i], _permuted(rng, args[i])], axis=ax)
                    in_axes[i] = ax
            with as_numpy_warns(True):  # the permuted copy may warn where args did not
                test_util.check_batching(lambda *xs: op.fn(*xs, **kwargs), batched,
                                         tuple(in_axes), atol=1e-5, rtol=1e-5)
            count.n += 1
        run()


@pytest.mark.parametrize("sa,sb", [
    pytest.param((1, 0, 0), (2, 0, 0, 0), id="empty",
                 marks=xfails.marks("einsum", "float32", "vmap-empty-broadcast")),
    pytest.param((1, 2, 3), (2, 4, 3, 2), id="nonempty")])
def test_vmap_of_einsum_broadcasting_batch_axes(sa, sb):
    """Found by test_vmap_matches_loop: a size-1 ellipsis axis against a size-0 one."""
    a = np.ones(sa, np.float32)
    b = np.arange(np.prod(sb), dtype=np.float32).reshape(sb)
    want = np.stack([np.einsum("...ij,...jk->...ik", a, y) for y in b])
    got = lepton.vmap(lambda y: lnp.einsum("...ij,...jk->...ik", a, y))(b)
    np.testing.assert_allclose(np.asarray(got), want)


def test_mod_derivative_in_the_divisor_is_exact():
    """d mod(x, y)/dy = -floor(x / y) also where (x - rem) / y rounds to just below an integer
    (found by test_grads[mod]: truncating it gave 3 for 4)."""
    x, y = np.array(2.09240422), np.array(-0.67003926)
    g = lepton.grad(lambda b: lnp.mod(x, b))(y)
    assert float(g) == -np.floor(x / y) == 4.0
    t = lepton.jvp(lambda b: lnp.fmod(x, b), (y,), (np.array(1.0),))[1]
    assert float(t) == -np.trunc(x / y) == 3.0


def _nondiff_cases():
    return [pytest.param(op, id=op.id) for op in OPS if op.nondiff
            and any(d.startswith("float") for d in op.dtypes)]


@pytest.mark.parametrize("op", _nondiff_cases())
def test_nondifferentiable_give_zero_tangents(op):
    """Piecewise-constant or integer-valued functions: forward and reverse derivatives are 0."""
    with _Counter(f"nondiff {op}") as count:
        @settings(max_examples=3, **_settings)
        @given(data=st.data())
        def run(data):
            dtype = next(d for d in op.dtypes if d.startswith("float"))
            args, kwargs = op.gen(data.draw, dtype, True)
            pos = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)
                   and a.dtype.kind == "f"]
            assert pos, f"{op}: no float argument to differentiate"
            largs = list(_to_lepton(args))
            f = partial_fn(op, largs, kwargs, pos)
            primals = tuple(largs[i] for i in pos)
            _, err, _ = numpy_reference(op, args, kwargs)
            if err is not None:  # inputs the function rejects: so must its derivatives
                _assert_rejects(op, err, lambda: lepton.jvp(
                    f, primals, tuple(lnp.ones_like(p) for p in primals)), strict=False)
                return
            out, out_t = lepton.jvp(f, primals, tuple(lnp.ones_like(p) for p in primals))
            for t in tree.leaves(out_t):
                t = np.asarray(t)
                assert t.dtype == lepton.dtypes.float0 or not np.any(t), \
                    f"{op}: nonzero tangent {t}"
            out, pullback = lepton.vjp(f, *primals)
            cts = tree.map(lambda o: lnp.ones_like(o) if np.asarray(o).dtype.kind in "fc"
                           else np.zeros(np.shape(o), lepton.dtypes.float0), out)
            for g in tree.leaves(pullback(cts)):
                assert not np.any(np.asarray(g)), f"{op}: nonzero cotangent"
            count.n += 1
        run()
