"""Every op-table row compiled by the cpu backend against the reference backend.

Each row runs at three sizes so that every kernel variant is compiled and checked: the small
hypothesis shapes (sides up to 4: serial kernels), ``MEDIUM`` elements (just above the
parallel threshold of a transcendental kernel, so ``sin``/``exp``/... run their prange
variant and cheap ops stay serial) and ``LARGE`` elements (above the threshold of a single
cheap op: every kernel is parallel).  The sized examples alternate between clean data and
data with NaN/inf/-0 edge values, so parallel reductions are not only compared NaN to NaN.
Rows that differentiate are also run as ``jit(grad(...))`` on both backends.

A drawn input that the reference rejects must be rejected by the compiled backend with the
same exception type; every case must reach at least one value comparison.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import tree
from lepton.backends.cpu import backend as numba_cpu
from tests import xfails
from tests.ops import (all_ops, as_numpy_warns, diff_positions, new_example, numpy_reference,
                       partial_fn, sized, sized_shape_used)

OPS = [op for op in all_ops() if op.jit]

#: Just above the parallel threshold of a kernel with one libm (e.g. float64) transcendental op.
MEDIUM = numba_cpu.PARALLEL_WORK // (1 + 1000) + 512
#: Just above the parallel threshold of a kernel with one cheap op (about 1M elements).
LARGE = numba_cpu.PARALLEL_WORK // 2 + (1 << 14)

SMALL_EXAMPLES = 10
SIZED_EXAMPLES = {"medium": 2, "large": 2}
GRAD_EXAMPLES = 4
_settings = dict(deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


def _lepton_args(args):
    return tuple(lnp.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args)


def _tolerance(dtype, size):
    """Relative and absolute tolerance for cpu vs reference results of ``dtype``.

    Both backends round each op correctly or within an ulp or two (the float32 fast math is
    within 1 ulp), but sums are reassociated (parallel chunks, float64 accumulation of
    float32), which costs up to about log2(n) ulps of the summed magnitudes."""
    eps = np.finfo(dtype).eps
    ulps = 64 + 4 * int(np.log2(max(size, 2)))
    return ulps * eps, ulps * eps


def _assert_same(got, want, what, size=1):
    g_leaves, w_leaves = tree.leaves(got), tree.leaves(want)
    assert len(g_leaves) == len(w_leaves), f"{what}: output structure differs"
    for g, w in zip(g_leaves, w_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert (g.shape, g.dtype) == (w.shape, w.dtype), \
            f"{what}: cpu gives {g.shape} {g.dtype}, reference {w.shape} {w.dtype}"
        if w.dtype.kind in "fc":
            rtol, atol = _tolerance(w.dtype, size)
            scale = np.max(np.abs(w[np.isfinite(w)]), initial=1.0)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * scale, equal_nan=True,
                                       err_msg=what)
            if w.dtype.kind == "f":  # the sign of zero must agree too
                zero = (g == 0) & (w == 0)
                np.testing.assert_array_equal(np.signbit(g[zero]), np.signbit(w[zero]),
                                              err_msg=f"{what}: sign of zero")
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)


def _compare(op, dtype, args, kwargs, what):
    """Run ``op`` on both backends.  Returns the size of the largest argument or result if
    values were compared, None if the reference (and so the compiled backend) rejected
    the inputs."""
    largs = _lepton_args(args)
    pos = [i for i, a in enumerate(largs) if isinstance(a, lnp.ndarray)]
    f = partial_fn(op, largs, kwargs, pos)
    arrs = [largs[i] for i in pos]
    _, _, warned = numpy_reference(op, args, kwargs)
    with as_numpy_warns(warned):  # lepton may warn (inf - inf...) only where NumPy does
        try:
            want = lepton.jit(f, backend="reference")(*arrs)
        except Exception as e:  # the op rejects these inputs: so must the compiled backend
            with pytest.raises(type(e)):
                lepton.jit(f, backend="cpu")(*arrs)
            return None
        got = lepton.jit(f, backend="cpu")(*arrs)
    size = max(int(np.size(a)) for a in tree.leaves((arrs, want)) + [1])
    _assert_same(got, want, what, size)
    return size


def _cases(sizes, dtypes_of=lambda op: op.dtypes):
    out = []
    for op in OPS:
        for dt in dtypes_of(op):
            for size in sizes:
                if size != "small" and not op.scalable:
                    continue
                marks = xfails.marks(op.id, dt, size)
                if size != "small":  # each compiles the parallel kernels: cold, most of
                    marks.append(pytest.mark.slow)  # the suite's time (CI runs them)
                out.append(pytest.param(op, dt, size, id=f"{op.id}-{dt}-{size}", marks=marks))
    return out


@pytest.mark.parametrize("op,dtype,size", _cases(["small", "medium", "large"]))
def test_op_table_matches_reference(op, dtype, size):
    compared = [0]
    if size == "small":
        @settings(max_examples=SMALL_EXAMPLES, **_settings)
        @given(data=st.data())
        def run(data):
            args, kwargs = op.gen(data.draw, dtype, False)
            compared[0] += _compare(op, dtype, args, kwargs, f"{op.id}-{dtype}") is not None
        run()
        assert compared[0] > 0, f"{op.id}-{dtype}: every drawn input was rejected"
        return
    n = MEDIUM if size == "medium" else LARGE
    examples = [0]

    # no shrinking: a failing example is already small in all but its one big axis
    @settings(max_examples=SIZED_EXAMPLES[size], phases=(Phase.generate,), **_settings)
    @given(data=st.data())
    def run(data):
        with sized(n, edges=examples[0] % 2 == 1):
            examples[0] += 1
            new_example()
            args, kwargs = op.gen(data.draw, dtype, False)
            assert sized_shape_used(), f"{op.id}: gen drew no sized shape (scalable=False?)"
        seen = _compare(op, dtype, args, kwargs, f"{op.id}-{dtype}-{size}")
        compared[0] += seen is not None and seen >= n
    run()
    assert compared[0] > 0, \
        f"{op.id}-{dtype}-{size}: no example compared arrays of {n} elements or more"


def test_the_sizes_cross_the_parallel_thresholds():
    x = np.linspace(-2, 2, MEDIUM, dtype=np.float32)
    assert "parallel=True" in lepton.jit(lnp.sin, backend="cpu").source(x.astype(np.float64))
    # a vectorised float32 transcendental costs 20 adds (render.cost): parallel at LARGE only
    assert "parallel=True" not in lepton.jit(lnp.sin, backend="cpu").source(x)
    assert "parallel=True" not in lepton.jit(lnp.negative, backend="cpu").source(x)
    x = np.linspace(-2, 2, LARGE, dtype=np.float32)
    assert "parallel=True" in lepton.jit(lnp.negative, backend="cpu").source(x)
    assert "parallel=True" in lepton.jit(lnp.sin, backend="cpu").source(x)


# ----------------------------------------------------------------------------- gradients
def _grad_cases():
    return [pytest.param(op, id=op.id, marks=xfails.marks(op.id, "float64", "grad"))
            for op in OPS if op.grad and "float64" in op.dtypes]


@pytest.mark.parametrize("op", _grad_cases())
def test_jitted_grads_match_reference(op):
    """``jit(grad(loss))`` on the cpu backend equals the reference backend's, where the loss
    is a fixed random projection of every float output."""
    compared = [0]

    @settings(max_examples=GRAD_EXAMPLES, **_settings)
    @given(data=st.data())
    def run(data):
        args, kwargs = op.gen(data.draw, "float64", True)
        diff = diff_positions(op, args)
        if not diff:
            return
        f = partial_fn(op, _lepton_args(args), kwargs, diff)
        primals = [lnp.asarray(args[i]) for i in diff]
        outs = tree.leaves(lepton.eval_shape(f, *primals))
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
        weights = [rng.standard_normal(o.shape) if o.dtype.kind == "f" else None for o in outs]

        def loss(*xs):
            total = 0.0
            for o, w in zip(tree.leaves(f(*xs)), weights):
                if w is not None:
                    total = total + lnp.sum(o * w)
            return total

        g = lepton.grad(loss, argnums=tuple(range(len(primals))))
        want = lepton.jit(g, backend="reference")(*primals)
        got = lepton.jit(g, backend="cpu")(*primals)
        _assert_same(got, want, f"grad {op.id}", max(int(np.size(p)) for p in primals))
        compared[0] += 1
    run()
    assert compared[0] > 0, f"grad {op.id}: no example had a differentiable argument"


# ----------------------------------------------------------------------------- tiered mode
def _tiered_cases():
    """Every third row (float32, and float64 where the row has no float32), small and
    medium: medium runs the transcendental kernels' parallel variants."""
    out = []
    for op in OPS[::3]:
        dt = "float32" if "float32" in op.dtypes else op.dtypes[0]
        for size in ("small", "medium") if op.scalable else ("small",):
            marks = xfails.marks(op.id, dt, size)
            if size != "small":
                marks.append(pytest.mark.slow)
            out.append(pytest.param(op, dt, size, id=f"{op.id}-{dt}-{size}", marks=marks))
    return out


@pytest.mark.parametrize("op,dtype,size", _tiered_cases())
def test_op_table_in_tiered_mode(op, dtype, size, monkeypatch):
    """The default (tiered) mode: the first call is answered while the kernels compile in the
    background, later calls by the compiled program; every answer equals the reference's."""
    from lepton.backends import tiered
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setattr(tiered, "QUICK_SECONDS", 0.0)
    n = {"small": None, "medium": MEDIUM}[size]
    compared = [0]

    @settings(max_examples=3, phases=(Phase.generate,), **_settings)
    @given(data=st.data())
    def run(data):
        with (sized(n, edges=compared[0] % 2 == 1) if n else contextlib.nullcontext()):
            new_example()
            args, kwargs = op.gen(data.draw, dtype, False)
        largs = _lepton_args(args)
        pos = [i for i, a in enumerate(largs) if isinstance(a, lnp.ndarray)]
        f = partial_fn(op, largs, kwargs, pos)
        arrs = [largs[i] for i in pos]
        _, _, warned = numpy_reference(op, args, kwargs)
        with as_numpy_warns(warned):
            try:
                want = lepton.jit(f, backend="reference")(*arrs)
            except Exception as e:
                with pytest.raises(type(e)):
                    lepton.jit(f, backend="cpu")(*arrs)
                return
            jf = lepton.jit(f, backend="cpu")
            first = jf(*arrs)
            lepton.wait_for_compilation()
            results = [first, jf(*arrs), jf(*arrs)]
        for got in results:
            _assert_same(got, want, f"tiered {op.id}-{dtype}-{size}",
                         max(int(np.size(a)) for a in tree.leaves((arrs, want)) + [1]))
        compared[0] += 1
    run()
    assert compared[0] > 0, f"tiered {op.id}-{dtype}-{size}: every drawn input was rejected"
