"""The Numba cpu backend: kernel caching (in-process and across processes), fusion
structure, parallel variants, transforms of jitted functions, and lowering coverage of every
primitive.  The op table against the reference backend is tests/test_op_table_cpu.py."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton import tree
from lepton.backends import schedule
from lepton.backends.cpu import backend as numba_cpu
from lepton.primitives import elementwise as ew

_settings = dict(deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


pytestmark = pytest.mark.usefixtures("fresh_kernel_cache")


def _numba_compiles():
    return lepton.cache_info().numba_compiles


def _assert_same(got, want, dtype_hint=None, ulps=None):
    """Ints and bools bit for bit; floats to a few ulps of the larger magnitude (or to
    ``ulps`` units of float32/64 eps relative to the values' scale)."""
    g_leaves, w_leaves = tree.leaves(got), tree.leaves(want)
    assert len(g_leaves) == len(w_leaves)
    for g, w in zip(g_leaves, w_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        if w.dtype.kind in "fc":
            eps = np.finfo(w.dtype).eps
            tol = (ulps or 64) * eps
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)


# The op table runs on this backend at three sizes in tests/test_op_table_cpu.py.


# ----------------------------------------------------------------------------- caching
def test_new_size_of_same_rank_compiles_nothing():
    f = lepton.jit(lambda x, b: lnp.sum(lnp.exp(x) * b + 1.0, axis=1), backend="cpu")
    rng = np.random.default_rng(0)
    for i, (m, n) in enumerate([(5, 7), (9, 11), (3, 2)]):
        x = rng.standard_normal((m, n)).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        before = _numba_compiles()
        got = f(x, b)
        if i:
            assert _numba_compiles() == before, "a new size recompiled a kernel"
        _assert_same(got, lepton.jit(f.fun, backend="reference")(x, b))


_SUBPROCESS = textwrap.dedent("""
    import numpy as np, lepton, lepton.numpy as lnp
    from lepton.backends import cache
    f = lepton.jit(lambda x, y: lnp.sum(lnp.tanh(x) * y, axis=0), backend="cpu")
    out = f(np.ones((3, 4), np.float32), np.full((3, 4), 2, np.float32))
    assert np.allclose(out, 3 * 2 * np.tanh(1.0))
    print(lepton.cache_info().numba_compiles, cache.stats.disk_loads)
""")


def test_persistent_cache_serves_a_fresh_process(tmp_path):
    env = dict(os.environ, LEPTON_CACHE_DIR=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def run():
        out = subprocess.run([sys.executable, "-c", _SUBPROCESS], env=env, cwd=root,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return [int(t) for t in out.stdout.split()]

    compiles, loads = run()
    assert compiles > 0 and loads == 0
    compiles, loads = run()
    assert compiles == 0 and loads > 0, "the second process recompiled"
    assert all(not p.name.endswith(".tmp") for p in (tmp_path / "numba_cpu").iterdir())


def test_importing_lepton_does_not_import_numba():
    code = ("import sys, numpy as np, lepton, lepton.numpy as lnp\n"
            "lepton.jit(lambda x: x + 1, backend='reference')(np.ones(3))\n"
            "assert 'numba' not in sys.modules, 'lepton imported numba'")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("tiered", ["0", "1"])
def test_loading_numba_does_not_import_scipy_linalg(tmp_path, tiered):
    """Numba's registries probe for SciPy's BLAS (a 0.2 s import); lepton skips the probe,
    and Numba code that needs SciPy's BLAS (np.dot) still gets it when typed."""
    pytest.importorskip("scipy.linalg")
    code = ("import sys, numpy as np, lepton, numba\n"
            "f = lepton.jit(lambda x: lepton.numpy.exp(x) * 2, backend='cpu')\n"
            "np.testing.assert_allclose(f(np.ones(3)), 2 * np.e, rtol=1e-6)\n"
            "lepton.wait_for_compilation()\n"
            "np.testing.assert_allclose(f(np.ones(3)), 2 * np.e, rtol=1e-6)\n"
            "assert 'scipy.linalg' not in sys.modules, 'scipy.linalg was imported'\n"
            "dot = numba.njit(lambda a, b: np.dot(a, b))\n"
            "assert dot(np.ones(4), np.ones(4)) == 4.0\n"
            "assert 'scipy.linalg' in sys.modules\n")
    env = dict(os.environ, LEPTON_TIERED=tiered, LEPTON_CACHE_DIR=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr


def test_exit_skips_the_final_collection_over_the_compiler_heap(tmp_path):
    """After the cpu backend loads, exit freezes the heap (``allocator.quick_exit``) once
    the handlers registered after it have run; those still see a working interpreter."""
    code = ("import atexit, gc, sys, numpy as np\n"
            "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
            "import lepton\n"
            "lepton.jit(lambda x: x * 2, backend='cpu')(np.ones(3))\n"
            "atexit.register(lambda: print('late handler', gc.get_freeze_count() == 0))\n")
    env = dict(os.environ, LEPTON_CACHE_DIR=str(tmp_path), LEPTON_TIERED="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["late handler True", "frozen True"], out.stdout


# ----------------------------------------------------------------------------- transforms
def _mlp_loss(w, b, x):
    return lnp.mean(lnp.tanh(x @ w + b) ** 2)


def test_grad_and_vmap_of_jitted_functions():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    ref, cpu = (lambda f: lepton.jit(f, backend="reference")), \
        (lambda f: lepton.jit(f, backend="cpu"))
    cases = [
        lambda j: lepton.grad(j(_mlp_loss), argnums=(0, 1))(w, b, x),
        lambda j: j(lepton.grad(_mlp_loss))(w, b, x),
        lambda j: lepton.vmap(j(_mlp_loss), in_axes=(None, None, 0))(w, b, x[:, None, :]),
        lambda j: j(lepton.vmap(lepton.grad(_mlp_loss), in_axes=(None, None, 0)))(
            w, b, x[:, None, :]),
        lambda j: lepton.jvp(j(lambda x: lnp.sum(lnp.sin(x) * x, axis=1)), (x,), (x,)),
    ]
    for case in cases:
        _assert_same(case(cpu), case(ref))


# ----------------------------------------------------------------------------- structure
def test_fused_kernel_source_is_visible():
    f = lepton.jit(lambda x: lnp.sum(lnp.tanh(x) * 2 + lnp.sin(x) ** 2 - lnp.exp(-x * x)),
                   backend="cpu")
    src = f.source(np.ones(8, np.float32))
    assert src.count("@njit(") == 1, "the chain and its reduction should be one kernel"
    assert "def kernel_0(n, c0, a0, o0)" in src and "K.tanh_f32" in src and "prange" not in src
    big = f.source(np.ones(1 << 16, np.float32))
    assert "prange" in big and "parallel=True" in big


def test_broadcasts_reshapes_and_transposes_are_index_arithmetic():
    def f(x, b, y):
        h = lnp.maximum(x + b, 0.0) * y.T                    # bias broadcast, transposed read
        return h - lnp.max(h, axis=1, keepdims=True), lnp.sum(h, axis=0)

    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    b = np.arange(5, dtype=np.float32)
    y = np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32)
    jf = lepton.jit(f, backend="cpu")
    src = jf.source(x, b, y)
    assert "host" not in src.split("\n\n")[0], src
    _assert_same(jf(x, b, y), lepton.jit(f, backend="reference")(x, b, y))


_VIEW_CHAINS = {
    "slices": lambda x: lnp.tanh(x[:, 1:5]) + x[:, :4] * 2 - x[:, 1::2] * x[:, 1:][:, 2:6],
    "pad_of_slice": lambda x: x[:, :6] + lnp.pad(x[:, 2:4], ((0, 0), (1, 3))),
    "negative_pad": lambda x: lax.pad(x, 0.5, ((-1, 2, 0), (1, -3, 0))) * 3,
    "pad_of_pad": lambda x: lnp.pad(lnp.pad(x[:3], ((1, 0), (0, 2))), ((0, 1), (2, 0))) + 1,
    "pad_with_nonzero": lambda x: lnp.pad(lnp.exp(x), 1, constant_values=-2.0) * 2,
    "slice_of_transpose": lambda x: x.T[1:4, ::3][:, :1] * 2 + x[:1, 1:4].T,
    "broadcast_slice": lambda x: x[:, 2:3] * x + lnp.pad(x[:1, :], ((2, 2), (0, 0)))[2:3, :],
    "reduce_over_slices": lambda x: (lnp.sum(x[:, 1:] * x[:, :-1], axis=1),
                                     lnp.max(lnp.pad(x, 1), axis=0)),
    "stacked_gates": lambda x: sum(lnp.tanh(x[:, k * 2:(k + 1) * 2]) for k in range(4)),
}


@pytest.mark.parametrize("name", sorted(_VIEW_CHAINS))
def test_slices_and_pads_are_offset_reads(name):
    """Slices and constant pads fuse into their readers (no host op, no copy) and match the
    reference, at two sizes of the same rank without a new Numba compile."""
    f = _VIEW_CHAINS[name]
    jf, ref = lepton.jit(f, backend="cpu"), lepton.jit(f, backend="reference")
    for rows, dtype in ((5, np.float32), (9, np.float64)):
        x = np.random.default_rng(rows).standard_normal((rows, 8)).astype(dtype)
        driver = jf.source(x).split("\n\n")[0]
        assert "slice(" not in driver and "pad(" not in driver, driver
        _assert_same(jf(x), ref(x))
    before = _numba_compiles()
    x = np.random.default_rng(0).standard_normal((7, 8)).astype(np.float64)
    _assert_same(jf(x), ref(x))
    assert _numba_compiles() == before, "new slice offsets recompiled a kernel"


@st.composite
def _view_chain(draw):
    """A random chain of slices, constant pads (negative ones crop), transposes and
    broadcasts of a 2-D array, ending in an elementwise op that fuses them."""
    shape = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    ops = []
    cur = shape
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["slice", "pad", "slice", "pad", "transpose", "broadcast"]))
        if kind == "slice":
            starts = tuple(draw(st.integers(0, n - 1)) for n in cur)
            limits = tuple(draw(st.integers(a + 1, n)) for a, n in zip(starts, cur))
            strides = tuple(draw(st.integers(1, 2)) for _ in cur)
            ops.append(("slice", starts, limits, strides))
            cur = tuple(-(-(l - a) // t) for a, l, t in zip(starts, limits, strides))
        elif kind == "pad":
            cfg = tuple((draw(st.integers(-(n - 1) // 2, 2)), draw(st.integers(-(n - 1) // 2, 2)),
                         0) for n in cur)
            ops.append(("pad", cfg, draw(st.sampled_from([0.0, 1.5]))))
            cur = tuple(n + lo + hi for n, (lo, hi, _) in zip(cur, cfg))
        elif kind == "transpose":
            ops.append(("transpose",))
            cur = cur[::-1]
        else:
            ops.append(("broadcast", draw(st.integers(1, 3))))
            cur = (ops[-1][1],) + cur
    return shape, ops


def _apply_chain(x, ops):
    for op in ops:
        if op[0] == "slice":
            x = lax.slice(x, op[1], op[2], op[3])
        elif op[0] == "pad":
            x = lax.pad(x, np.array(op[2], x.dtype), op[1])
        elif op[0] == "transpose":
            x = x.T if x.ndim == 2 else x
        else:
            x = lnp.broadcast_to(x, (op[1],) + x.shape)
    return lnp.tanh(x) * 2 + 1


@settings(max_examples=60, **_settings)
@given(chain=_view_chain())
def test_random_view_chains_match_reference(chain):
    shape, ops = chain
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    f = lambda x: _apply_chain(x, ops)  # noqa: E731
    _assert_same(lepton.jit(f, backend="cpu")(x), lepton.jit(f, backend="reference")(x))


def test_slices_read_by_host_ops_still_run_on_the_host():
    f = lambda x: (lnp.sort(x[:, 1:], axis=1), x[::2], lnp.pad(x, ((0, 0), (1, 0)))[0])
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    _assert_same(lepton.jit(f, backend="cpu")(x), lepton.jit(f, backend="reference")(x))


def test_host_ops_and_kernels_interleave():
    def f(w, x):
        h = lnp.tanh(x @ w)                                  # dot_general is a host op
        return lnp.sort(h * 2, axis=-1)[:, ::2] + lnp.cumsum(h, axis=0)[:, ::2]

    w = np.random.default_rng(4).standard_normal((4, 6))
    x = np.random.default_rng(5).standard_normal((3, 4))
    jf = lepton.jit(f, backend="cpu")
    driver = jf.source(w, x).split("\n\n")[0]
    for name in ("dot_general", "sort", "cumsum"):
        assert f"{name}(" in driver and "host" in driver
    _assert_same(jf(w, x), lepton.jit(f, backend="reference")(w, x))


def test_transposed_products_are_computed_in_the_reading_layout():
    def sgd(w, x):
        g = lepton.grad(lambda w: lnp.sum(lnp.tanh(x @ w) ** 2))(w)   # dW = (g^T x)^T
        return w - 0.1 * g

    w = np.random.default_rng(11).standard_normal((5, 7)).astype(np.float32)
    x = np.random.default_rng(12).standard_normal((4, 5)).astype(np.float32)
    jf = lepton.jit(sgd, backend="cpu")
    src = jf.source(w, x)
    assert "transpose" not in src and "[i1, i0]" not in src, src
    _assert_same(jf(w, x), lepton.jit(sgd, backend="reference")(w, x), ulps=256)


# ----------------------------------------------------------------------------- parallel
_PARALLEL = [
    ("elementwise", lambda x: lnp.exp(x) * lnp.cos(x) + x),
    ("full_sum", lambda x: lnp.sum(lnp.sin(x))),
    ("rows", lambda x: lnp.max(lnp.tanh(x), axis=1)),
    ("columns", lambda x: lnp.sum(lnp.exp(-x * x), axis=0)),
    ("middle", lambda x: lnp.min(lnp.cos(x.reshape(64, 16, -1)), axis=1)),
]


@pytest.mark.parametrize("edges", [False, True], ids=["clean", "nan"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn", _PARALLEL, ids=[n for n, _ in _PARALLEL])
def test_parallel_variants_match_reference(name, fn, dtype, edges):
    # 256k elements: above PARALLEL_WORK for a float32 transcendental too (render.cost)
    x = np.random.default_rng(6).standard_normal((64, 4096)).astype(dtype)
    if edges:
        x[3, 5], x[7, 9] = np.nan, 3e7                       # NaN propagation, exact fallback
    jf = lepton.jit(fn, backend="cpu")
    assert "parallel=True" in jf.source(x) or name in ("columns", "middle")
    _assert_same(jf(x), lepton.jit(fn, backend="reference")(x), ulps=256)


_CHEAP_PARALLEL = {  # one cheap op per element: parallel from about 1M elements
    "int_sum_max": (lambda x: (lnp.sum(x), lnp.max(x, axis=1), lnp.min(x)), "int32"),
    "int_rows": (lambda x: lnp.sum(x * 3 - 1, axis=1), "int32"),
    "bool_any_all": (lambda x: (lnp.any(x > 2), lnp.all(x < 9, axis=0), lnp.sum(x > 0)),
                     "int32"),
    "argmax": (lambda x: (lnp.argmax(x * 2), lnp.argmin(x - 1, axis=1),
                          lnp.argmax(x, axis=0)), "float32"),  # host argmax after kernels
    "float64_sum": (lambda x: (lnp.sum(x), lnp.max(x, axis=1), x * 2 + 1), "float64"),
}


@pytest.mark.parametrize("name", sorted(_CHEAP_PARALLEL))
def test_cheap_parallel_kernels_match_reference(name):
    """Integer, bool, argmax and float64 kernels over more than 1M elements (parallel)."""
    fn, dtype = _CHEAP_PARALLEL[name]
    rng = np.random.default_rng(13)
    x = (rng.integers(-5, 10, (1100, 1024)) if dtype == "int32" else
         rng.standard_normal((1100, 1024))).astype(dtype)
    x[500, 7] = 99 if dtype == "int32" else 40.0             # one clear maximum, late in x
    jf = lepton.jit(fn, backend="cpu")
    assert "parallel=True" in jf.source(x), jf.source(x)
    _assert_same(jf(x), lepton.jit(fn, backend="reference")(x), ulps=256)


def test_programs_with_blas_products_raise_the_parallel_bar():
    """A program with a BLAS product gives a kernel its prange variant only past
    ``SPREAD_FACTOR`` times the usual work: serial kernels leave BLAS every thread and
    compile in half the time.  Other programs keep the usual bar."""
    x = np.random.default_rng(3).standard_normal((1100, 1024)).astype(np.float32)
    w = np.ones((1024, 4), np.float32)

    def with_product(x, w):
        return x * 2 @ w, x - 1

    def heavy(x, w):
        return lnp.tanh(x) @ w, x - 1

    assert "parallel=True" not in lepton.jit(with_product, backend="cpu").source(x, w)
    assert "parallel=True" in lepton.jit(lambda x: (x * 2, x - 1), backend="cpu").source(x)
    assert "parallel=True" in lepton.jit(lambda x: (lnp.argmax(x * 2), x - 1),
                                         backend="cpu").source(x)  # NumPy host step only
    x64, w64 = x.astype(np.float64), w.astype(np.float64)  # libm tanh x 1.1M: past the bar
    assert "parallel=True" in lepton.jit(heavy, backend="cpu").source(x64, w64)
    for fn, args in [(with_product, (x, w)), (heavy, (x64, w64))]:
        _assert_same(lepton.jit(fn, backend="cpu")(*args),
                     lepton.jit(fn, backend="reference")(*args), ulps=64)


# ----------------------------------------------------------------------------- accuracy
def _ulps(got, exact):
    """Distance in float32 ulps of the correctly rounded value."""
    with np.errstate(all="ignore"):  # exp's exact values overflow float32: inf
        want = exact.astype(np.float32)
        d = np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(want)).astype(np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    return np.where(same, 0.0, d)


_APPROXIMATED = {  # lepton function, float64 reference
    "exp": (lnp.exp, np.exp), "tanh": (lnp.tanh, np.tanh), "sin": (lnp.sin, np.sin),
    "cos": (lnp.cos, np.cos), "logistic": (ew.logistic, lambda v: 1 / (1 + np.exp(-v))),
}


@pytest.mark.parametrize("name", sorted(_APPROXIMATED))
def test_float32_approximations_are_within_one_ulp(name):
    rng = np.random.default_rng(7)
    x = np.concatenate([
        rng.standard_normal(1 << 18) * 4, np.linspace(-110, 95, 1 << 18),
        rng.standard_normal(1 << 16) * 10.0 ** rng.uniform(-40, 6, 1 << 16),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 88.72, 88.73, -103.9, -104.5],
    ]).astype(np.float32)
    fn, exact_fn = _APPROXIMATED[name]
    jf = lepton.jit(fn, backend="cpu")
    assert f"K.{name}_f32" in jf.source(x)
    got = np.asarray(jf(x))
    with np.errstate(all="ignore"):
        exact = exact_fn(x.astype(np.float64))
    assert _ulps(got, exact).max() <= 1.0
    ref = np.asarray(lepton.jit(fn, backend="reference")(x))  # NumPy: not exact itself
    assert _ulps(got, ref.astype(np.float64)).max() <= _ulps(ref, exact).max() + 1.0


def test_huge_sine_arguments_fall_back_to_libm():
    x = np.array([1.0, 3e7, 1e20, -3.4e38, 0.5], np.float32)
    got = np.asarray(lepton.jit(lambda v: lnp.sin(v) + lnp.cos(v), backend="cpu")(x))
    want = (np.sin(x.astype(np.float64)) + np.cos(x.astype(np.float64))).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=4e-7, atol=1e-7)


# ----------------------------------------------------------------------------- edge cases
@pytest.mark.parametrize("fn,args", [
    (lambda x, y: (x // y, x % y, x / y), (np.array([7, -7, 5, 0, -8], np.int32),
                                           np.array([2, 2, 0, 3, -3], np.int32))),
    (lambda x, y: (x << y, x >> y), (np.array([1, -8, 3, 5], np.int32),
                                     np.array([3, 1, 40, -1], np.int32))),
    (lambda x: (lnp.max(x), lnp.min(x, axis=0), lnp.argmax(x)),
     (np.array([[1.0, np.nan], [3.0, -np.inf]], np.float32),)),
    (lambda b: (lnp.all(b, axis=1), lnp.any(b), ~b, b.astype(np.int8)),
     (np.array([[True, False], [True, True]]),)),
    (lambda x: (lnp.sum(x), lnp.max(x, axis=1) if x.shape[1] else x, x * 2),
     (np.zeros((0, 3), np.float32),)),
    (lambda x: (lnp.sum(x), x + 1, lnp.arange(4) * x),
     (np.array(2.5, np.float64),)),
    (lambda x: lnp.where(x > 0, x, lnp.arange(x.size).reshape(x.shape) * 1.0),
     (np.random.default_rng(8).standard_normal((3, 4)),)),
    (lambda x: (x.astype(np.int32), x.astype(np.uint8), x.astype(bool)),
     (np.array([1.7, -2.5, 300.0, 0.0, -0.0], np.float32),)),
    (lambda x: x.T * 2, (np.arange(12.0).reshape(3, 4).T,)),  # non-contiguous input
])
def test_edge_cases_match_reference(fn, args):
    _assert_same(lepton.jit(fn, backend="cpu")(*args),
                 lepton.jit(fn, backend="reference")(*args))


def test_compiled_program_checks_its_arguments():
    jaxpr = lepton.make_jaxpr(lambda x: x * 2)(np.ones(3, np.float32)).jaxpr
    run = numba_cpu.compile(jaxpr)
    np.testing.assert_array_equal(run(np.ones(3, np.float32))[0], 2 * np.ones(3))
    with pytest.raises(TypeError, match="compiled for"):
        run(np.ones(4, np.float32))


def test_destinations_receive_outputs_in_place_or_by_copy():
    """``run(..., out=...)`` (how loop bodies stack their outputs): kernel outputs land in
    their destination directly; inputs, host results and repeated outputs are copied."""
    def f(x, w):
        t = lnp.tanh(x) * 2
        return x, t, t, lnp.sort(t), t @ w
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    w = np.ones((4, 2), np.float32)
    run = numba_cpu.compile(lepton.make_jaxpr(f)(x, w).jaxpr)
    want = run(x, w)
    dests = [np.empty_like(r) for r in want]
    got = run(x, w, out=dests)
    assert got[1] is dests[1], "a kernel output should be written in place"
    for g, d, r in zip(got, dests, want):
        np.testing.assert_allclose(d, r, rtol=1e-6)
        np.testing.assert_allclose(g, r, rtol=1e-6)
    strided = np.empty((3, 8), np.float32)[:, ::2]  # not contiguous: filled by a copy
    run(x, w, out=[None, strided, None, None, None])
    np.testing.assert_allclose(strided, want[1], rtol=1e-6)


# ----------------------------------------------------------------------------- coverage
#: Primitives the cpu backend runs as host steps because its lowering table has no row for
#: them (``lepton/backends/cpu/lowering.py``).  A new primitive shows up here: decide
#: whether it deserves a row (a template, view, direct kernel or library call).
CPU_HOST_DEFAULTS = [
    "argmax", "argmin", "bitcast_convert_type", "cholesky", "concatenate", "cond", "cummax",
    "cummin", "cumprod", "cumsum", "custom_lin", "debug_callback", "digamma", "dynamic_slice",
    "dynamic_update_slice", "eig", "eigh", "erf_inv", "fft", "gather", "gcd", "igamma",
    "igamma_grad_a", "igammac", "jit", "lcm", "lu", "polygamma",
    "pure_callback", "qr", "rev", "scan", "scatter", "scatter_add", "scatter_max",
    "scatter_min", "scatter_mul", "sort", "svd", "threefry2x32",
    "triangular_solve", "while",
]


def _all_primitives():
    import importlib
    import pkgutil
    for m in pkgutil.walk_packages(lepton.__path__, "lepton."):  # every defined primitive
        importlib.import_module(m.name)
    from lepton.core import PRIMITIVES
    return PRIMITIVES


def test_cpu_lowering_table_covers_every_primitive():
    from lepton.backends.cpu.lowering import LOWERINGS
    from lepton.backends.lowering import KINDS
    prims = _all_primitives()
    assert not set(LOWERINGS.rows) - set(prims), "rows for primitives that do not exist"
    # custom-derivative calls are inlined by jit before any backend sees them
    defaults = [n for n in LOWERINGS.defaults(prims)
                if not getattr(prims[n], "inlined_before_lowering", False)]
    assert defaults == CPU_HOST_DEFAULTS, (
        "the cpu backend's host-step defaults changed: give new primitives a row in "
        "lepton/backends/cpu/lowering.py, or list them in CPU_HOST_DEFAULTS")
    for kind in KINDS:
        names = sorted(n for n in prims if LOWERINGS.kind(n) == kind)
        print(f"\ncpu backend, {kind} ({len(names)}): {' '.join(names)}")
    assert LOWERINGS.kind("sin") == "fused" and LOWERINGS.row("sin").guard
    assert LOWERINGS.kind("reduce_max") == "fused" and LOWERINGS.row("reduce_max").reduction
    assert LOWERINGS.kind("pad") == "view" and LOWERINGS.kind("conv_general_dilated") == "direct"
    assert LOWERINGS.kind("dot_general") == "library" and LOWERINGS.kind("sort") == "host"


def test_lowering_rows_name_existing_templates():
    from lepton.backends import lowering
    with pytest.raises(KeyError, match="no template 'not_a_template'"):
        lowering.fused("not_a_template")
    with pytest.raises(KeyError, match="no reducer"):
        lowering.reduction("add")
    with pytest.raises(ValueError, match="lowering kind 'fast'"):
        lowering.Lowering("fast")


def test_a_primitive_without_a_row_runs_as_a_host_step():
    from lepton.core import PRIMITIVES, Primitive, ShapedArray
    p = Primitive("test_unlowered_op")
    try:
        p.impl = lambda x: x * 3
        p.abstract_eval = lambda a: ShapedArray(a.shape, a.dtype)
        f = lepton.jit(lambda x: p.bind(x + 1) + 1, backend="cpu")
        x = np.arange(3, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback: the cpu backend runs it itself
            np.testing.assert_array_equal(f(x), (x + 1) * 3 + 1)
        listing = f.source(x).split("\n\n")[0]
        assert "test_unlowered_op(" in listing and "# host: NumPy impl" in listing
        assert listing.count("kernel_") == 2  # the adds around it still fuse
    finally:
        del PRIMITIVES["test_unlowered_op"]


def test_backend_modules_import_no_higher_layer_and_no_device():
    """Nothing in lepton/backends imports above core/ir/primitives (not even inside a
    function), and the shared pipeline (lepton/backends/*.py) imports no device folder."""
    import ast
    import pathlib
    root = pathlib.Path(lepton.__file__).parent / "backends"
    allowed = ("lepton.core", "lepton.ir", "lepton.primitives", "lepton.errors",
               "lepton.dtypes", "lepton._quiet", "lepton.backends")
    for path in sorted(root.rglob("*.py")):
        package = ".".join(("lepton",) + path.relative_to(root.parent).parent.parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                mod = ".".join(x for x in (base, node.module) if x)
                names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] != "lepton":
                    continue
                assert name.startswith(allowed), f"{path.name} imports {name}"
                if path.parent == root:
                    assert not name.startswith("lepton.backends.cpu"), \
                        f"shared module {path.name} imports device module {name}"


# ----------------------------------------------------------------------------- windows
_POOLS = [  # window, strides, padding
    ((1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
    ((1, 3, 3, 1), (1, 2, 2, 1), "SAME"),
    ((2, 3, 1, 2), (1, 1, 2, 1), ((1, 0), (2, 1), (0, 0), (0, 1))),
]


@pytest.mark.parametrize("window,strides,padding", _POOLS)
@pytest.mark.parametrize("computation,init", [("max", -np.inf), ("min", np.inf), ("sum", 0.0)])
def test_window_kernels_match_reference(window, strides, padding, computation, init):
    from lepton.primitives import conv
    x = np.random.default_rng(9).standard_normal((3, 7, 6, 4)).astype(np.float32)
    x[0, 1, 1, 0] = np.nan
    x[1, :3, :3, 1] = x[1, 0, 0, 1]                         # ties pick the first
    xi = np.random.default_rng(10).integers(-5, 5, (3, 7, 6, 4)).astype(np.int32)

    def pool(v):
        return conv.reduce_window(v, init if v.dtype.kind == "f" else
                                  {"max": -9, "min": 9, "sum": 0}[computation],
                                  computation, window, strides, padding)

    def pool_grad(v):                                        # select_and_scatter_add
        return lepton.grad(lambda u: lnp.sum(pool(u) ** 2))(v)

    def pool_jvp(v):                                         # select_and_gather_add
        return lepton.jvp(pool, (v,), (v * 2 + 1,))

    fns = [(pool, x), (pool, xi)] + ([(pool_grad, x), (pool_jvp, x)]
                                     if computation != "sum" else [])
    for fn, arg in fns:
        jf = lepton.jit(fn, backend="cpu")
        if computation != "sum" or fn is pool:
            assert "direct kernel" in jf.source(arg)
        _assert_same(jf(arg), lepton.jit(fn, backend="reference")(arg))


_DISJOINT = [  # shape, window, strides, padding: windows that never overlap (channels-last
    # shapes have 64 channels: a shorter unpooled innermost axis runs the NumPy impl)
    ((4, 8, 8, 64), (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),     # NHWC pooling
    ((2, 5, 7, 64), (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),     # a remainder row and column
    ((2, 7, 7, 64), (1, 2, 2, 1), (1, 2, 2, 1), "SAME"),      # padded high side
    ((2, 3, 8, 8), (1, 1, 2, 2), (1, 1, 2, 2), "VALID"),      # NCHW
    ((2, 9, 9, 64), (1, 3, 3, 1), (1, 3, 3, 1), ((1, 1), (1, 1), (2, 1), (0, 0))),
    ((2, 9, 10, 64), (1, 2, 2, 1), (1, 3, 4, 1), "VALID"),    # gaps between windows
    ((11,), (3,), (3,), ((2, 0),)),                           # rank 1, low padding
    ((2, 4, 4, 4, 64), (1, 2, 2, 2, 1), (1, 2, 2, 2, 1), "VALID"),
    # channels shorter than a vector: rows merged (flat_scatter_source), else the NumPy impl
    ((4, 8, 8, 6), (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
    ((2, 7, 8, 3), (1, 2, 2, 1), (1, 2, 2, 1), "SAME"),       # padded rows
    ((2, 9, 9, 5), (1, 3, 3, 1), (1, 3, 3, 1), ((1, 2), (0, 0), (0, 0), (0, 0))),
    ((2, 6, 9, 7), (1, 2, 3, 1), (1, 3, 3, 1), "VALID"),      # gaps between rows
    ((2, 5, 7, 6), (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),      # a remainder column: NumPy
    ((3, 8, 4), (1, 2, 1), (1, 2, 1), "VALID"),               # rank 3
]


@pytest.mark.parametrize("shape,window,strides,padding", _DISJOINT)
@pytest.mark.parametrize("select", ["max", "min"])
def test_disjoint_scatter_kernel_matches_reference(shape, window, strides, padding, select):
    """Max (min) pooling's gradient over windows that do not overlap writes each position
    once: the same values as the reference's scatter, with ties, NaNs, padding, gaps and
    remainders, for floats, ints and bools."""
    from lepton.primitives import conv
    pads = conv.padtype_to_pads(shape, window, strides, padding) \
        if isinstance(padding, str) else padding
    rng = np.random.default_rng(11)
    xf = rng.integers(-3, 3, shape).astype(np.float32)       # many ties
    xf.flat[::7] = np.nan
    xf.flat[1::11] = -np.inf
    cases = [xf, xf.astype(np.float64), rng.integers(-128, 127, shape).astype(np.int8),
             rng.integers(0, 2, shape).astype(bool)]

    def ssa(v, x):
        return conv.select_and_scatter_add_p.bind(
            v, x, select=select, window_dimensions=window, window_strides=strides,
            padding=tuple(map(tuple, pads)))

    for x in cases:
        out = conv._windows_out(x.shape, window, strides, pads)
        v = (rng.standard_normal(out) * 4).astype(x.dtype)
        if x.dtype == np.float32 and v.size:
            v.flat[0] = np.nan                                # only where it is picked
        jf = lepton.jit(ssa, backend="cpu")
        short = len(shape) > 1 and window[-1] == 1 and shape[-1] * x.dtype.itemsize < 64
        rows = short and window[-2] == strides[-2] and tuple(pads[-2]) == (0, 0) and \
            shape[-2] % window[-2] == 0
        numpy_impl = short and not rows
        assert ("host: NumPy impl" if numpy_impl else "direct kernel") in jf.source(v, x)
        _assert_same(jf(v, x), lepton.jit(ssa, backend="reference")(v, x))


@pytest.mark.slow
@pytest.mark.parametrize("shape,window", [
    ((64, 28, 28, 32), (1, 2, 2, 1)),    # the disjoint kernel, vectorised along channels
    ((64, 56, 56, 6), (1, 2, 2, 1)),     # short channels: merged rows
    ((16, 3, 160, 160), (1, 1, 2, 2)),   # NCHW
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int32])
def test_disjoint_scatter_kernels_past_a_million_elements(shape, window, dtype):
    """The pooling-gradient kernels at training sizes (past 1M elements), with NaNs and
    ties, and integer operands at their edge values: equal to the reference."""
    from lepton.primitives import conv
    rng = np.random.default_rng(12)
    pads = ((0, 0),) * 4
    if np.dtype(dtype).kind == "i":
        info = np.iinfo(dtype)
        x = rng.choice(np.array([info.min, info.max, 0, -1, 1], dtype), size=shape)
        v = rng.integers(info.min, info.max, conv._windows_out(shape, window, window, pads),
                         dtype=dtype, endpoint=True)
    else:
        x = rng.integers(-3, 3, shape).astype(dtype)
        x.flat[::97] = np.nan
        v = (rng.standard_normal(conv._windows_out(shape, window, window, pads)) * 50
             ).astype(dtype)

    def ssa(v, x):
        return conv.select_and_scatter_add_p.bind(v, x, select="max", window_dimensions=window,
                                                  window_strides=window, padding=pads)

    jf = lepton.jit(ssa, backend="cpu")
    assert "direct kernel" in jf.source(v, x)
    _assert_same(jf(v, x), lepton.jit(ssa, backend="reference")(v, x))


# ----------------------------------------------------------------------------- kernel size
def test_kernel_equation_cap_splits_long_chains(monkeypatch):
    """Past the dialect's cap a chain continues in a new kernel that reads the last value
    (Numba's parfor pass slows down sharply on huge kernels)."""
    monkeypatch.setattr(numba_cpu.DIALECT, "max_kernel_eqns", 4)

    def f(x, y):
        for k in range(10):
            x = x * 1.5 - y if k % 2 else x + y
        return x, lepton.numpy.sum(x * x)

    x, y = np.linspace(-1, 1, 12, dtype=np.float32), np.float32(0.25)
    src = lepton.jit(f, backend="cpu").source(x, y)
    kernels = [line.split(": ")[1].split(" over ")[0] for line in src.splitlines()
               if line.startswith("# kernel_")]
    assert len(kernels) >= 4 and all(len(k.split(", ")) <= 4 for k in kernels), src
    got = lepton.jit(f, backend="cpu")(x, y)
    want = lepton.jit(f, backend="reference")(x, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)


def test_parallel_kernel_with_many_offsets_takes_them_as_an_array(monkeypatch):
    """A parallel kernel's offsets beyond Numba's tuple limit for parfors come as an int64
    array (a tuple raised UnsupportedParforsError); the source is unchanged."""
    from lepton.backends.cpu import backend
    monkeypatch.setattr(backend.DIALECT, "max_parallel_tuple", 3)
    monkeypatch.setattr(backend, "PARALLEL_WORK", 0)
    made = []
    real = backend.kernel_for
    monkeypatch.setattr(backend, "kernel_for", lambda g: made.append(real(g)) or made[-1])

    def f(x):
        return x[1:-4] * x[2:-3] + x[3:-2] - x[4:-1] * x[5:]

    x = np.arange(40, dtype=np.float64) / 7
    got = lepton.jit(f, backend="cpu")(x)
    np.testing.assert_allclose(got, lepton.jit(f, backend="reference")(x), rtol=1e-12)
    k, = made
    assert k.parallel and k.params_array and len(k.params) > 3
